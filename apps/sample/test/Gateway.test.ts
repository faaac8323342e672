/**
 * `mimo gateway`: the gateway in-process on a random loopback port, over a
 * simulator (the upstream, which only accepts the gateway's key), checked
 * with Node's fetch (JSON, SSE, CORS, the Host and Origin guards) and, for
 * its page, in a real headless Chromium driven by Playwright through
 * `executablePath` (never a browser download).
 *
 * Upstream backoffs are short (20 ms, or 600 ms where the page must show the
 * wait); the page's script is built with esbuild first (`web/build.mjs`).
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as ServerError from "@effect-mimo/core/ServerError"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { Chromium } from "@effect-mimo/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, vi } from "vitest"
import * as Cli from "../src/Cli.js"
import * as Gateway from "../src/Gateway.js"

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const resultsDir = path.join(appDir, "test-results")
const KEY = "sk-gateway-only-4b1d"

beforeAll(() => {
  // The page's script (esbuild, a second or two).
  execFileSync(process.execPath, [path.join(appDir, "web", "build.mjs")], { cwd: appDir, stdio: "pipe" })
}, 60_000)

// -----------------------------------------------------------------------------
// Setup
// -----------------------------------------------------------------------------

const quick = RetryPolicy.make({ base: "20 millis", jitter: "none", maxAttempts: 3 })

/** A simulator that only accepts the gateway's key, and the gateway over it. */
const setup = (
  options: { readonly sim?: Simulator.Options; readonly retry?: Schedule.Schedule<unknown, MimoError.MimoError> } = {}
) =>
  Effect.gen(function*() {
    const sim = yield* Simulator.make({ apiKey: Redacted.make(KEY), rateLimit: { enabled: false }, ...options.sim })
      .pipe(Effect.orDie)
    const upstream = yield* Layer.build(NodeMimoClient.layer({ apiKey: Redacted.make(KEY), baseUrl: sim.url }))
    const gateway = yield* Gateway.make({
      port: 0,
      retry: options.retry ?? quick,
      allowOrigins: ["http://allowed.test"]
    }).pipe(
      Effect.provide(Layer.merge(Layer.succeedContext(upstream), NodeContext.layer)),
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.orDie
    )
    return { sim, gateway }
  })

const hello: ChatCompletion.Request = { model: "mimo-v2-flash", messages: [{ role: "user", content: "Say hello" }] }

/** The simulator's answer to `hello`, asked directly (it is deterministic). */
const expectedAnswer = (sim: Simulator.SimulatorService) =>
  Effect.flatMap(
    Layer.build(NodeMimoClient.layer({ apiKey: Redacted.make(KEY), baseUrl: sim.url })),
    (ctx) => Effect.map(Context.get(ctx, MimoClient.MimoClient).chat(hello), ChatCompletion.text)
  )

interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(async (): Promise<Reply> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body)
    })
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

/** The SSE frames of a body, without their blank lines. */
const framesOf = (body: string) => body.split("\n\n").filter((f) => f !== "")

const contentOf = (frames: ReadonlyArray<string>) =>
  frames
    .filter((f) => f.startsWith("data: {") && !f.includes("\"error\""))
    .map((f) => {
      const chunk: unknown = JSON.parse(f.slice(6))
      return typeof chunk === "object" && chunk !== null && "choices" in chunk && Array.isArray(chunk.choices)
        ? chunk.choices.map((c: { delta?: { content?: string } }) => c.delta?.content ?? "").join("")
        : ""
    })
    .join("")

// -----------------------------------------------------------------------------
// The API
// -----------------------------------------------------------------------------

