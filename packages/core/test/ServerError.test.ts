import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Exit, FastCheck as fc, Option, Redacted, Schedule, Stream } from "effect"
import * as Http from "node:http"
import {
  ChatCompletion,
  ErrorCode,
  ErrorResponse,
  MimoClient,
  MimoError,
  MimoTransport,
  Redaction,
  ServerError
} from "../src/index.js"

// -----------------------------------------------------------------------------
// Helpers
// -----------------------------------------------------------------------------

interface Seen {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** Runs a response through the web conversion, as a server writes it. */
const read = (response: HttpServerResponse.HttpServerResponse) =>
  Effect.promise(async (): Promise<Seen> => {
    const web = HttpServerResponse.toWeb(response)
    const headers: Record<string, string> = {}
    web.headers.forEach((value, key) => (headers[key] = value))
    return { status: web.status, headers, body: await web.text() }
  })

/** What a client decodes from a rendered response. */
const decodeSeen = (seen: Seen) =>
  ErrorResponse.decode({ status: seen.status, headers: Headers.fromInput(seen.headers), body: seen.body, nowMillis: 0 })

/** Errors compared field by field (`message` is not enumerable), and by class; not the call's attempts and id. */
const expectSameError = (actual: MimoError.MimoError, expected: MimoError.MimoError) => {
  const { attempts: _attempts, clientRequestId: _id, ...fields } = actual
  expect({ ...fields, _tag: actual._tag, message: actual.message }).toStrictEqual({
    ...expected,
    _tag: expected._tag,
    message: expected.message
  })
  expect(Object.getPrototypeOf(actual)).toBe(Object.getPrototypeOf(expected))
}

const tableError = (row: ErrorCode.Row, props: Record<string, unknown>): MimoError.ApiError => {
  switch (row.tag) {
    case "InvalidRequest":
      return new MimoError.InvalidRequest({ message: "m", ...props })
    case "AuthenticationFailed":
      return new MimoError.AuthenticationFailed({ message: "m", ...props })
    case "PermissionDenied":
      return new MimoError.PermissionDenied({ message: "m", ...props })
    case "NotFound":
      return new MimoError.NotFound({ message: "m", ...props })
    case "RateLimitExceeded":
      return new MimoError.RateLimitExceeded({ message: "m", ...props })
    case "InternalError":
      return new MimoError.InternalError({ message: "m", ...props })
    case "ServiceUnavailable":
      return new MimoError.ServiceUnavailable({ message: "m", ...props })
  }
}

const chunk = (content: string, finish: string | null = null): ChatCompletion.Chunk => {
  const decoded = ChatCompletion.decodeChunkFast({
    id: "c1",
    object: "chat.completion.chunk",
    created: 1,
    model: "mimo-v2-flash",
    choices: [{ index: 0, delta: { content }, finish_reason: finish }]
  })
  if (Either.isLeft(decoded)) throw new Error("bad test chunk")
  return decoded.right
}

const chunks = [chunk("Hel"), chunk("lo"), chunk("!", "stop")]

/**
 * The core's own client reading a server response: an `HttpClient` whose
 * every request is answered by `respond()` (no retries, so a failure is the
 * first attempt's).
 */
const clientReading = (respond: () => HttpServerResponse.HttpServerResponse) =>
  MimoClient.make({ apiKey: Redacted.make("sk-test"), baseUrl: "http://gateway.test/v1", retry: Schedule.stop }).pipe(
    Effect.provide(MimoTransport.layerHttpClient),
    Effect.provideService(
      HttpClient.HttpClient,
      HttpClient.make((request) =>
        Effect.sync(() => HttpClientResponse.fromWeb(request, HttpServerResponse.toWeb(respond())))
      )
    )
  )

const hello: ChatCompletion.Request = { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }] }

const failureOf = <A>(exit: Exit.Exit<A, MimoError.MimoError>): MimoError.MimoError => {
  if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error("expected a typed failure")
  return exit.cause.error
}

// -----------------------------------------------------------------------------
// toResponse
// -----------------------------------------------------------------------------

