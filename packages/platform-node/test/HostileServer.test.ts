/**
 * MimoClient against a hostile loopback server (a plain `node:http` server
 * on a random port), over both wires (`NodeMimoClient.layer`'s undici
 * transport, and `MimoTransport.layerHttpClient` over an `HttpClient`), on the
 * real clock with short limits: streams that never end, stall, lie about
 * their content type or end too early; characters cut between packets and
 * bytes that are no UTF-8; huge bodies and lines; deep JSON;
 * `__proto__` keys; a server that echoes the key; a deadline against a hang.
 * Each is a typed error within a bound, nothing leaked, nothing hung.
 */
import { ChatCompletion, MimoClient, MimoError, MimoTransport, Redaction } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Layer, LogLevel, Redacted, Ref, Schedule, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Zlib from "node:zlib"
import { captureLogs, captureSpans, type Wire, wires } from "./support.js"

const key = "sk-hostile-KEY-0123456789abcdef"

const chunkLine = (content: string, finish?: string) =>
  `data: ${
    JSON.stringify({
      id: "c1",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content }, ...(finish !== undefined ? { finish_reason: finish } : {}) }]
    })
  }\n\n`

const completion = JSON.stringify({
  id: "r1",
  object: "chat.completion",
  choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }]
})

const deep = (depth: number) =>
  `{"id":"r","object":"chat.completion","choices":[],"x":${"[".repeat(depth)}${"]".repeat(depth)}}`

interface Hostile {
  readonly url: (scenario: string) => string
  /** Requests seen, by scenario. */
  readonly seen: Array<{ readonly scenario: string; readonly headers: Http.IncomingHttpHeaders }>
  /** Responses whose connection closed before the server ended them. */
  readonly closedEarly: () => number
  /** Bytes the server managed to write for a scenario. */
  readonly written: Map<string, number>
}

/**
 * An SSE body whose characters the network cuts in two: `你` after its first byte, `😀` after its second, and a
 * piece that ends on a byte that is no UTF-8 at all (0xff, inside a chunk's text).
 */
const splitBody = (): ReadonlyArray<Buffer> => {
  const text = Buffer.from(chunkLine("Hello ") + chunkLine("你好😀"))
  const [before, after] = chunkLine("x#y").split("#")
  const bad = Buffer.concat([
    Buffer.from(before!),
    Buffer.from([0xff]),
    Buffer.from(after! + chunkLine("!", "stop") + "data: [DONE]\n\n")
  ])
  const cjk = text.indexOf(0xe4)
  const emoji = text.indexOf(0xf0)
  const invalid = bad.indexOf(0xff)
  return [
    text.subarray(0, cjk + 1),
    text.subarray(cjk + 1, emoji + 2),
    Buffer.concat([text.subarray(emoji + 2), bad.subarray(0, invalid + 1)]),
    bad.subarray(invalid + 1)
  ]
}

const sse = (res: Http.ServerResponse, headers: Http.OutgoingHttpHeaders = {}) =>
  res.writeHead(200, { "content-type": "text/event-stream", ...headers })

/** Writes `block` as fast as the client reads, forever (until the connection closes). */
const pump = (res: Http.ServerResponse, scenario: string, written: Map<string, number>, block: string) => {
  const go = () => {
    while (!res.destroyed) {
      written.set(scenario, (written.get(scenario) ?? 0) + block.length)
      if (!res.write(block)) return res.once("drain", go)
    }
  }
  go()
}

