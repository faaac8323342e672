/**
 * The SSE framer's shortcut (a one-line `data:` event taken without the
 * parser when the parser holds nothing) must find exactly the events that
 * `@effect/experimental`'s `Sse.makeParser` finds alone, for any text and any
 * split of it into network chunks.
 */
import * as Sse from "@effect/experimental/Sse"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { makeFramer } from "../src/internal/sse.js"

/** The reference: the parser alone, fed each network chunk line by line (its cost is linear that way). */
const reference = (parts: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event" && (event.event === "message" || event.event === "error")) out.push(event.data)
  })
  for (const text of parts) {
    let start = 0
    while (start < text.length) {
      const newline = text.indexOf("\n", start)
      const end = newline === -1 ? text.length : newline + 1
      parser.feed(text.slice(start, end))
      start = end
    }
  }
  return out
}

const framed = (parts: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  const framer = makeFramer((data) => out.push(data), 1024 * 1024)
  for (const part of parts) expect(framer.feed(part)).toBeUndefined()
  expect(framer.end()).toBeUndefined()
  return out
}

const value = fc.string({ unit: fc.constantFrom("a", "b", "{", "}", ":", " ", "\"", "é", "[DONE]"), maxLength: 12 })
const eol = fc.constantFrom("\n", "\n", "\n", "\n", "\r\n", "\r")
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom("data: ", "data:"), value, eol).map(([f, v, e]) => f + v + e) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom("event: error", "event: mimo.retry", "event: message"), eol).map(([f, e]) =>
      f + e
    )
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(": ping", "id: 7", "retry: 100", "data", "x: y"), eol).map(([f, e]) => f + e)
  },
  { weight: 3, arbitrary: eol }
)
const stream = fc.tuple(fc.boolean(), fc.array(line, { maxLength: 30 })).map(([bom, lines]) =>
  (bom ? "\uFEFF" : "") + lines.join("")
)
/** The text and a sorted list of cut points. */
const split = stream.chain((text) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, text.length - 1) }), { maxLength: 8 }).map((cuts) => {
    const points = [0, ...cuts.filter((c) => c < text.length).sort((a, b) => a - b), text.length]
    const parts: Array<string> = []
    for (let i = 0; i + 1 < points.length; i++) parts.push(text.slice(points[i], points[i + 1]))
    return { text, parts }
  })
)

describe("the SSE framer", () => {
  it.prop("finds the parser's events in the whole text, for any split (a CR LF cut in two included)", [split], ([{
    parts,
    text
  }]) => {
    expect(framed(parts)).toEqual(reference([text]))
  }, { fastCheck: { numRuns: 3000 } })

  it("takes the common events, and keeps multi-line data, named events and CRLF right", () => {
    const text = "data: {\"a\":1}\n\ndata: {\"b\":2}\n\n: ping\n\nevent: mimo.retry\ndata: skip\n\n" +
      "data: line1\ndata: line2\n\nevent: error\ndata: {\"error\":{}}\n\ndata:{\"c\":3}\r\n\r\ndata: [DONE]\n\n"
    const events = ["{\"a\":1}", "{\"b\":2}", "line1\nline2", "{\"error\":{}}", "{\"c\":3}", "[DONE]"]
    expect(reference([text])).toEqual(events)
    expect(framed([text])).toEqual(events)
    // Every cut, inside a CR LF pair too.
    expect(framed(text.split(""))).toEqual(events)
  })

  it("an event over the size limit is the parser's error", () => {
    const framer = makeFramer(() => {}, 16)
    framer.feed("data: ok\n\n")
    const error = framer.feed(`data: ${"x".repeat(40)}\n\n`)
    expect(error?._tag).toBe("SseError")
  })
})
