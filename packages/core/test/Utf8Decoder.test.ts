/**
 * The stream reader's UTF-8 decoding (a fast path for pieces that end with an
 * ASCII byte, the streaming decoder otherwise) must give exactly the text of
 * `new TextDecoder().decode(wholeBody)`, for any bytes and any split of them
 * into pieces: characters cut in two, broken sequences, a leading BOM.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Option } from "effect"
import { makeChunkReader } from "../src/internal/sse.js"
import { makeUtf8Decoder } from "../src/internal/utf8.js"

const encoder = new TextEncoder()

const decodePieces = (pieces: ReadonlyArray<Uint8Array>): string => {
  const decoder = makeUtf8Decoder()
  let text = ""
  for (const piece of pieces) text += decoder.decode(piece)
  return text + decoder.end()
}

const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Bytes as a body holds them: ASCII runs, characters of 2 to 4 bytes, broken sequences, BOMs. */
const part = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 6 }).map((s) => encoder.encode(s)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom("é", "你好", "世界", "😀", "\u0800", "\uffff", "𐍈").map((s) => encoder.encode(s))
  },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4 })
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      [0xef, 0xbb, 0xbf],
      [0xe4, 0xbd],
      [0xf0, 0x9f, 0x98],
      [0xc3],
      [0x80],
      [0xe0, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90]
    ).map((b) => Uint8Array.from(b))
  }
)
const body = fc.tuple(fc.boolean(), fc.array(part, { maxLength: 24 })).map(([bom, parts]) =>
  concat([bom ? Uint8Array.from([0xef, 0xbb, 0xbf]) : new Uint8Array(0), ...parts])
)
/** A body and its pieces, cut anywhere (inside a character too). */
const split = body.chain((bytes) =>
  fc.uniqueArray(fc.integer({ min: 0, max: bytes.length }), { maxLength: 10 }).map((cuts) => {
    const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length]
    const pieces: Array<Uint8Array> = []
    for (let i = 0; i + 1 < points.length; i++) pieces.push(bytes.subarray(points[i], points[i + 1]))
    return { bytes, pieces }
  })
)

describe("the stream's UTF-8 decoding", () => {
  it.prop("gives the text of the whole body, for any bytes and any split", [split], ([{ bytes, pieces }]) => {
    expect(decodePieces(pieces)).toBe(new TextDecoder().decode(bytes))
  }, { fastCheck: { numRuns: 5000 } })

  it("keeps a character cut between two pieces, after ASCII pieces and after other text", () => {
    const bytes = encoder.encode("data: ok\n\ndata: 你好\n\ndata: ok\n\ndata: 😀 done\n\n")
    const cjk = bytes.indexOf(0xe4)
    const emoji = bytes.indexOf(0xf0)
    const pieces = [
      bytes.subarray(0, 10), // ASCII, ends with an ASCII byte: the fast path
      bytes.subarray(10, cjk + 1), // ends inside 你
      bytes.subarray(cjk + 1, emoji + 2), // the rest of 你, then inside 😀
      bytes.subarray(emoji + 2)
    ]
    expect(decodePieces(pieces)).toBe("data: ok\n\ndata: 你好\n\ndata: ok\n\ndata: 😀 done\n\n")
  })

  it("drops the body's leading BOM once, and keeps a BOM that starts a later piece", () => {
    const bom = [0xef, 0xbb, 0xbf]
    const pieces = [Uint8Array.from([...bom, 0x61]), Uint8Array.from([...bom, 0x62])]
    expect(decodePieces(pieces)).toBe("a\ufeffb")
    // The BOM alone in the first piece, split in two.
    expect(decodePieces([Uint8Array.from([0xef]), Uint8Array.from([0xbb, 0xbf, 0x63])])).toBe("c")
  })

  it("ends a body cut inside a character with U+FFFD", () => {
    expect(decodePieces([encoder.encode("ok "), Uint8Array.from([0xe4, 0xbd])])).toBe("ok \ufffd")
    expect(decodePieces([Uint8Array.from([0xf0, 0x9f])])).toBe("\ufffd")
  })

  it("gives the stream reader whole characters and text, wherever the network cuts the body", () => {
    interface Piece {
      readonly choices: ReadonlyArray<{ readonly delta: { readonly content: string } }>
    }
    const isPiece = (u: unknown): u is Piece =>
      typeof u === "object" && u !== null && "choices" in u && Array.isArray(u.choices)
    const event = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`
    const bytes = encoder.encode(event("Hello ") + event("你好") + event("😀!") + "data: [DONE]\n\n")
    const reader = makeChunkReader<Piece>({
      decode: (u) => isPiece(u) ? Either.right(u) : Either.left("not a piece"),
      chunkError: () => Option.none(),
      text: (c) => c.choices[0]!.delta.content,
      finished: () => false,
      parse: JSON.parse,
      requestId: undefined,
      maxEventSize: 1024
    })
    const cjk = bytes.indexOf(0xe4)
    const emoji = bytes.indexOf(0xf0)
    const out: Array<Piece> = []
    for (const piece of [bytes.subarray(0, cjk + 2), bytes.subarray(cjk + 2, emoji + 3), bytes.subarray(emoji + 3)]) {
      expect(reader.feed([piece], out)).toBeUndefined()
    }
    expect(out.map((c) => c.choices[0]!.delta.content)).toEqual(["Hello ", "你好", "😀!"])
    expect(reader.received).toBe("Hello 你好😀!")
    expect(reader.done).toBe(true)
  })
})
