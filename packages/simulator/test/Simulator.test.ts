import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, TestClock } from "effect"
import * as Http from "node:http"
import { Fault, Simulator } from "../src/index.js"
import { chat, chatBody, json, readPartial, request, sseData, statsUntil } from "./helpers.js"

const noLimits = { rateLimit: { enabled: false } } as const

{
  const make = (options: Simulator.Options = {}) => Simulator.make(options)

  describe("Simulator", () => {
    describe("chat completions", () => {
      it.scopedLive("answers JSON with an id, content, finish_reason and counted usage", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          expect(sim.url).toBe(`http://127.0.0.1:${sim.port}/v1`)
          const reply = yield* chat(sim)
          expect(reply.status).toBe(200)
          expect(reply.headers.get("content-type")).toContain("application/json")
          const body = json(reply)
          expect(body.id).toMatch(/^[0-9a-f]{32}$/)
          expect(body.object).toBe("chat.completion")
          expect(body.model).toBe("mimo-v2-flash")
          expect(typeof body.created).toBe("number")
          expect(body.choices).toHaveLength(1)
          expect(body.choices[0].index).toBe(0)
          expect(body.choices[0].finish_reason).toBe("stop")
          expect(body.choices[0].message.role).toBe("assistant")
          expect(body.choices[0].message.content.length).toBeGreaterThan(0)
          expect(body.choices[0].message.tool_calls).toBeNull()
          // mimo-v2-flash: thinking off by default
          expect(body.choices[0].message.reasoning_content).toBeUndefined()
          const words = body.choices[0].message.content.split(" ").length
          expect(body.usage).toEqual({
            prompt_tokens: Math.ceil("Hello there, simulator!".length / 4),
            completion_tokens: words,
            total_tokens: Math.ceil("Hello there, simulator!".length / 4) + words,
            completion_tokens_details: { reasoning_tokens: 0 },
            prompt_tokens_details: null
          })
          const stats = yield* sim.stats
          expect(stats.requests).toBe(1)
          expect(stats.byStatus).toEqual({ "200": 1 })
          expect(stats.byPath).toEqual({ "/v1/chat/completions": 1 })
          expect(stats.tokens.total).toBe(body.usage.total_tokens)
        }))

      it.scopedLive("streams SSE: role chunk, reasoning first, content, finish chunk, usage-only chunk, [DONE]", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const body = chatBody({ model: "mimo-v2.5-pro" })
          const plain = json(yield* chat(sim, body))
          const reply = yield* chat(sim, { ...body, stream: true })
          expect(reply.status).toBe(200)
          expect(reply.headers.get("content-type")).toContain("text/event-stream")
          const data = sseData(reply.text)
          expect(data.at(-1)).toBe("[DONE]")
          const chunks = data.slice(0, -1).map((d) => JSON.parse(d))
          const ids = new Set(chunks.map((c) => c.id))
          expect(ids.size).toBe(1)
          expect([...ids][0]).toMatch(/^[0-9a-f]{32}$/)
          for (const c of chunks) expect(c.object).toBe("chat.completion.chunk")
          expect(chunks[0].choices[0].delta.role).toBe("assistant")
          const deltas = chunks.slice(1, -2).map((c) => c.choices[0].delta)
          const firstContent = deltas.findIndex((d) => d.content !== undefined)
          const lastReasoning = deltas.map((d) => d.reasoning_content !== undefined).lastIndexOf(true)
          expect(lastReasoning).toBeGreaterThanOrEqual(0)
          expect(lastReasoning).toBeLessThan(firstContent)
          for (const c of chunks.slice(0, -2)) expect(c.choices[0].finish_reason).toBeNull()
          const finish = chunks.at(-2)
          expect(finish.choices[0].finish_reason).toBe("stop")
          expect(finish.choices[0].delta).toEqual({})
          expect(finish.usage).toBeNull()
          const usage = chunks.at(-1)
          expect(usage.choices).toEqual([])
          expect(usage.usage.total_tokens).toBe(usage.usage.prompt_tokens + usage.usage.completion_tokens)
          expect(usage.usage.completion_tokens_details.reasoning_tokens).toBe(
            deltas.filter((d) => d.reasoning_content !== undefined).length
          )
          // the same request answers the same words, streamed or not
          const content = deltas.map((d) => d.content ?? "").join("")
          const reasoning = deltas.map((d) => d.reasoning_content ?? "").join("")
          expect(content).toBe(plain.choices[0].message.content)
          expect(reasoning).toBe(plain.choices[0].message.reasoning_content)
          expect(usage.usage.completion_tokens).toBe(plain.usage.completion_tokens)
          const stats = yield* sim.stats
          expect(stats.streams).toMatchObject({ opened: 1, closed: 1, cut: 0, errored: 0, aborted: 0 })
        }))

      it.scopedLive("is deterministic from the seed and the prompt", () =>
        Effect.gen(function*() {
          const a = yield* make({ ...noLimits, seed: 7 })
          const b = yield* make({ ...noLimits, seed: 7 })
          const c = yield* make({ ...noLimits, seed: 8 })
          const content = (r: { text: string }) => JSON.parse(r.text).choices[0].message.content
          const fromA = content(yield* chat(a))
          expect(content(yield* chat(a))).toBe(fromA)
          expect(content(yield* chat(b))).toBe(fromA)
          expect(content(yield* chat(c))).not.toBe(fromA)
          const other = chatBody({ messages: [{ role: "user", content: "Something else entirely" }] })
          expect(content(yield* chat(a, other))).not.toBe(fromA)
        }))

      it.scopedLive("stops at max_completion_tokens with finish_reason length", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const body = json(yield* chat(sim, chatBody({ max_completion_tokens: 3 })))
          expect(body.choices[0].finish_reason).toBe("length")
          expect(body.usage.completion_tokens).toBe(3)
        }))

      it.scopedLive("answers a tool call when asked to call a function tool, streamed as argument fragments", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const body = chatBody({
            messages: [{ role: "user", content: "Please call get_weather for Wuhan" }],
            tools: [{
              type: "function",
              function: {
                name: "get_weather",
                parameters: { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } } }
              }
            }]
          })
          const plain = json(yield* chat(sim, body))
          expect(plain.choices[0].finish_reason).toBe("tool_calls")
          const call = plain.choices[0].message.tool_calls[0]
          expect(call.id).toMatch(/^call_[0-9a-f]{24}$/)
          expect(call.type).toBe("function")
          expect(call.function.name).toBe("get_weather")
          const args = JSON.parse(call.function.arguments)
          expect(typeof args.city).toBe("string")
          expect(Number.isInteger(args.days)).toBe(true)

          const streamed = sseData((yield* chat(sim, { ...body, stream: true })).text)
          const chunks = streamed.slice(0, -1).map((d) => JSON.parse(d))
          const fragments = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
          expect(fragments.length).toBeGreaterThan(1)
          expect(fragments[0].id).toMatch(/^call_/)
          expect(fragments[0].function.name).toBe("get_weather")
          expect(fragments.map((f) => f.function.arguments).join("")).toBe(call.function.arguments)
          expect(chunks.at(-2).choices[0].finish_reason).toBe("tool_calls")
        }))

      it.scopedLive("answers JSON mode with a JSON object", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const body = json(yield* chat(sim, chatBody({ response_format: { type: "json_object" } })))
          expect(typeof JSON.parse(body.choices[0].message.content).answer).toBe("string")
        }))
    })

    describe("auth and validation", () => {
      it.scopedLive("accepts Authorization: Bearer and api-key; refuses a missing key", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          expect((yield* chat(sim, chatBody(), { authorization: "Bearer abc" })).status).toBe(200)
          expect((yield* chat(sim, chatBody(), { authorization: "", "api-key": "abc" })).status).toBe(200)
          const missing = yield* chat(sim, chatBody(), { authorization: "" })
          expect(missing.status).toBe(401)
          expect(json(missing).error.code).toBe("authentication_failed")
        }))

      it.scopedLive("with apiKey set, refuses any other key with 401", () =>
        Effect.gen(function*() {
          const sim = yield* make({ ...noLimits, apiKey: Redacted.make("sk-right") })
          const wrong = yield* chat(sim, chatBody(), { authorization: "Bearer sk-wrong" })
          expect(wrong.status).toBe(401)
          expect(json(wrong)).toEqual({
            error: { code: "authentication_failed", message: "Invalid API Key", type: "error" }
          })
          expect((yield* chat(sim, chatBody(), { authorization: "Bearer sk-right" })).status).toBe(200)
          expect((yield* chat(sim, chatBody(), { authorization: "", "api-key": "sk-right" })).status).toBe(200)
        }))

      it.scopedLive("404 not_found for an unknown model, unless allowed", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const reply = yield* chat(sim, chatBody({ model: "gpt-4o" }))
          expect(reply.status).toBe(404)
          expect(json(reply).error.code).toBe("not_found")
          expect(json(reply).error.param).toBe("model")
          const lenient = yield* make({ ...noLimits, allowUnknownModels: true })
          expect((yield* chat(lenient, chatBody({ model: "mimo-v2.6-pro" }))).status).toBe(200)
          const extra = yield* make({ ...noLimits, models: ["mimo-v2.5-pro-ultraspeed"] })
          expect((yield* chat(extra, chatBody({ model: "mimo-v2.5-pro-ultraspeed" }))).status).toBe(200)
        }))

      it.scopedLive("400 invalid_request naming the field; invalid JSON; unknown path 404", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const noMessages = yield* chat(sim, { model: "mimo-v2-flash" })
          expect(noMessages.status).toBe(400)
          expect(json(noMessages).error.code).toBe("invalid_request")
          expect(json(noMessages).error.param).toContain("messages")
          const badTemperature = yield* chat(sim, chatBody({ temperature: 7 }))
          expect(badTemperature.status).toBe(400)
          expect(json(badTemperature).error.param).toBe("temperature")
          const garbage = yield* chat(sim, "{not json")
          expect(garbage.status).toBe(400)
          expect(json(garbage).error.code).toBe("invalid_request")
          const nowhere = yield* request(`${sim.url}/nowhere`, { headers: { "api-key": "k" } })
          expect(nowhere.status).toBe(404)
          expect(json(nowhere).error.code).toBe("not_found")
          const stats = yield* sim.stats
          expect(stats.byStatus).toEqual({ "400": 3, "404": 1 })
          expect(stats.byPath["/v1/nowhere"]).toBe(1)
        }))

      it.scopedLive("renders errors in the xiaomi and bare shapes", () =>
        Effect.gen(function*() {
          const xiaomi = yield* make({ ...noLimits, errorShape: "xiaomi" })
          const x = yield* chat(xiaomi, chatBody(), { authorization: "" })
          expect(x.status).toBe(401)
          expect(json(x).error.code).toBe("401")
          expect(typeof json(x).error.message).toBe("string")
          const bare = yield* make({ ...noLimits, errorShape: "bare" })
          const b = yield* chat(bare, chatBody(), { authorization: "" })
          expect(b.status).toBe(401)
          expect(json(b).error).toBeUndefined()
          expect(typeof json(b).message).toBe("string")
          expect(typeof json(b).type).toBe("string")
          // a fault may pick its own shape
          const f = yield* chat(xiaomi, chatBody(), { "x-mimo-sim-fault": "error:internal_error;shape=bare" })
          expect(f.status).toBe(500)
          expect(json(f).error).toBeUndefined()
        }))

      it.scopedLive("lists the models", () =>
        Effect.gen(function*() {
          const sim = yield* make({ ...noLimits, models: ["mimo-v2.6-pro"] })
          const reply = yield* request(`${sim.url}/models`, { headers: { authorization: "Bearer k" } })
          expect(reply.status).toBe(200)
          const body = json(reply)
          expect(body.object).toBe("list")
          const ids = body.data.map((m: { id: string }) => m.id)
          expect(ids).toContain("mimo-v2.5-pro")
          expect(ids).toContain("mimo-v2.5-tts")
          expect(ids).toContain("mimo-v2.6-pro")
          for (const m of body.data) expect(m).toEqual({ id: m.id, object: "model", owned_by: "xiaomi" })
          expect((yield* request(`${sim.url}/models`)).status).toBe(401)
        }))
    })

    describe("faults through the header", () => {
      it.scopedLive("Error: the envelope of the code, with Retry-After", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const unavailable = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "error:service_unavailable" })
          expect(unavailable.status).toBe(503)
          expect(json(unavailable).error).toMatchObject({ code: "service_unavailable", type: "error" })
          const limited = yield* chat(sim, chatBody(), {
            "x-mimo-sim-fault": "error:rate_limit_exceeded;retry-after=3"
          })
          expect(limited.status).toBe(429)
          expect(limited.headers.get("retry-after")).toBe("3")
          const millis = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "error:429;retry-after-ms=1500" })
          expect(millis.headers.get("retry-after-ms")).toBe("1500")
          expect(millis.headers.get("retry-after")).toBe("2")
          const dated = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "error:429;retry-after-date=30" })
          const date = Date.parse(dated.headers.get("retry-after")!)
          expect(date - Date.now()).toBeGreaterThan(20_000)
          expect(date - Date.now()).toBeLessThan(40_000)
          const asJson = yield* chat(sim, chatBody(), {
            "x-mimo-sim-fault": JSON.stringify({ _tag: "Error", code: "internal_error", message: "boom" })
          })
          expect(asJson.status).toBe(500)
          expect(json(asJson).error.message).toBe("boom")
          const stats = yield* sim.stats
          expect(stats.byFault).toEqual({ Error: 5 })
          expect(stats.byStatus).toEqual({ "429": 3, "500": 1, "503": 1 })
        }))

      it.scopedLive("Status: any status with any body", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const html = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "status:502;html" })
          expect(html.status).toBe(502)
          expect(html.headers.get("content-type")).toContain("text/html")
          expect(html.text).toContain("<title>502 Bad Gateway</title>")
          const empty = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "status:503" })
          expect(empty.status).toBe(503)
          expect(empty.text).toBe("")
          const cut = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "status:200;truncated" })
          expect(cut.status).toBe(200)
          expect(() => JSON.parse(cut.text)).toThrow()
          const custom = yield* chat(sim, chatBody(), {
            "x-mimo-sim-fault": JSON.stringify({
              _tag: "Status",
              status: 402,
              body: "{\"type\":\"server_error\",\"message\":\"Insufficient account funds\"}",
              contentType: "application/json",
              headers: { "x-extra": "yes" }
            })
          })
          expect(custom.status).toBe(402)
          expect(custom.headers.get("x-extra")).toBe("yes")
          expect(json(custom).message).toBe("Insufficient account funds")
        }))

      it.scopedLive("Reset: the connection is destroyed without a response", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const failure = yield* Effect.flip(chat(sim, chatBody(), { "x-mimo-sim-fault": "reset" }))
          expect(failure).toBeInstanceOf(TypeError) // fetch failed
          const stats = yield* statsUntil(sim, (s) => s.active === 0)
          expect(stats.byFault).toEqual({ Reset: 1 })
          expect(stats.clientClosed).toBe(0)
          expect(stats.byStatus).toEqual({})
          // the server is fine afterwards
          expect((yield* chat(sim)).status).toBe(200)
        }))

      it.scopedLive("Hang: never answers; the client's abort is seen as a closed connection", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const controller = new AbortController()
          const pending = fetch(`${sim.url}/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", "api-key": "k", "x-mimo-sim-fault": "hang" },
            body: JSON.stringify(chatBody()),
            signal: controller.signal
          }).then(() => "answered", (e: Error) => e.name)
          yield* statsUntil(sim, (s) => s.active === 1)
          controller.abort()
          expect(yield* Effect.promise(() => pending)).toBe("AbortError")
          const stats = yield* statsUntil(sim, (s) => s.clientClosed === 1 && s.active === 0)
          expect(stats.byFault).toEqual({ Hang: 1 })
          expect(stats.byStatus).toEqual({})
        }))

      it.scopedLive("Latency: waits, then answers normally", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const start = Date.now()
          const reply = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "latency:150" })
          expect(Date.now() - start).toBeGreaterThanOrEqual(140)
          expect(reply.status).toBe(200)
          expect(json(reply).object).toBe("chat.completion")
        }))

      it.scopedLive("StreamCut: n data chunks, then the connection is destroyed", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const result = yield* readPartial(`${sim.url}/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", "api-key": "k", "x-mimo-sim-fault": "cut:3" },
            body: JSON.stringify(chatBody({ stream: true }))
          })
          expect(result.status).toBe(200)
          expect(result.failed).toBe(true)
          const data = sseData(result.text)
          expect(data).toHaveLength(3)
          expect(data).not.toContain("[DONE]")
          for (const d of data) expect(JSON.parse(d).object).toBe("chat.completion.chunk")
          const stats = yield* statsUntil(sim, (s) => s.active === 0 && s.streams.cut === 1)
          expect(stats.streams).toMatchObject({ opened: 1, cut: 1, closed: 0, aborted: 0 })
          expect(stats.clientClosed).toBe(0)
          // a non-streaming request is cut in the middle of its body
          const plain = yield* readPartial(`${sim.url}/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", "api-key": "k", "x-mimo-sim-fault": "cut:0" },
            body: JSON.stringify(chatBody())
          })
          expect(plain.failed).toBe(true)
          expect(plain.text.startsWith("{\"id\":")).toBe(true)
        }))

      it.scopedLive("StreamError: n chunks, then an SSE error event, then the end", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const reply = yield* chat(sim, chatBody({ stream: true }), {
            "x-mimo-sim-fault": "stream-error:2:service_unavailable"
          })
          expect(reply.status).toBe(200)
          const data = sseData(reply.text)
          expect(data).toHaveLength(3)
          expect(JSON.parse(data[0]).object).toBe("chat.completion.chunk")
          expect(JSON.parse(data[2])).toEqual({
            error: { code: "service_unavailable", message: expect.any(String), type: "error" }
          })
          const stats = yield* statsUntil(sim, (s) => s.streams.errored === 1)
          expect(stats.streams.closed).toBe(0)
        }))

      it.scopedLive("a malformed fault header is a 400 naming the header", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const reply = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "explode" })
          expect(reply.status).toBe(400)
          expect(json(reply).error.param).toBe("x-mimo-sim-fault")
          expect(json(reply).error.message).toContain("unknown fault")
        }))
    })

    describe("scripted and seeded faults", () => {
      it.scopedLive("scripted faults are consumed in order, one per chat request; the header wins", () =>
        Effect.gen(function*() {
          const sim = yield* make({ ...noLimits, script: [Fault.error("internal_error")] })
          yield* sim.script([Fault.error("service_unavailable"), Fault.status(502, "bad gateway"), Fault.ok])
          const statuses: Array<number> = []
          statuses.push((yield* chat(sim)).status)
          statuses.push((yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "ok" })).status)
          for (let i = 0; i < 4; i++) statuses.push((yield* chat(sim)).status)
          expect(statuses).toEqual([500, 200, 503, 502, 200, 200])
          // /v1/models does not consume the script
          yield* sim.script([Fault.error("internal_error")])
          expect((yield* request(`${sim.url}/models`, { headers: { "api-key": "k" } })).status).toBe(200)
          expect((yield* chat(sim)).status).toBe(500)
          // reset restores the initial script
          yield* sim.reset
          expect((yield* chat(sim)).status).toBe(500)
          expect((yield* chat(sim)).status).toBe(200)
        }))

      it.scopedLive("seeded probabilities give the same sequence for the same seed", () =>
        Effect.gen(function*() {
          const faults = {
            seed: 42,
            mix: [
              { fault: Fault.error("service_unavailable"), probability: 0.3 },
              { fault: Fault.status(502), probability: 0.2 }
            ]
          }
          const run = (sim: Simulator.SimulatorService) =>
            Effect.forEach(Array.from({ length: 30 }), () => Effect.map(chat(sim), (r) => r.status))
          const a = yield* make({ ...noLimits, faults })
          const b = yield* make({ ...noLimits, faults })
          const first = yield* run(a)
          expect(yield* run(b)).toEqual(first)
          expect(new Set(first)).toEqual(new Set([200, 502, 503]))
          const other = yield* make({ ...noLimits, faults: { ...faults, seed: 43 } })
          expect(yield* run(other)).not.toEqual(first)
          yield* a.reset
          expect(yield* run(a)).toEqual(first)
          const stats = yield* a.stats
          expect((stats.byFault.Error ?? 0) + (stats.byFault.Status ?? 0)).toBe(first.filter((s) => s !== 200).length)
        }))
    })

    describe("rate limits", () => {
      it.scopedLive("429 with Retry-After after the burst; recovery after the scaled window", () =>
        Effect.gen(function*() {
          // 2 requests a minute, a minute lasting 500 ms: one more request every 250 ms
          const sim = yield* make({ rateLimit: { requestsPerMinute: 2, timeScale: 120 } })
          expect((yield* chat(sim)).status).toBe(200)
          expect((yield* chat(sim)).status).toBe(200)
          const limited = yield* chat(sim)
          expect(limited.status).toBe(429)
          expect(json(limited).error.code).toBe("rate_limit_exceeded")
          expect(limited.headers.get("retry-after")).toBe("1")
          expect(limited.headers.get("retry-after-ms")).toBeNull()
          // another model has its own buckets
          expect((yield* chat(sim, chatBody({ model: "mimo-v2.5-pro" }))).status).toBe(200)
          yield* Effect.sleep("300 millis")
          expect((yield* chat(sim)).status).toBe(200)
          const stats = yield* sim.stats
          expect(stats.rateLimited).toBe(1)
          expect(stats.byStatus).toEqual({ "200": 4, "429": 1 })
        }))

      it.scoped("recovers on the simulator's clock (TestClock), with retry-after-ms in millis mode", () =>
        Effect.gen(function*() {
          const sim = yield* make({ rateLimit: { requestsPerMinute: 60, burst: 1, retryAfter: "millis" } })
          expect((yield* chat(sim)).status).toBe(200)
          const limited = yield* chat(sim)
          expect(limited.status).toBe(429)
          expect(limited.headers.get("retry-after-ms")).toBe("1000")
          expect(limited.headers.get("retry-after")).toBe("1")
          yield* TestClock.adjust("500 millis")
          expect((yield* chat(sim)).status).toBe(429)
          yield* TestClock.adjust("500 millis")
          expect((yield* chat(sim)).status).toBe(200)
        }))

      it.scoped("requests per second with a burst: 50 req/s, burst 50 (on the TestClock)", () =>
        Effect.gen(function*() {
          const sim = yield* make({ rateLimit: { requestsPerSecond: 50, burst: 50 } })
          const burst = (n: number) =>
            Effect.forEach(Array.from({ length: n }), () => Effect.map(chat(sim), (r) => r.status), { concurrency: 20 })
          const first = yield* burst(60)
          expect(first.filter((s) => s === 200)).toHaveLength(50)
          expect(first.filter((s) => s === 429)).toHaveLength(10)
          yield* TestClock.adjust("100 millis") // 5 more
          const second = yield* burst(8)
          expect(second.filter((s) => s === 200)).toHaveLength(5)
          yield* TestClock.adjust("10 seconds") // full again, never more than the burst
          const third = yield* burst(60)
          expect(third.filter((s) => s === 200)).toHaveLength(50)
        }))

      it.scopedLive("tokens per minute: a request larger than what is left is limited", () =>
        Effect.gen(function*() {
          const sim = yield* make({ rateLimit: { tokensPerMinute: 100, retryAfter: "none" } })
          const long = chatBody({ messages: [{ role: "user", content: "x".repeat(300) }] })
          expect((yield* chat(sim, long)).status).toBe(200)
          const limited = yield* chat(sim, long)
          expect(limited.status).toBe(429)
          expect(limited.headers.get("retry-after")).toBeNull()
          expect(json(limited).error.message).toContain("tokens per minute")
        }))
    })

    describe("audio", () => {
      const tts = (format: string | undefined, text = "Hello! Welcome to MiMo.", stream = false) =>
        chatBody({
          model: "mimo-v2.5-tts",
          messages: [{ role: "user", content: "Warm, slightly slow." }, { role: "assistant", content: text }],
          ...(format === undefined ? {} : { audio: { format, voice: "Mia" } }),
          ...(stream ? { stream: true } : {})
        })

      const audioOf = (reply: { text: string }) => {
        const body = JSON.parse(reply.text)
        expect(body.choices[0].message.audio.expires_at).toBeNull()
        return Buffer.from(body.choices[0].message.audio.data, "base64")
      }

      it.scopedLive("WAV: a RIFF/WAVE PCM16 mono 24 kHz file whose length follows the text", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const wav = audioOf(yield* chat(sim, tts(undefined)))
          expect(wav.toString("ascii", 0, 4)).toBe("RIFF")
          expect(wav.readUInt32LE(4)).toBe(wav.length - 8)
          expect(wav.toString("ascii", 8, 12)).toBe("WAVE")
          expect(wav.toString("ascii", 12, 16)).toBe("fmt ")
          expect(wav.readUInt32LE(16)).toBe(16)
          expect(wav.readUInt16LE(20)).toBe(1) // PCM
          expect(wav.readUInt16LE(22)).toBe(1) // mono
          expect(wav.readUInt32LE(24)).toBe(24_000)
          expect(wav.readUInt32LE(28)).toBe(48_000)
          expect(wav.readUInt16LE(32)).toBe(2)
          expect(wav.readUInt16LE(34)).toBe(16)
          expect(wav.toString("ascii", 36, 40)).toBe("data")
          expect(wav.readUInt32LE(40)).toBe(wav.length - 44)
          // a tone, not silence
          let peak = 0
          for (let i = 44; i < wav.length; i += 2) peak = Math.max(peak, Math.abs(wav.readInt16LE(i)))
          expect(peak).toBeGreaterThan(4000)
          const longer = audioOf(
            yield* chat(sim, tts("wav", "A much longer sentence to speak, so the audio lasts longer."))
          )
          expect(longer.readUInt32LE(40)).toBeGreaterThan(wav.readUInt32LE(40))
          const pcm = audioOf(yield* chat(sim, tts("pcm16")))
          expect(pcm.length).toBe(wav.length - 44)
          expect(pcm.toString("ascii", 0, 4)).not.toBe("RIFF")
        }))

      it.scopedLive("MP3: valid MPEG-1 Layer III frames", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const mp3 = audioOf(yield* chat(sim, tts("mp3")))
          const bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]
          const rates = [44_100, 48_000, 32_000]
          let offset = 0
          let frames = 0
          while (offset < mp3.length) {
            const h = mp3.readUInt32BE(offset)
            expect(h >>> 21).toBe(0x7ff) // frame sync
            expect((h >>> 19) & 0b11).toBe(0b11) // MPEG-1
            expect((h >>> 17) & 0b11).toBe(0b01) // Layer III
            const bitrate = bitrates[(h >>> 12) & 0xf] * 1000
            const rate = rates[(h >>> 10) & 0b11]
            const padding = (h >>> 9) & 1
            expect(bitrate).toBeGreaterThan(0)
            expect(rate).toBeDefined()
            expect((h >>> 6) & 0b11).toBe(0b11) // mono
            const length = Math.floor((144 * bitrate) / rate) + padding
            // side info (17 bytes, mono) is zeroed: main_data_begin 0, no granule data
            expect(mp3.subarray(offset + 4, offset + 21).every((b) => b === 0)).toBe(true)
            offset += length
            frames++
          }
          expect(offset).toBe(mp3.length)
          expect(frames).toBeGreaterThan(10)
        }))

      it.scopedLive("streams PCM16 fragments in delta.audio.data", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const wav = audioOf(yield* chat(sim, tts("wav")))
          const data = sseData((yield* chat(sim, tts(undefined, undefined, true))).text)
          expect(data.at(-1)).toBe("[DONE]")
          const chunks = data.slice(0, -1).map((d) => JSON.parse(d))
          const fragments = chunks.flatMap((c) => c.choices[0]?.delta?.audio?.data ?? [])
          expect(fragments.length).toBeGreaterThan(1)
          const total = fragments.reduce((n: number, f: string) => n + Buffer.from(f, "base64").length, 0)
          expect(total).toBe(wav.length - 44)
          expect(chunks.at(-1).usage.completion_tokens_details.reasoning_tokens).toBe(0)
        }))
    })

    describe("speech recognition", () => {
      it.scopedLive("answers a transcript with the audio length in usage.seconds", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const audio = Buffer.alloc(144_000).toString("base64") // 9 s at 16 kB/s
          const reply = yield* chat(
            sim,
            chatBody({
              model: "mimo-v2.5-asr",
              messages: [{
                role: "user",
                content: [
                  { type: "input_audio", input_audio: { data: `data:audio/wav;base64,${audio}` } },
                  { type: "text", text: "Transcribe this." }
                ]
              }]
            })
          )
          expect(reply.status).toBe(200)
          const body = json(reply)
          expect(body.choices[0].message.content.length).toBeGreaterThan(0)
          expect(body.usage.seconds).toBe(9)
        }))
    })

    describe("control over HTTP", () => {
      it.scopedLive("GET /_sim/stats, POST /_sim/script, POST /_sim/reset", () =>
        Effect.gen(function*() {
          const sim = yield* make(noLimits)
          const queued = yield* request(`${sim.origin}/_sim/script`, {
            method: "POST",
            body: JSON.stringify(["error:internal_error", { _tag: "Ok" }, "status:502;html"])
          })
          expect(queued.status).toBe(200)
          expect(json(queued)).toEqual({ queued: 3, pending: 3 })
          const pending = json(yield* request(`${sim.origin}/_sim/script`))
          expect(pending.pending[0]).toEqual({ _tag: "Error", code: "internal_error" })
          expect((yield* chat(sim)).status).toBe(500)
          expect((yield* chat(sim)).status).toBe(200)
          expect((yield* chat(sim)).status).toBe(502)
          const stats = json(yield* request(`${sim.origin}/_sim/stats`))
          expect(stats.requests).toBe(3)
          expect(stats.byStatus).toEqual({ "200": 1, "500": 1, "502": 1 })
          expect(stats.byFault).toEqual({ Error: 1, Ok: 1, Status: 1 })
          const bad = yield* request(`${sim.origin}/_sim/script`, { method: "POST", body: "[\"nope\"]" })
          expect(bad.status).toBe(400)
          expect((yield* request(`${sim.origin}/_sim/reset`, { method: "POST" })).status).toBe(200)
          const after = json(yield* request(`${sim.origin}/_sim/stats`))
          expect(after.requests).toBe(0)
          expect(after.byStatus).toEqual({})
        }))

      it.scopedLive("CORS: preflight and allow-origin when enabled", () =>
        Effect.gen(function*() {
          const sim = yield* make({ ...noLimits, cors: true })
          const preflight = yield* request(`${sim.url}/chat/completions`, {
            method: "OPTIONS",
            headers: {
              origin: "http://localhost:5173",
              "access-control-request-method": "POST",
              "access-control-request-headers": "authorization, content-type"
            }
          })
          expect(preflight.status).toBe(204)
          expect(preflight.headers.get("access-control-allow-origin")).toBe("*")
          expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization")
          const reply = yield* chat(sim)
          expect(reply.headers.get("access-control-allow-origin")).toBe("*")
          const error = yield* chat(sim, chatBody(), { "x-mimo-sim-fault": "error:429;retry-after=1" })
          expect(error.headers.get("access-control-expose-headers")).toContain("retry-after")
          const plain = yield* make(noLimits)
          expect((yield* chat(plain)).headers.get("access-control-allow-origin")).toBeNull()
        }))
    })

    describe("embedding", () => {
      it.scopedLive("app and router serve inside another HttpServer", () =>
        Effect.gen(function*() {
          const embedded = yield* Simulator.app(noLimits)
          const statuses: Array<number> = []
          for (const served of [embedded.app, embedded.router]) {
            const server = yield* NodeHttpServer.make(() => Http.createServer(), { host: "127.0.0.1", port: 0 })
            yield* HttpServer.serveEffect(served).pipe(Effect.provideService(HttpServer.HttpServer, server))
            const port = server.address._tag === "TcpAddress" ? server.address.port : 0
            const url = `http://127.0.0.1:${port}/v1`
            const reply = yield* chat({ url })
            statuses.push(reply.status)
            expect(json(reply).object).toBe("chat.completion")
            statuses.push((yield* chat({ url }, chatBody(), { "x-mimo-sim-fault": "error:503" })).status)
            statuses.push((yield* request(`${url}/nowhere`)).status)
          }
          expect(statuses).toEqual([200, 503, 404, 200, 503, 404])
          const stats = yield* embedded.stats
          expect(stats.byPath["/v1/chat/completions"]).toBe(4)
          expect(stats.byFault).toEqual({ Error: 2 })
        }))
    })

    describe("layers", () => {
      it.scopedLive("layer provides the service; layerConfig reads MIMO_SIM_*", () =>
        Effect.gen(function*() {
          const fromLayer = yield* Effect.provide(
            Effect.flatMap(Simulator.Simulator, (sim) =>
              Effect.map(chat(sim), (r) => json(r).choices[0].message.content)),
            Simulator.layer({ seed: 5, ...noLimits })
          )
          const provider = ConfigProvider.fromMap(
            new Map([
              ["MIMO_SIM_SEED", "5"],
              ["MIMO_SIM_RATE_LIMIT", "false"],
              ["MIMO_SIM_FAULTS", "error:503@1"],
              ["MIMO_SIM_API_KEY", "sk-env"]
            ])
          )
          const layer = Simulator.layerConfig.pipe(Layer.provide(Layer.setConfigProvider(provider)))
          const statuses = yield* Effect.provide(
            Effect.flatMap(Simulator.Simulator, (sim) =>
              Effect.all([
                Effect.map(chat(sim, chatBody(), { authorization: "Bearer sk-env" }), (r) =>
                  r.status),
                Effect.map(chat(sim, chatBody(), { authorization: "Bearer sk-env", "x-mimo-sim-fault": "ok" }), (r) =>
                  json(r).choices[0].message.content),
                Effect.map(chat(sim, chatBody(), { authorization: "Bearer other", "x-mimo-sim-fault": "ok" }), (r) =>
                  r.status)
              ])),
            layer
          )
          expect(statuses).toEqual([503, fromLayer, 401])
          const options = yield* Effect.withConfigProvider(Simulator.config, ConfigProvider.fromMap(new Map()))
          expect(options.port).toBe(0)
          expect(options.rateLimit?.enabled).toBe(true)
        }))
    })
  })
}
