/**
 * The simulator as a server facing hostile clients (issue 11): bounded
 * request bodies, keys compared exactly, control endpoints closed to pages
 * on other origins. Real sockets on 127.0.0.1.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Http from "node:http"
import { Simulator } from "../src/index.js"
import { chat, chatBody, json, request } from "./helpers.js"

const noLimits = { rateLimit: { enabled: false } } as const

interface RawReply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly text: string
}

/**
 * A raw `node:http` request whose body is written in `chunks` (chunked
 * encoding when `length` is not given), resolving with whatever the server
 * answers, even while the body is still being written.
 */
const rawPost = (
  url: string,
  chunks: ReadonlyArray<Uint8Array | string>,
  headers: Record<string, string> = {}
): Effect.Effect<RawReply, Error> =>
  Effect.async<RawReply, Error>((resume) => {
    const req = Http.request(url, { method: "POST", headers, agent: false }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (text += c))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, text })))
      res.on("error", (e) => resume(Effect.fail(e)))
    })
    // a server that answers early and closes may make the rest of the upload fail: that is expected
    req.on("error", (e) => resume(Effect.fail(e)))
    let i = 0
    const next = () => {
      if (i === chunks.length) return void req.end()
      const ok = req.write(chunks[i++])
      if (ok) setImmediate(next)
      else req.once("drain", next)
    }
    next()
    return Effect.sync(() => req.destroy())
  })

describe("request body limit", () => {
  it.scopedLive("a declared Content-Length over the limit is a 413 in the seed envelope, read no further", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ ...noLimits, maxBodyBytes: 4096 })
      const big = JSON.stringify(chatBody({ messages: [{ role: "user", content: "x".repeat(64 * 1024) }] }))
      const reply = yield* chat(sim, big)
      expect(reply.status).toBe(413)
      expect(json(reply)).toEqual({
        error: { code: "request_too_large", message: "The request body is larger than 4096 bytes", type: "error" }
      })
      expect(reply.headers.get("connection")).toBe("close")
      // a body under the limit still works, on a new connection
      expect((yield* chat(sim)).status).toBe(200)
      const stats = yield* sim.stats
      expect(stats.byStatus).toEqual({ "200": 1, "413": 1 })
    }))

  it.scopedLive("a chunked body is cut off at the limit with a 413, not a reset", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ ...noLimits, maxBodyBytes: 4096 })
      const piece = "x".repeat(1024)
      const reply = yield* rawPost(`${sim.url}/chat/completions`, Array.from({ length: 8 }, () => piece), {
        "content-type": "application/json",
        authorization: "Bearer k"
      })
      expect(reply.status).toBe(413)
      expect(JSON.parse(reply.text).error.code).toBe("request_too_large")
      expect(reply.headers.connection).toBe("close")
    }))

  it.scopedLive("the control endpoint has the same limit; the default is 32 MiB", () =>
    Effect.gen(function*() {
      expect(Simulator.defaultMaxBodyBytes).toBe(32 * 1024 * 1024)
      const sim = yield* Simulator.make({ ...noLimits, maxBodyBytes: 1024 })
      const reply = yield* request(`${sim.origin}/_sim/script`, {
        method: "POST",
        body: JSON.stringify(Array.from({ length: 400 }, () => "ok"))
      })
      expect(reply.status).toBe(413)
      expect((yield* sim.stats).requests).toBe(0)
    }))
})

describe("API keys", () => {
  it.scopedLive("are compared exactly: a key with extra whitespace inside the header is refused", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ ...noLimits, apiKey: Redacted.make("sk-exact-key") })
      expect((yield* chat(sim, chatBody(), { authorization: "Bearer sk-exact-key" })).status).toBe(200)
      expect((yield* chat(sim, chatBody(), { authorization: "Bearer  sk-exact-key" })).status).toBe(401)
      expect((yield* chat(sim, chatBody(), { authorization: "Bearer sk-exact-ke" })).status).toBe(401)
      expect((yield* chat(sim, chatBody(), { authorization: "Bearer sk-exact-key2" })).status).toBe(401)
      expect((yield* chat(sim, chatBody(), { authorization: "", "api-key": "sk-exact-key" })).status).toBe(200)
      expect((yield* chat(sim, chatBody(), { authorization: "", "api-key": "sk-exact-key\t!" })).status).toBe(401)
    }))
})

