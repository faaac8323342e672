import { MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Metric, Schedule, TestClock } from "effect"
import { RateLimit } from "../src/index.js"
import { bucketServer, fakeServer, hello, ok, tooMany, unavailable } from "./limiterSupport.js"

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

  it.effect("a stray 429 holds only the request that got it, until its Retry-After; the queue goes on", () =>
    Effect.gen(function*() {
      // The second request gets `429, Retry-After: 2` 50 ms after it is sent (at 100 ms).
      const server = fakeServer((n) => Effect.as(Effect.sleep("50 millis"), n === 1 ? tooMany(2) : ok()))
      const events: Array<RateLimit.ThrottledEvent> = []
      const exits = yield* load(
        RateLimit.layer({
          requestsPerSecond: 10,
          burst: 1,
          onThrottled: (e) => Effect.sync(() => void events.push(e))
        }).pipe(Layer.provide(server.layer())),
        6,
        "1 minute",
        // Retry at once: the limiter, not the policy, holds the retry until the Retry-After.
        { retry: Schedule.recurs(1) }
      )
      expect(exits.every((e) => e._tag === "Right")).toBe(true)
      // The others keep their pace (one every 100 ms); the refused one goes again at 150 + 2000 ms.
      expect(server.sent.map((s) => [s.at, s.status])).toEqual([
        [0, 200],
        [100, 429],
        [200, 200],
        [300, 200],
        [400, 200],
        [500, 200],
        [2150, 200]
      ])
      expect(events).toHaveLength(1)
      expect(events[0]!.pausedAll).toBe(false)
      expect(events[0]!.allowedRate).toBe(10)
      expect(Duration.toMillis(events[0]!.retryAfter)).toBe(2000)
    }))

  it.effect("dense 429s pause the whole queue until the Retry-After, cut the rate once, and shrink the burst", () =>
    Effect.gen(function*() {
      // A burst of 10 at 0 ms, answered 50 ms later: 5 OK, then 5 × `429, Retry-After: 1`.
      let arrived = 0
      const server = fakeServer(() => {
        const n = arrived++
        return Effect.as(Effect.sleep("50 millis"), n >= 5 && n < 10 ? tooMany(1) : ok())
      })
      const events: Array<RateLimit.ThrottledEvent> = []
      yield* load(
        RateLimit.layer({
          requestsPerSecond: 10,
          burst: 10,
          adaptive: { minSamples: 4, minThrottled: 4 },
          onThrottled: (e) => Effect.sync(() => void events.push(e))
        }).pipe(Layer.provide(server.layer())),
        30
      )
      // The 429s come back first. Below the minimum of 4 answers they are stray; the fourth makes the window dense
      // (4 of 4): a pause until 1050 ms and one cut. Nothing was accepted yet, so the cut goes to a quarter of the
      // rate measured sending (10/s), times beta 0.9; the fifth 429 of the window does not cut again.
      expect(events.map((e) => e.pausedAll)).toEqual([false, false, false, true, true])
      expect(events.map((e) => e.allowedRate.toFixed(2))).toEqual(["10.00", "10.00", "10.00", "2.25", "2.25"])
      expect(events[3]!.pausedUntil).toBe(1050)
      const times = server.sent.map((s) => s.at)
      expect(times.filter((t) => t === 0)).toHaveLength(10)
      expect(times.filter((t) => t > 0 && t < 1050)).toHaveLength(0)
      // The bucket was emptied at the cut and refilled at the lowered rate during the pause: a small burst.
      const atEnd = times.filter((t) => t === 1050).length
      expect(atEnd).toBeGreaterThan(0)
      expect(atEnd).toBeLessThanOrEqual(2)
      const after = times.filter((t) => t > 1050).sort((a, b) => a - b)
      expect(after[0]! - 1050).toBeGreaterThanOrEqual(400)
    }))

  it.effect("a Retry-After of pauseAllFrom or more pauses the whole queue (the server's budget is spent)", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n === 0 ? tooMany(3) : ok()))
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const limiter = yield* RateLimit.Limiter
          const mimo = yield* MimoClient.MimoClient
          // One attempt only: the 429 is requeued by the limiter all the same (it spends no attempt).
          const first = yield* Effect.either(mimo.chat(hello, { retry: RetryPolicy.attempts(1) }))
          yield* mimo.chat(hello)
          return [yield* limiter.snapshot, first] as const
        }).pipe(
          Effect.provide(
            RateLimit.layer({ requestsPerSecond: 10, adaptive: false, pauseAllFrom: "2 seconds" }).pipe(
              Layer.provide(server.layer())
            )
          )
        )
      )
      yield* TestClock.adjust("10 seconds")
      const [[snapshot], first] = yield* Fiber.join(fiber)
      // Adaptive off: the pause holds, the rate stays.
      expect(snapshot!.allowedRate).toBe(10)
      expect(snapshot!.pausedUntil).toBe(3000)
      expect(first._tag).toBe("Right")
      expect(server.sent.map((s) => s.at)).toEqual([0, 3000, 3000])
    }))

  it.effect("5 % stray 429s at the configured rate: never a pause, never a cut, the limit's own pace", () =>
    Effect.gen(function*() {
      // Every 20th attempt is refused with Retry-After: 1; 200 calls at 20 req/s, burst 20.
      let arrived = 0
      const server = fakeServer(() => Effect.as(Effect.sleep("20 millis"), arrived++ % 20 === 7 ? tooMany(1) : ok()))
      const events: Array<RateLimit.ThrottledEvent> = []
      const exits = yield* load(
        RateLimit.layer({
          requestsPerSecond: 20,
          burst: 20,
          onThrottled: (e) => Effect.sync(() => void events.push(e))
        }).pipe(Layer.provide(server.layer())),
        200,
        "1 minute",
        { retry: RetryPolicy.make({ jitter: "none" }) }
      )
      expect(exits.every((e) => e._tag === "Right")).toBe(true)
      expect(events.length).toBeGreaterThan(5)
      expect(events.every((e) => !e.pausedAll && e.allowedRate === 20)).toBe(true)
      // 200 calls + their retries at 20/s after a burst of 20: the bucket is the only bound, plus the last
      // refused calls' own Retry-After (1 s, then the policy's next slot).
      const last = Math.max(...server.sent.map((s) => s.at))
      const attempts = server.sent.length
      expect(attempts).toBe(211)
      expect(last).toBeLessThanOrEqual(((attempts - 20) / 20) * 1000 + 2000)
    }))

  it.effect("told 4 × a real limit: slow start, one dense cut, then soft cuts hold the rate; 0 calls lost of 600", () =>
    Effect.gen(function*() {
      // The server: 50 req/s, burst 50, 10 ms per answer. The limiter: told 200/s, burst 200, 100 at once.
      const server = bucketServer(50, 50, "10 millis")
      const events: Array<RateLimit.ThrottledEvent & { readonly at: number }> = []
      const exits = yield* load(
        RateLimit.layer({
          requestsPerSecond: 200,
          burst: 200,
          concurrency: 100,
          onThrottled: (e) =>
            Effect.map(Effect.clockWith((c) => c.currentTimeMillis), (at) => void events.push({ ...e, at }))
        }).pipe(Layer.provide(server.layer({ retry: RetryPolicy.make({ jitter: "none" }) }))),
        600,
        "2 minutes"
      )
      // No call is lost: a 429 under the limiter is requeued, it does not spend one of the call's 5 attempts (before
      // the requeue, 12 of these 600 calls ran out of them, refused each time their Retry-After ended).
      expect(exits.filter((e) => e._tag === "Left")).toHaveLength(0)
      // Slow start: rounds of 10, 20 and 40, each opened when the one before was answered. The server's burst of 50
      // is spent in the third (21 taken, 19 refused) — not 100 sent at once, then 50 more on the first 200s.
      const wave = new Map<number, Record<number, number>>()
      for (const x of server.sent.filter((x) => x.at < 1000)) {
        const r = wave.get(x.at) ?? {}
        r[x.status] = (r[x.status] ?? 0) + 1
        wave.set(x.at, r)
      }
      expect([...wave]).toEqual([[0, { 200: 10 }], [10, { 200: 20 }], [20, { 200: 21, 429: 19 }]])
      // The flight's 429s come back together: the window is dense (19 of 70) at the 13th, which pauses the queue
      // until the Retry-After and cuts the rate once, to 0.9 × the 51/s the server accepted.
      const first = events.filter((e) => e.at < 1000)
      expect(first).toHaveLength(19)
      expect(first.map((e) => e.pausedAll)).toEqual([...Array(12).fill(false), ...Array(7).fill(true)])
      expect(new Set(first.filter((e) => e.pausedAll).map((e) => e.allowedRate.toFixed(1)))).toEqual(new Set(["45.9"]))
      // The requeued 19 and the bucket refilled at the cut rate go when the pause ends: 46, all taken.
      expect(server.sent.filter((x) => x.at === 1030).map((x) => x.status)).toEqual(Array(46).fill(200))
      // CUBIC probes above the 50 the server accepts; 429s at ≥ 10 % of a window soft-cut to what it accepted
      // (58.8 → 48 at 6.16 s, 62.3 → 49 at 9.54 s), with no pause: 12 429s after the first wave, 31 in all.
      const later = events.filter((e) => e.at >= 1000)
      expect(later.every((e) => !e.pausedAll)).toBe(true)
      const soft = later.filter((e, i) => i > 0 && e.allowedRate < later[i - 1]!.allowedRate - 1)
      expect(soft.map((e) => [Math.round(e.at / 10) * 10, Math.round(e.allowedRate)])).toEqual([[6160, 48], [9540, 49]])
      expect(later).toHaveLength(12)
      expect(server.sent).toHaveLength(631)
      // The last call is answered 11.05 s in: 0.92 × the 12 s that 600 calls need at 50/s.
      expect(Math.max(...server.sent.map((x) => x.at))).toBeLessThan(11_050)
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

  describe("the call's retries (issue 13)", () => {
    it.effect("a server that answers 429 forever: maxRequeues requeues, then the policy's attempts, then RateLimitExceeded", () =>
      Effect.gen(function*() {
        const server = fakeServer(() => Effect.succeed(tooMany(1)))
        const [exit] = yield* load(
          RateLimit.layer({ requestsPerSecond: 10, maxRequeues: 2 }).pipe(
            Layer.provide(server.layer({ retry: RetryPolicy.make({ maxAttempts: 2, jitter: "none" }) }))
          ),
          1
        )
        expect(exit!._tag).toBe("Left")
        if (exit!._tag === "Left") {
          expect(exit!.left._tag).toBe("RateLimitExceeded")
          // 2 requeues (each after its Retry-After, 1 s) and the policy's 2 attempts: 4 sends.
          expect(exit!.left.attempts).toBe(4)
        }
        // The requeues go when their Retry-After ends; the policy's retry waits the Retry-After plus its jitter.
        expect(server.sent.slice(0, 3).map((s) => s.at)).toEqual([0, 1000, 2000])
        expect(server.sent[3]!.at).toBeGreaterThanOrEqual(3000)
        expect(server.sent[3]!.at).toBeLessThan(3250)
      }))

    it.effect("a stray 429 gives its request token back: the ceiling counts what the server took", () =>
      Effect.gen(function*() {
        const run = (refundStray: boolean) =>
          Effect.gen(function*() {
            // 30 calls at 10/s, burst 5; the 12th attempt is refused (Retry-After: 1 s), 1 in 12 answers: stray.
            const server = fakeServer((n) => Effect.succeed(n === 11 ? tooMany(1) : ok()))
            const exits = yield* load(
              RateLimit.layer({ requestsPerSecond: 10, burst: 5, slowStart: false, refundStray }).pipe(
                Layer.provide(server.layer())
              ),
              30
            )
            expect(exits.every((e) => e._tag === "Right")).toBe(true)
            const start = server.sent[0]!.at
            return server.sent.map((s) => s.at - start)
          })
        const paced = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * 100)
        // Charged: the refused attempt (at 700) costs a slot, and 31 attempts take the queue to 2.6 s.
        expect(yield* run(false)).toEqual([0, 0, 0, 0, 0, ...paced(100, 26)])
        // Refunded: its token comes back at once, a second attempt goes at 800, and the queue ends 100 ms sooner.
        expect(yield* run(true)).toEqual([0, 0, 0, 0, 0, ...paced(100, 8), ...paced(800, 18)])
      }))

    it.effect("extra attempts: sparse 503s in a row do not end a call while the model is healthy; a policy without retries stands", () =>
      Effect.gen(function*() {
        // 30 calls at 40/s; the 21st call's attempts meet three 503s in a row (requests 20, 30 and 31), while the
        // window's other answers are fine (3 of 28 failed at worst: healthy).
        const run = (policy: ReturnType<typeof RetryPolicy.make>, quickRetry?: RateLimit.QuickRetryOptions) =>
          Effect.gen(function*() {
            const server = fakeServer((n) => Effect.succeed(n === 20 || n === 30 || n === 31 ? unavailable : ok()))
            const exits = yield* load(
              RateLimit.layer({ requestsPerSecond: 40, burst: 1, slowStart: false, quickRetry }).pipe(
                Layer.provide(server.layer({ retry: policy }))
              ),
              30
            )
            const start = server.sent[0]!.at
            return { exits: exits.map((e) => e._tag), sent: server.sent.map((s) => `${s.at - start}:${s.status}`) }
          })
        const first = Array.from({ length: 30 }, (_, i) => `${i * 25}:${i === 20 ? 503 : 200}`)
        // Two policy attempts: the retry at 750 (the policy's 1 s cut to 250 ms) fails too; two extra attempts
        // 250 ms apart follow, uncounted, and the last succeeds.
        const twoAttempts = RetryPolicy.make({ maxAttempts: 2, jitter: "none" })
        expect(yield* run(twoAttempts)).toEqual({
          exits: Array.from({ length: 30 }, () => "Right"),
          sent: [...first, "750:503", "1000:503", "1250:200"]
        })
        // Without extra attempts the same call fails after its policy's two.
        const without = yield* run(twoAttempts, { extraAttempts: 0 })
        expect(without.exits.filter((e) => e === "Left")).toHaveLength(1)
        expect(without.sent).toEqual([...first, "750:503"])
        // A policy of one attempt is never overridden.
        const once = yield* run(RetryPolicy.make({ maxAttempts: 1, jitter: "none" }))
        expect(once.exits.filter((e) => e === "Left")).toHaveLength(1)
        expect(once.sent).toEqual(first)
      }))

    it.effect("quick retry: after a stray 5xx the policy's 1 s backoff is cut to 250 ms; in an outage it stands", () =>
      Effect.gen(function*() {
        // 20 answers at 20/s, the 15th a 503; then everything fails.
        const server = fakeServer((n) => Effect.succeed(n === 14 || n >= 21 ? unavailable : ok()))
        const exits = yield* load(
          RateLimit.layer({ requestsPerSecond: 20, burst: 1, slowStart: false }).pipe(
            Layer.provide(server.layer({ retry: RetryPolicy.make({ maxAttempts: 2, jitter: "none" }) }))
          ),
          20
        )
        expect(exits.every((e) => e._tag === "Right")).toBe(true)
        // The 503 at 700 ms (14 fine answers before it in the window): retried 250 ms later, behind the queue.
        const failed = server.sent.findIndex((s) => s.status === 503)
        expect(server.sent[failed]!.at).toBe(700)
        expect(server.sent.filter((s) => s.at > 700).map((s) => s.at)).toEqual([750, 800, 850, 900, 950, 1000])
        // With every attempt failing (and before the window holds 10 answers), every retry waits the policy's full 1 s.
        const down = fakeServer(() => Effect.succeed(unavailable))
        const more = yield* load(
          RateLimit.layer({ requestsPerSecond: 20, burst: 1, slowStart: false }).pipe(
            Layer.provide(down.layer({ retry: RetryPolicy.make({ maxAttempts: 2, jitter: "none" }) }))
          ),
          12
        )
        expect(more.every((e) => e._tag === "Left")).toBe(true)
        const start = down.sent[0]!.at
        const firsts = Array.from({ length: 12 }, (_, i) => i * 50)
        expect(down.sent.map((s) => s.at - start)).toEqual([...firsts, ...firsts.map((t) => t + 1000)])
      }))
  })
})