describe("gateway: POST /v1/chat/completions", () => {
  it.scopedLive("JSON: the upstream's answer, sent with the gateway's key (the browser needs none)", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, hello)
      expect(reply.status).toBe(200)
      const response = ChatCompletion.decodeResponseFast(JSON.parse(reply.body))
      expect(response._tag).toBe("Right")
      if (response._tag === "Right") expect(ChatCompletion.text(response.right)).toBe(yield* expectedAnswer(sim))
    }))

  it.scopedLive("JSON: a 503 upstream is retried by the gateway; the browser sees one success", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      yield* sim.script([Fault.Error.make({ code: "service_unavailable" })])
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, hello)
      expect(reply.status).toBe(200)
      const stats = yield* sim.stats
      expect(stats.byStatus).toMatchObject({ "503": 1, "200": 1 })
    }))

  it.scopedLive("JSON: failures rendered by the server adapter — 401 as is, 429 with Retry-After after the retries", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      yield* sim.script([Fault.Error.make({ code: "authentication_failed" })])
      const denied = yield* post(`${gateway.baseUrl}/chat/completions`, hello)
      expect(denied.status).toBe(401)
      expect(denied.body).toBe(`{"error":{"code":"authentication_failed","message":"Invalid API Key","type":"error"}}`)

      const limited = Fault.Error.make({ code: "rate_limit_exceeded", retryAfter: { millis: 30 } })
      yield* sim.script([limited, limited, limited])
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, hello)
      expect(reply.status).toBe(429)
      expect(reply.headers.get("retry-after")).toBe("1")
      expect(reply.headers.get("retry-after-ms")).toBe("30")
      expect(JSON.parse(reply.body)).toEqual({
        error: { code: "rate_limit_exceeded", message: "Too many requests", type: "error" }
      })
      const stats = yield* sim.stats
      expect(stats.byStatus["429"]).toBe(3)
    }))

  it.scopedLive("a bad body or a request failing validation is a 400 invalid_request, and nothing goes upstream", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      const notJson = yield* post(`${gateway.baseUrl}/chat/completions`, "{nope")
      expect(notJson.status).toBe(400)
      expect(JSON.parse(notJson.body).error.code).toBe("invalid_request")
      const invalid = yield* post(`${gateway.baseUrl}/chat/completions`, { ...hello, temperature: 9 })
      expect(invalid.status).toBe(400)
      expect(JSON.parse(invalid.body).error).toMatchObject({ code: "invalid_request", param: "temperature" })
      expect((yield* sim.stats).requests).toBe(0)
    }))

  it.scopedLive("SSE: each upstream retry is a mimo.retry event before the chunks; then the answer and [DONE]", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      yield* sim.script([
        Fault.Error.make({ code: "service_unavailable" }),
        Fault.Error.make({ code: "internal_error" })
      ])
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, { ...hello, stream: true })
      expect(reply.status).toBe(200)
      expect(reply.headers.get("content-type")).toBe("text/event-stream")
      const frames = framesOf(reply.body)
      const notices = frames.slice(0, 2).map((f) => {
        expect(f.startsWith(`event: ${ServerError.retryNoticeEvent}\n`)).toBe(true)
        return ServerError.decodeRetryNotice(f.slice(f.indexOf("data: ") + 6))
      })
      expect(notices.map((n) => Duration.toMillis(Option.getOrThrow(n).delay))).toEqual([20, 40])
      expect(notices.map((n) => Option.getOrThrow(n).error._tag)).toEqual(["ServiceUnavailable", "InternalError"])
      expect(notices.map((n) => Option.getOrThrow(n).attempt)).toEqual([1, 2])
      expect(frames[frames.length - 1]).toBe("data: [DONE]")
      expect(contentOf(frames)).toBe(yield* expectedAnswer(sim))
    }))

  it.scopedLive("SSE: an upstream failure ends the stream with the error event (the envelope), no [DONE]", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      yield* sim.script([Fault.StreamError.make({ afterChunks: 2, code: "internal_error" })])
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, { ...hello, stream: true })
      const frames = framesOf(reply.body)
      expect(frames.length).toBe(3)
      expect(frames[2]).toBe(
        `data: {"error":{"code":"internal_error","message":"Internal server error","type":"error"}}`
      )
      expect(reply.body).not.toContain("[DONE]")
    }))

  it.scopedLive("SSE: a browser that goes away aborts the upstream stream", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup({ sim: { chunkDelay: "100 millis" } })
      const controller = new AbortController()
      const read = yield* Effect.promise(async () => {
        const response = await fetch(`${gateway.baseUrl}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...hello, stream: true }),
          signal: controller.signal
        })
        const reader = response.body?.getReader()
        const first = await reader?.read()
        controller.abort()
        return first?.value?.length ?? 0
      })
      expect(read).toBeGreaterThan(0)
      const deadline = Date.now() + 5_000
      let stats = yield* sim.stats
      while (stats.streams.aborted === 0 && Date.now() < deadline) {
        yield* Effect.sleep("25 millis")
        stats = yield* sim.stats
      }
      expect(stats.streams).toMatchObject({ opened: 1, aborted: 1, closed: 0 })
    }))
})

describe("gateway: who may call it", () => {
  it.scopedLive("CORS answers the allowed origins only; another Origin is refused before anything goes upstream", () =>
    Effect.gen(function*() {
      const { gateway, sim } = yield* setup()
      const preflight = (origin: string) =>
        Effect.promise(() =>
          fetch(`${gateway.baseUrl}/chat/completions`, {
            method: "OPTIONS",
            headers: {
              origin,
              "access-control-request-method": "POST",
              "access-control-request-headers": "content-type"
            }
          })
        )
      const allowed = yield* preflight("http://allowed.test")
      expect(allowed.status).toBe(204)
      expect(allowed.headers.get("access-control-allow-origin")).toBe("http://allowed.test")
      expect(allowed.headers.get("access-control-allow-headers")).toContain("content-type")
      const own = yield* preflight(gateway.url.slice(0, -1))
      expect(own.headers.get("access-control-allow-origin")).toBe(gateway.url.slice(0, -1))

      const other = yield* preflight("http://evil.test")
      expect(other.status).toBe(403)
      expect(other.headers.get("access-control-allow-origin")).toBeNull()
      const simple = yield* post(`${gateway.baseUrl}/chat/completions`, hello, {
        origin: "http://evil.test",
        "content-type": "text/plain"
      })
      expect(simple.status).toBe(403)
      expect(JSON.parse(simple.body).error.code).toBe("permission_denied")
      expect((yield* sim.stats).requests).toBe(0)
    }))

  it.scopedLive("a Host that is not the gateway's (DNS rebinding) is refused", () =>
    Effect.gen(function*() {
      const { gateway } = yield* setup()
      const status = yield* Effect.promise(() =>
        new Promise<number>((resolve, reject) => {
          const request = Http.request({
            host: "127.0.0.1",
            port: gateway.port,
            path: "/v1/models",
            headers: { host: `rebound.example:${gateway.port}` }
          }, (response) => {
            response.resume()
            resolve(response.statusCode ?? 0)
          })
          request.on("error", reject)
          request.end()
        })
      )
      expect(status).toBe(403)
    }))

  it.scopedLive("serves the page and its script", () =>
    Effect.gen(function*() {
      const { gateway } = yield* setup()
      expect(gateway.pageBuilt).toBe(true)
      const page = yield* Effect.promise(() =>
        fetch(gateway.url).then(async (r) => [r.status, await r.text()] as const)
      )
      expect(page[0]).toBe(200)
      expect(page[1]).toContain(`<script type="module" src="/app.js"></script>`)
      const script = yield* Effect.promise(() => fetch(`${gateway.url}app.js`))
      expect(script.status).toBe(200)
      expect(script.headers.get("content-type")).toContain("text/javascript")
      const missing = yield* Effect.promise(() => fetch(`${gateway.url}nowhere`))
      expect(missing.status).toBe(404)
    }))
})

// -----------------------------------------------------------------------------
// `mimo gateway`, as the CLI runs it
// -----------------------------------------------------------------------------

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = Http.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("mimo gateway (the CLI command)", () => {
  it.scopedLive("serves the embedded simulator when no key is set, until interrupted", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args) => void printed.push(args.join(" ")))
      const error = vi.spyOn(console, "error").mockImplementation((...args) => void printed.push(args.join(" ")))
      yield* Effect.addFinalizer(() => Effect.sync(() => (log.mockRestore(), error.mockRestore())))
      // No MIMO_* variable reaches the command: the upstream is the embedded simulator, never the internet.
      const fiber = yield* Cli.run(["node", "mimo", "gateway", "--port", String(port)]).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["MIMO_RETRY_BASE", "20 millis"]]))),
        Effect.provide(NodeContext.layer),
        Logger.withMinimumLogLevel(LogLevel.None),
        Effect.fork
      )
      const url = `http://127.0.0.1:${port}/`
      const deadline = Date.now() + 15_000
      while (!printed.includes(url) && Date.now() < deadline) yield* Effect.sleep("25 millis")
      expect(printed).toContain(url)
      expect(printed.join("\n")).toContain("embedded simulator")
      const reply = yield* post(`${url}v1/chat/completions`, { ...hello, stream: true })
      expect(reply.status).toBe(200)
      expect(framesOf(reply.body).at(-1)).toBe("data: [DONE]")
      yield* Fiber.interrupt(fiber)
      const after = yield* Effect.promise(() => fetch(url).then(() => "open", () => "closed"))
      expect(after).toBe("closed")
    }))
})