describe("ServerError.toResponse", () => {
  for (const row of ErrorCode.rows) {
    it.effect(`${row.tag} → ${row.status} with the exact seed envelope`, () =>
      Effect.gen(function*() {
        const e = tableError(row, { message: `about ${row.code}`, type: "t", param: "p", requestId: "req_1" })
        const seen = yield* read(ServerError.toResponse(e))
        expect(seen.status).toBe(row.status)
        expect(seen.headers["content-type"]).toBe("application/json")
        expect(seen.headers["x-request-id"]).toBe("req_1")
        expect(seen.body).toBe(
          `{"error":{"code":"${row.code}","message":"about ${row.code}","type":"t","param":"p"}}`
        )
        expect(seen.headers["retry-after"] !== undefined).toBe(row.status === 429)
        expectSameError(
          decodeSeen(seen),
          row.status === 429 ?
            tableError(row, {
              message: `about ${row.code}`,
              type: "t",
              param: "p",
              requestId: "req_1",
              retryAfter: ServerError.defaultRetryAfter
            }) :
            e
        )
      }))
  }

  it.effect("writes type \"error\" when there is none, and no param", () =>
    Effect.gen(function*() {
      const seen = yield* read(ServerError.toResponse(new MimoError.NotFound({ message: "no such model" })))
      expect(seen.body).toBe(`{"error":{"code":"not_found","message":"no such model","type":"error"}}`)
      expect(seen.headers["x-request-id"]).toBeUndefined()
    }))

  it.effect("429: Retry-After from the error, else the fallback (1 s, or the option)", () =>
    Effect.gen(function*() {
      const limited = new MimoError.RateLimitExceeded({ message: "slow down", retryAfter: Duration.millis(2500) })
      const own = yield* read(ServerError.toResponse(limited))
      expect(own.status).toBe(429)
      expect(own.headers["retry-after"]).toBe("3")
      expect(own.headers["retry-after-ms"]).toBe("2500")
      expectSameError(decodeSeen(own), limited)

      const bare = new MimoError.RateLimitExceeded({ message: "slow down" })
      const fallback = yield* read(ServerError.toResponse(bare))
      expect(fallback.headers["retry-after"]).toBe("1")
      expect(fallback.headers["retry-after-ms"]).toBe("1000")
      const chosen = yield* read(ServerError.toResponse(bare, { retryAfter: "5 seconds" }))
      expect(chosen.headers["retry-after"]).toBe("5")
      expect(ServerError.render(bare).headers["retry-after"]).toBe("1")
    }))

  it.effect("UnknownApiError keeps its status and code (or writes the status as the code)", () =>
    Effect.gen(function*() {
      const withCode = new MimoError.UnknownApiError({
        status: 402,
        code: "insufficient_balance",
        message: "Top up",
        body: "{\"huge\":\"upstream body, never forwarded\"}"
      })
      const seen = yield* read(ServerError.toResponse(withCode))
      expect(seen.status).toBe(402)
      expect(seen.body).toBe(`{"error":{"code":"insufficient_balance","message":"Top up","type":"error"}}`)
      const noCode = yield* read(
        ServerError.toResponse(new MimoError.UnknownApiError({ status: 421, message: "Moderation Block", body: "" }))
      )
      expect(noCode.status).toBe(421)
      expect(noCode.body).toBe(`{"error":{"code":"421","message":"Moderation Block","type":"error"}}`)
    }))

  it.effect("ValidationError → 400 invalid_request, param = the field; decodes as InvalidRequest", () =>
    Effect.gen(function*() {
      const e = new MimoError.ValidationError({
        field: "temperature",
        value: "3",
        expected: "a number in [0, 1.5]",
        message: "temperature: 3 is outside [0, 1.5]"
      })
      const seen = yield* read(ServerError.toResponse(e))
      expect(seen.status).toBe(400)
      expect(seen.body).toBe(
        `{"error":{"code":"invalid_request","message":"temperature: 3 is outside [0, 1.5]","type":"error","param":"temperature"}}`
      )
      expectSameError(
        decodeSeen(seen),
        new MimoError.InvalidRequest({ message: "temperature: 3 is outside [0, 1.5]", param: "temperature" })
      )
    }))

  it.effect("TransportError → 504 on a timeout, else 502; ResponseDecodeError → 502; all retryable on the client", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [MimoError.MimoError, number, string, string]> = [
        [
          new MimoError.TransportError({ reason: "Timeout", message: "no response within 10 seconds", requestId: "r" }),
          504,
          "upstream_timeout",
          "transport_error"
        ],
        [
          new MimoError.TransportError({ reason: "ConnectionRefused", message: "connect ECONNREFUSED" }),
          502,
          "upstream_unavailable",
          "transport_error"
        ],
        [
          new MimoError.ResponseDecodeError({ status: 200, message: "not JSON", body: "{tru" }),
          502,
          "upstream_bad_response",
          "response_decode_error"
        ]
      ]
      for (const [error, status, code, type] of cases) {
        const seen = yield* read(ServerError.toResponse(error))
        expect(seen.status).toBe(status)
        expect(seen.body).toBe(JSON.stringify({ error: { code, message: error.message, type } }))
        expect(seen.body).not.toContain("{tru")
        const decoded = decodeSeen(seen)
        expect(decoded._tag).toBe("UnknownApiError")
        expect(MimoError.codeOf(decoded)).toBe(code)
        expect(decoded.status).toBe(status)
        expect(decoded.message).toBe(error.message)
        expect(MimoError.isRetryable(decoded)).toBe(true)
        expect(decoded.requestId).toBe(MimoError.requestIdOf(error))
      }
    }))

  it.effect("CircuitOpen → 503 service_unavailable with the breaker's Retry-After", () =>
    Effect.gen(function*() {
      const e = new MimoError.CircuitOpen({
        breaker: "mimo-v2-flash",
        message: "open",
        retryAfter: Duration.seconds(20)
      })
      const seen = yield* read(ServerError.toResponse(e))
      expect(seen.status).toBe(503)
      expect(seen.headers["retry-after"]).toBe("20")
      expect(seen.body).toBe(`{"error":{"code":"service_unavailable","message":"open","type":"circuit_open"}}`)
      expectSameError(decodeSeen(seen), new MimoError.ServiceUnavailable({ message: "open", type: "circuit_open" }))
    }))

  const message = fc.string({ unit: "binary", minLength: 1, maxLength: 200 })
  const optionalText = fc.option(
    fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((t) => t !== "error"),
    {
      nil: undefined
    }
  )
  const requestId = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), { nil: undefined })
  const retryAfterMs = fc.option(fc.nat({ max: 86_400_000 }), { nil: undefined })

  it.prop(
    "decode(toResponse(e)) = e for every error of the table (429s carry their Retry-After)",
    [fc.constantFrom(...ErrorCode.rows), message, optionalText, optionalText, requestId, retryAfterMs],
    ([row, message, type, param, requestId, retryAfterMs]) => {
      const props: Record<string, unknown> = { message }
      if (type !== undefined) props.type = type
      if (param !== undefined) props.param = param
      if (requestId !== undefined) props.requestId = requestId
      if (row.tag === "RateLimitExceeded") props.retryAfter = Duration.millis(retryAfterMs ?? 1000)
      const e = tableError(row, props)
      const r = ServerError.render(e)
      expectSameError(
        ErrorResponse.decode({ status: r.status, headers: Headers.fromInput(r.headers), body: r.body, nowMillis: 0 }),
        e
      )
    }
  )
})

