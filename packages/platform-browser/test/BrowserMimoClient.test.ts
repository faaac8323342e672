/**
 * The browser client's wiring, checked in Node (whose `fetch`, `Response` and
 * `TransformStream` are the web's): what goes on the wire (no credential, or a
 * token; a key only with the dangerous opt-in). Retry notices are read by
 * the core's SSE framing (tested in core). The same client runs in Chromium in
 * `BrowserMimoClient.browser.test.ts`.
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, LogLevel, Redacted, Ref } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { vi } from "vitest"
import { BrowserMimoClient } from "../src/index.js"

const completion = JSON.stringify({
  id: "r1",
  object: "chat.completion",
  created: 1,
  model: "mimo-v2-flash",
  choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }]
})

interface Seen {
  readonly headers: Http.IncomingHttpHeaders
}

/** A loopback server that records each request and answers with the next scripted status (then 200s). */
const captureServer = (statuses: ReadonlyArray<number> = []) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const seen: Array<Seen> = []
      const script = [...statuses]
      const server = Http.createServer((request, response) => {
        seen.push({ headers: request.headers })
        request.resume()
        const status = script.shift() ?? 200
        response.writeHead(status, { "content-type": "application/json" }).end(
          status === 200 ? completion : JSON.stringify({ error: { code: String(status), message: "busy" } })
        )
      })
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
      const { port } = server.address() as AddressInfo
      return { url: `http://127.0.0.1:${port}/v1`, seen, server }
    }),
    ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
  )

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "hi" }] }

const quick = RetryPolicy.make({ base: "1 millis", jitter: "none" })

const clientOf = <E>(layer: Layer.Layer<MimoClient.MimoClient, E>) =>
  Effect.map(Layer.build(layer), (ctx) => Context.get(ctx, MimoClient.MimoClient))

describe("BrowserMimoClient.layer (your backend)", () => {
  it.scopedLive("sends no credential at all without a token (authHeader: none)", () =>
    Effect.gen(function*() {
      const server = yield* captureServer()
      const mimo = yield* clientOf(BrowserMimoClient.layer({ baseUrl: server.url }))
      const response = yield* mimo.chat(hello)
      expect(response.id).toBe("r1")
      const headers = server.seen[0].headers
      expect(headers["api-key"]).toBeUndefined()
      expect(headers.authorization).toBeUndefined()
      expect(headers["content-type"]).toBe("application/json")
      expect(JSON.stringify(headers)).not.toContain("effect-mimo-browser-no-key")
    }))

  it.scopedLive("sends the token as Bearer, or raw in the header of your choice", () =>
    Effect.gen(function*() {
      const server = yield* captureServer()
      const bearer = yield* clientOf(BrowserMimoClient.layer({ baseUrl: server.url, token: Redacted.make("tok-1") }))
      yield* bearer.chat(hello)
      expect(server.seen[0].headers.authorization).toBe("Bearer tok-1")
      expect(server.seen[0].headers["api-key"]).toBeUndefined()
      const custom = yield* clientOf(
        BrowserMimoClient.layer({ baseUrl: server.url, token: Redacted.make("tok-2"), tokenHeader: "x-session" })
      )
      yield* custom.chat(hello)
      expect(server.seen[1].headers["x-session"]).toBe("tok-2")
      expect(server.seen[1].headers.authorization).toBeUndefined()
    }))

  it.scopedLive("reads a token effect before every attempt (a retry gets a fresh one)", () =>
    Effect.gen(function*() {
      const server = yield* captureServer([503])
      const issued = yield* Ref.make(0)
      const token = Effect.map(Ref.updateAndGet(issued, (n) => n + 1), (n) => Redacted.make(`t${n}`))
      const mimo = yield* clientOf(BrowserMimoClient.layer({ baseUrl: server.url, token, retry: quick }))
      yield* mimo.chat(hello).pipe(Logger.withMinimumLogLevel(LogLevel.None))
      expect(server.seen.map((s) => s.headers.authorization)).toEqual(["Bearer t1", "Bearer t2"])
      expect(server.seen.map((s) => s.headers[MimoClient.retryCountHeader])).toEqual([undefined, "1"])
    }))

  it.scopedLive("passes the credentials mode to fetch", () =>
    Effect.gen(function*() {
      const server = yield* captureServer()
      const modes: Array<RequestCredentials | undefined> = []
      const realFetch = globalThis.fetch
      vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) => {
        modes.push(init?.credentials)
        return realFetch(input, init)
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => vi.unstubAllGlobals()))
      const mimo = yield* clientOf(BrowserMimoClient.layer({ baseUrl: server.url, credentials: "include" }))
      yield* mimo.chat(hello)
      expect(modes).toEqual(["include"])
    }))
})

describe("BrowserMimoClient.layerDangerouslyWithApiKey", () => {
  it.scopedLive("sends the key, as the core's client does, only with the opt-in", () =>
    Effect.gen(function*() {
      const server = yield* captureServer()
      const mimo = yield* clientOf(
        BrowserMimoClient.layerDangerouslyWithApiKey({
          apiKey: Redacted.make("sk-visible"),
          baseUrl: server.url,
          authHeader: "api-key",
          dangerouslyAllowApiKeyInBrowser: true
        })
      )
      yield* mimo.chat(hello)
      expect(server.seen[0].headers["api-key"]).toBe("sk-visible")
    }))

  it.scoped("without the flag (plain JavaScript) the layer fails with a ValidationError naming it", () =>
    Effect.gen(function*() {
      const untyped: Record<string, unknown> = { apiKey: Redacted.make("sk-visible") }
      const layer: Layer.Layer<MimoClient.MimoClient, MimoError.ValidationError> = Reflect.apply(
        BrowserMimoClient.layerDangerouslyWithApiKey,
        undefined,
        [untyped]
      )
      const exit = yield* Effect.exit(Layer.build(layer))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        expect(exit.cause.error).toBeInstanceOf(MimoError.ValidationError)
        expect(exit.cause.error.field).toBe("dangerouslyAllowApiKeyInBrowser")
      } else {
        throw new Error("expected a typed failure")
      }
    }))
})
