/**
 * `NodeMimoTransport` on the real clock (its native-timer path), against a
 * plain `node:http` server on a random loopback port that records what it
 * receives and can answer slowly, hugely, or not at all. The TestClock path
 * (the time limit on Effect's side) is covered by the end-to-end suite.
 */
import { MimoClient, MimoTransport, RetryPolicy } from "@effect-mimo/core"
import { NodeMimoClient, NodeMimoTransport } from "@effect-mimo/platform-node"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as Undici from "undici"
import * as Internal from "../src/internal/undiciTransport.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A server whose answer to each request is chosen by its path; it counts requests and closed connections. */
const server = Effect.acquireRelease(
  Effect.async<{
    readonly origin: string
    readonly seen: Array<Seen>
    readonly closed: () => number
    readonly server: Http.Server
  }>((resume) => {
    const seen: Array<Seen> = []
    let closed = 0
    const srv = Http.createServer((req, res) => {
      const parts: Array<Buffer> = []
      req.on("data", (b: Buffer) => parts.push(b))
      req.on("end", () => {
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(parts).toString("utf8")
        })
        res.on("close", () => {
          if (!res.writableFinished) closed++
        })
        switch ((req.url ?? "").split("?")[0]) {
          case "/v1/ok":
            res.writeHead(200, { "content-type": "application/json", "x-request-id": "req_ok" })
            return res.end(`{"ok":true,"text":"héllo"}`)
          case "/v1/chunked": {
            res.writeHead(200, { "content-type": "application/json" })
            res.write(`{"parts":[`)
            return setTimeout(() => res.end(`1,2,3]}`), 20)
          }
          case "/v1/huge-error": {
            res.writeHead(500, { "content-type": "text/plain" })
            const block = "x".repeat(64 * 1024)
            // 5 MiB, written as fast as the client reads; the client stops after 64 KiB.
            let left = 80
            const pump = () => {
              while (left > 0) {
                left--
                if (!res.write(block)) return res.once("drain", pump)
              }
              res.end()
            }
            return pump()
          }
          case "/v1/429":
            res.writeHead(429, { "retry-after": "3", "content-type": "application/json" })
            return res.end(`{"error":{"code":"429","message":"slow down","type":"limitation"}}`)
          case "/v1/cut":
            res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
            res.write(`{"partial":`)
            return setTimeout(() => res.destroy(), 20)
          case "/v1/sse": {
            res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_sse" })
            res.write("data: 1\n\n")
            setTimeout(() => res.write("data: 2\n\n"), 10)
            return setTimeout(() => res.end("data: 3\n\n"), 20)
          }
          case "/v1/sse-hold":
            res.writeHead(200, { "content-type": "text/event-stream" })
            return res.write("data: 1\n\n")
          case "/v1/hang":
          default:
            return // never answers
        }
      })
    })
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo
      resume(Effect.succeed({ origin: `http://127.0.0.1:${port}`, seen, closed: () => closed, server: srv }))
    })
  }),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
    )
)

const agent = (options: Undici.Agent.Options = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => new Undici.Agent({ headersTimeout: 0, bodyTimeout: 0, ...options })),
    (a) => Effect.promise(() => a.destroy())
  )

const request = (url: string, extra: Partial<MimoTransport.Request> = {}): MimoTransport.Request => ({
  method: "POST",
  url,
  headers: { "content-type": "application/json", authorization: "Bearer sk-secret", "x-custom": "1" },
  body: `{"model":"mimo-v2-flash"}`,
  timeout: Duration.seconds(30),
  ...extra
})

const waitUntil = (check: () => boolean, ms = 2000) =>
  Effect.promise(async () => {
    const until = Date.now() + ms
    while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
    return check()
  })