// -----------------------------------------------------------------------------
// middleware
// -----------------------------------------------------------------------------

describe("ServerError.middleware", () => {
  it.effect("renders a handler's MimoError; leaves successes and other failures alone", () =>
    Effect.gen(function*() {
      const router = HttpRouter.empty.pipe(
        HttpRouter.get("/limited", Effect.fail(new MimoError.RateLimitExceeded({ message: "slow down" }))),
        HttpRouter.get(
          "/invalid",
          Effect.fail(
            new MimoError.ValidationError({
              field: "model",
              value: "",
              expected: "a model id",
              message: "model: empty"
            })
          )
        ),
        HttpRouter.get("/ok", Effect.succeed(HttpServerResponse.text("fine"))),
        HttpRouter.get("/other", Effect.fail(new Error("not ours")))
      )
      const handler = HttpApp.toWebHandler(ServerError.middleware(router))
      const call = (path: string) =>
        Effect.promise(async () => {
          const response = await handler(new Request(`http://gateway.test${path}`))
          return { status: response.status, headers: response.headers, body: await response.text() }
        })

      const limited = yield* call("/limited")
      expect(limited.status).toBe(429)
      expect(limited.headers.get("retry-after")).toBe("1")
      expect(limited.body).toBe(`{"error":{"code":"rate_limit_exceeded","message":"slow down","type":"error"}}`)

      const invalid = yield* call("/invalid")
      expect(invalid.status).toBe(400)
      expect(JSON.parse(invalid.body)).toEqual({
        error: { code: "invalid_request", message: "model: empty", type: "error", param: "model" }
      })

      const ok = yield* call("/ok")
      expect(ok).toMatchObject({ status: 200, body: "fine" })

      const other = yield* call("/other")
      expect(other.status).toBe(500)
      expect(other.body).not.toContain("\"error\":{")

      const missing = yield* call("/nowhere")
      expect(missing.status).toBe(404)
    }))
})

