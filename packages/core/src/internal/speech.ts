import type { AudioFormat, AudioOptions, Message, Request } from "../ChatCompletion.js"
import type * as Speech from "../Speech.js"

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
  const audio: { format?: AudioFormat; voice?: string; optimize_text_preview?: boolean } = {}
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
