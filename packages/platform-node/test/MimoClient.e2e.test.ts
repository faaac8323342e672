/**
 * End to end: MimoClient over @effect-mimo/platform-node (undici) ↔ the
 * simulator on a random loopback port, over real sockets. Backoff waits run on
 * the TestClock (`runTimeline` jumps to each wake-up), so no test sleeps
 * through a real backoff.
 */
import { ChatCompletion, ErrorCode, MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Ref,
  Stream,
  TestClock
} from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import {
  apiKey,
  captureLogs,
  captureSpans,
  clientLayer,
  runTimeline,
  setup as setupOver,
  type Wire,
  wires
} from "./support.js"

const hello: ChatCompletion.Request = {
  model: "mimo-v2-flash",
  messages: [{ role: "user", content: "Say hello" }]
}

const withFault = (fault: string) => ({ headers: { [Simulator.faultHeader]: fault } })

/** A chat call on the timeline (see `runTimeline`), with the retry events it reported. */
const chatRecordingRetries = (mimo: MimoClient.Service, idle: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    const events: Array<MimoClient.RetryEvent> = []
    const { exit, wakeups } = yield* runTimeline(
      mimo.chat(hello, { onRetry: (e) => Effect.sync(() => void events.push(e)) }),
      { idle }
    )
    return { events, exit, wakeups }
  })

