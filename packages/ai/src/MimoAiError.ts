/**
 * MiMo's errors on both sides of the `AiError` boundary.
 *
 * `MimoLanguageModel` turns every `MimoError` into the matching `AiError`:
 *
 * | MimoError | AiError |
 * |---|---|
 * | `ValidationError` | `MalformedInput` (nothing was sent) |
 * | `ResponseDecodeError` | `MalformedOutput` |
 * | `TransportError` | `HttpRequestError` (`reason: "Transport"`) |
 * | API errors (`InvalidRequest` … `ServiceUnavailable`, `UnknownApiError`) | `HttpResponseError` with the status, the retry headers (`retry-after`, `retry-after-ms`), `x-request-id` and the seed envelope as `body` |
 * | `CircuitOpen` | `UnknownError` |
 *
 * The `MimoError` is the `cause` where the `AiError` has one; the others are
 * rebuilt from the status, headers and body. {@link toMimoError} and
 * {@link withMimoErrors} turn them back, so `catchTag("RateLimitExceeded", …)`
 * works for provider users too.
 *
 * @since 0.1.0
 */
import type { MimoError } from "@effect-mimo/core"
import type * as AiError from "@effect/ai/AiError"
import type * as Prompt from "@effect/ai/Prompt"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as internal from "./internal/errors.js"

/**
 * The `module` of every `AiError` the provider makes.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 *
 * MimoAiError.moduleName // "MimoLanguageModel"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const moduleName: string = internal.moduleName

/**
 * The `cause` of a `MalformedOutput` for tool call arguments that are not
 * valid JSON: the whole turn (every call with its raw arguments, the text
 * and the reasoning), so that a tool loop can send it back with
 * {@link toolCallFeedback} and let the model try again.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 *
 * const e = new MimoAiError.MalformedToolCall({
 *   message: "not JSON",
 *   toolCalls: [{ id: "call_1", name: "clock", arguments: "{", error: "Unexpected end of JSON input" }]
 * })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedToolCall extends internal.MalformedToolCall {}

/**
 * The `cause` of a `MalformedOutput` from `generateObject` when the answer does
 * not conform to the Schema: the object's name and the text MiMo sent.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 *
 * const e = new MimoAiError.StructuredOutputError({ message: "missing name", objectName: "Person", text: "{}" })
 * e.text // "{}"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class StructuredOutputError extends internal.StructuredOutputError {}

/**
 * The `AiError` for a `MimoError` (see the table in the module notes).
 * `method` names the `LanguageModel` method; `baseUrl` the request's host
 * (the request details never carry headers, so never the key).
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import { MimoError } from "@effect-mimo/core"
 *
 * const e = MimoAiError.fromMimoError(new MimoError.NotFound({ message: "no such model" }), {
 *   method: "generateText",
 *   baseUrl: "https://api.xiaomimimo.com/v1"
 * })
 * e._tag // "HttpResponseError"
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromMimoError: (
  error: MimoError.MimoError,
  options: { readonly method: string; readonly baseUrl: string }
) => AiError.AiError = internal.toAiError

/**
 * The `MimoError` behind an `AiError` the provider made: `None` for any other
 * `AiError` (a tool loop's own, another provider's, `@effect/ai`'s decoding).
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import { MimoError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * const ai = MimoAiError.fromMimoError(
 *   new MimoError.RateLimitExceeded({ message: "slow down", retryAfter: Duration.seconds(3) }),
 *   { method: "generateText", baseUrl: "https://api.xiaomimimo.com/v1" }
 * )
 * MimoAiError.toMimoError(ai) // Some(RateLimitExceeded { retryAfter: 3 seconds, ... })
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const toMimoError: (error: AiError.AiError) => Option.Option<MimoError.MimoError> = internal.toMimoError

/**
 * Turns the provider's `AiError`s in an effect's error channel back into the
 * `MimoError`s behind them (other errors pass unchanged), so that
 * `catchTag("RateLimitExceeded", …)` works.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import { Effect } from "effect"
 *
 * const answer = LanguageModel.generateText({ prompt: "Hello" }).pipe(
 *   MimoAiError.withMimoErrors,
 *   Effect.catchTag("RateLimitExceeded", (e) => Effect.succeed(`busy, try in ${e.retryAfter}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category conversions
 */
export const withMimoErrors: <A, E, R>(
  self: Effect.Effect<A, E, R>
) => Effect.Effect<A, E | MimoError.MimoError, R> = internal.withMimoErrors

/**
 * The malformed tool call behind an error, if it is one.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import { Option } from "effect"
 *
 * declare const error: unknown
 * Option.map(MimoAiError.malformedToolCall(error), (e) => e.toolCalls.map((c) => c.arguments))
 * ```
 *
 * @since 0.1.0
 * @category tool calls
 */
export const malformedToolCall: (error: unknown) => Option.Option<MalformedToolCall> = internal.malformedToolCall

/**
 * The non-conforming structured answer behind an error, if it is one.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import { Option } from "effect"
 *
 * declare const error: unknown
 * Option.map(MimoAiError.structuredOutput(error), (e) => e.text)
 * ```
 *
 * @since 0.1.0
 * @category structured output
 */
export const structuredOutput: (error: unknown) => Option.Option<StructuredOutputError> = internal.structuredOutput

/**
 * The messages that tell the model its tool call arguments were not valid
 * JSON: the assistant turn as it came (reasoning included, the raw arguments
 * sent back as they were) and a failed tool result for each call. Append them
 * to the conversation and ask again.
 *
 * @example
 * ```ts
 * import { MimoAiError } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import * as Prompt from "@effect/ai/Prompt"
 * import { Effect, Option } from "effect"
 *
 * declare const history: Prompt.Prompt
 * const turn = LanguageModel.generateText({ prompt: history }).pipe(
 *   Effect.catchTag("MalformedOutput", (error) =>
 *     Option.match(MimoAiError.malformedToolCall(error), {
 *       onNone: () => Effect.fail(error),
 *       onSome: (bad) =>
 *         LanguageModel.generateText({ prompt: Prompt.merge(history, MimoAiError.toolCallFeedback(bad)) })
 *     }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category tool calls
 */
export const toolCallFeedback: (error: MalformedToolCall) => ReadonlyArray<Prompt.MessageEncoded> =
  internal.toolCallFeedback
