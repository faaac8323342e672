import { MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Metric, TestClock } from "effect"
import { RateLimit } from "../src/index.js"
import { fakeServer, hello, ok, tooMany, unavailable } from "./limiterSupport.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Runs `n` chats at once through `layer`, advancing the TestClock by `advance`; the exits, in order. */
const load = (
  layer: Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter>,
  n: number,
  advance: Duration.DurationInput = "1 minute",
  call?: MimoClient.CallOptions
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(
      Effect.flatMap(MimoClient.MimoClient, (mimo) =>
        Effect.forEach(range(n), () => Effect.either(mimo.chat(hello, call)), { concurrency: "unbounded" })).pipe(
          Effect.provide(layer)
        )
    )
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

/**
 * One call answered 429 with Retry-After: 1, then the limiter's allowed rate read after each of `steps` (ms of
 * TestClock time, one after the other).
 */
const ratesAfterOne429 = (options: RateLimit.Options, steps: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const server = fakeServer((n) => Effect.succeed(n === 0 ? tooMany(1) : ok()))
    const rates: Array<number> = []
    const fiber = yield* Effect.fork(
      Effect.gen(function*() {
        const limiter = yield* RateLimit.Limiter
        const mimo = yield* MimoClient.MimoClient
        yield* Effect.either(mimo.chat(hello, { retry: RetryPolicy.attempts(1) }))
        for (const step of steps) {
          yield* Effect.sleep(Duration.millis(step))
          const [s] = yield* limiter.snapshot
          rates.push(s!.allowedRate)
        }
      }).pipe(Effect.provide(RateLimit.layer(options).pipe(Layer.provide(server.layer()))))
    )
    yield* TestClock.adjust("10 seconds")
    yield* Fiber.join(fiber)
    return rates
  })

describe("MimoClient.aroundAttempt", () => {
  it.effect("wraps every attempt, the client's hook outside the call's, and sees every failure", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n < 2 ? unavailable : ok()))
      const seen: Array<string> = []
      const hook = (name: string): MimoClient.AroundAttempt => (attempt, info) =>
        Effect.sync(() => seen.push(`${name}:${info.operation}:${info.model}:${info.attempt}`)).pipe(
          Effect.zipRight(attempt),
          Effect.tapError((e) => Effect.sync(() => seen.push(`${name}:failed:${e._tag}`)))
        )
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(hello, { aroundAttempt: hook("call") })).pipe(
          Effect.provide(server.layer({ aroundAttempt: hook("client"), retry: RetryPolicy.make({ jitter: "none" }) }))
        )
      )
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(seen).toEqual([
        "client:chat:mimo-v2-flash:1",
        "call:chat:mimo-v2-flash:1",
        "call:failed:ServiceUnavailable",
        "client:failed:ServiceUnavailable",
        "client:chat:mimo-v2-flash:2",
        "call:chat:mimo-v2-flash:2",
        "call:failed:ServiceUnavailable",
        "client:failed:ServiceUnavailable",
        "client:chat:mimo-v2-flash:3",
        "call:chat:mimo-v2-flash:3"
      ])
      // The waits of the policy are outside the hook: 1 s, then 2 s.
      expect(server.sent.map((s) => s.at)).toEqual([0, 1000, 3000])
    }))

  it.effect("can refuse an attempt without sending it", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(ok()))
      const refuse: MimoClient.AroundAttempt = () =>
        Effect.fail(new MimoError.CircuitOpen({ breaker: "test", message: "no" }))
      const exit = yield* Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(hello)).pipe(
        Effect.provide(server.layer({ aroundAttempt: refuse })),
        Effect.flip
      )
      expect(exit._tag).toBe("CircuitOpen")
      expect(server.sent).toHaveLength(0)
    }))
})

