/**
 * The hand-written fast guard for plain text requests must accept only inputs
 * that the request Schema decodes to an equal value (the guard then stands for
 * the decoding: a shortcut, never a loosening), and must accept the common
 * requests so that the shortcut is actually taken.
 */
import { ChatCompletion, Validation } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, ParseResult } from "effect"
import { isTextRequest } from "../src/internal/requestGuard.js"
import { anyValue, numberish, stringish } from "./guardArbitraries.js"

const decode = ParseResult.decodeUnknownEither(ChatCompletion.Request)

/** A plain text request, as the guard should accept it. */
const textMessage = fc.record({
  role: fc.constantFrom("system", "developer", "user", "assistant"),
  content: fc.string({ maxLength: 6 }),
  name: fc.string({ maxLength: 4 })
}, { requiredKeys: ["role", "content"] })
const textRequest = fc.record({
  model: fc.string({ maxLength: 6 }),
  messages: fc.array(textMessage, { maxLength: 3 }),
  max_completion_tokens: fc.oneof(fc.integer(), fc.constant(null)),
  temperature: fc.double(),
  top_p: fc.double(),
  stream: fc.oneof(fc.boolean(), fc.constant(null)),
  stop: fc.oneof(
    fc.string({ maxLength: 3 }),
    fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
    fc.constant(null)
  ),
  frequency_penalty: fc.oneof(fc.double(), fc.constant(null)),
  presence_penalty: fc.oneof(fc.double(), fc.constant(null))
}, { requiredKeys: ["model", "messages"] })

const requestKeys = [
  "model",
  "messages",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "stream",
  "stop",
  "frequency_penalty",
  "presence_penalty",
  "tools",
  "thinking",
  "extra_body",
  "other"
] as const
const messageKeys = ["role", "content", "name", "tool_calls", "tool_call_id", "other"] as const
const value = fc.oneof(anyValue, stringish, numberish, fc.constant([{ type: "text", text: "hi" }]), fc.constant(["a"]))

/** Near-valid requests: a text request as it is, or with one field of it, or of one of its messages, replaced. */
const request = fc.oneof(
  textRequest,
  fc.tuple(textRequest, fc.constantFrom(...requestKeys), value).map(([r, key, v]) => ({ ...r, [key]: v })),
  fc.tuple(textRequest, fc.nat(), fc.constantFrom(...messageKeys), value).map(([r, i, key, v]) =>
    r.messages.length === 0
      ? r
      : { ...r, messages: r.messages.map((m, j) => (j === i % r.messages.length ? { ...m, [key]: v } : m)) }
  ),
  anyValue
)

describe("the fast text-request guard", () => {
  it("takes the shortcut for most near-valid requests (so that the property below is not vacuous)", () => {
    const samples = fc.sample(request, { numRuns: 2000, seed: 14 })
    const accepted = samples.filter(isTextRequest).length
    expect(accepted).toBeGreaterThan(400)
    expect(accepted).toBeLessThan(1900)
  })

  it.prop("accepts only what the request Schema decodes to an equal value", [request], ([u]) => {
    if (isTextRequest(u)) {
      const decoded = decode(u)
      expect(Either.isRight(decoded)).toBe(true)
      if (Either.isRight(decoded)) expect(decoded.right).toStrictEqual(u)
    }
  }, { fastCheck: { numRuns: 5000 } })

  it("accepts the common requests, and leaves the rest to the Schema", () => {
    const plain = {
      model: "mimo-v2-flash",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello", name: "ann" },
        { role: "assistant", content: "Hi." },
        { role: "user", content: "Again" }
      ],
      max_completion_tokens: 16,
      temperature: 0.3,
      top_p: 0.95,
      stream: true,
      stop: ["\n\n"],
      frequency_penalty: null,
      presence_penalty: 0
    }
    expect(isTextRequest(plain)).toBe(true)
    expect(isTextRequest({ model: "m", messages: [] })).toBe(true)
    const others: ReadonlyArray<unknown> = [
      { ...plain, thinking: { type: "enabled" } },
      { ...plain, extra_body: { stream_options: { include_usage: true } } },
      { ...plain, temperature: undefined },
      { ...plain, unknown_field: 1 },
      { ...plain, messages: [{ role: "user", content: [{ type: "text", text: "parts" }] }] },
      { ...plain, messages: [{ role: "tool", content: "x", tool_call_id: "call_1" }] },
      { ...plain, messages: [{ role: "user", content: "x", extra: 1 }] },
      { model: "m", messages: [], __proto__: { injected: true } },
      Object.assign(Object.create({ inherited: 1 }), { model: "m", messages: [] })
    ]
    for (const other of others) expect(isTextRequest(other)).toBe(false)
    // ... and those still decode through the Schema (the unknown field dropped, as before).
    const decoded = decode({ ...plain, unknown_field: 1 })
    expect(Either.isRight(decoded) && decoded.right).toStrictEqual(plain)
  })

  it.effect("validation answers the same with and without the shortcut", () =>
    Effect.gen(function*() {
      const profile = Validation.xiaomi
      const ok = { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }], temperature: 0.5 }
      expect(yield* Validation.validateChatRequest(ok, profile)).toStrictEqual(ok)
      const outOfRange = yield* Effect.flip(Validation.validateChatRequest({ ...ok, temperature: 9 }, profile))
      expect(outOfRange._tag).toBe("ValidationError")
      expect(outOfRange.field).toBe("temperature")
      const badRole = yield* Effect.flip(
        Validation.validateChatRequest({ ...ok, messages: [{ role: "robot", content: "hi" }] }, profile)
      )
      expect(badRole._tag).toBe("ValidationError")
    }))
})
