/**
 * UTF-8 text from a body that arrives in pieces, decoded as one
 * `new TextDecoder().decode(wholeBody)` would (a leading BOM dropped, bad
 * bytes as U+FFFD, a character split across two pieces kept whole).
 *
 * Written by hand because of a measured cost, not a missing feature:
 * `TextDecoder#decode(piece, { stream: true })` goes through Node's general
 * converter (ICU), ≈ 0.21 µs per 150-byte stream chunk in Node 20, while the
 * same decoder called without `stream` takes the UTF-8 fast path, ≈ 0.03 µs
 * for ASCII (apps/bench/analysis.md, "Issue 14, session 9"). So a piece is
 * decoded without `stream` when that gives the same text:
 *
 * - the streaming decoder holds nothing from the previous piece, and
 * - the piece ends with an ASCII byte (< 0x80): no character can continue
 *   into the next piece, and any broken sequence before it is already
 *   final (an ASCII byte ends it as U+FFFD in either decoder).
 *
 * Otherwise the streaming decoder takes the piece, and it holds nothing again
 * once a piece it took ends with an ASCII byte. For text other than ASCII the
 * fast path is slower in Node 20 (≈ 0.37 µs against 0.22 for CJK text), so it is
 * tried only while the previous piece decoded to as many characters as it
 * had bytes (ASCII, or as good as). Both decoders keep a BOM (`ignoreBOM`):
 * the fast one would otherwise drop one at the start of every piece; the
 * stream's own leading BOM is dropped here, once.
 *
 * @internal
 */
export interface Utf8Decoder {
  /** The text of the next piece (some of its last bytes may wait for the next one). */
  readonly decode: (piece: Uint8Array) => string
  /** The end of the body: bytes still waiting, as U+FFFD. */
  readonly end: () => string
}

/** Called without `stream`, a decoder keeps no state between calls: one serves every body. */
const whole = new TextDecoder("utf-8", { ignoreBOM: true })

/** @internal */
export const makeUtf8Decoder = (): Utf8Decoder => {
  /** Made when a piece first needs it (a body of ASCII pieces never does). */
  let streaming: TextDecoder | undefined = undefined
  /** The streaming decoder holds no bytes of an unfinished character. */
  let clean = true
  /** The last piece looked like ASCII: the fast path is worth trying. */
  let ascii = true
  /** No text came out yet: a BOM at its start is the body's and is dropped. */
  let first = true

  const started = (text: string): string => {
    if (!first || text.length === 0) return text
    first = false
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  }

  return {
    decode: (piece) => {
      const length = piece.length
      if (length === 0) return ""
      const endsAscii = piece[length - 1]! < 0x80
      let text: string
      if (clean && endsAscii && ascii) {
        text = whole.decode(piece)
      } else {
        if (streaming === undefined) streaming = new TextDecoder("utf-8", { ignoreBOM: true })
        text = streaming.decode(piece, { stream: true })
        clean = endsAscii
      }
      ascii = text.length === length
      return started(text)
    },
    end: () => {
      if (clean || streaming === undefined) return ""
      clean = true
      return started(streaming.decode())
    }
  }
}