// -----------------------------------------------------------------------------
// The page, in Chromium
// -----------------------------------------------------------------------------

Chromium.describe("gateway: the page in Chromium", (executablePath) => {
  let browser: Chromium.Running | undefined

  beforeAll(async () => {
    browser = await Chromium.launch(executablePath)
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
  })

  it.scopedLive("asks, streams the answer; with a 503 injected shows the retry notice, then the answer; a 401 as a typed error", () =>
    Effect.gen(function*() {
      // A 600 ms upstream backoff, so that the wait is on screen for the screenshot.
      const { gateway, sim } = yield* setup({
        sim: { chunkDelay: "15 millis" },
        retry: RetryPolicy.make({ base: "600 millis", jitter: "none", maxAttempts: 3 })
      })
      const expected = yield* expectedAnswer(sim)
      const page = yield* Effect.promise(() => {
        if (browser === undefined) throw new Error("no browser")
        return browser.context.newPage()
      })
      fs.mkdirSync(resultsDir, { recursive: true })
      const shot = (name: string) =>
        Effect.promise(() => page.screenshot({ path: path.join(resultsDir, name), fullPage: true }))
      const ask = Effect.promise(async () => {
        await page.fill("#prompt", "Say hello")
        await page.click("#send")
      })
      const settled = (state: "done" | "failed") =>
        Effect.promise(() => page.waitForSelector(`body[data-state="${state}"]`, { timeout: 15_000 }))
      const text = (selector: string) => Effect.promise(() => page.textContent(selector))

      yield* Effect.promise(() => page.goto(gateway.url))
      yield* Effect.promise(() => page.waitForSelector(`body[data-state="idle"]`, { timeout: 10_000 }))

      // 1. An answer, streamed.
      yield* ask
      yield* settled("done")
      expect(yield* text("#answer")).toBe(expected)
      yield* shot("gateway-page-answer.png")

      // 2. A 503 upstream: the notice while the gateway waits, then the answer.
      yield* sim.script([Fault.Error.make({ code: "service_unavailable" })])
      yield* ask
      yield* Effect.promise(() => page.waitForSelector("#notices li.notice", { timeout: 10_000 }))
      yield* shot("gateway-page-retry-notice.png")
      const notice = (yield* text("#notices li.notice")) ?? ""
      expect(notice).toContain("attempt 1 failed: service_unavailable (503)")
      expect(notice).toContain("retrying in 600 ms")
      yield* settled("done")
      expect(yield* text("#answer")).toBe(expected)
      yield* shot("gateway-page-after-retry.png")

      // 3. A 401 upstream: the typed error and its solution.
      yield* sim.script([Fault.Error.make({ code: "authentication_failed" })])
      yield* ask
      yield* settled("failed")
      expect(yield* text("#error-tag")).toBe("AuthenticationFailed")
      expect(yield* text("#error-status")).toBe("401")
      expect(yield* text("#error-solution")).toBe(
        MimoError.solution(new MimoError.AuthenticationFailed({ message: "" }))
      )
      yield* shot("gateway-page-error.png")
      expect(fs.existsSync(path.join(resultsDir, "gateway-page-after-retry.png"))).toBe(true)
    }))
})