describe("RateLimit", () => {
  it.effect("admits a burst, then paces the queue at the rate", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(ok()))
      const exits = yield* load(
        RateLimit.layer({ requestsPerSecond: 10, burst: 5 }).pipe(Layer.provide(server.layer())),
        12
      )
      expect(exits.every((e) => e._tag === "Right")).toBe(true)
      expect(server.sent.map((s) => s.at)).toEqual([0, 0, 0, 0, 0, 100, 200, 300, 400, 500, 600, 700])
    }))

  it.scoped("a caller interrupted while it waits for its slot does not hold up the ones queued behind it", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(ok()))
      const context = yield* Layer.build(
        RateLimit.layer({ requestsPerSecond: 1, burst: 1 }).pipe(Layer.provide(server.layer()))
      )
      const mimo = Context.get(context, MimoClient.MimoClient)
      yield* mimo.chat(hello) // takes the burst at 0
      // Nobody is queued: b takes its own slot (due at 1 s) and waits for it; c queues behind b.
      const b = yield* Effect.fork(mimo.chat(hello))
      yield* TestClock.adjust("100 millis")
      const c = yield* Effect.fork(mimo.chat(hello))
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(b)
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.join(c)
      expect(exit.object).toBe("chat.completion")
      // c took the slot b had reserved (1 s), as the queue's next in line.
      expect(server.sent.map((s) => s.at)).toEqual([0, 1000])
    }))

  it.effect("bounds the attempts in flight per model", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.as(Effect.sleep("100 millis"), ok()))
      yield* load(
        RateLimit.layer({ requestsPerSecond: 1000, burst: 1000, concurrency: 2 }).pipe(Layer.provide(server.layer())),
        6
      )
      expect(server.maxInFlight).toBe(2)
      expect(server.sent.map((s) => s.at)).toEqual([0, 0, 100, 100, 200, 200])
    }))

  it.effect("one 429 pauses every queued request of the model until its Retry-After", () =>
    Effect.gen(function*() {
      // The second request gets `429, Retry-After: 2` 50 ms after it is sent (at 100 ms): a pause until 2150 ms.
      const server = fakeServer((n) => Effect.as(Effect.sleep("50 millis"), n === 1 ? tooMany(2) : ok()))
      const events: Array<RateLimit.ThrottledEvent> = []
      const exits = yield* load(
        RateLimit.layer({
          requestsPerSecond: 10,
          burst: 1,
          onThrottled: (e) => Effect.sync(() => void events.push(e))
        }).pipe(Layer.provide(server.layer())),
        6
      )
      expect(exits.every((e) => e._tag === "Right")).toBe(true)
      const times = server.sent.map((s) => s.at)
      expect(times.slice(0, 2)).toEqual([0, 100])
      // Without the pause the third would have gone at 200 ms: every later send waits for the pause's end.
      for (const at of times.slice(2)) expect(at).toBeGreaterThanOrEqual(2150)
      // ... and they do not all wake at once: they are paced again.
      const later = times.slice(2).sort((a, b) => a - b)
      for (let i = 1; i < later.length; i++) expect(later[i]! - later[i - 1]!).toBeGreaterThanOrEqual(100)
      expect(events).toHaveLength(1)
      expect(events[0]!.pausedUntil).toBe(2150)
      expect(events[0]!.allowedRate).toBeCloseTo(7, 6)
    }))

  it.effect("after the pause, the burst is what the lowered rate refilled, not a full bucket", () =>
    Effect.gen(function*() {
      // A burst of 10 at 0 ms; the first is refused 50 ms later (Retry-After: 1): pause until 1050 ms, rate 10 -> 7.
      const server = fakeServer((n) => Effect.as(Effect.sleep("50 millis"), n === 0 ? tooMany(1) : ok()))
      yield* load(
        RateLimit.layer({ requestsPerSecond: 10, burst: 10 }).pipe(Layer.provide(server.layer())),
        30
      )
      const times = server.sent.map((s) => s.at)
      expect(times.filter((t) => t === 0)).toHaveLength(10)
      expect(times.filter((t) => t > 0 && t < 1050)).toHaveLength(0)
      // The bucket was emptied at the 429 and refilled at 7/s during the pause (7 tokens), less the slot the
      // dispatcher had reserved before the pause (void): 6 at once, not 10; then one every 1/7 s.
      expect(times.filter((t) => t === 1050)).toHaveLength(6)
      const after = times.filter((t) => t > 1050).sort((a, b) => a - b)
      expect(after[0]).toBeGreaterThanOrEqual(1050 + 142)
    }))

  it.effect("decreases once per round trip, not once per 429", () =>
    Effect.gen(function*() {
      // A burst of 5 all refused (the answers come 50 ms later): one decrease (10 -> 7), not five (10 -> 1.7).
      const server = fakeServer((n) => Effect.as(Effect.sleep("50 millis"), n < 5 ? tooMany(1) : ok()))
      const events: Array<RateLimit.ThrottledEvent> = []
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const limiter = yield* RateLimit.Limiter
          const mimo = yield* MimoClient.MimoClient
          yield* Effect.forEach(range(5), () => mimo.chat(hello), { concurrency: "unbounded", discard: true })
          return limiter
        }).pipe(
          Effect.provide(
            RateLimit.layer({
              requestsPerSecond: 10,
              burst: 5,
              onThrottled: (e) => Effect.sync(() => void events.push(e))
            }).pipe(Layer.provide(server.layer()))
          )
        )
      )
      yield* TestClock.adjust("100 millis")
      expect(server.sent.filter((s) => s.status === 429)).toHaveLength(5)
      expect(events.map((e) => e.allowedRate.toFixed(3))).toEqual(["7.000", "7.000", "7.000", "7.000", "7.000"])
      yield* TestClock.adjust("1 minute")
      const limiter = yield* Fiber.join(fiber)
      const [snapshot] = yield* limiter.snapshot
      expect(snapshot!.throttled).toBe(5)
      expect(snapshot!.admitted).toBe(10)
    }))

  it.effect("CUBIC: after a 429 the rate is 0.7 x until the pause ends, then climbs back to the maximum in K s", () =>
    Effect.gen(function*() {
      // The 429 (Retry-After: 1) pauses until 1000 ms; growth starts there.
      const rates = yield* ratesAfterOne429({ requestsPerSecond: 10 }, [0, 1000, 1000, 957, 1000])
      // K = cbrt(10 * 0.3 / 0.4) = 1.957 s; at 1 s: 0.4 * (1 - 1.957)^3 + 10.
      const k = Math.cbrt(7.5)
      expect(rates[0]).toBeCloseTo(7, 6)
      expect(rates[1]).toBeCloseTo(7, 6)
      expect(rates[2]).toBeCloseTo(0.4 * Math.pow(1 - k, 3) + 10, 6)
      expect(rates[3]).toBeCloseTo(10, 2)
      expect(rates[4]).toBe(10)
    }))

  it.effect("AIMD: after a 429 the rate halves, and grows back linearly once the pause ends", () =>
    Effect.gen(function*() {
      const rates = yield* ratesAfterOne429(
        { requestsPerSecond: 10, adaptive: { algorithm: "aimd" } },
        [0, 1000, 2000, 3000, 1000]
      )
      // +10 % of the maximum (1 req/s) per second from the pause's end at 1000 ms.
      expect(rates).toEqual([5, 5, 7, 10, 10])
    }))

  it.effect("with adaptive off, a 429 still pauses the queue but the rate stays", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n === 0 ? tooMany(3) : ok()))
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const limiter = yield* RateLimit.Limiter
          const mimo = yield* MimoClient.MimoClient
          yield* Effect.either(mimo.chat(hello, { retry: RetryPolicy.attempts(1) }))
          yield* mimo.chat(hello)
          return yield* limiter.snapshot
        }).pipe(
          Effect.provide(
            RateLimit.layer({ requestsPerSecond: 10, adaptive: false }).pipe(Layer.provide(server.layer()))
          )
        )
      )
      yield* TestClock.adjust("10 seconds")
      const [snapshot] = yield* Fiber.join(fiber)
      expect(snapshot!.allowedRate).toBe(10)
      expect(server.sent.map((s) => s.at)).toEqual([0, 3000])
    }))

  it.effect("takes each request's token estimate and reconciles it with usage", () =>
    Effect.gen(function*() {
      // 100 tokens at once, 1 a second; each request is estimated at 50 and uses 10.
      const server = fakeServer(() => Effect.succeed(ok(10)))
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) => Effect.forEach(range(7), () => mimo.chat(hello))).pipe(
          Effect.provide(
            RateLimit.layer({ tokensPerMinute: 60, tokenBurst: 100, estimateTokens: () => 50 }).pipe(
              Layer.provide(server.layer())
            )
          )
        )
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      // Without reconciliation the third would wait; with it the bucket holds 100 - 10 k before call k + 1.
      expect(server.sent.map((s) => s.at)).toEqual([0, 0, 0, 0, 0, 0, 10_000])
    }))

  it.effect("a 429 gives the refused attempt's token estimate back", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n === 0 ? tooMany(1) : ok(50)))
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(hello)).pipe(
          Effect.provide(
            RateLimit.layer({ tokensPerMinute: 60, tokenBurst: 50, estimateTokens: () => 50, adaptive: false }).pipe(
              Layer.provide(server.layer({ retry: RetryPolicy.make({ jitter: "none", retryAfter: false }) }))
            )
          )
        )
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      // The retry (after the 1 s backoff) finds its 50 tokens again, instead of waiting 50 s for them.
      expect(server.sent.map((s) => s.at)).toEqual([0, 1000])
    }))

  it.effect("keeps one queue per model, with per-model limits over the global ones", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(ok()))
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) =>
          Effect.all([
            mimo.chat(hello),
            mimo.chat(hello),
            mimo.chat({ ...hello, model: "mimo-v2.5" }),
            mimo.chat({ ...hello, model: "mimo-v2.5" })
          ], { concurrency: "unbounded" })).pipe(
            Effect.provide(
              RateLimit.layer({
                requestsPerMinute: 60,
                burst: 1,
                perModel: { "mimo-v2.5": { requestsPerSecond: 2 } }
              }).pipe(Layer.provide(server.layer()))
            )
          )
      )
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      // mimo-v2-flash: 1 per second; mimo-v2.5: 2 per second (its burst defaults to 2, the global burst is 1).
      expect(server.sent.map((s) => s.at).sort((a, b) => a - b)).toEqual([0, 0, 500, 1000])
    }))

  it.effect("reports its state as Effect metrics, tagged by model", () =>
    Effect.gen(function*() {
      const model = "mimo-v2-pro"
      const server = fakeServer((n) => Effect.succeed(n === 0 ? tooMany(1) : ok()))
      const throttled = RateLimit.metrics.throttled.pipe(Metric.tagged("model", model))
      const admitted = RateLimit.metrics.admitted.pipe(Metric.tagged("model", model))
      const before = (yield* Metric.value(throttled)).count
      const admittedBefore = (yield* Metric.value(admitted)).count
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) =>
          Effect.forEach(range(4), () => mimo.chat({ ...hello, model }), { concurrency: "unbounded" })).pipe(
            Effect.provide(RateLimit.layer({ requestsPerSecond: 10, burst: 2 }).pipe(Layer.provide(server.layer())))
          )
      )
      yield* TestClock.adjust("1 millis")
      const queued = yield* Metric.value(RateLimit.metrics.queueLength.pipe(Metric.tagged("model", model)))
      expect(queued.value).toBeGreaterThan(0)
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect((yield* Metric.value(throttled)).count - before).toBe(1)
      expect((yield* Metric.value(admitted)).count - admittedBefore).toBe(5)
      expect((yield* Metric.value(RateLimit.metrics.queueLength.pipe(Metric.tagged("model", model)))).value).toBe(0)
      expect((yield* Metric.value(RateLimit.metrics.inFlight.pipe(Metric.tagged("model", model)))).value).toBe(0)
      const waits = yield* Metric.value(RateLimit.metrics.waitMillis.pipe(Metric.tagged("model", model)))
      expect(waits.count).toBe(5)
      expect(waits.max).toBeGreaterThan(0)
    }))

  it("estimates a request's tokens from its text and max_completion_tokens", () => {
    expect(
      RateLimit.estimateTokens({
        model: "m",
        messages: [{ role: "user", content: "Hello there" }],
        max_completion_tokens: 100
      })
    ).toBe(3 + 4 + 100)
    expect(RateLimit.estimateTokens({ model: "m", messages: [{ role: "user", content: "x".repeat(400) }] })).toBe(
      100 + 4 + 1024
    )
  })
})
