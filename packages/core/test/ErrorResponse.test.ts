import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc, Option, Schema, TestClock } from "effect"
import { ErrorCode, ErrorResponse, MimoError } from "../src/index.js"

const now = Date.UTC(2026, 0, 15, 12, 0, 0)

const decode = (
  status: number,
  body: string,
  headers: Record<string, string> = {},
  requestId?: string
) => ErrorResponse.decode({ status, headers: Headers.fromInput(headers), body, nowMillis: now, requestId })

const apiTags: ReadonlyArray<string> = [...ErrorCode.rows.map((r) => r.tag), "UnknownApiError"]

const utf8Length = (s: string) => new TextEncoder().encode(s).length

/** An error with only the given optional fields set (no `undefined`-valued keys). */
const optional = (fields: {
  readonly type?: string | undefined
  readonly param?: string | undefined
  readonly requestId?: string | undefined
}) => {
  const out: { type?: string; param?: string; requestId?: string } = {}
  if (fields.type !== undefined) out.type = fields.type
  if (fields.param !== undefined) out.param = fields.param
  if (fields.requestId !== undefined) out.requestId = fields.requestId
  return out
}

const apiError = (row: ErrorCode.Row, message: string, rest: Record<string, unknown> = {}): MimoError.ApiError =>
  Schema.decodeUnknownSync(MimoError.ApiError)({ _tag: row.tag, status: row.status, code: row.code, message, ...rest })

/** Errors compared field by field, `_tag` and `message` included (`message` is not an enumerable field). */
const expectError = (
  actual: MimoError.ApiError | MimoError.UnknownApiError,
  expected: MimoError.ApiError | MimoError.UnknownApiError
) => {
  expect({ ...actual, _tag: actual._tag, message: actual.message }).toStrictEqual({
    ...expected,
    _tag: expected._tag,
    message: expected.message
  })
  expect(actual).toEqual(expected)
  expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected))
}

describe("ErrorResponse.decode: the table", () => {
  it("decodes every row from the seed envelope", () => {
    for (const row of ErrorCode.rows) {
      const body = JSON.stringify({ error: { code: row.code, message: `m ${row.code}`, type: "error" } })
      const e = decode(row.status, body)
      expect(e._tag).toBe(row.tag)
      expect(e.status).toBe(row.status)
      expect(e.code).toBe(row.code)
      expect(e.message).toBe(`m ${row.code}`)
      expect(e.type).toBeUndefined()
      expect(e.param).toBeUndefined()
      expect(e).toBeInstanceOf(Error)
    }
  })

  it("decodes every row from Xiaomi's shape (code = status string, detail in param, type \"\")", () => {
    for (const row of ErrorCode.rows) {
      const body = JSON.stringify({
        error: { code: String(row.status), message: "Param Incorrect", param: `detail ${row.status}`, type: "" }
      })
      const e = decode(row.status, body)
      expectError(e, apiError(row, "Param Incorrect", { param: `detail ${row.status}` }))
      expect(e.code).toBe(row.code)
      expect("type" in e).toBe(false)
    }
  })

  it("classifies by code when the status is outside the table (stream error chunk on a 200)", () => {
    for (const row of ErrorCode.rows) {
      expect(decode(200, JSON.stringify({ error: { code: row.code, message: "x" } }))._tag).toBe(row.tag)
      expect(decode(200, JSON.stringify({ error: { code: String(row.status), message: "x" } }))._tag).toBe(row.tag)
      expect(decode(0, JSON.stringify({ error: { code: row.status, message: "x" } }))._tag).toBe(row.tag)
    }
  })

  it("classifies by status first: a moderation block on a 400 stays InvalidRequest", () => {
    const body =
      `{"error":{"code":"421","message":"Moderation Block","param":"The request was rejected because it was considered high risk","type":"content_filter"}}`
    expectError(
      decode(400, body),
      new MimoError.InvalidRequest({
        message: "Moderation Block",
        param: "The request was rejected because it was considered high risk",
        type: "content_filter"
      })
    )
    expect(decode(400, `{"error":{"code":"441","message":"Request blocked by risk control"}}`)._tag).toBe(
      "InvalidRequest"
    )
    expect(decode(503, `{"error":{"code":"rate_limit_exceeded","message":"busy"}}`)._tag).toBe("ServiceUnavailable")
  })

  it("keeps Xiaomi's real 401 and 429 bodies", () => {
    expectError(
      decode(
        401,
        `{"error":{"message":"Invalid API Key","param":"Please provide valid API Key","code":"401","type":"invalid_key"}}`
      ),
      new MimoError.AuthenticationFailed({
        message: "Invalid API Key",
        param: "Please provide valid API Key",
        type: "invalid_key"
      })
    )
    expectError(
      decode(429, `{"error":{"code":"429","message":"Too many requests","type":"limitation"}}`),
      new MimoError.RateLimitExceeded({ message: "Too many requests", type: "limitation" })
    )
  })
})

