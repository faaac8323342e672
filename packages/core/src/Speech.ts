/**
 * `Speech`: text-to-speech through chat completions (`mimo-api.md` §5), in
 * plain terms. `MimoClient.speech` validates an {@link Input} on its own
 * fields (`Validation.validateSpeechRequest`: errors name `voice`,
 * `instructions`, `text`, …), builds the chat request once with
 * {@link toRequest}, and sends that request.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { Request } from "./ChatCompletion.js"
import { AudioFormat } from "./internal/audioFormat.js"
import * as internal from "./internal/speech.js"

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
export const Input = Schema.Struct({
  model: Schema.optional(Schema.String),
  text: Schema.String,
  style: Schema.optional(Schema.String),
  instructions: Schema.optional(Schema.String),
  voice: Schema.optional(Schema.String),
  format: Schema.optional(AudioFormat),
  optimizeTextPreview: Schema.optional(Schema.Boolean),
  stream: Schema.optional(Schema.Boolean),
  maxCompletionTokens: Schema.optional(Schema.Number)
}).annotations({ identifier: "SpeechInput" })

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