const hostile = Effect.acquireRelease(
  Effect.async<Hostile & { readonly server: Http.Server }>((resume) => {
    const seen: Hostile["seen"] = []
    const written = new Map<string, number>()
    const timers = new Set<ReturnType<typeof setInterval>>()
    let closedEarly = 0
    const every = (ms: number, res: Http.ServerResponse, f: () => void) => {
      const timer = setInterval(() => res.destroyed ? clearInterval(timer) : f(), ms)
      timers.add(timer)
      res.on("close", () => clearInterval(timer))
    }
    const server = Http.createServer((req, res) => {
      req.resume()
      const [, scenario = "", ...rest] = (req.url ?? "").split("/")
      const path = rest.join("/")
      seen.push({ scenario, headers: req.headers })
      res.on("close", () => {
        if (!res.writableFinished) closedEarly++
      })
      switch (scenario) {
        case "done-then-hold": // [DONE], then the connection is held open with comments forever
          sse(res)
          res.write(chunkLine("Hel") + chunkLine("lo", "stop") + "data: [DONE]\n\n")
          return every(20, res, () => res.write(": still here\n\n"))
        case "idle": // one chunk, then only keep-alive comments
          sse(res)
          res.write(chunkLine("Hel"))
          return every(20, res, () => res.write(": ping\n\n"))
        case "json-200":
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(`{"error":{"code":"authentication_failed","message":"your token expired","type":"auth"}}`)
        case "html-200":
          res.writeHead(200, { "content-type": "text/html" })
          return res.end("<html><title>Captive portal</title><body>log in</body></html>")
        case "gzip-200":
          sse(res, { "content-encoding": "gzip" })
          return res.end(Zlib.gzipSync(chunkLine("Hi", "stop") + "data: [DONE]\n\n"))
        case "utf8-split": { // the body in 4 packets 30 ms apart, each cut inside a character or after a bad byte
          sse(res)
          const pieces = splitBody()
          let next = 0
          const write = () => {
            if (res.destroyed) return
            const piece = pieces[next++]
            if (piece === undefined) return res.end()
            res.write(piece)
            timers.add(setTimeout(write, 30))
          }
          return write()
        }
        case "empty-sse":
          sse(res)
          return res.end()
        case "cut-clean": // three chunks, no finish reason, then a clean close
          sse(res)
          return res.end(chunkLine("a") + chunkLine("b") + chunkLine("c"))
        case "finish-no-done": // a finish reason, then a clean close without [DONE]: accepted
          sse(res)
          return res.end(chunkLine("ok", "stop"))
        case "huge-200":
          res.writeHead(200, { "content-type": "application/json" })
          res.write(`{"id":"r","object":"chat.completion","choices":[],"x":"`)
          return pump(res, scenario, written, "a".repeat(64 * 1024))
        case "long-line":
          sse(res)
          res.write("data: ")
          return pump(res, scenario, written, "x".repeat(64 * 1024))
        case "deep":
          if (path.includes("models")) {
            res.writeHead(200, { "content-type": "application/json" })
            return res.end(
              `{"object":"list","data":[{"id":"m","object":"model","x":${"[".repeat(5000)}${"]".repeat(5000)}}]}`
            )
          }
          if (req.headers.accept === "text/event-stream") {
            sse(res)
            return res.end(`data: ${deep(5000).replace("chat.completion", "chat.completion.chunk")}\n\n`)
          }
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(deep(5000))
        case "proto":
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(
            `{"object":"list","data":[{"id":"m1","object":"model","__proto__":{"polluted":true}},` +
              `{"id":"m2","object":"model","\\u005f_proto__":{"polluted":true}}]}`
          )
        case "envelope-200":
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(`{"error":{"code":"rate_limit_exceeded","message":"slow down, account 42","type":"limit"}}`)
        case "echo": { // echoes what it was sent, the key included, in every place it can
          const auth = req.headers.authorization ?? req.headers["api-key"] ?? ""
          res.writeHead(path.includes("models") ? 500 : 401, {
            "content-type": "application/json",
            "x-request-id": `req-${String(auth)}`
          })
          return res.end(JSON.stringify({
            error: {
              code: path.includes("models") ? "500" : "authentication_failed",
              message: `bad credential ${auth}`
            }
          }))
        }
        case "hang":
          return // never answers
        case "hang-after-first":
          sse(res)
          return res.write(chunkLine("Hel"))
        case "flaky": { // 503 twice, then an answer
          const n = seen.filter((s) => s.scenario === "flaky").length
          if (n <= 2) {
            res.writeHead(503, { "content-type": "application/json" })
            return res.end(`{"error":{"code":"service_unavailable","message":"busy"}}`)
          }
          res.writeHead(200, { "content-type": "application/json" })
          return res.end(completion)
        }
        default:
          res.writeHead(503, { "content-type": "application/json" })
          return res.end(`{"error":{"code":"service_unavailable","message":"busy"}}`)
      }
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        url: (scenario: string) => `http://127.0.0.1:${port}/${scenario}/v1`,
        seen,
        closedEarly: () => closedEarly,
        written,
        server
      }))
    })
    return Effect.sync(() => timers.forEach(clearInterval))
  }),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
)

const layerOf = (wire: Wire, options: MimoClient.Options): Layer.Layer<MimoClient.MimoClient> =>
  wire === "undici"
    ? NodeMimoClient.layer(options)
    : Layer.provide(
      MimoClient.layer(options),
      Layer.provide(MimoTransport.layerHttpClient, NodeMimoClient.httpClientLayer())
    )