describe("ErrorResponse.decode: odd bodies", () => {
  it("HTML 502 with a title", () => {
    const html =
      `<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n`
    const e = decode(502, html)
    expectError(
      e,
      new MimoError.UnknownApiError({
        status: 502,
        message: "502 Bad Gateway",
        body:
          "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> <hr><center>nginx</center> </body> </html>"
      })
    )
    expect(MimoError.isRetryable(e)).toBe(true)
  })

  it("HTML title with entities and whitespace; a table status keeps its class", () => {
    const e = decode(503, `<!DOCTYPE html><html><head><TITLE>\n  Service &amp; API\n  unavailable </TITLE>`)
    expect(e._tag).toBe("ServiceUnavailable")
    expect(e.message).toBe("Service & API unavailable")
  })

  it("HTML without a title", () => {
    const e = decode(504, "<html><body><h1>Gateway Timeout</h1></body></html>")
    expectError(
      e,
      new MimoError.UnknownApiError({
        status: 504,
        message: "HTTP 504",
        body: "<html><body><h1>Gateway Timeout</h1></body></html>"
      })
    )
  })

  it("empty 503 (message from the table), empty 504 (HTTP <status>)", () => {
    expectError(
      decode(503, ""),
      new MimoError.ServiceUnavailable({ message: ErrorCode.table.service_unavailable.description })
    )
    expectError(
      decode(503, "  \n "),
      new MimoError.ServiceUnavailable({ message: ErrorCode.table.service_unavailable.description })
    )
    expectError(decode(504, ""), new MimoError.UnknownApiError({ status: 504, message: "HTTP 504", body: "" }))
  })

  it("truncated JSON 500: what can be read is salvaged", () => {
    expectError(
      decode(500, `{"error":{"code":"500","message":"upstream \\"timed\\" out","ty`),
      new MimoError.InternalError({ message: "upstream \"timed\" out" })
    )
    expectError(
      decode(500, `{"error":{"code":"500","mess`),
      new MimoError.InternalError({ message: ErrorCode.table.internal_error.description })
    )
    const unknown = decode(502, `{"error":{"code":"bad_gateway","message":"upstream`)
    expectError(
      unknown,
      new MimoError.UnknownApiError({
        status: 502,
        code: "bad_gateway",
        message: "HTTP 502",
        body: `{"error":{"code":"bad_gateway","message":"upstream`
      })
    )
  })

  it("a 5 MiB body: only a bounded prefix is read, fast, and the excerpt is at most 2 KiB", () => {
    const huge = `{"error":{"code":"server_melted","message":"` + "x".repeat(5 * 1024 * 1024) + `"}}`
    const hugeHtml = "<html><head><title>Oops</title></head><body>" + "<p>  é  </p>\n".repeat(400_000) +
      "</body></html>"
    const hugeText = "ü".repeat(5 * 1024 * 1024)
    const started = performance.now()
    const a = decode(502, huge)
    const b = decode(500, hugeHtml)
    const c = decode(418, hugeText)
    const elapsed = performance.now() - started
    expect(elapsed).toBeLessThan(250)
    expect(a._tag).toBe("UnknownApiError")
    expect(a.code).toBe("server_melted")
    expect(a.message).toBe("HTTP 502")
    expectError(b, new MimoError.InternalError({ message: "Oops" }))
    expect(c.message.length).toBeLessThanOrEqual(512)
    for (const e of [a, c]) {
      if (e._tag !== "UnknownApiError") throw new Error("expected UnknownApiError")
      expect(utf8Length(e.body)).toBeLessThanOrEqual(ErrorResponse.maxExcerpt)
      expect(utf8Length(e.body)).toBeGreaterThan(ErrorResponse.maxExcerpt - 4)
    }
  })

  it("SSE-framed 400, with and without the space, several events and [DONE]", () => {
    const expected = new MimoError.InvalidRequest({ message: "Param Incorrect", param: "`text` is not set" })
    const event = `{"error":{"code":"400","message":"Param Incorrect","param":"\`text\` is not set","type":""}}`
    expectError(decode(400, `data:${event}\n\n`), expected)
    expectError(decode(400, `data: ${event}\n\ndata: [DONE]\n\n`), expected)
    expectError(decode(400, `: keep-alive\r\nevent: error\r\ndata: ${event}\r\n\r\n`), expected)
    expectError(decode(400, `data: {"id":"c1","choices":[]}\n\ndata: ${event}\n\ndata: [DONE]\n\n`), expected)
    // a stream error chunk on a 200 is classified by its code
    expect(decode(200, `data: {"error":{"code":"429","message":"Too many requests"}}\n\n`)._tag).toBe(
      "RateLimitExceeded"
    )
  })

  it("bare {type, message} on a 402", () => {
    const e = decode(402, `{"type":"server_error","message":"Upstream request failed: Insufficient account funds"}`)
    expectError(
      e,
      new MimoError.UnknownApiError({
        status: 402,
        type: "server_error",
        message: "Upstream request failed: Insufficient account funds",
        body: `{"type":"server_error","message":"Upstream request failed: Insufficient account funds"}`
      })
    )
    expect(MimoError.isRetryable(e)).toBe(false)
  })

  it("Anthropic's shape on a 529 and on a 429", () => {
    const body = `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
    expectError(
      decode(529, body),
      new MimoError.UnknownApiError({ status: 529, type: "overloaded_error", message: "Overloaded", body })
    )
    expectError(
      decode(429, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`),
      new MimoError.RateLimitExceeded({ type: "rate_limit_error", message: "slow down" })
    )
  })

  it("a numeric code", () => {
    expectError(
      decode(429, `{"error":{"code":429,"message":"Too many requests"}}`),
      new MimoError.RateLimitExceeded({ message: "Too many requests" })
    )
    expectError(
      decode(422, `{"error":{"code":1001,"message":"bad","type":null,"param":null}}`),
      new MimoError.UnknownApiError({
        status: 422,
        code: "1001",
        message: "bad",
        body: `{"error":{"code":1001,"message":"bad","type":null,"param":null}}`
      })
    )
  })

  it("an unknown code with status 418", () => {
    const body = `{"error":{"code":"teapot","message":"I'm a teapot","type":"brew","param":"coffee","extra":[1,2]}}`
    expectError(
      decode(418, body, { "x-request-id": "req_418" }),
      new MimoError.UnknownApiError({
        status: 418,
        code: "teapot",
        message: "I'm a teapot",
        type: "brew",
        param: "coffee",
        requestId: "req_418",
        body
      })
    )
  })

  it("statuses outside the table: 402/408/413/421/422/502/504 stay UnknownApiError with their status", () => {
    for (const status of [402, 408, 413, 421, 422, 502, 504]) {
      const body = JSON.stringify({ error: { code: String(status), message: `status ${status}`, type: "" } })
      const e = decode(status, body)
      expectError(e, new MimoError.UnknownApiError({ status, message: `status ${status}`, body }))
      expect(MimoError.isRetryable(e)).toBe(status === 408 || status >= 500)
    }
  })

  it("{\"error\":\"text\"}, {detail}, plain text, a JSON string", () => {
    expect(decode(404, `{"error":"model not found"}`).message).toBe("model not found")
    expect(decode(422, `{"detail":"Unprocessable"}`).message).toBe("Unprocessable")
    expect(decode(502, "upstream connect error or disconnect/reset before headers\n").message).toBe(
      "upstream connect error or disconnect/reset before headers"
    )
    expect(decode(500, `"boom"`).message).toBe("boom")
  })
})

