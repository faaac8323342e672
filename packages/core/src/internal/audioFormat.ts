import * as Schema from "effect/Schema"

/**
 * The audio formats of TTS (`ChatCompletion.AudioFormat`); here so that both
 * `ChatCompletion` and `Speech` use it without importing each other.
 *
 * @internal
 */
export const AudioFormat = Schema.Literal("wav", "mp3", "pcm", "pcm16")