// -----------------------------------------------------------------------------
// SSE
// -----------------------------------------------------------------------------

describe("ServerError.sseStream", () => {
  it.effect("writes data frames and [DONE]; the core's client reads the same chunks", () =>
    Effect.gen(function*() {
      const response = ServerError.sseStream(Stream.fromIterable(chunks))
      const seen = yield* read(response)
      expect(seen.status).toBe(200)
      expect(seen.headers["content-type"]).toBe("text/event-stream")
      expect(seen.headers["cache-control"]).toBe("no-cache")
      expect(seen.body).toBe(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") + "data: [DONE]\n\n")

      const mimo = yield* clientReading(() => ServerError.sseStream(Stream.fromIterable(chunks)))
      const received = yield* Stream.runCollect(mimo.stream(hello))
      expect(Chunk.toReadonlyArray(received)).toEqual(chunks)
    }))

  it.effect("a failure mid-stream: the chunks, then one error event, no [DONE]; the client gets both", () =>
    Effect.gen(function*() {
      const error = new MimoError.InternalError({ message: "upstream died", param: "p" })
      const failing = () => Stream.concat(Stream.fromIterable(chunks.slice(0, 2)), Stream.fail(error))
      const seen = yield* read(ServerError.sseStream(failing()))
      expect(seen.status).toBe(200)
      expect(seen.body).toBe(
        chunks.slice(0, 2).map((c) => `data: ${JSON.stringify(c)}\n\n`).join("") +
          `data: {"error":{"code":"internal_error","message":"upstream died","type":"error","param":"p"}}\n\n`
      )
      expect(seen.body).not.toContain("[DONE]")

      const mimo = yield* clientReading(() => ServerError.sseStream(failing()))
      const got: Array<ChatCompletion.Chunk> = []
      const exit = yield* Effect.exit(Stream.runForEach(mimo.stream(hello), (c) => Effect.sync(() => got.push(c))))
      expect(got).toEqual(chunks.slice(0, 2))
      expectSameError(failureOf(exit), error)
    }))

  it.effect("a failure before the first chunk is the typed error on the client (non-API errors mapped)", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [MimoError.MimoError, MimoError.MimoError]> = [
        [
          new MimoError.AuthenticationFailed({ message: "Invalid API Key" }),
          new MimoError.AuthenticationFailed({
            message: "Invalid API Key"
          })
        ],
        [
          new MimoError.ValidationError({ field: "temperature", value: "3", expected: "[0, 1.5]", message: "bad" }),
          new MimoError.InvalidRequest({ message: "bad", param: "temperature" })
        ]
      ]
      for (const [error, expected] of cases) {
        const mimo = yield* clientReading(() => ServerError.sseStream(Stream.fail(error)))
        expectSameError(failureOf(yield* Effect.exit(Stream.runDrain(mimo.stream(hello)))), expected)
      }
    }))

  it.effect("the core's client reads `event: error` as an error event and skips other named events", () =>
    Effect.gen(function*() {
      const body = `event: progress\ndata: {"not":"a chunk"}\n\ndata: ${JSON.stringify(chunks[0])}\n\n` +
        `event: error\ndata: {"error":{"code":"service_unavailable","message":"gone"}}\n\n`
      const mimo = yield* clientReading(() => HttpServerResponse.text(body, { contentType: "text/event-stream" }))
      const got: Array<ChatCompletion.Chunk> = []
      const exit = yield* Effect.exit(Stream.runForEach(mimo.stream(hello), (c) => Effect.sync(() => got.push(c))))
      expect(got).toEqual([chunks[0]])
      expectSameError(failureOf(exit), new MimoError.ServiceUnavailable({ message: "gone" }))
    }))

  it.effect("a defect becomes a bare internal_error event", () =>
    Effect.gen(function*() {
      // (The server logs the defect once: the line in the test output is expected.)
      const seen = yield* read(ServerError.sseStream(Stream.concat(Stream.succeed(chunks[0]), Stream.die("bug"))))
      expect(seen.body).toBe(
        `data: ${JSON.stringify(chunks[0])}\n\n` +
          `data: {"error":{"code":"internal_error","message":"The server failed while streaming.","type":"error"}}\n\n`
      )
    }))
})