describe("NodeMimoTransport (real clock)", () => {
  it.scopedLive("sends method, path, headers and body as given, and reads the whole answer", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const response = yield* transport.send(request(`${srv.origin}/v1/ok`))
      expect(response.status).toBe(200)
      expect(response.body).toBe(`{"ok":true,"text":"héllo"}`)
      expect(response.headers["x-request-id"]).toBe("req_ok")
      expect(srv.seen).toHaveLength(1)
      expect(srv.seen[0].method).toBe("POST")
      expect(srv.seen[0].url).toBe("/v1/ok")
      expect(srv.seen[0].headers["authorization"]).toBe("Bearer sk-secret")
      expect(srv.seen[0].headers["x-custom"]).toBe("1")
      expect(srv.seen[0].body).toBe(`{"model":"mimo-v2-flash"}`)
      const get = yield* transport.send(request(`${srv.origin}/v1/ok?x=1`, { method: "GET", body: undefined }))
      expect(get.status).toBe(200)
      expect(srv.seen[1].method).toBe("GET")
      expect(srv.seen[1].url).toBe("/v1/ok?x=1")
    }))

  it.scopedLive("gathers a body that arrives in several chunks", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const response = yield* transport.send(request(`${srv.origin}/v1/chunked`))
      expect(JSON.parse(response.body)).toEqual({ parts: [1, 2, 3] })
    }))

  it.scopedLive("an error status is an answer, not a failure: headers and body as sent", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const response = yield* transport.send(request(`${srv.origin}/v1/429`))
      expect(response.status).toBe(429)
      expect(response.headers["retry-after"]).toBe("3")
      expect(response.body).toContain("slow down")
    }))

  it.scopedLive("reads at most maxErrorBody bytes of a 5 MiB error body, then drops the connection", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const response = yield* transport.send(request(`${srv.origin}/v1/huge-error`))
      expect(response.status).toBe(500)
      expect(response.body.length).toBe(MimoTransport.maxErrorBody)
      expect(yield* waitUntil(() => srv.closed() === 1)).toBe(true)
    }))

  it.scopedLive("the time limit fails with a Timeout TransportError on time and aborts the request", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const started = Date.now()
      const exit = yield* Effect.exit(
        transport.send(request(`${srv.origin}/v1/hang`, { timeout: Duration.millis(150) }))
      )
      const elapsed = Date.now() - started
      expect(exit).toStrictEqual(Exit.fail(MimoTransport.timeoutError(Duration.millis(150))))
      expect(elapsed).toBeGreaterThanOrEqual(140)
      expect(elapsed).toBeLessThan(1500)
      expect(yield* waitUntil(() => srv.closed() === 1)).toBe(true)
    }))

  it.scopedLive("interrupting a call aborts its request (the server sees the connection close)", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const fiber = yield* Effect.fork(transport.send(request(`${srv.origin}/v1/hang`)))
      expect(yield* waitUntil(() => srv.seen.length === 1)).toBe(true)
      yield* Fiber.interrupt(fiber)
      expect(yield* waitUntil(() => srv.closed() === 1)).toBe(true)
    }))

  it.scopedLive("concurrent calls, some interrupted: each interruption aborts its own request, the rest answer", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      // The interruption finds what to stop by the fiber it runs on: ten waiting fibers, ten answered ones.
      const hanging = yield* Effect.forEach(
        Array.from({ length: 10 }),
        () => Effect.fork(transport.send(request(`${srv.origin}/v1/hang`))),
        { concurrency: "unbounded" }
      )
      const answered = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 10 }),
          () => transport.send(request(`${srv.origin}/v1/chunked`)),
          { concurrency: "unbounded" }
        )
      )
      expect(yield* waitUntil(() => srv.seen.filter((s) => s.url === "/v1/hang").length === 10)).toBe(true)
      expect(Internal.waitingCount()).toBeGreaterThanOrEqual(10)
      for (const fiber of hanging.slice(0, 4)) yield* Fiber.interrupt(fiber)
      expect(yield* waitUntil(() => srv.closed() === 4)).toBe(true)
      const responses = yield* Fiber.join(answered)
      expect(responses.map((r) => [r.status, r.body])).toEqual(
        Array.from({ length: 10 }, () => [200, `{"parts":[1,2,3]}`])
      )
      // The other six still wait, their requests open.
      expect(srv.closed()).toBe(4)
      expect(Internal.waitingCount()).toBe(6)
      yield* Fiber.interruptAll(hanging.slice(4))
      expect(yield* waitUntil(() => srv.closed() === 10)).toBe(true)
      expect(Internal.waitingCount()).toBe(0)
    }))

  it.scopedLive("no exchange is left registered: answered, failed, timed out, lost in a race, refused", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const before = Internal.waitingCount()
      expect((yield* transport.send(request(`${srv.origin}/v1/ok`))).status).toBe(200)
      expect((yield* transport.send(request(`${srv.origin}/v1/429`))).status).toBe(429)
      const timedOut = yield* Effect.flip(
        transport.send(request(`${srv.origin}/v1/hang`, { timeout: Duration.millis(50) }))
      )
      expect(timedOut.reason).toBe("Timeout")
      // Lost to `Effect.timeout`'s timer: interrupted by the race, and its request aborted.
      const raced = yield* Effect.exit(Effect.timeout(transport.send(request(`${srv.origin}/v1/hang`)), "50 millis"))
      expect(Exit.isFailure(raced)).toBe(true)
      expect(yield* waitUntil(() => srv.closed() === 2)).toBe(true)
      const refused = yield* Effect.flip(transport.send(request("http://127.0.0.1:1/v1/ok")))
      expect(refused.reason).toBe("ConnectionRefused")
      const bad = yield* Effect.flip(transport.send(request("ftp://127.0.0.1/v1/ok")))
      expect(bad._tag).toBe("TransportError")
      expect(Internal.waitingCount()).toBe(before)
    }))

  it.scopedLive("a call interrupted while queued for a socket is never sent", () =>
    Effect.gen(function*() {
      const srv = yield* server
      // One connection: the second request waits behind the hanging first one.
      const transport = NodeMimoTransport.make(yield* agent({ connections: 1 }))
      const first = yield* Effect.fork(transport.send(request(`${srv.origin}/v1/hang`)))
      expect(yield* waitUntil(() => srv.seen.length === 1)).toBe(true)
      const queued = yield* Effect.fork(transport.send(request(`${srv.origin}/v1/ok`)))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(queued)
      yield* Fiber.interrupt(first)
      // The socket is free again: a new request goes through, and the interrupted one never arrived.
      const after = yield* transport.send(request(`${srv.origin}/v1/ok`))
      expect(after.status).toBe(200)
      expect(srv.seen.map((s) => s.url)).toEqual(["/v1/hang", "/v1/ok"])
    }))

  it.scopedLive("a refused connection, a cut body and a bad URL are typed TransportErrors", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const refused = yield* Effect.flip(transport.send(request("http://127.0.0.1:1/v1/ok")))
      expect(refused._tag).toBe("TransportError")
      expect(refused.reason).toBe("ConnectionRefused")
      const cut = yield* Effect.flip(transport.send(request(`${srv.origin}/v1/cut`)))
      expect(cut.reason).toBe("ConnectionReset")
      const bad = yield* Effect.flip(transport.send(request("not a url")))
      expect(bad.reason).toBe("Other")
      expect(bad.message).toContain("not a valid URL")
      const ftp = yield* Effect.flip(transport.send(request("ftp://127.0.0.1/v1/ok")))
      expect(ftp.message).toContain("unsupported protocol")
      // No error carries a header value (the key).
      for (const e of [refused, cut, bad, ftp]) expect(JSON.stringify(e)).not.toContain("sk-secret")
    }))

  it.scopedLive("an undici argument error (a header with a newline) is a TransportError, not a defect", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const exit = yield* Effect.exit(
        transport.send(request(`${srv.origin}/v1/ok`, { headers: { "x-bad": "a\r\nb" } }))
      )
      expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Fail")
      expect(srv.seen).toHaveLength(0)
    }))
})