describe("control endpoints (/_sim/*)", () => {
  const post = (url: string, headers: Record<string, string>) =>
    request(url, { method: "POST", headers, body: "[\"error:503\"]" })

  it.scopedLive("refuse browser requests from other origins, rebound host names and cross-site fetches", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ ...noLimits, cors: true })
      const script = `${sim.origin}/_sim/script`
      const refused: ReadonlyArray<Record<string, string>> = [
        { origin: "http://evil.example" },
        { origin: "null" },
        { origin: `http://localhost:${sim.port + 1}` },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" }
      ]
      for (const headers of refused) {
        const reply = yield* post(script, headers)
        expect(reply.status).toBe(403)
        expect(json(reply).error.code).toBe("permission_denied")
        expect(reply.headers.get("access-control-allow-origin")).toBeNull()
      }
      // a rebound DNS name reaches us with its own Host
      const rebound = yield* rawPost(script, ["[\"error:503\"]"], { host: `attacker.example:${sim.port}` })
      expect(rebound.status).toBe(403)
      // no preflight is granted for them either
      const preflight = yield* request(script, {
        method: "OPTIONS",
        headers: { origin: "http://evil.example", "access-control-request-method": "POST" }
      })
      expect(preflight.status).toBe(403)
      expect(preflight.headers.get("access-control-allow-origin")).toBeNull()
      // nothing was queued: the next chat request is answered normally
      expect(json(yield* request(script)).pending).toEqual([])
      expect((yield* chat(sim)).status).toBe(200)
      // tools (no browser headers) and same-origin requests pass
      expect((yield* post(script, {})).status).toBe(200)
      expect((yield* post(script, { origin: sim.origin, "sec-fetch-site": "same-origin" })).status).toBe(200)
      expect((yield* chat(sim)).status).toBe(503)
    }))

  it.scopedLive("with a control token, require it", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ ...noLimits, controlToken: Redacted.make("ctl-token-123") })
      expect((yield* request(`${sim.origin}/_sim/stats`)).status).toBe(403)
      expect((yield* request(`${sim.origin}/_sim/stats`, { headers: { "x-mimo-sim-token": "ctl-token-12" } })).status)
        .toBe(403)
      const ok = yield* request(`${sim.origin}/_sim/stats`, { headers: { "x-mimo-sim-token": "ctl-token-123" } })
      expect(ok.status).toBe(200)
      // the in-process controls need no token
      yield* sim.script(["error:503"].map(() => ({ _tag: "Ok" as const })))
      expect((yield* chat(sim)).status).toBe(200)
    }))
})

describe("validation, as the server does it", () => {
  it.scopedLive("any tool_choice is taken (the server acts as auto); a tool call replayed without reasoning is a 400", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      for (const tool_choice of ["required", "none", { type: "function", function: { name: "f" } }]) {
        expect((yield* chat(sim, chatBody({ tool_choice }))).status).toBe(200)
      }
      const replay = yield* chat(sim, {
        model: "mimo-v2.5-pro",
        messages: [
          { role: "user", content: "Weather?" },
          {
            role: "assistant",
            content: "",
            tool_calls: [{ id: "c1", type: "function", function: { name: "w", arguments: "{}" } }]
          },
          { role: "tool", tool_call_id: "c1", content: "sunny" }
        ]
      })
      expect(replay.status).toBe(400)
      // MiMo's own wording (mimo-api.md §7), not the client's field path
      expect(json(replay).error).toMatchObject({
        code: "invalid_request",
        message: "Param Incorrect",
        param: "The reasoning_content in the thinking mode must be passed back to the API."
      })
    }))
})
