/**
 * The CLI and the gateway against hostile servers and hostile pages (issue
 * 11), over real loopback sockets: a hostile upstream (node:http on
 * 127.0.0.1) that echoes the key, sends terminal escape sequences, stalls or
 * ends streams early; the built `mimo` CLI as a child process; the gateway
 * in-process, asked with Node's fetch and raw node:http requests.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as Redaction from "@effect-mimo/core/Redaction"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { Chromium } from "@effect-mimo/testing"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import { execFileSync, spawn } from "node:child_process"
import * as Http from "node:http"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, vi } from "vitest"
import * as Cli from "../src/Cli.js"
import * as Gateway from "../src/Gateway.js"
import * as Output from "../src/Output.js"

// Where the key was: `Redaction`'s placeholder (the client scrubs what a server sent before anything else sees it,
// and the gateway's redactor catches anything left).
const scrubbed = /<redacted>/

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(appDir, "dist", "bin.js")
const KEY = "sk-HOSTILE-canary-3c2b1a0f9e8d"

beforeAll(() => {
  execFileSync("pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], { cwd: appDir, stdio: "inherit" })
}, 240_000)

// -----------------------------------------------------------------------------
// A hostile upstream
// -----------------------------------------------------------------------------

type Answer = (req: Http.IncomingMessage, res: Http.ServerResponse) => void

/** A loopback server answering each request with the next of `answers` (the last one repeats). */
const hostile = (answers: ReadonlyArray<Answer>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly server: Http.Server; readonly requests: () => number }>(
      (resume) => {
        let n = 0
        const server = Http.createServer((req, res) => {
          const answer = answers[Math.min(n++, answers.length - 1)]
          req.resume()
          req.on("end", () => answer(req, res))
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}/v1`, server, requests: () => n }))
        })
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const chunk = (content: string, finish: string | null = null) =>
  `data: ${
    JSON.stringify({
      id: "c0ffee",
      object: "chat.completion.chunk",
      created: 1,
      model: "mimo-v2-flash",
      choices: [{ index: 0, delta: { content }, finish_reason: finish }]
    })
  }\n\n`

const completion = (content: string) =>
  JSON.stringify({
    id: "c0ffee",
    object: "chat.completion",
    created: 1,
    model: "mimo-v2-flash",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
  })

const json = (status: number, body: string): Answer => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(body)
}

const envelope = (status: number, code: string, message: string) =>
  json(status, JSON.stringify({ error: { code, message, type: "error" } }))

/** SSE: these frames, then either the end of the body or (`hold`) an open connection. */
const sse = (frames: ReadonlyArray<string>, hold = false): Answer => (_req, res) => {
  res.writeHead(200, { "content-type": "text/event-stream" })
  for (const f of frames) res.write(f)
  if (!hold) res.end()
}

/** Terminal escapes a hostile model or server may send: a title, a screen clear, a C1 CSI, a bidi override. */
const escapes = "\u001b]0;pwned\u0007\u001b[2J\u009b31m\r\u202eevil"
const rawControls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/

// -----------------------------------------------------------------------------
// The CLI as a child process
// -----------------------------------------------------------------------------

interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

const runCli = (args: ReadonlyArray<string>, baseUrl: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const env: NodeJS.ProcessEnv = {}
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MIMO_")) env[k] = v
      const started = Date.now()
      const child = spawn(process.execPath, [bin, ...args], {
        env: { ...env, NO_COLOR: "1", MIMO_RETRY_BASE: "20 millis", MIMO_BASE_URL: baseUrl, MIMO_API_KEY: KEY },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
      child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
      const done = new Promise<Exited>((resolve) =>
        child.on("close", (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }))
      )
      return { child, done }
    }),
    ({ child }) => Effect.sync(() => child.kill("SIGKILL"))
  ).pipe(Effect.flatMap(({ done }) => Effect.promise(() => done)))

const lastJson = (stdout: string): Record<string, unknown> => {
  const lines = stdout.trim().split("\n")
  const parsed: unknown = JSON.parse(lines[lines.length - 1])
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
  return { ...parsed }
}

describe("mimo chat against a hostile server", () => {
  it.scopedLive("prints no terminal escape sequences from model text or server messages", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([
        envelope(503, "service_unavailable", `busy ${escapes}`),
        json(200, completion(`hello ${escapes} world`)),
        envelope(503, "service_unavailable", `busy ${escapes}`),
        sse([chunk(`streamed ${escapes}`), chunk("!", "stop"), "data: [DONE]\n\n"]),
        envelope(400, "invalid_request", `bad ${escapes}`)
      ])
      const buffered = yield* runCli(["chat", "hi"], upstream.url)
      expect(buffered.code).toBe(0)
      const streamed = yield* runCli(["chat", "--stream", "hi"], upstream.url)
      expect(streamed.code).toBe(0)
      const failed = yield* runCli(["chat", "hi"], upstream.url)
      expect(failed.code).toBe(1)
      for (const run of [buffered, streamed, failed]) {
        expect(rawControls.test(run.stdout)).toBe(false)
        expect(rawControls.test(run.stderr)).toBe(false)
      }
      expect(buffered.stdout).toContain("hello \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x0d\\u202eevil world")
      expect(buffered.stderr).toContain("retry: attempt 1 of 5 failed")
      expect(streamed.stdout).toContain("streamed \\x1b]0;pwned")
      expect(failed.stderr).toContain("message:     bad \\x1b]0;pwned")
      for (const run of [buffered, streamed, failed]) expect(run.stdout + run.stderr).not.toContain(KEY)
    }))

  it.scopedLive("prints no key a server echoes, in answers, retry lines or failures", () =>
    Effect.gen(function*() {
      const echo = `key ${KEY}, Bearer ${KEY}`
      const upstream = yield* hostile([
        envelope(503, "service_unavailable", echo),
        json(200, completion(echo)),
        sse([chunk(echo), chunk("", "stop"), "data: [DONE]\n\n"]),
        envelope(401, "authentication_failed", echo)
      ])
      const runs = [
        yield* runCli(["chat", "hi"], upstream.url),
        yield* runCli(["chat", "--stream", "hi"], upstream.url),
        yield* runCli(["chat", "--json", "hi"], upstream.url)
      ]
      expect(runs.map((r) => r.code)).toEqual([0, 0, 1])
      for (const run of runs) {
        expect(run.stdout + run.stderr).not.toContain(KEY)
        expect(run.stdout + run.stderr).toMatch(scrubbed)
      }
    }))

  it.scopedLive("a stream closed cleanly after 3 chunks, without [DONE] or a finish reason, is a failure", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([sse([chunk("one "), chunk("two "), chunk("three")])])
      const run = yield* runCli(["chat", "--stream", "--json", "hi"], upstream.url)
      expect(run.code).toBe(1)
      const out = lastJson(run.stdout)
      expect(out.ok).toBe(false)
      expect(out.content).toBe("one two three")
      expect(out.tag).toBe("TransportError")
      const human = yield* runCli(["chat", "--stream", "hi"], upstream.url)
      expect(human.code).toBe(1)
      expect(human.stderr).toContain("mimo: failed with TransportError")
    }))

  it.scopedLive("--timeout bounds a stream that stalls after its first chunks", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([sse([chunk("partial "), chunk("text")], true)])
      const run = yield* runCli(["chat", "--stream", "--json", "--timeout", "1 second", "hi"], upstream.url)
      expect(run.code).toBe(1)
      expect(run.ms).toBeLessThan(10_000)
      const out = lastJson(run.stdout)
      expect(out).toMatchObject({ ok: false, tag: "TransportError", content: "partial text" })
      expect(String(out.message)).toContain("the stream stalled")
      // one attempt: a stream is never retried after its first chunk
      expect(upstream.requests()).toBe(1)
    }))

  // The client's stream ends at [DONE] whatever the server does after it (core's SSE framing).
  it.scopedLive("a stream held open after [DONE] succeeds at once (exit 0)", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([sse([chunk("done"), chunk("", "stop"), "data: [DONE]\n\n"], true)])
      const run = yield* runCli(["chat", "--stream", "--json", "hi"], upstream.url)
      expect(run.code).toBe(0)
      expect(lastJson(run.stdout)).toMatchObject({ ok: true, content: "done" })
      expect(run.ms).toBeLessThan(5_000)
    }))

  it("escapes controls for people, keeps newlines and tabs", () => {
    expect(Output.sanitize("a\tb\nc\u001b[31md\u0085e\u202e")).toBe("a\tb\nc\\x1b[31md\\x85e\\u202e")
    const line = Output.retryLine({
      attempt: 1,
      delay: Duration.millis(20),
      error: new MimoError.ServiceUnavailable({ message: "busy \u009b2J" })
    }, 3)
    expect(rawControls.test(line)).toBe(false)
  })
})

// -----------------------------------------------------------------------------
// The gateway
// -----------------------------------------------------------------------------

const quick = RetryPolicy.make({ base: "20 millis", jitter: "none", maxAttempts: 3 })

const gatewayOver = (baseUrl: string) =>
  Effect.gen(function*() {
    const upstream = yield* Layer.build(NodeMimoClient.layer({ apiKey: Redacted.make(KEY), baseUrl }))
    return yield* Gateway.make({
      port: 0,
      retry: quick,
      redact: Redaction.make({ secrets: [Redacted.make(KEY)], baseUrls: [baseUrl] })
    }).pipe(
      Effect.provide(Layer.merge(Layer.succeedContext(upstream), NodeContext.layer)),
      Logger.withMinimumLogLevel(LogLevel.None),
      Effect.orDie
    )
  })

const hello: ChatCompletion.Request = { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }] }

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body
    })
    return { status: response.status, headers: response.headers, body: await response.text() }
  })

/** A raw chunked POST (no Content-Length), answered even while the body is still being written. */
const chunkedPost = (url: string, pieces: number, size: number) =>
  Effect.async<{ status: number; connection: string | undefined; body: string }, Error>((resume) => {
    const req = Http.request(
      url,
      { method: "POST", headers: { "content-type": "application/json" }, agent: false },
      (res) => {
        let body = ""
        res.setEncoding("utf8").on("data", (s: string) => (body += s))
        res.on(
          "end",
          () => resume(Effect.succeed({ status: res.statusCode ?? 0, connection: res.headers.connection, body }))
        )
      }
    )
    req.on("error", (e) => resume(Effect.fail(e)))
    const piece = "x".repeat(size)
    let i = 0
    const next = () => {
      if (i++ === pieces) return void req.end()
      if (req.write(piece)) setImmediate(next)
      else req.once("drain", next)
    }
    next()
    return Effect.sync(() => req.destroy())
  })

describe("the gateway as a server", () => {
  it.scopedLive("an oversized body is a 413 envelope (Content-Length or chunked), not a dropped connection", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([json(200, completion("ok"))])
      const gateway = yield* gatewayOver(upstream.url)
      const big = JSON.stringify({ ...hello, messages: [{ role: "user", content: "x".repeat(Gateway.maxBodySize) }] })
      const declared = yield* post(`${gateway.baseUrl}/chat/completions`, big)
      expect(declared.status).toBe(413)
      expect(JSON.parse(declared.body)).toEqual({
        error: { code: "request_too_large", message: "request body: larger than 1048576 bytes", type: "error" }
      })
      expect(declared.headers.get("connection")).toBe("close")
      const chunked = yield* chunkedPost(`${gateway.baseUrl}/chat/completions`, 40, 64 * 1024)
      expect(chunked.status).toBe(413)
      expect(chunked.connection).toBe("close")
      expect(upstream.requests()).toBe(0)
      // and the gateway still answers
      expect((yield* post(`${gateway.baseUrl}/chat/completions`, JSON.stringify(hello))).status).toBe(200)
    }))

  it.scopedLive("takes only the documented fields: no extra_body passthrough, no unknown fields", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([json(200, completion("ok"))])
      const gateway = yield* gatewayOver(upstream.url)
      const url = `${gateway.baseUrl}/chat/completions`
      for (
        const [extra, param] of [[{ extra_body: { model: "other", n: 9 } }, "extra_body"], [{ n: 4 }, "n"]] as const
      ) {
        const reply = yield* post(url, JSON.stringify({ ...hello, ...extra }))
        expect(reply.status).toBe(400)
        expect(JSON.parse(reply.body).error).toMatchObject({ code: "invalid_request", param })
      }
      expect(Gateway.acceptedFields).not.toContain("extra_body")
      // deep JSON from a hostile page: a typed 400, not a crash
      const deep = "[".repeat(20_000) + "]".repeat(20_000)
      const nested = yield* post(
        url,
        `{"model":"mimo-v2-flash","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function",` +
          `"function":{"name":"f","parameters":{"p":${deep}}}}]}`
      )
      expect(nested.status).toBe(400)
      const error = JSON.parse(nested.body).error
      expect(error.code).toBe("invalid_request")
      expect(String(error.param).startsWith("tools[0].function.parameters.p[0]")).toBe(true)
      expect(upstream.requests()).toBe(0)
    }))

  it.scopedLive("sends nosniff everywhere, and a CSP and frame options with its page", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([json(200, completion("ok"))])
      const gateway = yield* gatewayOver(upstream.url)
      const page = yield* Effect.promise(() => fetch(gateway.url))
      yield* Effect.promise(() => page.text())
      expect(page.headers.get("x-content-type-options")).toBe("nosniff")
      expect(page.headers.get("x-frame-options")).toBe("DENY")
      const csp = page.headers.get("content-security-policy") ?? ""
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain("unsafe-inline")
      for (const path of ["/v1/chat/completions", "/v1/nothing"]) {
        const reply = yield* post(`${gateway.url.replace(/\/$/, "")}${path}`, JSON.stringify(hello))
        expect(reply.headers.get("x-content-type-options")).toBe("nosniff")
      }
    }))

  // The client's stream ends at [DONE], so the browser-facing stream ends too, even if the upstream holds on.
  it.scopedLive("the browser-facing stream ends when the upstream sends [DONE] and holds on", () =>
    Effect.gen(function*() {
      const upstream = yield* hostile([sse([chunk("done"), chunk("", "stop"), "data: [DONE]\n\n"], true)])
      const gateway = yield* gatewayOver(upstream.url)
      const reply = yield* post(`${gateway.baseUrl}/chat/completions`, JSON.stringify({ ...hello, stream: true })).pipe(
        Effect.timeout("5 seconds")
      )
      expect(reply.body.trimEnd().endsWith("data: [DONE]")).toBe(true)
    }))

  it.scopedLive("scrubs the key from everything it sends to the browser: answers, chunks, notices, errors", () =>
    Effect.gen(function*() {
      const echo = `key ${KEY} / Bearer ${KEY}`
      const upstream = yield* hostile([
        json(200, completion(echo)),
        envelope(503, "service_unavailable", echo),
        sse([chunk(echo), chunk("", "stop"), "data: [DONE]\n\n"]),
        envelope(401, "authentication_failed", echo)
      ])
      const gateway = yield* gatewayOver(upstream.url)
      const url = `${gateway.baseUrl}/chat/completions`
      const answer = yield* post(url, JSON.stringify(hello))
      const streamed = yield* post(url, JSON.stringify({ ...hello, stream: true }))
      const denied = yield* post(url, JSON.stringify(hello))
      expect([answer.status, streamed.status, denied.status]).toEqual([200, 200, 401])
      expect(streamed.body).toContain("event: mimo.retry")
      expect(streamed.body.trimEnd().endsWith("data: [DONE]")).toBe(true)
      for (const reply of [answer, streamed, denied]) {
        expect(reply.body).not.toContain(KEY)
        expect(reply.body).toMatch(scrubbed)
      }
    }))
})

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = Http.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

describe("mimo gateway (the command) over a hostile upstream", () => {
  it.scopedLive("neither the browser nor the terminal sees the key or an escape sequence the upstream sends", () =>
    Effect.gen(function*() {
      const echo = `Bearer ${KEY} ${escapes}`
      const upstream = yield* hostile([
        envelope(503, "service_unavailable", echo),
        json(200, completion(echo)),
        envelope(401, "authentication_failed", echo)
      ])
      const port = yield* Effect.promise(freePort)
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args) => void printed.push(args.join(" ")))
      const error = vi.spyOn(console, "error").mockImplementation((...args) => void printed.push(args.join(" ")))
      yield* Effect.addFinalizer(() => Effect.sync(() => (log.mockRestore(), error.mockRestore())))
      const fiber = yield* Cli.run(["node", "mimo", "gateway", "--port", String(port)]).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([["MIMO_RETRY_BASE", "20 millis"], ["MIMO_BASE_URL", upstream.url], ["MIMO_API_KEY", KEY]])
        )),
        Effect.provide(NodeContext.layer),
        Logger.withMinimumLogLevel(LogLevel.None),
        Effect.fork
      )
      const url = `http://127.0.0.1:${port}/`
      const deadline = Date.now() + 15_000
      while (!printed.includes(url) && Date.now() < deadline) yield* Effect.sleep("25 millis")
      expect(printed).toContain(url)
      const answer = yield* post(`${url}v1/chat/completions`, JSON.stringify(hello))
      const denied = yield* post(`${url}v1/chat/completions`, JSON.stringify(hello))
      const big = yield* post(`${url}v1/chat/completions`, "x".repeat(Gateway.maxBodySize + 1))
      yield* Fiber.interrupt(fiber)
      expect([answer.status, denied.status, big.status]).toEqual([200, 401, 413])
      for (const reply of [answer, denied]) {
        expect(reply.body).not.toContain(KEY)
        expect(reply.body).toMatch(scrubbed)
        expect(reply.headers.get("x-content-type-options")).toBe("nosniff")
      }
      const terminal = printed.join("\n")
      expect(terminal).toContain("mimo gateway: retry: attempt 1 of")
      expect(terminal).not.toContain(KEY)
      expect(rawControls.test(terminal)).toBe(false)
    }))
})