const text = (pieces: ReadonlyArray<Uint8Array>) => pieces.map((p) => Buffer.from(p).toString("utf8")).join("")

describe("NodeMimoTransport.open (real clock)", () => {
  it.scopedLive("answers at the head, then hands the body over in pieces until its end", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const response = yield* transport.open(request(`${srv.origin}/v1/sse`))
      expect(response.status).toBe(200)
      expect(response.headers["x-request-id"]).toBe("req_sse")
      let body = ""
      for (;;) {
        const pieces = yield* response.read(Duration.seconds(5))
        if (pieces === undefined) break
        body += text(pieces)
      }
      expect(body).toBe("data: 1\n\ndata: 2\n\ndata: 3\n\n")
      expect(yield* response.read(Duration.seconds(5))).toBeUndefined()
      expect(srv.seen[0].headers.authorization).toBe("Bearer sk-secret")
    }).pipe(Effect.scoped))

  it.scopedLive("an error status comes with the start of its body, and nothing to read", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const limited = yield* transport.open(request(`${srv.origin}/v1/429`))
      expect(limited.status).toBe(429)
      expect(limited.body).toContain("slow down")
      expect(yield* limited.read(Duration.seconds(1))).toBeUndefined()
      const huge = yield* transport.open(request(`${srv.origin}/v1/huge-error`))
      expect(huge.body.length).toBe(MimoTransport.maxErrorBody)
      expect(yield* waitUntil(() => srv.closed() === 1)).toBe(true)
    }).pipe(Effect.scoped))

  it.scopedLive("the head's time limit and a read's time limit are Timeouts; each aborts or leaves the request", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      const head = yield* Effect.flip(
        Effect.scoped(transport.open(request(`${srv.origin}/v1/hang`, { timeout: Duration.millis(100) })))
      )
      expect(head).toStrictEqual(MimoTransport.timeoutError(Duration.millis(100)))
      expect(yield* waitUntil(() => srv.closed() === 1)).toBe(true)
      yield* Effect.scoped(Effect.gen(function*() {
        const response = yield* transport.open(request(`${srv.origin}/v1/sse-hold`))
        expect(text((yield* response.read(Duration.seconds(5))) ?? [])).toBe("data: 1\n\n")
        const idle = yield* Effect.flip(response.read(Duration.millis(100)))
        expect(idle.reason).toBe("Timeout")
      }))
    }))

  it.scopedLive("a scope closed early: drained briefly after a success, then aborted; aborted at once after a failure", () =>
    Effect.gen(function*() {
      const srv = yield* server
      const transport = NodeMimoTransport.make(yield* agent())
      // Success: the held connection is given 500 ms to end, then aborted.
      const started = Date.now()
      yield* Effect.scoped(
        Effect.flatMap(transport.open(request(`${srv.origin}/v1/sse-hold`)), (r) => r.read(Duration.seconds(5)))
      )
      expect(Date.now() - started).toBeLessThan(400)
      expect(yield* waitUntil(() => srv.closed() === 1, 3000)).toBe(true)
      expect(Date.now() - started).toBeGreaterThanOrEqual(450)
      // Failure: aborted at once.
      const failedAt = Date.now()
      yield* Effect.exit(
        Effect.scoped(Effect.zipRight(transport.open(request(`${srv.origin}/v1/sse-hold`)), Effect.fail("stop")))
      )
      expect(yield* waitUntil(() => srv.closed() === 2, 3000)).toBe(true)
      expect(Date.now() - failedAt).toBeLessThan(400)
    }))
})