describe("ErrorResponse.decode: headers", () => {
  it("RateLimitExceeded gets retryAfter from Retry-After (seconds, decimal, date, ms)", () => {
    const body = `{"error":{"code":"429","message":"Too many requests"}}`
    const retryAfter = (headers: Record<string, string>) => {
      const e = decode(429, body, headers)
      return e._tag === "RateLimitExceeded" ? e.retryAfter : undefined
    }
    expect(retryAfter({ "retry-after": "3" })).toEqual(Duration.seconds(3))
    expect(retryAfter({ "retry-after": "1.5" })).toEqual(Duration.millis(1500))
    expect(retryAfter({ "retry-after": "Thu, 15 Jan 2026 12:00:10 GMT" })).toEqual(Duration.seconds(10))
    expect(retryAfter({ "retry-after": "Thu, 15 Jan 2026 11:00:00 GMT" })).toEqual(Duration.zero)
    expect(retryAfter({ "retry-after": "3", "retry-after-ms": "250" })).toEqual(Duration.millis(250))
    expect(retryAfter({ "retry-after": "later" })).toBeUndefined()
    expect(retryAfter({})).toBeUndefined()
    expect("retryAfter" in decode(429, body)).toBe(false)
  })

  it("requestId: the input wins, then x-request-id, request-id, x-mimo-request-id", () => {
    const body = `{"error":{"code":"500","message":"boom"}}`
    const all = { "x-request-id": "a", "request-id": "b", "x-mimo-request-id": "c" }
    expect(decode(500, body, all, "given").requestId).toBe("given")
    expect(decode(500, body, all).requestId).toBe("a")
    expect(decode(500, body, { "Request-Id": "b", "x-mimo-request-id": "c" }).requestId).toBe("b")
    expect(decode(500, body, { "X-Mimo-Request-Id": "c" }).requestId).toBe("c")
    expect(decode(500, body, { "x-request-id": "" }, "").requestId).toBeUndefined()
  })
})

