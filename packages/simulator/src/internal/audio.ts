/**
 * Audio synthesis for the TTS models: a short sine tone as PCM16, WAV, or
 * silent MPEG-1 Layer III frames.
 *
 * @internal
 */

/** The sample rate of every PCM16 / WAV answer (mono). */
export const sampleRate = 24_000

/** MP3 answers: MPEG-1 Layer III, 48 kHz, 64 kbit/s, mono, 1152 samples (24 ms) per 192-byte frame. */
export const mp3SampleRate = 48_000
export const mp3Bitrate = 64_000
export const mp3SamplesPerFrame = 1152
export const mp3FrameBytes = (144 * mp3Bitrate) / mp3SampleRate // 192, no padding needed

/** How long the spoken text lasts: 60 ms per character, between 0.3 s and 30 s. */
export const durationSecondsForText = (text: string): number => {
  const chars = [...text.trim()].length
  return Math.min(30, Math.max(0.3, chars * 0.06))
}

/**
 * A sine tone as little-endian signed 16-bit mono samples at 24 kHz, with
 * 5 ms fades at both ends (no clicks).
 */
export const tone = (seconds: number, frequency: number = 440): Uint8Array => {
  const samples = Math.max(1, Math.round(seconds * sampleRate))
  const bytes = new Uint8Array(samples * 2)
  const view = new DataView(bytes.buffer)
  const fade = Math.min(Math.floor(sampleRate * 0.005), Math.floor(samples / 2))
  const step = (2 * Math.PI * frequency) / sampleRate
  const amplitude = 0.25 * 32767
  for (let i = 0; i < samples; i++) {
    let gain = 1
    if (i < fade) gain = i / fade
    else if (i >= samples - fade) gain = (samples - 1 - i) / fade
    view.setInt16(i * 2, Math.round(Math.sin(i * step) * amplitude * gain), true)
  }
  return bytes
}

const ascii = (view: DataView, offset: number, text: string) => {
  for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i))
}

/** Wraps PCM16 mono samples in a 44-byte RIFF/WAVE header. */
export const wav = (pcm: Uint8Array, rate: number = sampleRate): Uint8Array => {
  const out = new Uint8Array(44 + pcm.length)
  const view = new DataView(out.buffer)
  ascii(view, 0, "RIFF")
  view.setUint32(4, 36 + pcm.length, true)
  ascii(view, 8, "WAVE")
  ascii(view, 12, "fmt ")
  view.setUint32(16, 16, true) // fmt chunk size
  view.setUint16(20, 1, true) // PCM
  view.setUint16(22, 1, true) // mono
  view.setUint32(24, rate, true)
  view.setUint32(28, rate * 2, true) // byte rate
  view.setUint16(32, 2, true) // block align
  view.setUint16(34, 16, true) // bits per sample
  ascii(view, 36, "data")
  view.setUint32(40, pcm.length, true)
  out.set(pcm, 44)
  return out
}

/**
 * Silent MPEG-1 Layer III frames lasting at least `seconds`: each frame is a
 * valid header (sync, MPEG-1, Layer III, no CRC, 64 kbit/s, 48 kHz, mono)
 * followed by zeroed side information (main_data_begin 0, part2_3_length 0:
 * no Huffman data, i.e. silence) and zeroed main data.
 */
export const mp3 = (seconds: number): Uint8Array => {
  const frames = Math.max(1, Math.ceil((seconds * mp3SampleRate) / mp3SamplesPerFrame))
  const out = new Uint8Array(frames * mp3FrameBytes)
  for (let f = 0; f < frames; f++) {
    const o = f * mp3FrameBytes
    out[o] = 0xff // sync (8 bits)
    out[o + 1] = 0xfb // sync (3 bits), MPEG-1 (11), Layer III (01), no CRC (1)
    out[o + 2] = 0x54 // bitrate index 5 = 64 kbit/s, sampling index 01 = 48 kHz, no padding, private 0
    out[o + 3] = 0xc4 // mono (11), mode extension 00, copyright 0, original 1, emphasis 00
  }
  return out
}

/** Base64 of bytes (Node's Buffer). */
export const base64 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")