const failureOf = <A>(exit: Exit.Exit<A, MimoError.MimoError>): MimoError.MimoError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${exit.cause._tag}`)
  return failure
}

const setupWithKey = (
  wire: Wire,
  baseUrl: string,
  key: string,
  authHeader: "authorization" | "api-key" = "authorization"
) =>
  Effect.map(
    Layer.build(clientLayer(wire, { apiKey: Redacted.make(key), baseUrl, authHeader })),
    (ctx) => Context.get(ctx, MimoClient.MimoClient)
  )

// Every test runs over both ways of sending a buffered call: NodeMimoClient.layer's
// NodeMimoTransport (straight over undici), and MimoClient's default over the HttpClient.
for (const wire of wires) {
  describe(`MimoClient end to end (${wire} ↔ simulator)`, () => {
    const setup = (simOptions: Simulator.Options = {}, clientOptions: Partial<MimoClient.Options> = {}) =>
      setupOver(wire, simOptions, clientOptions)

    it.scoped("answers a chat completion", () =>
      Effect.gen(function*() {
        const { mimo, sim } = yield* setup()
        const response = yield* mimo.chat(hello)
        expect(response.object).toBe("chat.completion")
        expect(ChatCompletion.text(response).length).toBeGreaterThan(0)
        expect(response.usage?.total_tokens).toBeGreaterThan(0)
        const stats = yield* sim.stats
        expect(stats.requests).toBe(1)
        expect(stats.byStatus["200"]).toBe(1)
      }))

    it.scoped("lists models", () =>
      Effect.gen(function*() {
        const { mimo } = yield* setup()
        const models = yield* mimo.models()
        expect(models.data.map((m) => m.id)).toContain("mimo-v2-flash")
      }))

    describe("each code of the seed table", () => {
      for (const row of ErrorCode.rows) {
        const attempts = row.retryable ? 5 : 1
        it.scoped(`${row.status} ${row.code} → ${row.tag} after ${attempts} attempt(s)`, () =>
          Effect.gen(function*() {
            const { idle, mimo, sim } = yield* setup()
            const { exit, wakeups } = yield* runTimeline(mimo.chat(hello, withFault(`error:${row.code}`)), { idle })
            const error = failureOf(exit)
            expect(error._tag).toBe(row.tag)
            expect(MimoError.statusOf(error)).toBe(row.status)
            expect(MimoError.codeOf(error)).toBe(row.code)
            const stats = yield* sim.stats
            expect(stats.requests).toBe(attempts)
            expect(wakeups.length).toBe(attempts - 1)
          }))
      }
    })

    it.scoped("decodes Xiaomi-shaped bodies (code as the status string, detail in param)", () =>
      Effect.gen(function*() {
        const { mimo } = yield* setup({ errorShape: "xiaomi" })
        const exit = yield* Effect.exit(mimo.chat(hello, withFault("error:invalid_request")))
        const error = failureOf(exit)
        expect(error._tag).toBe("InvalidRequest")
        expect(MimoError.codeOf(error)).toBe("invalid_request")
      }))

    it.scoped("HTML 502, empty 503 and truncated JSON 500 are typed and retried", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        yield* sim.script([
          Fault.status(502, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", {
            contentType: "text/html"
          }),
          Fault.status(503, ""),
          Fault.status(500, "{\"error\":{\"code\":\"500\",\"message\":\"boo"),
          Fault.ok
        ])
        const { events, exit } = yield* chatRecordingRetries(mimo, idle)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(events.map((e) => e.error._tag)).toEqual(["UnknownApiError", "ServiceUnavailable", "InternalError"])
        const first = events[0].error
        expect(first._tag === "UnknownApiError" && first.status).toBe(502)
        expect(first.message).toBe("502 Bad Gateway")
        expect((yield* sim.stats).requests).toBe(4)
      }))

    it.scoped("a reset connection is a retryable TransportError; the retry succeeds", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        yield* sim.script([Fault.reset, Fault.ok])
        const { events, exit, wakeups } = yield* chatRecordingRetries(mimo, idle)
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(events[0].error._tag).toBe("TransportError")
        expect(events[0].error._tag === "TransportError" && events[0].error.reason).toBe("ConnectionReset")
        expect(wakeups.length).toBe(1)
        expect(wakeups[0]).toBeGreaterThanOrEqual(1000)
        expect(wakeups[0]).toBeLessThan(2000)
        expect((yield* sim.stats).requests).toBe(2)
      }))

    it.scoped("hang → per-attempt timeout → retry → success", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup({}, { timeout: "5 seconds" })
        yield* sim.script([Fault.hang, Fault.ok])
        const { events, exit, wakeups } = yield* chatRecordingRetries(mimo, idle)
        expect(Exit.isSuccess(exit)).toBe(true)
        const error = events[0].error
        expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
        // The timeout fired at exactly 5 s, then the backoff wait for retry 0 (1–2 s).
        expect(wakeups[0]).toBe(5000)
        expect(wakeups[1] - 5000).toBeGreaterThanOrEqual(1000)
        expect(wakeups[1] - 5000).toBeLessThan(2000)
        // The hung request was aborted by the client.
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
        expect((yield* sim.stats).clientClosed).toBeGreaterThanOrEqual(1)
      }))

    it.scoped("429 with Retry-After: 3 is honoured (waits ≥ 3 s, plus a small jitter)", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        yield* sim.script([Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 3 } }), Fault.ok])
        const { events, exit, wakeups } = yield* chatRecordingRetries(mimo, idle)
        expect(Exit.isSuccess(exit)).toBe(true)
        const error = events[0].error
        expect(error._tag).toBe("RateLimitExceeded")
        expect(error._tag === "RateLimitExceeded" && Duration.toMillis(error.retryAfter!)).toBe(3000)
        expect(wakeups).toHaveLength(1)
        expect(wakeups[0]).toBeGreaterThanOrEqual(3000)
        expect(wakeups[0]).toBeLessThan(3250)
        expect(Duration.toMillis(events[0].delay)).toBe(wakeups[0])
      }))

    it.scoped("429 with an HTTP-date Retry-After is honoured", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        // The simulator writes the date from its own (real) clock; align the TestClock with it.
        yield* TestClock.setTime(Date.now())
        yield* sim.script([Fault.error("rate_limit_exceeded", { retryAfter: { httpDate: 10 } }), Fault.ok])
        const { exit, wakeups } = yield* runTimeline(mimo.chat(hello), { idle })
        expect(Exit.isSuccess(exit)).toBe(true)
        // An HTTP-date has whole seconds: between 9 and 10 s (plus < 250 ms jitter) after "now".
        expect(wakeups[0]).toBeGreaterThanOrEqual(8000)
        expect(wakeups[0]).toBeLessThan(10_250)
      }))

    it.scoped("a Retry-After beyond the 60 s cap fails at once with RateLimitExceeded carrying it", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        const { exit, wakeups } = yield* runTimeline(
          mimo.chat(hello, withFault("error:rate_limit_exceeded;retry-after=120")),
          { idle }
        )
        const error = failureOf(exit)
        expect(error._tag).toBe("RateLimitExceeded")
        expect(error._tag === "RateLimitExceeded" && Duration.toSeconds(error.retryAfter!)).toBe(120)
        expect(wakeups).toEqual([])
        expect((yield* sim.stats).requests).toBe(1)
      }))

    describe("streams", () => {
      it.scoped("streams chunks with usage, ending at [DONE]", () =>
        Effect.gen(function*() {
          const { mimo, sim } = yield* setup()
          const chunks = Chunk.toReadonlyArray(yield* Stream.runCollect(mimo.stream(hello)))
          expect(chunks.length).toBeGreaterThan(2)
          const response = ChatCompletion.accumulate(chunks)
          expect(response.usage?.total_tokens).toBeGreaterThan(0)
          expect(chunks[chunks.length - 1].choices).toEqual([])
          // The streamed answer is the non-streamed one (the simulator is deterministic).
          const whole = yield* mimo.chat(hello)
          expect(ChatCompletion.text(response)).toBe(ChatCompletion.text(whole))
          const stats = yield* sim.stats
          expect(stats.streams.opened).toBe(1)
          expect(stats.streams.closed).toBe(1)
        }))

      it.scoped("a stream cut after 3 chunks delivers 3 chunks, then fails with a typed error (no retry)", () =>
        Effect.gen(function*() {
          const { mimo, sim } = yield* setup()
          const seen = yield* Ref.make(0)
          const exit = yield* mimo.stream(hello, withFault("cut:3")).pipe(
            Stream.runForEach(() => Ref.update(seen, (n) => n + 1)),
            Effect.exit
          )
          const error = failureOf(exit)
          expect(error._tag).toBe("TransportError")
          expect(error._tag === "TransportError" && error.reason).toBe("StreamCut")
          expect(yield* Ref.get(seen)).toBe(3)
          expect((yield* sim.stats).requests).toBe(1)
        }))

      it.scoped("a stream cut before its first chunk is retried", () =>
        Effect.gen(function*() {
          const { idle, mimo, sim } = yield* setup()
          yield* sim.script([Fault.streamCut(0), Fault.ok])
          const { exit } = yield* runTimeline(Stream.runCollect(mimo.stream(hello)), { idle })
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* sim.stats).requests).toBe(2)
        }))

      it.scoped("an error event mid-stream ends the stream with that error, after the chunks before it", () =>
        Effect.gen(function*() {
          const { mimo } = yield* setup()
          const seen = yield* Ref.make(0)
          const exit = yield* mimo.stream(hello, withFault("stream-error:2:internal_error")).pipe(
            Stream.runForEach(() => Ref.update(seen, (n) => n + 1)),
            Effect.exit
          )
          expect(failureOf(exit)._tag).toBe("InternalError")
          expect(yield* Ref.get(seen)).toBe(2)
        }))

      it.scoped("a failing stream is retried before its first chunk (503, then success)", () =>
        Effect.gen(function*() {
          const { idle, mimo, sim } = yield* setup()
          yield* sim.script([Fault.error("service_unavailable"), Fault.ok])
          const { exit } = yield* runTimeline(Stream.runCollect(mimo.stream(hello)), { idle })
          expect(Exit.isSuccess(exit)).toBe(true)
          expect((yield* sim.stats).requests).toBe(2)
        }))
    })

    describe("validation happens before anything is sent", () => {
      const cases: ReadonlyArray<[string, ChatCompletion.Request, string]> = [
        ["temperature out of range", { ...hello, temperature: 5 }, "temperature"],
        ["unknown model", { ...hello, model: "gpt-4o" }, "model"],
        ["no messages", { ...hello, messages: [] }, "messages"],
        ["top_p out of range", { ...hello, top_p: 0 }, "top_p"]
      ]
      for (const [name, request, field] of cases) {
        it.scoped(name, () =>
          Effect.gen(function*() {
            const { mimo, sim } = yield* setup()
            const error = failureOf(yield* Effect.exit(mimo.chat(request)))
            expect(error._tag).toBe("ValidationError")
            expect(error._tag === "ValidationError" && error.field).toBe(field)
            expect((yield* sim.stats).requests).toBe(0)
            const streamed = failureOf(yield* Effect.exit(Stream.runCollect(mimo.stream(request))))
            expect(streamed._tag).toBe("ValidationError")
            expect((yield* sim.stats).requests).toBe(0)
          }))
      }

      it.scoped("an empty or blank key", () =>
        Effect.gen(function*() {
          const { sim } = yield* setup()
          for (const key of ["", "   "]) {
            const mimo = yield* setupWithKey(wire, sim.url, key)
            const error = failureOf(yield* Effect.exit(mimo.chat(hello)))
            expect(error._tag).toBe("ValidationError")
            expect(error._tag === "ValidationError" && error.field).toBe("apiKey")
          }
          expect((yield* sim.stats).requests).toBe(0)
        }))
    })

    it.scoped("text-to-speech returns WAV bytes that parse", () =>
      Effect.gen(function*() {
        const { mimo } = yield* setup()
        const speech = yield* mimo.speech({ text: "Hello! Welcome to MiMo.", voice: "Mia", format: "wav" })
        const audio = speech.audio
        const ascii = (from: number, to: number) => String.fromCharCode(...audio.slice(from, to))
        const view = new DataView(audio.buffer, audio.byteOffset, audio.byteLength)
        expect(ascii(0, 4)).toBe("RIFF")
        expect(view.getUint32(4, true)).toBe(audio.byteLength - 8)
        expect(ascii(8, 12)).toBe("WAVE")
        expect(ascii(12, 16)).toBe("fmt ")
        expect(view.getUint16(20, true)).toBe(1) // PCM
        const channels = view.getUint16(22, true)
        const rate = view.getUint32(24, true)
        const bits = view.getUint16(34, true)
        expect(view.getUint32(28, true)).toBe(rate * channels * bits / 8)
        expect(ascii(36, 40)).toBe("data")
        expect(view.getUint32(40, true)).toBe(audio.byteLength - 44)
        expect(speech.format).toBe("wav")
      }))

    it.scoped("interruption during a backoff wait: no further request reaches the server", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        const fiber = yield* Effect.fork(mimo.chat(hello, withFault("error:service_unavailable")))
        // Wait (really) until the first attempt has failed and only the backoff sleep is pending.
        for (let i = 0; i < 1000; i++) {
          const sleeps = yield* TestClock.sleeps()
          const stats = yield* sim.stats
          if (Chunk.size(sleeps) === 1 && stats.requests === 1 && (yield* idle)) break
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 2)))
        }
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 30)))
        expect((yield* sim.stats).requests).toBe(1)
        yield* TestClock.adjust("500 millis")
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        yield* TestClock.adjust("10 minutes")
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
        expect((yield* sim.stats).requests).toBe(1)
      }))

    it.scoped("interrupting an in-flight stream closes the connection (the server sees it)", () =>
      Effect.gen(function*() {
        const { mimo, sim } = yield* setup({ chunkDelay: "20 millis" })
        const first = yield* mimo.stream({ ...hello, max_completion_tokens: 2000 }).pipe(
          Stream.take(2),
          Stream.runCollect
        )
        expect(Chunk.size(first)).toBe(2)
        for (let i = 0; i < 100; i++) {
          const stats = yield* sim.stats
          if (stats.streams.aborted + stats.clientClosed > 0) break
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
        }
        const stats = yield* sim.stats
        expect(stats.streams.aborted + stats.clientClosed).toBeGreaterThanOrEqual(1)
      }))

    describe("observability", () => {
      it.scoped("spans: none under Effect's own tracer (nothing records them), call and attempt spans under another", () =>
        Effect.gen(function*() {
          const { mimo } = yield* setup()
          const seen: Array<string> = []
          const call = mimo.chat(hello, {
            aroundAttempt: (attempt) =>
              Effect.zipRight(
                Effect.map(Effect.option(Effect.currentSpan), (span) =>
                  seen.push(Option.getOrElse(Option.map(span, (s) => s.name), () => "none"))),
                attempt
              )
          }).pipe(Effect.withSpan("caller"))
          yield* call
          const { spans, tracer } = captureSpans()
          yield* Effect.withTracer(call, tracer)
          expect(seen).toEqual(["caller", "MimoClient.attempt"])
          expect(spans.map((s) => s.name)).toEqual(["caller", "MimoClient.chat", "MimoClient.attempt"])
          yield* Effect.withTracer(Stream.runDrain(mimo.stream(hello)), tracer)
          expect(spans.map((s) => s.name).slice(3)).toEqual(["MimoClient.stream", "MimoClient.attempt"])
        }))

      it.scoped("by default a handled failure prints nothing (its lines are at Debug)", () =>
        Effect.gen(function*() {
          const { layer, lines } = yield* captureLogs
          const { idle, mimo } = yield* setup()
          const { exit } = yield* runTimeline(
            mimo.chat(hello, withFault("error:rate_limit_exceeded")).pipe(
              Effect.catchTag("RateLimitExceeded", () => Effect.succeed("handled")),
              Effect.provide(layer)
            ),
            { idle }
          )
          expect(exit).toStrictEqual(Exit.succeed("handled"))
          expect(yield* Ref.get(lines)).toEqual([])
          // The same lines are there at Debug for whoever asks.
          const debug = yield* runTimeline(
            mimo.chat(hello, withFault("error:rate_limit_exceeded")).pipe(
              Effect.provide(layer),
              Effect.provide(Logger.minimumLogLevel(LogLevel.Debug))
            ),
            { idle }
          )
          expect(Exit.isFailure(debug.exit)).toBe(true)
          const logged = yield* Ref.get(lines)
          expect(logged.map((l) => l.level)).toEqual(["DEBUG", "DEBUG", "DEBUG", "DEBUG", "DEBUG"])
          expect(logged[4].annotations["mimo.attempt"]).toBe(5)
        }))

      it.scoped("logs each failed attempt once, the final failure once, at the chosen level, with spans; never the key", () =>
        Effect.gen(function*() {
          const { layer, lines } = yield* captureLogs
          const { spans, tracer } = captureSpans()
          for (const authHeader of ["authorization", "api-key"] as const) {
            const { idle, mimo } = yield* setup({ apiKey: undefined }, { authHeader, logLevel: LogLevel.Warning })
            const { exit } = yield* runTimeline(
              mimo.chat(hello, withFault("error:service_unavailable")).pipe(
                Effect.provide(layer),
                Effect.withTracer(tracer)
              ),
              { idle }
            )
            const error = failureOf(exit)
            expect(String(error)).not.toContain(apiKey)
            expect(JSON.stringify(error)).not.toContain(apiKey)
            const auth = failureOf(
              yield* Effect.exit(
                mimo.chat(hello, withFault("error:authentication_failed")).pipe(
                  Effect.provide(layer),
                  Effect.withTracer(tracer)
                )
              )
            )
            expect(auth._tag).toBe("AuthenticationFailed")
          }
          const all = yield* Ref.get(lines)
          const warnings = all.filter((l) =>
            l.level === "WARN" && String(l.message) === "MiMo attempt failed; retrying"
          )
          const finals = all.filter((l) => l.level === "WARN" && String(l.message) === "MiMo call failed")
          expect(all).toHaveLength(12)
          expect(warnings).toHaveLength(8) // 4 retries × 2 clients
          expect(finals).toHaveLength(4) // one final failure per call
          const w = warnings[0].annotations
          expect(w["mimo.error.code"]).toBe("service_unavailable")
          expect(w["mimo.error.status"]).toBe(503)
          expect(w["mimo.attempt"]).toBe(1)
          expect(typeof w["mimo.retry.delay_ms"]).toBe("number")
          expect(typeof w["mimo.timestamp"]).toBe("string")
          expect(w["mimo.error.message"]).toBeTypeOf("string")
          const attempts = spans.filter((s) => s.name === "MimoClient.attempt")
          expect(attempts).toHaveLength(12) // (5 + 1) × 2
          expect(spans.filter((s) => s.name === "MimoClient.chat")).toHaveLength(4)
          const serialized = JSON.stringify([
            all.map((l) => ({ ...l, message: String(l.message) })),
            spans.map((s) => ({ name: s.name, attributes: [...s.attributes], events: s.events, exit: String(s.exit) }))
          ])
          expect(serialized).toContain("service_unavailable")
          expect(serialized).not.toContain(apiKey)
          expect(serialized).not.toContain(apiKey.slice(3, 20))
        }))

      it.scoped("sends a retry-count header on retries, and the key only in the chosen auth header", () =>
        Effect.gen(function*() {
          const seen: Array<Http.IncomingHttpHeaders> = []
          const server = Http.createServer((req, res) => {
            seen.push(req.headers)
            req.resume()
            if (seen.length < 3) {
              res.writeHead(503, { "content-type": "application/json" })
              res.end("{\"error\":{\"code\":\"service_unavailable\",\"message\":\"busy\",\"type\":\"error\"}}")
            } else {
              res.writeHead(200, { "content-type": "application/json" })
              res.end(
                JSON.stringify({
                  id: "abc",
                  object: "chat.completion",
                  created: 1,
                  model: "mimo-v2-flash",
                  choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }]
                })
              )
            }
          })
          yield* Effect.acquireRelease(
            Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
            () => Effect.sync(() => server.close())
          )
          const port = (server.address() as AddressInfo).port
          const mimo = yield* setupWithKey(wire, `http://127.0.0.1:${port}/v1`, apiKey, "api-key")
          const { exit } = yield* runTimeline(mimo.chat(hello))
          expect(Exit.isSuccess(exit)).toBe(true)
          expect(seen.map((h) => h[MimoClient.retryCountHeader])).toEqual([undefined, "1", "2"])
          expect(seen.every((h) => h["api-key"] === apiKey && h.authorization === undefined)).toBe(true)
          expect(seen[0]["content-type"]).toBe("application/json")
        }))
    })

    it.scoped("a custom Schedule per call replaces the default", () =>
      Effect.gen(function*() {
        const { idle, mimo, sim } = yield* setup()
        const { exit, wakeups } = yield* runTimeline(
          mimo.chat(hello, {
            ...withFault("error:internal_error"),
            retry: RetryPolicy.make({ maxAttempts: 3, base: "100 millis", jitter: "none" })
          }),
          { idle }
        )
        expect(failureOf(exit)._tag).toBe("InternalError")
        expect(wakeups).toEqual([100, 300])
        expect((yield* sim.stats).requests).toBe(3)
      }))

    it.scoped("Option-free sanity: the request id of a success is the body id", () =>
      Effect.gen(function*() {
        const { mimo } = yield* setup()
        const response = yield* mimo.chat(hello)
        expect(Option.fromNullable(response.id).pipe(Option.isSome)).toBe(true)
      }))
  })
}