describe("ErrorResponse.decodeChunkError", () => {
  it("is None for chunks without an error object", () => {
    expect(ErrorResponse.decodeChunkError({ id: "c1", choices: [] })).toEqual(Option.none())
    expect(ErrorResponse.decodeChunkError({ error: null })).toEqual(Option.none())
    expect(ErrorResponse.decodeChunkError("data")).toEqual(Option.none())
    expect(ErrorResponse.decodeChunkError(null)).toEqual(Option.none())
  })

  it("classifies by code", () => {
    expectError(
      Option.getOrThrow(ErrorResponse.decodeChunkError({ error: { code: "429", message: "Too many requests" } }, "r1")),
      new MimoError.RateLimitExceeded({ message: "Too many requests", requestId: "r1" })
    )
    expectError(
      Option.getOrThrow(ErrorResponse.decodeChunkError({ error: { code: "internal_error", message: "boom" } })),
      new MimoError.InternalError({ message: "boom" })
    )
    expectError(
      Option.getOrThrow(ErrorResponse.decodeChunkError({ error: { code: 503 } })),
      new MimoError.ServiceUnavailable({ message: ErrorCode.table.service_unavailable.description })
    )
  })

  it("an unknown code: the code's status when it is one, else 0", () => {
    expectError(
      Option.getOrThrow(ErrorResponse.decodeChunkError({ error: { code: "402", message: "no funds" } })),
      new MimoError.UnknownApiError({
        status: 402,
        message: "no funds",
        body: `{"error":{"code":"402","message":"no funds"}}`
      })
    )
    expectError(
      Option.getOrThrow(
        ErrorResponse.decodeChunkError({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } })
      ),
      new MimoError.UnknownApiError({
        status: 0,
        type: "overloaded_error",
        message: "Overloaded",
        body: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
      })
    )
    const e = Option.getOrThrow(ErrorResponse.decodeChunkError({ error: "stream aborted" }))
    expectError(
      e,
      new MimoError.UnknownApiError({ status: 0, message: "stream aborted", body: `{"error":"stream aborted"}` })
    )
  })
})

