/**
 * The JSON text a chat request is sent as, made in one copy: the same text as
 * `JSON.stringify(ChatCompletion.toBody({ ...request, stream }))` for any
 * request, `extra_body`, own `__proto__` keys and a `stream` of its own included.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { ChatCompletion } from "../src/index.js"
import { requestBody } from "../src/internal/requestBody.js"

const json: fc.Arbitrary<unknown> = fc.jsonValue()
const keys = fc.oneof(fc.string(), fc.constantFrom("__proto__", "stream", "model", "extra_body", "messages"))
/** An own-key record whatever its keys (`__proto__` included, as `JSON.parse` would make it). */
const record = fc.dictionary(keys, json).map((entries) =>
  JSON.parse(JSON.stringify(entries)) as Record<string, unknown>
)

const request: fc.Arbitrary<ChatCompletion.Request> = fc
  .record({
    model: fc.string(),
    messages: fc.array(fc.record({ role: fc.constant("user" as const), content: fc.string() }), { maxLength: 3 }),
    temperature: fc.option(fc.double({ noNaN: true, min: 0, max: 2 }), { nil: undefined }),
    stream: fc.option(fc.boolean(), { nil: undefined }),
    extra_body: fc.option(record, { nil: undefined })
  }, { requiredKeys: ["model", "messages"] })
  .chain((r) => record.map((more): ChatCompletion.Request => Object.assign(JSON.parse(JSON.stringify(more)), r)))

describe("requestBody", () => {
  it.prop("is the text of toBody({ ...request, stream }) for any request", [request, fc.boolean()], ([r, stream]) => {
    expect(requestBody(r, stream)).toBe(JSON.stringify(ChatCompletion.toBody({ ...r, stream })))
  })

  it("keeps an own __proto__ key as a key, never as a prototype", () => {
    const r: ChatCompletion.Request = JSON.parse(`{"model":"m","messages":[],"__proto__":{"polluted":true}}`)
    const text = requestBody(r, false)
    expect(text).toBe(`{"model":"m","messages":[],"__proto__":{"polluted":true},"stream":false}`)
    expect(JSON.parse(text)).toHaveProperty("model", "m")
  })

  it("sets stream where the request had it, and merges extra_body over the typed fields", () => {
    const r: ChatCompletion.Request = {
      model: "m",
      stream: true,
      messages: [],
      extra_body: { model: "other", stream_options: { include_usage: true } }
    }
    expect(requestBody(r, false)).toBe(
      `{"model":"other","stream":false,"messages":[],"stream_options":{"include_usage":true}}`
    )
    expect(requestBody({ model: "m", messages: [] }, true)).toBe(`{"model":"m","messages":[],"stream":true}`)
  })
})
