/**
 * MimoError ⇄ AiError.
 *
 * @internal
 */
import { ErrorResponse, MimoError } from "@effect-mimo/core"
import * as AiError from "@effect/ai/AiError"
import type * as Prompt from "@effect/ai/Prompt"
import * as Headers from "@effect/platform/Headers"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/** @internal */
export const moduleName = "MimoLanguageModel"

/** @internal */
export class MalformedToolCall extends Schema.TaggedError<MalformedToolCall>()("MalformedToolCall", {
  message: Schema.String,
  toolCalls: Schema.Array(Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    arguments: Schema.String,
    error: Schema.optional(Schema.String)
  })),
  text: Schema.optional(Schema.String),
  reasoning: Schema.optional(Schema.String)
}) {}

/** @internal */
export class StructuredOutputError extends Schema.TaggedError<StructuredOutputError>()("StructuredOutputError", {
  message: Schema.String,
  objectName: Schema.String,
  text: Schema.String
}) {}

const requestDetails = (baseUrl: string): typeof AiError.HttpRequestDetails.Type => ({
  method: "POST",
  url: `${baseUrl.replace(/\/+$/, "")}/chat/completions`,
  urlParams: [],
  hash: Option.none(),
  // Never the request's headers: they hold the key.
  headers: {}
})

/** @internal */
export const toAiError = (
  error: MimoError.MimoError,
  options: { readonly method: string; readonly baseUrl: string }
): AiError.AiError => {
  const common = { module: moduleName, method: options.method }
  switch (error._tag) {
    case "ValidationError":
      return new AiError.MalformedInput({ ...common, description: error.message, cause: error })
    case "ResponseDecodeError":
      return new AiError.MalformedOutput({ ...common, description: error.message, cause: error })
    case "TransportError":
      return new AiError.HttpRequestError({
        ...common,
        reason: "Transport",
        request: requestDetails(options.baseUrl),
        description: `${error.reason}: ${error.message}`,
        cause: error
      })
    case "CircuitOpen":
      return new AiError.UnknownError({ ...common, description: error.message, cause: error })
    default: {
      const rendered = ErrorResponse.encode(error, { shape: "seed" })
      return new AiError.HttpResponseError({
        ...common,
        reason: "StatusCode",
        request: requestDetails(options.baseUrl),
        response: { status: rendered.status, headers: { ...rendered.headers } },
        body: rendered.body,
        description: `${error._tag}: ${error.message}`
      })
    }
  }
}

const causeOf = (error: AiError.AiError): unknown => "cause" in error ? error.cause : undefined

/** @internal */
export const toMimoError = (error: AiError.AiError): Option.Option<MimoError.MimoError> => {
  const cause = causeOf(error)
  if (MimoError.isMimoError(cause)) return Option.some(cause)
  if (error._tag === "HttpResponseError" && error.module === moduleName && error.body !== undefined) {
    return Option.some(ErrorResponse.decode({
      status: error.response.status,
      headers: Headers.fromInput(error.response.headers),
      body: error.body,
      // Our bodies carry retry delays as deltas (retry-after, retry-after-ms), never as dates.
      nowMillis: 0
    }))
  }
  return Option.none()
}

/** @internal */
export const withMimoErrors = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | MimoError.MimoError, R> =>
  Effect.catchIf(
    self,
    (e): e is E & AiError.AiError => AiError.isAiError(e) && Option.isSome(toMimoError(e)),
    (e) => Effect.fail(Option.getOrThrow(toMimoError(e)))
  )

/** @internal */
export const malformedToolCall = (error: unknown): Option.Option<MalformedToolCall> =>
  AiError.isAiError(error) && error._tag === "MalformedOutput" && error.cause instanceof MalformedToolCall
    ? Option.some(error.cause)
    : Option.none()

/** @internal */
export const structuredOutput = (error: unknown): Option.Option<StructuredOutputError> =>
  AiError.isAiError(error) && error._tag === "MalformedOutput" && error.cause instanceof StructuredOutputError
    ? Option.some(error.cause)
    : Option.none()

/** @internal */
export const toolCallFeedback = (error: MalformedToolCall): ReadonlyArray<Prompt.MessageEncoded> => {
  const assistant: Array<Prompt.AssistantMessagePartEncoded> = []
  if (Predicate.isNotUndefined(error.reasoning) && error.reasoning !== "") {
    assistant.push({ type: "reasoning", text: error.reasoning })
  }
  if (Predicate.isNotUndefined(error.text) && error.text !== "") assistant.push({ type: "text", text: error.text })
  for (const call of error.toolCalls) {
    assistant.push({
      type: "tool-call",
      id: call.id,
      name: call.name,
      params: {},
      providerExecuted: false,
      options: { mimo: { rawArguments: call.arguments } }
    })
  }
  return [
    { role: "assistant", content: assistant },
    {
      role: "tool",
      content: error.toolCalls.map((call) => ({
        type: "tool-result",
        id: call.id,
        name: call.name,
        isFailure: true,
        providerExecuted: false,
        result: call.error !== undefined
          ? `The arguments of this call are not valid JSON (${call.error}). Call ${call.name} again with a JSON object.`
          : `Not run: another call of this turn had arguments that are not valid JSON. Call ${call.name} again.`
      }))
    }
  ]
}
