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
  it.effect("opens after the threshold of consecutive failures and then refuses fast, with a typed error", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "t-open", failureThreshold: 3, cooldown: "10 seconds" })
      const failing = counted(Effect.fail(busy))
      for (let i = 0; i < 3; i++) yield* Effect.either(breaker.protect(failing.effect))
      expect(yield* breaker.state).toBe("open")
      const refused = yield* Effect.flip(breaker.protect(failing.effect))
      expect(failing.runs()).toBe(3)
      expect(refused._tag).toBe("CircuitOpen")
      if (refused._tag === "CircuitOpen") {
        expect(refused.breaker).toBe("t-open")
        expect(Duration.toMillis(refused.retryAfter!)).toBe(10_000)
        expect(MimoError.isRetryable(refused)).toBe(false)
        expect(MimoError.isMimoError(refused)).toBe(true)
      }
      const tagged = (m: typeof CircuitBreaker.metrics.rejected) => m.pipe(Metric.tagged("breaker", "t-open"))
      expect((yield* Metric.value(tagged(CircuitBreaker.metrics.rejected))).count).toBe(1)
      expect((yield* Metric.value(CircuitBreaker.metrics.state.pipe(Metric.tagged("breaker", "t-open")))).value).toBe(2)
    }))

  it.effect("a success resets the count: only consecutive failures open it", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 3 })
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      yield* breaker.protect(Effect.void)
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.effect("429s and 4xx do not count as failures", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1 })
      yield* Effect.either(breaker.protect(Effect.fail(new MimoError.RateLimitExceeded({ message: "slow" }))))
      yield* Effect.either(breaker.protect(Effect.fail(new MimoError.InvalidRequest({ message: "bad" }))))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.effect("after the cool-down it half-opens: one probe goes, the others are refused; success closes it", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1, cooldown: "5 seconds" })
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("5 seconds")
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

  it.effect("a failed probe opens it for another cool-down; an interrupted one lets the next caller probe", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ failureThreshold: 1, cooldown: "5 seconds" })
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      yield* TestClock.adjust("5 seconds")
      yield* Effect.either(breaker.protect(Effect.fail(busy)))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("5 seconds")
      const hanging = yield* Effect.fork(breaker.protect(Effect.never))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(hanging)
      expect(yield* breaker.state).toBe("half-open")
      yield* breaker.protect(Effect.void)
      expect(yield* breaker.state).toBe("closed")
    }))

  it.effect("as a client decorator: per model, attempts refused without being sent", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n < 3 ? unavailable : n === 3 ? tooMany(1) : ok()))
      const layer = CircuitBreaker.layer({ failureThreshold: 3, cooldown: "30 seconds" }).pipe(
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
