/**
 * Writes text-to-speech audio to a file through `@effect/platform`'s `FileSystem`.
 *
 * @since 0.1.0
 */
import type * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import type * as MimoError from "@effect-mimo/core/MimoError"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"

/**
 * What `write` produced.
 *
 * @since 0.1.0
 * @category models
 */
export interface Written {
  readonly path: string
  readonly bytes: number
  readonly format: string
  /** Seconds of audio, when the format tells (WAV and raw PCM16 at 24 kHz). */
  readonly durationSeconds: number | undefined
}

/**
 * Duration of WAV or PCM16 audio in seconds, when it can be told from the bytes.
 *
 * @example
 * ```ts
 * import { SpeechFile } from "@effect-mimo/platform-node"
 *
 * SpeechFile.durationOf(new Uint8Array(48000), "pcm16") // 1 (24 kHz mono PCM16)
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const durationOf = (audio: Uint8Array, format: string): number | undefined => {
  if (format === "pcm16" || format === "pcm") return audio.byteLength / (24_000 * 2)
  if (format !== "wav" || audio.byteLength < 44) return undefined
  const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength)
  const riff = String.fromCharCode(audio[0], audio[1], audio[2], audio[3])
  if (riff !== "RIFF") return undefined
  const byteRate = view.getUint32(28, true)
  // Find the "data" chunk (it usually starts at byte 36).
  let offset = 12
  while (offset + 8 <= audio.byteLength) {
    const id = String.fromCharCode(audio[offset], audio[offset + 1], audio[offset + 2], audio[offset + 3])
    const size = view.getUint32(offset + 4, true)
    if (id === "data") return byteRate > 0 ? Math.min(size, audio.byteLength - offset - 8) / byteRate : undefined
    offset += 8 + size + (size % 2)
  }
  return undefined
}

/**
 * Synthesises speech with `MimoClient.speech` and writes the audio to `path`.
 *
 * @example
 * ```ts
 * import { SpeechFile } from "@effect-mimo/platform-node"
 *
 * const program = SpeechFile.write("hello.wav", {
 *   model: "mimo-v2.5-tts",
 *   text: "Hello! Welcome to MiMo.",
 *   voice: "Mia",
 *   format: "wav"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const write = (
  path: string,
  input: ChatCompletion.SpeechInput,
  options?: MimoClient.CallOptions
): Effect.Effect<
  Written,
  MimoError.MimoError | PlatformError.PlatformError,
  MimoClient.MimoClient | FileSystem.FileSystem
> =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    const fs = yield* FileSystem.FileSystem
    const speech = yield* mimo.speech(input, options)
    yield* fs.writeFile(path, speech.audio)
    return {
      path,
      bytes: speech.audio.byteLength,
      format: speech.format,
      durationSeconds: durationOf(speech.audio, speech.format)
    }
  })
