import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel, Metric, TestClock } from "effect"
import * as Buckets from "../src/internal/buckets.js"
import { layerStoreMemory, memoryPauses, Store } from "../src/internal/limiterStore.js"
import { resolveLimits } from "../src/internal/limits.js"

const model: Buckets.Model = {
  keys: { requests: "t:requests", tokens: "t:tokens" },
  // 10 req/s, burst 10; 600 tokens/min = 10 tokens/s, burst 600.
  limits: resolveLimits({ requestsPerSecond: 10, tokensPerMinute: 600 }, "m")
}

const errors = Metric.counter("test_store_errors", { incremental: true })

describe("Buckets", () => {
  it.effect("reservations at the allowed rate: the burst at once, then one every 1000 / rate ms", () =>
    Effect.gen(function*() {
      const store = yield* Store
      const b = Buckets.make(store, errors, true)
      const delays: Array<number> = []
      for (let i = 0; i < 12; i++) delays.push(yield* b.reserve(model, 0, 10))
      expect(delays).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200])
      // At half the rate the request bucket is half the size (5), refilling one every 200 ms.
      expect(b.bucketSize(model, 5)).toBe(5)
      yield* TestClock.adjust("10 seconds")
      const half: Array<number> = []
      for (let i = 0; i < 7; i++) half.push(yield* b.reserve(model, 0, 5))
      expect(half).toEqual([0, 0, 0, 0, 0, 200, 400])
    }).pipe(Effect.provide(layerStoreMemory)))

  it.effect("drain empties the request bucket; it refills at the rate", () =>
    Effect.gen(function*() {
      const b = Buckets.make(yield* Store, errors, true)
      yield* b.drain(model, 10)
      expect(yield* b.reserve(model, 0, 10)).toBe(100)
      yield* TestClock.adjust("1 second")
      expect(yield* b.reserve(model, 0, 10)).toBe(0)
    }).pipe(Effect.provide(layerStoreMemory)))

  it.effect("tokens: a reservation waits for its estimate; a credit gives it back", () =>
    Effect.gen(function*() {
      const b = Buckets.make(yield* Store, errors, true)
      // 600 tokens of burst: 590 leaves 10; the next 20 wait 1 s (10 tokens/s).
      expect(yield* b.reserve(model, 590, 10)).toBe(0)
      expect(yield* b.reserve(model, 20, 10)).toBe(1000)
      yield* b.adjustTokens(model, -30)
      expect(yield* b.reserve(model, 10, 10)).toBe(0)
    }).pipe(Effect.provide(layerStoreMemory)))

  it.effect("a failing store lets the attempt through (0 ms), counted", () =>
    Effect.gen(function*() {
      const failing = {
        buckets: {
          consume: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "down" }))
        },
        ...memoryPauses()
      } as unknown as Parameters<typeof Buckets.make>[0]
      const counter = Metric.counter("test_store_errors_failing", { incremental: true })
      const b = Buckets.make(failing, counter, false)
      expect(yield* b.reserve(model, 100, 10)).toBe(0)
      yield* b.drain(model, 10)
      yield* b.adjustTokens(model, 5)
      expect((yield* Metric.value(counter)).count).toBe(3)
    }).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
})
