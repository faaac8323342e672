/**
 * The core's in-memory limiter end to end: the real client over undici, the
 * simulator's token bucket on loopback answering 429 with whole-second
 * Retry-After.
 */
import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import { CircuitBreaker, RateLimit, RetryBudget } from "@effect-mimo/resilience"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either, Layer, Logger, LogLevel, Redacted, Stream } from "effect"

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
const key = Redacted.make("sk-test")
const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

const load = (layer: Layer.Layer<MimoClient.MimoClient>, n: number, concurrency: number) =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    yield* mimo.models() // warm the connection pool; GET /models is not rate-limited
    const start = yield* Clock.currentTimeMillis
    const results = yield* Effect.forEach(Array.from({ length: n }), () => Effect.either(mimo.chat(hello)), {
      concurrency
    })
    return {
      failures: results.filter(Either.isLeft).length,
      wall: (yield* Clock.currentTimeMillis) - start
    }
  }).pipe(Effect.provide(layer))

describe("RateLimit end to end (simulator on loopback)", () => {
  it.live("60 requests at concurrency 30 through a 20 req/s limit: no failures, few 429s, paced", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { requestsPerSecond: 20, burst: 20 } })
      const client = NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url })
      const limited = yield* load(
        RateLimit.layer({ requestsPerSecond: 20, burst: 20, concurrency: 30 }).pipe(Layer.provide(client)),
        60,
        30
      )
      const stats = yield* sim.stats
      expect(limited.failures).toBe(0)
      expect(stats.rateLimited).toBeLessThanOrEqual(5)
      // The physical floor: a burst of 20, then 40 more at 20 per second.
      expect(limited.wall).toBeGreaterThanOrEqual(1900)
      expect(limited.wall).toBeLessThan(4500)
    }).pipe(Effect.scoped, quiet))

  it.live("without the limiter the same load is refused far more often", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { requestsPerSecond: 20, burst: 20 } })
      yield* load(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url }), 60, 30)
      expect((yield* sim.stats).rateLimited).toBeGreaterThan(10)
    }).pipe(Effect.scoped, quiet))

  it.live("a stream holds its permit until it ends", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false }, chunkDelay: "20 millis" })
      const layer = RateLimit.layer({ requestsPerSecond: 100, concurrency: 1 }).pipe(
        Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url }))
      )
      const spans = yield* Effect.gen(function*() {
        const mimo = yield* MimoClient.MimoClient
        const one = Effect.gen(function*() {
          let first = 0
          yield* mimo.stream(hello).pipe(
            Stream.runForEach(() =>
              Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => void (first ||= t)))
            )
          )
          return { first, end: yield* Clock.currentTimeMillis }
        })
        return yield* Effect.all([one, one], { concurrency: "unbounded" })
      }).pipe(Effect.provide(layer))
      const [a, b] = spans[0]!.first <= spans[1]!.first ? spans : [spans[1]!, spans[0]!]
      expect(a!.end - a!.first).toBeGreaterThan(50)
      // With one permit, the second stream starts only after the first one ended.
      expect(b!.first).toBeGreaterThanOrEqual(a!.end)
      expect((yield* sim.stats).streams.closed).toBe(2)
    }).pipe(Effect.scoped, quiet))

  it.live("the breaker opens on repeated 503s and refuses without sending; the budget stops retries", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
      yield* sim.script(Array.from({ length: 10 }, () => Fault.error("service_unavailable")))
      const budget = yield* RetryBudget.make({ capacity: 10, costPerRetry: 5 })
      const policy = RetryPolicy.make({ base: "10 millis", jitter: "none" })
      const layer = CircuitBreaker.layer({ minimumCalls: 3, failureRate: 1, cooldown: "1 minute", maxCooldown: "1 minute" }).pipe(
        Layer.provide(RetryBudget.layer({ budget, policy })),
        Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url }))
      )
      const errors = yield* Effect.gen(function*() {
        const mimo = yield* MimoClient.MimoClient
        const first = yield* Effect.flip(mimo.chat(hello))
        const second = yield* Effect.flip(mimo.chat(hello))
        return [first, second]
      }).pipe(Effect.provide(layer))
      const stats = yield* sim.stats
      // First call: 3 attempts (2 retries paid, 10 tokens), the third failure opens the breaker.
      expect(errors[0]!._tag).toBe("ServiceUnavailable")
      // Second call: refused at once, nothing sent.
      expect(errors[1]!._tag).toBe("CircuitOpen")
      expect(stats.requests).toBe(3)
      expect(yield* budget.left).toBe(0)
    }).pipe(Effect.scoped, quiet))
})