describe("MimoClient over NodeMimoTransport on the real clock", () => {
  it.scopedLive("hang → the native timer's timeout → retry → success, with the key in no error or log", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } }).pipe(Effect.orDie)
      yield* sim.script([Fault.hang, Fault.ok])
      const context = yield* Layer.build(
        NodeMimoClient.layer({
          apiKey: Redacted.make("sk-live-clock-secret"),
          baseUrl: sim.url,
          timeout: "200 millis",
          retry: RetryPolicy.make({ base: "10 millis", maxAttempts: 3 })
        })
      )
      const mimo = Context.get(context, MimoClient.MimoClient)
      const events: Array<MimoClient.RetryEvent> = []
      const started = Date.now()
      const response = yield* mimo.chat(
        { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }] },
        { onRetry: (e) => Effect.sync(() => void events.push(e)) }
      )
      expect(response.object).toBe("chat.completion")
      expect(events.map((e) => e.error._tag)).toEqual(["TransportError"])
      expect(events[0].error._tag === "TransportError" && events[0].error.reason).toBe("Timeout")
      expect(JSON.stringify(events[0].error)).not.toContain("sk-live-clock-secret")
      expect(Date.now() - started).toBeGreaterThanOrEqual(190)
      expect((yield* sim.stats).requests).toBe(2)
    }))
})
