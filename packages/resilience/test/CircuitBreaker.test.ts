import { MimoClient, MimoError } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Layer, Metric, TestClock } from "effect"
import { CircuitBreaker } from "../src/index.js"
import { fakeServer, hello, ok, tooMany, unavailable } from "./limiterSupport.js"

const busy = new MimoError.ServiceUnavailable({ message: "busy" })

/** A call that runs `effect` and counts its runs. */
const counted = <A, E>(effect: Effect.Effect<A, E>) => {
  let runs = 0
  return { effect: Effect.suspend(() => (runs++, effect)), runs: () => runs }
}

describe("CircuitBreaker", () => {
  it.effect("opens on the failure rate over the window once the minimum volume is reached; refuses with a typed error", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        name: "t-open",
        failureRate: 0.5,
        minimumCalls: 10,
        window: "10 seconds",
        cooldown: "1 second"
      })
      const failing = counted(Effect.fail(busy))
      // 5 failures, 4 successes: below the volume, nothing happens however bad the rate.
      for (let i = 0; i < 5; i++) yield* Effect.either(breaker.protect(failing.effect))
      for (let i = 0; i < 4; i++) yield* breaker.protect(Effect.void)
      expect(yield* breaker.state).toBe("closed")
      // The 10th attempt fails: 6 of 10 ≥ 50 %.
      yield* Effect.either(breaker.protect(failing.effect))
      expect(yield* breaker.state).toBe("open")
      const refused = yield* Effect.flip(breaker.protect(failing.effect))
      expect(failing.runs()).toBe(6)
      expect(refused._tag).toBe("CircuitOpen")
      if (refused._tag === "CircuitOpen") {
        expect(refused.breaker).toBe("t-open")
        expect(Duration.toMillis(refused.retryAfter!)).toBe(1000)
        expect(MimoError.isRetryable(refused)).toBe(false)
        expect(MimoError.isMimoError(refused)).toBe(true)
      }
      const tagged = (m: typeof CircuitBreaker.metrics.rejected) => m.pipe(Metric.tagged("breaker", "t-open"))
      expect((yield* Metric.value(tagged(CircuitBreaker.metrics.rejected))).count).toBe(1)
      expect((yield* Metric.value(CircuitBreaker.metrics.state.pipe(Metric.tagged("breaker", "t-open")))).value).toBe(2)
    }))

  it.effect("failures older than the window no longer count", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureRate: 0.5, minimumCalls: 4, window: "10 seconds" })
      for (let i = 0; i < 3; i++) yield* Effect.either(breaker.protect(Effect.fail(busy)))
      yield* TestClock.adjust("11 seconds")
      // 1 failure + 3 successes in the window now: 25 %.
      for (let i = 0; i < 3; i++) yield* breaker.protect(Effect.void)
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.effect("the defaults never open under 20 % random failures (a long seeded run)", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make()
      let seed = 42
      const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
      // 7,500 attempts at 150 per second (50 s), as in the measurement.
      for (let i = 1; i <= 7_500; i++) {
        yield* Effect.either(breaker.protect(next() < 0.2 ? Effect.fail(busy) : Effect.void))
        if (i % 30 === 0) yield* TestClock.adjust("200 millis")
      }
      expect(yield* breaker.state).toBe("closed")
      expect((yield* Metric.value(CircuitBreaker.metrics.opened.pipe(Metric.tagged("breaker", "default")))).count)
        .toBe(0)
    }))

  it.effect("429s and 4xx do not count as failures", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 1 })
      yield* Effect.either(breaker.protect(Effect.fail(new MimoError.RateLimitExceeded({ message: "slow" }))))
      yield* Effect.either(breaker.protect(Effect.fail(new MimoError.InvalidRequest({ message: "bad" }))))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.effect("after the cool-down it half-opens: one probe goes, the others are refused; success closes it", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 1, cooldown: "500 millis" })
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("499 millis")
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("1 millis")
      expect(yield* breaker.state).toBe("half-open")
      const release = yield* Deferred.make<void>()
      const probe = yield* Effect.fork(breaker.protect(Deferred.await(release)))
      yield* Effect.yieldNow()
      const other = yield* Effect.flip(breaker.protect(Effect.void))
      expect(other._tag).toBe("CircuitOpen")
      expect(other.message).toContain("half-open")
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(probe)
      expect(yield* breaker.state).toBe("closed")
      yield* breaker.protect(Effect.void)
    }))

  it.effect("failed probes grow the cool-down (500 ms, 1 s, 1.5 s cap); an interrupted probe lets the next caller probe", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ minimumCalls: 1 })
      const retryAfter = Effect.map(
        Effect.flip(breaker.protect(Effect.void)),
        (e) => e._tag === "CircuitOpen" ? Duration.toMillis(e.retryAfter!) : -1
      )
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* retryAfter).toBe(500)
      const cooldowns: Array<number> = []
      for (let i = 0; i < 4; i++) {
        const wait = yield* retryAfter
        yield* TestClock.adjust(Duration.millis(wait))
        yield* Effect.either(breaker.protect(Effect.fail(busy)))
        cooldowns.push(yield* retryAfter)
      }
      expect(cooldowns).toEqual([1000, 1500, 1500, 1500])
      yield* TestClock.adjust("1500 millis")
      const hanging = yield* Effect.fork(breaker.protect(Effect.never))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(hanging)
      expect(yield* breaker.state).toBe("half-open")
      yield* breaker.protect(Effect.void)
      expect(yield* breaker.state).toBe("closed")
      // Closed again: the next opening starts from the short cool-down.
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* retryAfter).toBe(500)
    }))

  it.effect("as a client decorator: per model, attempts refused without being sent", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n < 3 ? unavailable : n === 3 ? tooMany(1) : ok()))
      const layer = CircuitBreaker.layer({ minimumCalls: 3, failureRate: 1, cooldown: "30 seconds" }).pipe(
        Layer.provide(server.layer())
      )
      const fiber = yield* Effect.fork(
        Effect.gen(function*() {
          const mimo = yield* MimoClient.MimoClient
          // 3 attempts fail with 503: the third opens mimo-v2-flash's breaker, the 4th attempt is refused.
          const first = yield* Effect.flip(mimo.chat(hello))
          // Another model has its own breaker.
          yield* Effect.either(mimo.chat({ ...hello, model: "mimo-v2.5" }))
          const refused = yield* Effect.flip(mimo.chat(hello))
          yield* Effect.sleep("30 seconds")
          // After the cool-down a probe goes through (and succeeds).
          const probe = yield* mimo.chat(hello)
          return { first, refused, probe }
        }).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("2 minutes")
      const { first, refused } = yield* Fiber.join(fiber)
      expect(first._tag).toBe("CircuitOpen")
      expect(refused._tag).toBe("CircuitOpen")
      // 3 × 503, mimo-v2.5's 429 then its retry, and the probe.
      expect(server.sent.map((s) => s.status)).toEqual([503, 503, 503, 429, 200, 200])
    }))
})