const clientFor = (wire: Wire, baseUrl: string, options: Partial<MimoClient.Options> = {}) =>
  Effect.map(
    Layer.build(layerOf(wire, { apiKey: Redacted.make(key), baseUrl, retry: Schedule.stop, ...options })),
    (ctx) => Context.get(ctx, MimoClient.MimoClient)
  )

const hello: ChatCompletion.Request = { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }] }

const failure = (exit: Exit.Exit<unknown, MimoError.MimoError>): MimoError.MimoError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  if (exit.cause._tag !== "Fail") throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return exit.cause.error
}

const waitUntil = (check: () => boolean, ms = 3000) =>
  Effect.promise(async () => {
    const until = Date.now() + ms
    while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
    return check()
  })

/** The exit of an effect and how long it took on the real clock. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const started = Date.now()
    return Effect.map(Effect.exit(effect), (exit) => ({ exit, ms: Date.now() - started }))
  })

/** The three operations of a client, each run to its exit. */
const allThree = (mimo: MimoClient.Service) =>
  Effect.all([
    Effect.exit(mimo.chat(hello)),
    Effect.exit(Stream.runCollect(mimo.stream(hello))),
    Effect.exit(mimo.models())
  ]).pipe(Effect.map((exits): ReadonlyArray<Exit.Exit<unknown, MimoError.MimoError>> => exits))

