/**
 * `Speech`: text-to-speech through chat completions (`mimo-api.md` §5), in
 * plain terms. An {@link Input} is validated on its own fields (errors name
 * `voice`, `instructions`, `text`, …) and built into the chat request once,
 * by {@link prepare}: the result, a {@link Prepared}, is what
 * `MimoClient.speech` sends, and what a decorator of the client (the rate
 * limiter of `@effect-mimo/resilience`, for one) reads and passes on, so that
 * a decorated call is built and validated once, end to end.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import type { Request } from "./ChatCompletion.js"
import * as internal from "./internal/speech.js"
import * as validation from "./internal/validation.js"
import type * as MimoError from "./MimoError.js"
import * as Validation from "./Validation.js"

/**
 * A text-to-speech request, in plain terms.
 *
 * - `model`: default `mimo-v2.5-tts`.
 * - `text`: what to say (the assistant message). May be `""` only for
 *   voicedesign with `optimizeTextPreview`, which writes the text itself.
 * - `style`: a style put at the start of the text: `(style)` for v2.5 models
 *   (e.g. `"whispering"`, `"sing"` on mimo-v2.5-tts), `<style>…</style>` for
 *   mimo-v2-tts. voicedesign does not support it.
 * - `instructions`: plain-language directions (the user message); for
 *   voicedesign, the description of the voice (required).
 * - `voice`: a preset voice, or for voiceclone the base64 sample (required).
 * - `format`: `wav` (default), `mp3`, `pcm`, `pcm16`.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 *
 * const input: Speech.Input = { text: "Hello!", style: "whispering", voice: "Mia", format: "mp3" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const Input: typeof internal.Input = internal.Input

/**
 * @since 0.1.0
 * @category models
 */
export type Input = typeof Input.Type

/**
 * The default TTS model.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 *
 * Speech.defaultModel // "mimo-v2.5-tts"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultModel: string = internal.defaultModel

/**
 * Builds the chat request: the optional `instructions` as a user message, the
 * (styled) text as an assistant message, and
 * `audio: {format, voice, optimize_text_preview}`. The audio comes back
 * base64-encoded in `choices[0].message.audio.data`.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 *
 * Speech.toRequest({ text: "Hello! Welcome to MiMo.", instructions: "Warm, slightly slow.", voice: "Mia" })
 * // {
 * //   model: "mimo-v2.5-tts",
 * //   messages: [
 * //     { role: "user", content: "Warm, slightly slow." },
 * //     { role: "assistant", content: "Hello! Welcome to MiMo." }
 * //   ],
 * //   audio: { voice: "Mia" }
 * // }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const toRequest: (input: Input) => Request = internal.toRequest

/**
 * The brand of a {@link Prepared}.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 *
 * typeof Speech.PreparedTypeId // "symbol"
 * ```
 *
 * @since 0.2.0
 * @category symbols
 */
export const PreparedTypeId: typeof internal.PreparedTypeId = internal.PreparedTypeId

/**
 * @since 0.2.0
 * @category symbols
 */
export type PreparedTypeId = typeof PreparedTypeId

/**
 * A speech input validated and built once, against a validation profile:
 * the caller's `input` as it was, the profile, and the outcome, either the
 * chat request it builds or the `ValidationError` that names the input's
 * field (`voice`, `instructions`, `text`, …).
 *
 * Only {@link prepare} makes one (the type is branded, and `MimoClient.speech`
 * recognises the instances {@link prepare} made: a look-alike is validated as
 * an input, never sent as it is), so the request cannot disagree with the
 * input. `MimoClient.speech` accepts a `Prepared` in place of an input and
 * sends its request without validating or building again (or fails with its
 * error, before any attempt), provided it was prepared against the client's
 * own profile (`MimoClient.Service.profile`); otherwise it validates
 * `input` anew.
 *
 * @example
 * ```ts
 * import { MimoClient, Speech } from "@effect-mimo/core"
 * import { Effect, Either } from "effect"
 *
 * // A decorator of `MimoClient.Service` that reads the model of each speech call, validated once.
 * const logModels = (service: MimoClient.Service): MimoClient.Service => ({
 *   ...service,
 *   speech: (input, options) =>
 *     Effect.flatMap(Speech.prepare(input, service.profile), (prepared) =>
 *       Either.isRight(prepared.request)
 *         ? Effect.zipRight(Effect.logDebug(`speech on ${prepared.request.right.model}`), service.speech(prepared, options))
 *         : service.speech(prepared, options))
 * })
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Prepared {
  readonly [PreparedTypeId]: PreparedTypeId
  /** The caller's input, as it was given. */
  readonly input: Input
  /** The validation profile it was checked against. */
  readonly profile: Validation.Profile
  /** The chat request it builds (`Right`), or why it is invalid (`Left`). */
  readonly request: Either.Either<Request, MimoError.ValidationError>
}

/**
 * Validates a speech input on its own fields and builds its chat request,
 * once (`Validation.validateSpeechRequest` does the same checks), keeping the
 * outcome in a {@link Prepared}; it never fails (an invalid input gives a
 * `Prepared` holding its `ValidationError`) and logs the validation's warnings,
 * as a call would. Given a `Prepared` of the same profile it returns it as it
 * is: a stack of decorators prepares once.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const prepared = Effect.runSync(Speech.prepare({ text: "Hello!", voice: "Mia", format: "mp3" }))
 * // prepared.request: Right({ model: "mimo-v2.5-tts", messages: [...], audio: { format: "mp3", voice: "Mia" } })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const prepare = (
  input: Input | Prepared,
  profile: Validation.Profile = Validation.xiaomi
): Effect.Effect<Prepared> => validation.prepareSpeech(input, profile)

/**
 * Whether `u` is a {@link Prepared} made by {@link prepare}.
 *
 * @example
 * ```ts
 * import { Speech } from "@effect-mimo/core"
 *
 * Speech.isPrepared({ text: "Hello!" }) // false
 * ```
 *
 * @since 0.2.0
 * @category guards
 */
export const isPrepared: (u: unknown) => u is Prepared = internal.isPrepared