// -----------------------------------------------------------------------------
// In a real browser
// -----------------------------------------------------------------------------

/** A page on another origin (its own loopback port) that runs `script` when loaded. */
const foreignPage = (script: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly server: Http.Server }>((resume) => {
      const server = Http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" })
        res.end(`<!doctype html><title>elsewhere</title><script>${script}</script>`)
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

Chromium.describe("hostile servers and pages, in Chromium", (executablePath) => {
  let browser: Chromium.Running | undefined

  beforeAll(async () => {
    browser = await Chromium.launch(executablePath)
  }, 30_000)

  afterAll(async () => {
    await browser?.close()
  })

  const newPage = Effect.promise(() => {
    if (browser === undefined) throw new Error("no browser")
    return browser.context.newPage()
  })

  it.scopedLive("the gateway page runs under its CSP and never shows the key an upstream echoes", () =>
    Effect.gen(function*() {
      const echo = `the key is ${KEY}`
      const upstream = yield* hostile([sse([chunk(echo), chunk("", "stop"), "data: [DONE]\n\n"])])
      const gateway = yield* gatewayOver(upstream.url)
      const page = yield* newPage
      const violations: Array<string> = []
      page.on("console", (message) => {
        if (message.text().includes("Content Security Policy")) violations.push(message.text())
      })
      yield* Effect.promise(() => page.goto(gateway.url))
      yield* Effect.promise(() => page.waitForSelector(`body[data-state="idle"]`, { timeout: 10_000 }))
      yield* Effect.promise(async () => {
        await page.fill("#prompt", "Say hello")
        await page.click("#send")
        await page.waitForSelector(`body[data-state="done"]`, { timeout: 15_000 })
      })
      const answer = yield* Effect.promise(() => page.textContent("#answer"))
      expect(answer).toBe("the key is <redacted>")
      const html = yield* Effect.promise(() => page.content())
      expect(html).not.toContain(KEY)
      expect(violations).toEqual([])
      yield* Effect.promise(() => page.close())
    }))

  it.scopedLive("a page on another origin can neither queue simulator faults nor frame the gateway", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false }, cors: true })
      const upstream = yield* hostile([json(200, completion("ok"))])
      const gateway = yield* gatewayOver(upstream.url)
      const attacker = yield* foreignPage(`
        const simple = { method: "POST", mode: "no-cors", body: '["error:503","error:503"]' }
        Promise.allSettled([
          fetch(${JSON.stringify(`${sim.origin}/_sim/script`)}, simple),
          fetch(${JSON.stringify(`${sim.origin}/_sim/reset`)}, { method: "POST", mode: "no-cors" }),
          fetch(${JSON.stringify(`${sim.origin}/_sim/script`)}, {
            method: "POST", headers: { "content-type": "application/json" }, body: '["error:503"]'
          })
        ]).then(() => { document.title = "sent" })
        const frame = document.createElement("iframe")
        frame.src = ${JSON.stringify(gateway.url)}
        document.body.appendChild(frame)
      `)
      const page = yield* newPage
      yield* Effect.promise(() => page.goto(attacker.url))
      yield* Effect.promise(() => page.waitForFunction(() => document.title === "sent", undefined, { timeout: 10_000 }))
      // nothing was queued: the next chat request is answered normally
      const stats = yield* sim.stats
      expect(stats.requests).toBe(0)
      const pending = yield* Effect.promise(() =>
        fetch(`${sim.origin}/_sim/script`).then((r) => r.json() as Promise<{ pending: Array<unknown> }>)
      )
      expect(pending.pending).toEqual([])
      // the framed gateway page did not render (frame-ancestors 'none' / X-Frame-Options: DENY)
      yield* Effect.promise(() => page.waitForTimeout(300))
      const framed = page.frames().filter((f) => f !== page.mainFrame())
      for (const frame of framed) {
        const found = yield* Effect.promise(() => frame.$("#prompt").catch(() => null))
        expect(found).toBeNull()
      }
      yield* Effect.promise(() => page.close())
    }))
})
