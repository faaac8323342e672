/**
 * MimoError → AiError → MimoError, as properties: every error the client can
 * fail with comes back as itself.
 */
import { MimoAiError } from "@effect-mimo/ai"
import { ErrorCode, ErrorResponse, MimoError } from "@effect-mimo/core"
import * as AiError from "@effect/ai/AiError"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc, Option, Schema } from "effect"

const options = { method: "generateText", baseUrl: "https://api.xiaomimimo.com/v1" }

const encode = Schema.encodeSync(MimoError.MimoError)

/** Compared in their wire form (`_tag`, `message` and every field, durations as milliseconds). */
const expectSame = (actual: MimoError.MimoError, expected: MimoError.MimoError) => {
  expect(actual._tag).toBe(expected._tag)
  expect(encode(actual)).toStrictEqual(encode(expected))
  expect(actual.message).toBe(expected.message)
}

const roundTrip = (e: MimoError.MimoError) => {
  const ai = MimoAiError.fromMimoError(e, options)
  expect(AiError.isAiError(ai)).toBe(true)
  return { ai, back: Option.getOrThrow(MimoAiError.toMimoError(ai)) }
}

const opt = <A>(arb: fc.Arbitrary<A>) => fc.option(arb, { nil: undefined })
const defined = <A extends Record<string, unknown>>(fields: A): Partial<A> =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<A>

const message = fc.string({ unit: "binary", minLength: 1, maxLength: 200 })
const type = opt(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((t) => t !== "error"))
const param = opt(fc.string({ unit: "binary", minLength: 1, maxLength: 120 }))
const requestId = opt(fc.stringMatching(/^[A-Za-z0-9_-]{1,48}$/))
const retryAfterMs = opt(fc.nat({ max: 86_400_000 }))

const apiError = fc.record({
  row: fc.constantFrom(...ErrorCode.rows),
  message,
  type,
  param,
  requestId,
  retryAfterMs
}).map(({ message, param, requestId, retryAfterMs, row, type }) =>
  Schema.decodeUnknownSync(MimoError.ApiError)({
    _tag: row.tag,
    status: row.status,
    code: row.code,
    message,
    ...defined({ type, param, requestId }),
    ...(row.tag === "RateLimitExceeded" && retryAfterMs !== undefined ? { retryAfter: retryAfterMs } : {})
  })
)

const transport = fc.record({
  reason: fc.constantFrom(...MimoError.TransportReason.literals),
  message: fc.string(),
  requestId
}).map((f) => new MimoError.TransportError(defined(f) as typeof f))

const decodeError = fc.record({ status: fc.integer({ min: 200, max: 299 }), message: fc.string(), body: fc.string() })
  .map((f) => new MimoError.ResponseDecodeError(f))

const validation = fc.record({ field: fc.string(), value: fc.string(), expected: fc.string(), message: fc.string() })
  .map((f) => new MimoError.ValidationError(f))

const circuitOpen = fc.record({ breaker: fc.string(), message: fc.string(), retryAfterMs })
  .map(({ breaker, message, retryAfterMs }) =>
    new MimoError.CircuitOpen({
      breaker,
      message,
      ...(retryAfterMs !== undefined ? { retryAfter: Duration.millis(retryAfterMs) } : {})
    })
  )

describe("MimoAiError", () => {
  it.prop("every API error: HttpResponseError with its status and seed envelope, and back", [apiError], ([e]) => {
    const { ai, back } = roundTrip(e)
    expect(ai._tag).toBe("HttpResponseError")
    if (ai._tag !== "HttpResponseError") return
    expect(ai.response.status).toBe(e.status)
    expect(ai.body).toBe(ErrorResponse.encode(e).body)
    if (e._tag === "RateLimitExceeded" && e.retryAfter !== undefined) {
      expect(ai.response.headers["retry-after-ms"]).toBe(String(Duration.toMillis(e.retryAfter)))
    }
    expectSame(back, e)
  })

  it.prop(
    "transport, decode, validation and breaker errors: their AiError, and back",
    [fc.oneof(transport, decodeError, validation, circuitOpen)],
    ([e]) => {
      const { ai, back } = roundTrip(e)
      const expected = {
        TransportError: "HttpRequestError",
        ResponseDecodeError: "MalformedOutput",
        ValidationError: "MalformedInput",
        CircuitOpen: "UnknownError"
      } as const
      expect(ai._tag).toBe(expected[e._tag as keyof typeof expected])
      expectSame(back, e)
    }
  )

  it.prop(
    "an UnknownApiError keeps status, code, message, type and param; its body comes back as the envelope's excerpt",
    [
      fc.integer({ min: 100, max: 599 }).filter((s) => ErrorCode.fromStatus(s) === undefined),
      message,
      type,
      param,
      requestId
    ],
    ([status, message, type, param, requestId]) => {
      const fields = { status, message, ...defined({ type, param, requestId }) }
      const e = new MimoError.UnknownApiError({ ...fields, body: "" })
      const { ai, back } = roundTrip(e)
      expect(ai._tag === "HttpResponseError" && ai.response.status).toBe(status)
      expectSame(
        back,
        new MimoError.UnknownApiError({ ...fields, body: ErrorResponse.excerpt(ErrorResponse.encode(e).body) })
      )
    }
  )

  it("never puts request headers (the key) in an AiError", () => {
    const ai = MimoAiError.fromMimoError(new MimoError.TransportError({ reason: "Timeout", message: "slow" }), options)
    expect(ai._tag === "HttpRequestError" && ai.request).toMatchObject({
      method: "POST",
      url: "https://api.xiaomimimo.com/v1/chat/completions",
      headers: {}
    })
  })

  it("other AiErrors are not MiMo's: None, and withMimoErrors leaves them", () =>
    Effect.gen(function*() {
      const foreign = new AiError.MalformedOutput({ module: "LanguageModel", method: "generateText" })
      expect(Option.isNone(MimoAiError.toMimoError(foreign))).toBe(true)
      const left = yield* Effect.flip(MimoAiError.withMimoErrors(Effect.fail(foreign)))
      expect(left).toBe(foreign)
      const ours = MimoAiError.fromMimoError(new MimoError.NotFound({ message: "no such model" }), options)
      const mapped = yield* Effect.flip(MimoAiError.withMimoErrors(Effect.fail(ours)))
      expect(mapped._tag).toBe("NotFound")
    }).pipe(Effect.runSync))
})