describe("ServerError.sseStreamWithRetries", () => {
  const events: ReadonlyArray<MimoClient.RetryEvent> = [
    { attempt: 1, delay: Duration.millis(1240), error: new MimoError.ServiceUnavailable({ message: "busy" }) },
    {
      attempt: 2,
      delay: Duration.millis(2100),
      error: new MimoError.RateLimitExceeded({ message: "Too many requests", retryAfter: Duration.seconds(2) })
    },
    {
      attempt: 3,
      delay: Duration.millis(4000),
      error: new MimoError.TransportError({ reason: "ConnectionReset", message: "socket hang up" })
    }
  ]

  const upstream = (onRetry: (event: MimoClient.RetryEvent) => Effect.Effect<void>) =>
    Stream.unwrap(Effect.as(Effect.forEach(events, onRetry, { discard: true }), Stream.fromIterable(chunks)))

  it.effect("announces each retry as `event: mimo.retry` before the chunks; chunk readers ignore them", () =>
    Effect.gen(function*() {
      const seen = yield* read(ServerError.sseStreamWithRetries(upstream))
      expect(seen.headers["content-type"]).toBe("text/event-stream")
      const frames = seen.body.split("\n\n").filter((f) => f !== "")
      expect(frames.length).toBe(events.length + chunks.length + 1)
      const notices = frames.slice(0, events.length)
      for (const [i, f] of notices.entries()) {
        expect(f.startsWith(`event: ${ServerError.retryNoticeEvent}\ndata: `)).toBe(true)
        const decoded = ServerError.decodeRetryNotice(f.slice(f.indexOf("data: ") + 6))
        if (Option.isNone(decoded)) throw new Error("not a notice")
        expect(decoded.value.attempt).toBe(events[i].attempt)
        expect(Duration.toMillis(decoded.value.delay)).toBe(Duration.toMillis(events[i].delay))
      }
      expect(frames[events.length]).toBe(`data: ${JSON.stringify(chunks[0])}`)
      expect(frames[frames.length - 1]).toBe("data: [DONE]")

      const mimo = yield* clientReading(() => ServerError.sseStreamWithRetries(upstream))
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(mimo.stream(hello)))).toEqual(chunks)
    }))

  it("notices round-trip: the typed error, its delay and a 429's Retry-After", () => {
    expect(ServerError.toRetryNotice(events[0])).toEqual({
      attempt: 1,
      delay_ms: 1240,
      status: 503,
      error: { code: "service_unavailable", message: "busy", type: "error" }
    })
    expect(ServerError.toRetryNotice(events[1])).toMatchObject({ status: 429, retry_after_ms: 2000 })
    const back = events.map((e) => ServerError.fromRetryNotice(ServerError.toRetryNotice(e)))
    expectSameError(back[0].error, events[0].error)
    expectSameError(back[1].error, events[1].error)
    expect(back[2].error).toMatchObject({ _tag: "UnknownApiError", status: 502, code: "upstream_unavailable" })
    expect(ServerError.decodeRetryNotice("{\"attempt\":0}")).toEqual(Option.none())
    expect(ServerError.decodeRetryNotice("not json")).toEqual(Option.none())
  })
})

// -----------------------------------------------------------------------------
// issue 11: nothing the server holds reaches a browser
// -----------------------------------------------------------------------------

