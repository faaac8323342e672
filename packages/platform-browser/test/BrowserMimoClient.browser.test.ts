/**
 * The browser client in a real headless Chromium (Debian's `chromium`, driven
 * by Playwright through `executablePath`): a small program (the client and
 * `test/browser/driver.ts`) is bundled with esbuild, served from a loopback
 * HTTP server, and called with `page.evaluate`; it talks cross-origin to the
 * simulator (`cors: true`) or to the backend of `examples/server.ts` (built
 * on `@effect-mimo/core/ServerError`), all on 127.0.0.1.
 *
 * The client's own backoffs here are real but tiny (20 ms, no jitter): the
 * page runs on the browser's clock.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { Chromium } from "@effect-mimo/testing"
import * as HttpServer from "@effect/platform/HttpServer"
import { expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Page } from "playwright"
import { afterAll, beforeAll } from "vitest"
import { ServerLive } from "../examples/server.js"
import type { CallInput, Outcome } from "./browser/driver.js"
import { bundle } from "./bundle.js"

const here = path.dirname(fileURLToPath(import.meta.url))

/** A loopback server for the test page and its script. */
const servePage = async (script: string) => {
  const server = Http.createServer((request, response) => {
    if (request.url === "/driver.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(script)
    } else {
      response.writeHead(200, { "content-type": "text/html" })
        .end(`<!doctype html><title>mimo test</title><script type="module" src="/driver.js"></script>`)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** The simulator on a random loopback port, answering CORS, with real time. */
const simulator = (options: Simulator.Options = {}) =>
  Simulator.make({ cors: true, rateLimit: { enabled: false }, ...options }).pipe(Effect.orDie)

/** Polls until `check` holds (at most `ms`); the last value either way. */
const eventually = <A>(read: Effect.Effect<A>, check: (a: A) => boolean, ms = 5_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    let value = yield* read
    while (!check(value) && Date.now() < deadline) {
      yield* Effect.sleep("25 millis")
      value = yield* read
    }
    return value
  })

const hello: ChatCompletion.Request = {
  model: "mimo-v2-flash",
  messages: [{ role: "user", content: "Say hello from the browser" }]
}

/**
 * The backend of `examples/server.ts` (it holds the key, retries upstream
 * with each retry announced to the browser, renders failures with
 * `ServerError`, answers CORS for the page), over the simulator.
 */
const exampleServer = (upstreamUrl: string, pageOrigin: string) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      ServerLive({ port: 0, origins: [pageOrigin] }).pipe(
        Layer.provide(
          NodeMimoClient.layer({
            apiKey: Redacted.make("sk-backend"),
            baseUrl: upstreamUrl,
            retry: RetryPolicy.make({ base: "30 millis", jitter: "none" })
          })
        )
      )
    ).pipe(
      // (The upstream client's per-attempt warnings are expected here: kept out of the test output.)
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.orDie
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    return `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}/v1`
  })

Chromium.describe("BrowserMimoClient in Chromium", (executablePath) => {
  let chromium: Chromium.Running | undefined
  let pageServer: { readonly url: string; readonly close: () => Promise<void> } | undefined
  let page: Page | undefined

  beforeAll(async () => {
    pageServer = await servePage(await bundle(path.join(here, "browser", "driver.ts")))
    chromium = await Chromium.launch(executablePath)
    page = await chromium.context.newPage()
    await page.goto(pageServer.url)
    await page.waitForFunction(() => window.mimoTest !== undefined, undefined, { timeout: 10_000 })
  }, 30_000)

  afterAll(async () => {
    await chromium?.close()
    await pageServer?.close()
  })

  const inPage = (
    fn: "chat" | "stream",
    input: CallInput
  ): Effect.Effect<Outcome> =>
    Effect.promise(() => {
      if (page === undefined) throw new Error("no page")
      return fn === "chat"
        ? page.evaluate((i) => window.mimoTest.chat(i), input)
        : page.evaluate((i) => window.mimoTest.stream(i), input)
    })

  /** The same request from Node (undici), for comparison. */
  const fromNode = (baseUrl: string) =>
    Effect.flatMap(
      Layer.build(NodeMimoClient.layer({ apiKey: Redacted.make("sk-node"), baseUrl })),
      (ctx) => Context.get(ctx, MimoClient.MimoClient).chat(hello)
    )

  it.scopedLive("chat: succeeds with the simulator's answer, a token as the only credential", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ apiKey: Redacted.make("tok-browser") })
      const outcome = yield* inPage("chat", { baseUrl: sim.url, token: "tok-browser" })
      expect(outcome.error).toBeNull()
      expect(outcome.ok).toBe(true)
      expect(outcome.retries).toEqual([])
      yield* sim.resetStats
      const node = yield* Effect.flatMap(
        Layer.build(NodeMimoClient.layer({ apiKey: Redacted.make("tok-browser"), baseUrl: sim.url })),
        (ctx) => Context.get(ctx, MimoClient.MimoClient).chat(hello)
      )
      expect(outcome.content).toBe(ChatCompletion.text(node))
      expect(outcome.content.length).toBeGreaterThan(0)
    }))

  it.scopedLive("stream: the chunks arrive through the fetch body and add up to the answer", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ chunkDelay: "5 millis" })
      const outcome = yield* inPage("stream", { baseUrl: sim.url, token: "tok" })
      expect(outcome.error).toBeNull()
      expect(outcome.chunks).toBeGreaterThan(2)
      const node = yield* fromNode(sim.url)
      expect(outcome.content).toBe(ChatCompletion.text(node))
      const stats = yield* sim.stats
      expect(stats.streams).toMatchObject({ opened: 1, closed: 1, aborted: 0 })
    }))

  it.scopedLive("503, retried by the client's Schedule, then success (chat and stream)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const busy = Fault.Error.make({ code: "service_unavailable" })
      yield* sim.script([busy])
      const chat = yield* inPage("chat", { baseUrl: sim.url, token: "tok" })
      expect(chat.ok).toBe(true)
      expect(chat.retries).toEqual([
        {
          source: "client",
          attempt: 1,
          delayMs: 20,
          tag: "ServiceUnavailable",
          code: "service_unavailable",
          status: 503
        }
      ])
      yield* sim.script([busy, busy])
      const stream = yield* inPage("stream", { baseUrl: sim.url, token: "tok" })
      expect(stream.ok).toBe(true)
      expect(stream.content).toBe(chat.content)
      expect(stream.retries.map((r) => [r.attempt, r.delayMs, r.status])).toEqual([[1, 20, 503], [2, 40, 503]])
      const stats = yield* sim.stats
      expect(stats.byStatus).toMatchObject({ "503": 3, "200": 2 })
    }))

  it.scopedLive("401: a typed AuthenticationFailed with its solution, not retried", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ apiKey: Redacted.make("tok-right") })
      for (const fn of ["chat", "stream"] as const) {
        const outcome = yield* inPage(fn, { baseUrl: sim.url, token: "tok-wrong" })
        expect(outcome.ok).toBe(false)
        expect(outcome.retries).toEqual([])
        expect(outcome.error).toMatchObject({
          tag: "AuthenticationFailed",
          code: "authentication_failed",
          status: 401,
          solution: MimoError.solution(new MimoError.AuthenticationFailed({ message: "" }))
        })
      }
      // No token at all: the request carries no credential, and the simulator says 401 too.
      const none = yield* inPage("chat", { baseUrl: sim.url })
      expect(none.error?.tag).toBe("AuthenticationFailed")
      const stats = yield* sim.stats
      expect(stats.requests).toBe(3)
    }))

  it.scopedLive("interrupting a stream aborts the fetch: the server sees the connection closed", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ chunkDelay: "150 millis" })
      const result = yield* Effect.promise(() => {
        if (page === undefined) throw new Error("no page")
        return page.evaluate((i) => window.mimoTest.streamThenInterrupt(i), { baseUrl: sim.url, token: "t", after: 2 })
      })
      expect(result).toEqual({ received: 2, interrupted: true })
      const stats = yield* eventually(sim.stats, (s) => s.streams.aborted === 1 && s.active === 0)
      expect(stats.streams).toMatchObject({ opened: 1, aborted: 1, closed: 0 })
      expect(stats.clientClosed).toBeGreaterThanOrEqual(1)
      expect(stats.active).toBe(0)
    }))

  it.scopedLive("a gateway's upstream retries reach the page as notices (onGatewayRetry), then the answer", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const gateway = yield* exampleServer(sim.url, pageServer?.url.slice(0, -1) ?? "")
      yield* sim.script([
        Fault.Error.make({ code: "service_unavailable" }),
        Fault.Error.make({ code: "rate_limit_exceeded", retryAfter: { millis: 50 } })
      ])
      const outcome = yield* inPage("stream", { baseUrl: gateway })
      expect(outcome.error).toBeNull()
      expect(outcome.retries.map((r) => [r.source, r.attempt, r.tag, r.status])).toEqual([
        ["gateway", 1, "ServiceUnavailable", 503],
        ["gateway", 2, "RateLimitExceeded", 429]
      ])
      expect(outcome.retries[0].delayMs).toBe(30)
      expect(outcome.retries[1].delayMs).toBeGreaterThanOrEqual(50)
      const node = yield* fromNode(sim.url)
      expect(outcome.content).toBe(ChatCompletion.text(node))
      // A failure upstream (after the gateway's own retries) reaches the page as the typed error.
      yield* sim.script([Fault.Error.make({ code: "invalid_request", message: "Param Incorrect" })])
      const failed = yield* inPage("stream", { baseUrl: gateway })
      expect(failed.error).toMatchObject({ tag: "InvalidRequest", status: 400, message: "Param Incorrect" })
    }))
})