const request = HttpClientRequest.post("http://127.0.0.1/v1/chat/completions")

const webResponse = (body: BodyInit | null, status: number, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(request, new Response(body, { status, headers }))

describe("ErrorResponse.fromResponse", () => {
  it.effect("fails with the decoded error, reading now from the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const response = webResponse(`{"error":{"code":"429","message":"Too many requests","type":"limitation"}}`, 429, {
        "retry-after": "Thu, 15 Jan 2026 12:00:20 GMT",
        "x-request-id": "req_1"
      })
      const error = yield* Effect.flip(ErrorResponse.fromResponse(response))
      expectError(
        error,
        new MimoError.RateLimitExceeded({
          message: "Too many requests",
          type: "limitation",
          requestId: "req_1",
          retryAfter: Duration.seconds(20)
        })
      )
    }))

  it.effect("an HTML 502, an empty 503 and a body-less response", () =>
    Effect.gen(function*() {
      const html = yield* Effect.flip(ErrorResponse.fromResponse(webResponse("<title>Bad Gateway</title>", 502)))
      expectError(
        html,
        new MimoError.UnknownApiError({ status: 502, message: "Bad Gateway", body: "<title>Bad Gateway</title>" })
      )
      const empty = yield* Effect.flip(ErrorResponse.fromResponse(webResponse("", 503)))
      expect(empty._tag).toBe("ServiceUnavailable")
      const none = yield* Effect.flip(ErrorResponse.fromResponse(webResponse(null, 401), { requestId: "given" }))
      expectError(
        none,
        new MimoError.AuthenticationFailed({
          message: ErrorCode.table.authentication_failed.description,
          requestId: "given"
        })
      )
    }))

  it.effect("reads at most maxBytes and stops pulling an endless body", () =>
    Effect.gen(function*() {
      let pulls = 0
      let cancelled = false
      const chunk = new TextEncoder().encode(`{"error":{"code":"500","message":"boom"}}` + " ".repeat(4096))
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulls++
          controller.enqueue(chunk)
        },
        cancel() {
          cancelled = true
        }
      })
      const error = yield* Effect.flip(ErrorResponse.fromResponse(webResponse(endless, 500), { maxBytes: 10_000 }))
      expectError(error, new MimoError.InternalError({ message: "boom" }))
      expect(pulls).toBeLessThan(10)
      expect(cancelled).toBe(true)
    }))

  it.effect("keeps only maxBytes of a large body (the excerpt shows the cut)", () =>
    Effect.gen(function*() {
      const body = `{"error":{"code":"gateway","message":"` + "y".repeat(200_000) + `"}}`
      const error = yield* Effect.flip(ErrorResponse.fromResponse(webResponse(body, 502), { maxBytes: 100 }))
      expectError(
        error,
        new MimoError.UnknownApiError({ status: 502, code: "gateway", message: "HTTP 502", body: body.slice(0, 100) })
      )
      const byDefault = yield* Effect.flip(ErrorResponse.fromResponse(webResponse(body, 502)))
      expect(byDefault._tag === "UnknownApiError" && utf8Length(byDefault.body)).toBe(ErrorResponse.maxExcerpt)
    }))

  it.effect("a body that fails mid-way yields what was read", () =>
    Effect.gen(function*() {
      let sent = false
      const failing = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent) controller.error(new Error("connection reset"))
          else {
            sent = true
            controller.enqueue(new TextEncoder().encode(`{"error":{"code":"503","message":"overloaded"}}`))
          }
        }
      })
      const error = yield* Effect.flip(ErrorResponse.fromResponse(webResponse(failing, 503)))
      expectError(error, new MimoError.ServiceUnavailable({ message: "overloaded" }))
    }))
})