for (const wire of wires) {
  describe(`MimoClient against a hostile server (${wire})`, () => {
    describe("streams end, always", () => {
      it.scopedLive("completes at [DONE] while the server holds the connection open with comments; the connection is released", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("done-then-hold"))
          const { exit, ms } = yield* timed(Stream.runCollect(mimo.stream(hello)))
          expect(Exit.isSuccess(exit)).toBe(true)
          if (Exit.isSuccess(exit)) {
            expect(ChatCompletion.text(ChatCompletion.accumulate(exit.value))).toBe("Hello")
          }
          expect(ms).toBeLessThan(2000)
          // Released: the undici transport drains for at most 500 ms, then aborts; fetch-style aborts at once.
          expect(yield* waitUntil(() => srv.closedEarly() === 1)).toBe(true)
        }))

      it.scopedLive("an idle stream (comments only after its first chunk) fails with a typed Timeout keeping the text so far", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("idle"), { idleTimeout: "300 millis" })
          const received: Array<string> = []
          const { exit, ms } = yield* timed(
            mimo.stream(hello).pipe(
              Stream.runForEach((c) => Effect.sync(() => received.push(c.choices[0]?.delta?.content ?? "")))
            )
          )
          const error = failure(exit)
          expect(error._tag).toBe("TransportError")
          if (error._tag === "TransportError") {
            expect(error.reason).toBe("Timeout")
            expect(error.message).toContain("idle timeout")
            expect(error.received).toBe("Hel")
            expect(error.attempts).toBe(1)
          }
          expect(received).toEqual(["Hel"])
          expect(ms).toBeGreaterThanOrEqual(280)
          expect(ms).toBeLessThan(2000)
          expect(yield* waitUntil(() => srv.closedEarly() === 1)).toBe(true)
        }))

      it.scopedLive("a 200 that is not an event stream: its error envelope, or a ResponseDecodeError (HTML, gzip)", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const envelope = failure(
            yield* Effect.exit(Stream.runCollect((yield* clientFor(wire, srv.url("json-200"))).stream(hello)))
          )
          expect(envelope._tag).toBe("AuthenticationFailed")
          expect(envelope.message).toBe("your token expired")
          const html = failure(
            yield* Effect.exit(Stream.runCollect((yield* clientFor(wire, srv.url("html-200"))).stream(hello)))
          )
          expect(html._tag).toBe("ResponseDecodeError")
          expect(html.message).toContain("text/html")
          if (html._tag === "ResponseDecodeError") expect(html.body).toContain("Captive portal")
          const gzip = failure(
            yield* Effect.exit(Stream.runCollect((yield* clientFor(wire, srv.url("gzip-200"))).stream(hello)))
          )
          expect(gzip._tag).toBe("ResponseDecodeError")
          expect(gzip.message).toContain("gzip")
        }))

      it.scopedLive("a body with no event, and a clean close before [DONE] and any finish reason, are StreamCuts", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const empty = failure(
            yield* Effect.exit(Stream.runCollect((yield* clientFor(wire, srv.url("empty-sse"))).stream(hello)))
          )
          expect(empty._tag === "TransportError" && empty.reason).toBe("StreamCut")
          expect(empty.message).toContain("without any event")
          const delivered: Array<string> = []
          const cut = failure(
            yield* Effect.exit(
              (yield* clientFor(wire, srv.url("cut-clean"))).stream(hello).pipe(
                Stream.runForEach((c) => Effect.sync(() => delivered.push(c.choices[0]?.delta?.content ?? "")))
              )
            )
          )
          expect(delivered).toEqual(["a", "b", "c"])
          expect(cut._tag === "TransportError" && cut.reason).toBe("StreamCut")
          expect(cut._tag === "TransportError" && cut.received).toBe("abc")
          // A finish reason without [DONE] is accepted (mimo-api.md §4).
          const ok = yield* Stream.runCollect((yield* clientFor(wire, srv.url("finish-no-done"))).stream(hello))
          expect(Chunk.size(ok)).toBe(1)
        }))
    })

    describe("bodies and bad bytes", () => {
      it.scopedLive("a 2xx body past maxBodySize is a ResponseDecodeError, read no further", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("huge-200"), { maxBodySize: 1024 * 1024 })
          const { exit, ms } = yield* timed(mimo.chat(hello))
          const error = failure(exit)
          expect(error._tag).toBe("ResponseDecodeError")
          expect(error.message).toContain("maxBodySize")
          expect(error.attempts).toBe(1)
          expect(ms).toBeLessThan(3000)
          expect(yield* waitUntil(() => srv.closedEarly() === 1)).toBe(true)
          // The server wrote what the socket buffers took, far less than an endless body.
          expect(srv.written.get("huge-200") ?? 0).toBeLessThan(64 * 1024 * 1024)
        }))

      it.scopedLive("characters cut between packets arrive whole, and a byte that is no UTF-8 is U+FFFD, not an error", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("utf8-split"))
          const { exit, ms } = yield* timed(Stream.runCollect(mimo.stream(hello)))
          expect(Exit.isSuccess(exit)).toBe(true)
          if (Exit.isSuccess(exit)) {
            expect(Chunk.toReadonlyArray(exit.value).map((c) => c.choices[0]?.delta?.content)).toEqual([
              "Hello ",
              "你好😀",
              "x\ufffdy",
              "!"
            ])
          }
          expect(ms).toBeLessThan(2000)
        }))

      it.scopedLive("an SSE line past maxEventSize is a ResponseDecodeError, read no further", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("long-line"), { maxEventSize: 256 * 1024 })
          const error = failure(yield* Effect.exit(Stream.runCollect(mimo.stream(hello))))
          expect(error._tag).toBe("ResponseDecodeError")
          expect(error.message).toContain("maxEventSize")
          expect(yield* waitUntil(() => srv.closedEarly() === 1)).toBe(true)
        }))

      it.scopedLive("JSON nested 5,000 deep is a ResponseDecodeError in chat, stream and models (never a RangeError)", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("deep"))
          for (const exit of yield* allThree(mimo)) {
            const error = failure(exit)
            expect(error._tag).toBe("ResponseDecodeError")
            expect(error.message.length).toBeLessThan(4096)
          }
        }))

      it.scopedLive("decoded objects never take a prototype from the wire (__proto__ keys, plain or escaped)", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const models = yield* (yield* clientFor(wire, srv.url("proto"))).models()
          expect(models.data.map((m) => m.id)).toEqual(["m1", "m2"])
          for (const item of models.data) {
            expect(Object.getPrototypeOf(item)).toBe(Object.prototype)
            expect((item as Record<string, unknown>).polluted).toBeUndefined()
          }
        }))

      it.scopedLive("a 200 carrying an error envelope keeps the server's code and message", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const error = failure(yield* Effect.exit((yield* clientFor(wire, srv.url("envelope-200"))).chat(hello)))
          expect(error._tag).toBe("RateLimitExceeded")
          expect(error.message).toBe("slow down, account 42")
        }))
    })

    describe("secrets never leave", () => {
      it.scopedLive("a server that echoes the key: no error, log line or span attribute holds it", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const { layer, lines } = yield* captureLogs
          const { spans, tracer } = captureSpans()
          const errors: Array<MimoError.MimoError> = []
          for (const authHeader of ["authorization", "api-key"] as const) {
            const mimo = yield* clientFor(wire, srv.url("echo"), {
              authHeader,
              logLevel: LogLevel.Warning,
              retry: Schedule.recurs(1)
            })
            const traced = <A>(call: Effect.Effect<A, MimoError.MimoError>) =>
              Effect.map(Effect.exit(call.pipe(Effect.provide(layer), Effect.withTracer(tracer))), failure)
            errors.push(yield* traced(mimo.chat(hello)), yield* traced(mimo.models()))
          }
          expect(errors.map((e) => e._tag)).toEqual([
            "AuthenticationFailed",
            "InternalError",
            "AuthenticationFailed",
            "InternalError"
          ])
          expect(errors[0].message).toBe(`bad credential Bearer ${Redaction.placeholder}`)
          const everything = JSON.stringify([
            errors.map((e) => ({ ...e, message: e.message, string: String(e) })),
            (yield* Ref.get(lines)).map((l) => ({ ...l, message: String(l.message) })),
            spans.map((s) => [...s.attributes])
          ])
          expect(everything).toContain(Redaction.placeholder)
          expect(everything).not.toContain(key)
          expect(everything).not.toContain(key.slice(3, 20))
        }))

      it.scopedLive("a key that cannot go in a header is a ValidationError: nothing sent, 0 attempts, the key not echoed", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          for (const bad of [`${key}\n`, `${key}\u0000`, `${key}é`, `sk-a\r\nx-evil: 1`]) {
            const mimo = yield* Effect.map(
              Layer.build(layerOf(wire, { apiKey: Redacted.make(bad), baseUrl: srv.url("flaky") })),
              (ctx) => Context.get(ctx, MimoClient.MimoClient)
            )
            for (const exit of yield* allThree(mimo)) {
              const error = failure(exit)
              expect(error._tag).toBe("ValidationError")
              if (error._tag === "ValidationError") expect(error.field).toBe("apiKey")
              expect(error.attempts).toBe(0)
              expect(JSON.stringify({ ...error, message: error.message })).not.toContain(key)
            }
          }
          expect(srv.seen).toHaveLength(0)
        }))

      it.scopedLive("a base URL with a query or fragment is a ValidationError (its secrets scrubbed)", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          for (
            const baseUrl of [`${srv.url("flaky")}?token=qs-secret-value`, `${srv.url("flaky")}#frag`, "ftp://x/v1"]
          ) {
            const mimo = yield* clientFor(wire, baseUrl)
            const error = failure(yield* Effect.exit(mimo.chat(hello)))
            expect(error._tag).toBe("ValidationError")
            if (error._tag === "ValidationError") expect(error.field).toBe("baseUrl")
            expect(JSON.stringify({ ...error, message: error.message })).not.toContain("qs-secret-value")
          }
          expect(srv.seen).toHaveLength(0)
        }))
    })

    describe("deadlines and errors that explain themselves", () => {
      it.scopedLive("the deadline cuts the attempt in flight (buffered and stream), not only later retries", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("hang"), {
            timeout: "1 hour",
            deadline: "300 millis",
            retry: Schedule.forever
          })
          const chat = yield* timed(mimo.chat(hello))
          const error = failure(chat.exit)
          expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
          expect(error.attempts).toBe(1)
          expect(chat.ms).toBeLessThan(2000)
          const streamed = yield* clientFor(wire, srv.url("hang-after-first"), {
            timeout: "1 hour",
            deadline: "300 millis"
          })
          const stream = yield* timed(Stream.runCollect(streamed.stream(hello)))
          const streamError = failure(stream.exit)
          expect(streamError._tag === "TransportError" && streamError.reason).toBe("Timeout")
          expect(streamError._tag === "TransportError" && streamError.received).toBe("Hel")
          expect(stream.ms).toBeLessThan(2000)
        }))

      it.scopedLive("every attempt carries the same client request id; the final error says it and how many attempts", () =>
        Effect.gen(function*() {
          const srv = yield* hostile
          const mimo = yield* clientFor(wire, srv.url("flaky"), { retry: Schedule.recurs(5) })
          const response = yield* mimo.chat(hello)
          expect(response.id).toBe("r1")
          const ids = srv.seen.map((s) => s.headers[MimoClient.clientRequestIdHeader])
          expect(ids).toHaveLength(3)
          expect(new Set(ids).size).toBe(1)
          expect(String(ids[0])).toMatch(/^[0-9a-f-]{32,36}$/)
          const failing = yield* clientFor(wire, srv.url("always-503"), { retry: Schedule.recurs(2) })
          const error = failure(yield* Effect.exit(failing.chat(hello)))
          expect(error._tag).toBe("ServiceUnavailable")
          expect(error.attempts).toBe(3)
          const sent = srv.seen.filter((s) => s.scenario === "always-503").map((s) => s.headers["x-client-request-id"])
          expect(sent).toEqual([error.clientRequestId, error.clientRequestId, error.clientRequestId])
        }))
    })
  })
}
