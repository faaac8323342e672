import type * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { AudioFormat as AudioFormatType, AudioOptions, Message, Request } from "../ChatCompletion.js"
import type * as MimoError from "../MimoError.js"
import type * as Speech from "../Speech.js"
import type { Profile } from "../Validation.js"
import { AudioFormat } from "./audioFormat.js"

// The schema lives here, not in `Speech.ts`, so that `ChatCompletion` (which re-exports it as `SpeechInput`) does
// not import `Speech`, and `Speech` can import the validation (which imports `ChatCompletion`) without a cycle.
/** @internal */
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

/** @internal */
export const defaultModel = "mimo-v2.5-tts"

/** @internal */
export const toRequest = (input: Speech.Input): Request => {
  const model = input.model ?? defaultModel
  const style = input.style?.trim()
  const spoken = style === undefined || style === "" ?
    input.text :
    model === "mimo-v2-tts" ?
    `<style>${style}</style>${input.text}` :
    `(${style})${input.text}`
  const messages: Array<Message> = []
  if (input.instructions !== undefined) messages.push({ role: "user", content: input.instructions })
  if (spoken !== "") messages.push({ role: "assistant", content: spoken })
  const audio: { format?: AudioFormatType; voice?: string; optimize_text_preview?: boolean } = {}
  if (input.format !== undefined) audio.format = input.format
  if (input.voice !== undefined) audio.voice = input.voice
  if (input.optimizeTextPreview !== undefined) audio.optimize_text_preview = input.optimizeTextPreview
  const request: {
    model: string
    messages: ReadonlyArray<Message>
    audio?: AudioOptions
    stream?: boolean
    max_completion_tokens?: number
  } = { model, messages }
  if (Object.keys(audio).length > 0) request.audio = audio
  if (input.stream !== undefined) request.stream = input.stream
  if (input.maxCompletionTokens !== undefined) request.max_completion_tokens = input.maxCompletionTokens
  return request
}

/** @internal */
export const PreparedTypeId: unique symbol = Symbol.for("@effect-mimo/core/Speech/Prepared")

// Only this module makes a `Prepared` (through `make`, called by the validation): `isPrepared` recognises its
// instances, so a look-alike object built elsewhere is never taken for a validated request (it is validated as
// an input, like any other).
class PreparedImpl implements Speech.Prepared {
  readonly [PreparedTypeId]: typeof PreparedTypeId = PreparedTypeId
  constructor(
    readonly input: Speech.Input,
    readonly profile: Profile,
    readonly request: Either.Either<Request, MimoError.ValidationError>
  ) {}
}

/** @internal */
export const make = (
  input: Speech.Input,
  profile: Profile,
  request: Either.Either<Request, MimoError.ValidationError>
): Speech.Prepared => new PreparedImpl(input, profile, request)

/** @internal */
export const isPrepared = (u: unknown): u is Speech.Prepared => u instanceof PreparedImpl