describe("ErrorResponse.encode", () => {
  it("writes the seed envelope with headers", () => {
    const e = new MimoError.RateLimitExceeded({
      message: "Too many requests",
      requestId: "req_9",
      retryAfter: Duration.millis(1500)
    })
    expect(ErrorResponse.encode(e)).toEqual({
      status: 429,
      headers: {
        "content-type": "application/json",
        "retry-after": "2",
        "retry-after-ms": "1500",
        "x-request-id": "req_9"
      },
      body: `{"error":{"code":"rate_limit_exceeded","message":"Too many requests","type":"error"}}`
    })
  })

  it("writes the three shapes", () => {
    const e = new MimoError.InvalidRequest({ message: "Param Incorrect", param: "`text` is not set" })
    expect(ErrorResponse.encode(e, { shape: "seed" }).body).toBe(
      `{"error":{"code":"invalid_request","message":"Param Incorrect","type":"error","param":"\`text\` is not set"}}`
    )
    expect(ErrorResponse.encode(e, { shape: "xiaomi" }).body).toBe(
      `{"error":{"code":"400","message":"Param Incorrect","param":"\`text\` is not set","type":""}}`
    )
    expect(ErrorResponse.encode(e, { shape: "bare" }).body).toBe(`{"type":"error","message":"Param Incorrect"}`)
    expect(ErrorResponse.encode(e).headers).toEqual({ "content-type": "application/json" })
  })

  it("an UnknownApiError: its status, its code or the status as a string", () => {
    const withCode = new MimoError.UnknownApiError({ status: 402, code: "no_funds", message: "pay", body: "" })
    expect(ErrorResponse.encode(withCode)).toEqual({
      status: 402,
      headers: { "content-type": "application/json" },
      body: `{"error":{"code":"no_funds","message":"pay","type":"error"}}`
    })
    const withoutCode = new MimoError.UnknownApiError({ status: 502, message: "Bad Gateway", type: "proxy", body: "" })
    expect(ErrorResponse.encode(withoutCode).body).toBe(
      `{"error":{"code":"502","message":"Bad Gateway","type":"proxy"}}`
    )
  })

  it("type \"error\" is the envelope's placeholder: it decodes as no type", () => {
    const e = new MimoError.NotFound({ message: "no such model", type: "error" })
    const r = ErrorResponse.encode(e)
    const decoded = decode(r.status, r.body, { ...r.headers })
    expectError(decoded, new MimoError.NotFound({ message: "no such model" }))
  })
})

describe("ErrorResponse.Envelope", () => {
  it("decodes leniently and normalizes", () => {
    const decodeEnvelope = Schema.decodeUnknownSync(ErrorResponse.Envelope)
    expect(decodeEnvelope({ error: { code: 429, message: "m", type: "", param: null, extra: 1 }, id: "x" })).toEqual({
      error: { code: "429", message: "m" }
    })
    expect(decodeEnvelope({ error: { code: "not_found", message: "m", type: "error" } })).toEqual({
      error: { code: "not_found", message: "m" }
    })
    expect(decodeEnvelope({ error: { code: "400", message: "m", type: "content_filter", param: "p" } })).toEqual({
      error: { code: "400", message: "m", type: "content_filter", param: "p" }
    })
    expect(Schema.decodeUnknownOption(ErrorResponse.Envelope)({ error: { message: "no code" } })).toEqual(
      Option.none()
    )
  })

  it("encodes the seed envelope, round-tripping", () => {
    const value = { error: { code: "internal_error", message: "boom", param: "p" } }
    const encoded = Schema.encodeSync(ErrorResponse.Envelope)(value)
    expect(encoded).toEqual({ error: { code: "internal_error", message: "boom", type: "error", param: "p" } })
    expect(Schema.decodeUnknownSync(ErrorResponse.Envelope)(encoded)).toEqual(value)
    const e = new MimoError.InternalError({ message: "boom", param: "p" })
    expect(JSON.parse(ErrorResponse.encode(e).body)).toEqual(encoded)
  })
})