describe("ServerError with a redactor, over a hostile upstream (loopback)", () => {
  const key = "sk-HOSTILE-echo-5f4e3d2c1b0a"
  const proxy = "https://gw-user:pw-s3cret-99@proxy.example/v1?token=tok-77aa88bb"
  const echo = `key ${key}, header Bearer ${key}, url ${proxy}, encoded ${encodeURIComponent(key)}`
  const redact = Redaction.make({ secrets: [Redacted.make(key)], baseUrls: [proxy] })
  const secretsIn = (text: string) =>
    [key, "pw-s3cret-99", "tok-77aa88bb", "gw-user"].filter((s) =>
      text.includes(s) || text.includes(encodeURIComponent(s))
    )

  /** An upstream that echoes the key everywhere: a 503, a 401, then a stream whose text carries it. */
  const hostile = (answers: Array<(res: Http.ServerResponse) => void>) =>
    Effect.acquireRelease(
      Effect.async<{ readonly url: string; readonly server: Http.Server }>((resume) => {
        const server = Http.createServer((req, res) => {
          req.resume()
          req.on("end", () => (answers.shift() ?? ((r) => r.writeHead(500).end()))(res))
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}/v1`, server }))
        })
      }),
      ({ server }) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )

  const envelope = (res: Http.ServerResponse, status: number, code: string) => {
    res.writeHead(status, { "content-type": "application/json", "x-request-id": `req-${key}` })
    res.end(JSON.stringify({ error: { code, message: echo, type: echo, param: key } }))
  }

  /** A gateway-like loopback server that renders `respond()` with Node, as a browser would read it. */
  const gateway = (respond: () => HttpServerResponse.HttpServerResponse) =>
    Effect.acquireRelease(
      Effect.async<{ readonly url: string; readonly server: Http.Server }>((resume) => {
        const server = Http.createServer((_req, res) => {
          const web = HttpServerResponse.toWeb(respond())
          const headers: Record<string, string> = {}
          web.headers.forEach((value, name) => (headers[name] = value))
          res.writeHead(web.status, headers)
          void (async () => {
            const reader = web.body?.getReader()
            for (;;) {
              const part = await reader?.read()
              if (part === undefined || part.done) break
              res.write(part.value)
            }
            res.end()
          })()
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}/`, server }))
        })
      }),
      ({ server }) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )

  it.scopedLive("error envelopes, retry notices and chunks reach the browser without the key", () =>
    Effect.gen(function*() {
      const sse = (res: Http.ServerResponse) => {
        res.writeHead(200, { "content-type": "text/event-stream" })
        const c = (content: string, finish: string | null) =>
          `data: ${
            JSON.stringify({
              id: "c",
              object: "chat.completion.chunk",
              created: 1,
              model: "mimo-v2-flash",
              choices: [{ index: 0, delta: { content }, finish_reason: finish }]
            })
          }\n\n`
        res.end(c(`your key is ${key}`, null) + c(".", "stop") + "data: [DONE]\n\n")
      }
      const upstream = yield* hostile([
        (res) => envelope(res, 503, "service_unavailable"),
        sse,
        (res) => envelope(res, 401, "authentication_failed")
      ])
      const mimo = yield* MimoClient.make({
        apiKey: Redacted.make(key),
        baseUrl: upstream.url,
        retry: Schedule.spaced("5 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
      }).pipe(Effect.provide(MimoTransport.layerHttpClient), Effect.provide(FetchHttpClient.layer))

      const streamPage = yield* gateway(() =>
        ServerError.sseStreamWithRetries((onRetry) => mimo.stream(hello, { onRetry }), { redact })
      )
      const streamed = yield* Effect.promise(() => fetch(streamPage.url).then((r) => r.text()))
      expect(streamed).toContain("event: mimo.retry")
      expect(streamed).toContain("<redacted>")
      expect(secretsIn(streamed)).toEqual([])
      // the browser-facing stream ended when the upstream did: [DONE] is the last event
      expect(streamed.trimEnd().endsWith("data: [DONE]")).toBe(true)

      const failure = yield* Effect.flip(mimo.chat(hello, { retry: Schedule.stop }))
      expect(failure._tag).toBe("AuthenticationFailed")
      const errorPage = yield* gateway(() => ServerError.toResponse(failure, { redact }))
      const response = yield* Effect.promise(() => fetch(errorPage.url))
      const body = yield* Effect.promise(() => response.text())
      expect(response.status).toBe(401)
      expect(secretsIn(body + (response.headers.get("x-request-id") ?? ""))).toEqual([])
      // The echoed key is gone: the client already scrubs its own key out of what a server sent (`Redaction`), and the
      // gateway's redactor would catch any left.
      const answer = JSON.parse(body)
      expect(answer).toMatchObject({ error: { code: "authentication_failed" } })
      expect(answer.error.param).toBe(Redaction.placeholder)
      // without a redactor the echo would have gone through: the test can see a leak
      expect(secretsIn(ServerError.render(failure).body)).not.toEqual([])
    }))
})