// -----------------------------------------------------------------------------
// Properties
// -----------------------------------------------------------------------------

const statusLike = /^[1-5]\d\d$/
const message = fc.string({ unit: "binary", minLength: 1, maxLength: 300 })
const type = fc.option(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((t) => t !== "error"), {
  nil: undefined
})
const param = fc.option(fc.string({ unit: "binary", minLength: 1, maxLength: 200 }), { nil: undefined })
const requestId = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,48}$/), { nil: undefined })
const retryAfterMs = fc.option(fc.nat({ max: 86_400_000 }), { nil: undefined })
const row = fc.constantFrom(...ErrorCode.rows)
const unknownStatus = fc.integer({ min: 100, max: 599 }).filter((s) => ErrorCode.fromStatus(s) === undefined)
const unknownCode = fc.option(
  fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((c) =>
    !ErrorCode.isCode(c) && !(statusLike.test(c) && ErrorCode.fromStatus(Number(c)) !== undefined)
  ),
  { nil: undefined }
)

const roundTrip = (e: MimoError.ApiError | MimoError.UnknownApiError, shape: ErrorResponse.Shape) => {
  const r = ErrorResponse.encode(e, { shape })
  return { rendered: r, decoded: decode(r.status, r.body, { ...r.headers }) }
}

describe("ErrorResponse properties", () => {
  it.prop(
    "decode(encode(e)) = e for every ApiError (seed and xiaomi); bare keeps all but param",
    [row, message, type, param, requestId, retryAfterMs],
    ([row, message, type, param, requestId, retryAfterMs]) => {
      const e = apiError(row, message, {
        ...optional({ type, param, requestId }),
        ...(retryAfterMs === undefined ? {} : { retryAfter: retryAfterMs })
      })
      expectError(roundTrip(e, "seed").decoded, e)
      expectError(roundTrip(e, "xiaomi").decoded, e)
      const bare = apiError(row, message, {
        ...optional({ type, requestId }),
        ...(retryAfterMs === undefined ? {} : { retryAfter: retryAfterMs })
      })
      expectError(roundTrip(e, "bare").decoded, bare)
      if (row.tag === "RateLimitExceeded" && retryAfterMs !== undefined) {
        const decoded = roundTrip(e, "seed").decoded
        expect(decoded._tag === "RateLimitExceeded" && decoded.retryAfter).toEqual(Duration.millis(retryAfterMs))
      }
    }
  )

  it.prop(
    "decode(encode(e)) = e for an UnknownApiError whose body is the encoded body's excerpt (seed); xiaomi drops the code, bare also param",
    [unknownStatus, unknownCode, message, type, param, requestId],
    ([status, code, message, type, param, requestId]) => {
      const make = (body: string, keep: { code: boolean; param: boolean }) =>
        new MimoError.UnknownApiError({
          status,
          message,
          body,
          ...optional({ type, requestId, param: keep.param ? param : undefined }),
          ...(keep.code && code !== undefined && code !== String(status) ? { code } : {})
        })
      for (
        const [shape, keep] of [
          ["seed", { code: true, param: true }],
          ["xiaomi", { code: false, param: true }],
          ["bare", { code: false, param: false }]
        ] as const
      ) {
        const e = make("", { code: true, param: true })
        const { decoded, rendered } = roundTrip(e, shape)
        expectError(decoded, make(ErrorResponse.excerpt(rendered.body), keep))
        if (shape === "seed") {
          const withBody = make(ErrorResponse.excerpt(rendered.body), keep)
          expectError(roundTrip(withBody, shape).decoded, withBody)
        }
      }
    }
  )

  const bodies = fc.oneof(
    fc.string({ unit: "binary", maxLength: 400 }),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify({ error: v })),
    fc.jsonValue().map((v) => JSON.stringify({ type: "error", error: { type: v, message: v } })),
    fc.tuple(fc.jsonValue(), fc.nat({ max: 200 })).map(([v, n]) => JSON.stringify({ error: v }).slice(0, n)),
    fc.tuple(fc.json(), fc.constantFrom("data:", "data: ", "event: error\ndata: ", ": x\n")).map(([j, p]) =>
      `${p}${j}\n\ndata: [DONE]\n\n`
    ),
    fc.string({ maxLength: 100 }).map((t) => `<html><head><title>${t}</title></head></html>`),
    fc.constantFrom("", " ", "{", "[", "<", "data:", "\"", "null", "{\"error\":{\"code\":", "<title>")
  )
  const headerValue = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.nat().map(String),
    fc.constant("Thu, 15 Jan 2026 12:00:10 GMT")
  )

  it.prop(
    "decode never throws and always gives one of the 8 API classes, consistent with the status",
    [fc.integer({ min: 100, max: 599 }), bodies, headerValue, headerValue, fc.option(fc.string(), { nil: undefined })],
    ([status, body, retryAfter, retryAfterMs, requestId]) => {
      const e = decode(status, body, { "retry-after": retryAfter, "retry-after-ms": retryAfterMs }, requestId)
      expect(apiTags).toContain(e._tag)
      expect(e).toBeInstanceOf(Error)
      expect(typeof e.message).toBe("string")
      expect(e.message.length).toBeGreaterThan(0)
      const tableRow = ErrorCode.fromStatus(status)
      if (tableRow !== undefined) {
        expect(e._tag).toBe(tableRow.tag)
        expect(e.status).toBe(status)
      }
      if (e._tag === "UnknownApiError") {
        expect(e.status).toBe(status)
        expect(utf8Length(e.body)).toBeLessThanOrEqual(ErrorResponse.maxExcerpt)
      }
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "excerpt: whitespace collapsed, trimmed, the longest prefix within maxExcerpt UTF-8 bytes of the first maxScan chars",
    [
      fc.array(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 3000 }),
          fc.constantFrom(" ", "\n\t ", "é", "😀", "\ud800"),
          fc.nat({ max: 70_000 }).map((n) => " ".repeat(n))
        ),
        { maxLength: 40 }
      ).map((parts) => parts.join(""))
    ],
    ([body]) => {
      const full = body.slice(0, ErrorResponse.maxScan).replace(/\s+/g, " ").trim()
      const e = ErrorResponse.excerpt(body)
      expect(utf8Length(e)).toBeLessThanOrEqual(ErrorResponse.maxExcerpt)
      expect(full.startsWith(e)).toBe(true)
      if (e.length < full.length) {
        // cut at the byte limit: the next code point (after any trimmed space) would not have fitted
        const next = full.slice(e.length).trimStart()
        const cp = String.fromCodePoint(next.codePointAt(0) ?? 32)
        expect(utf8Length(full.slice(0, full.length - next.length) + cp)).toBeGreaterThan(ErrorResponse.maxExcerpt)
      }
    },
    { fastCheck: { numRuns: 200 } }
  )

  it.prop(
    "decodeChunkError never throws on arbitrary JSON",
    [fc.jsonValue()],
    ([json]) => {
      const some = ErrorResponse.decodeChunkError(json)
      const wrapped = ErrorResponse.decodeChunkError({ error: json })
      expect(Option.isNone(some) || apiTags.includes(some.value._tag)).toBe(true)
      expect(Option.isNone(wrapped) || apiTags.includes(wrapped.value._tag)).toBe(true)
    }
  )
})
