/**
 * The core's in-memory limiter end to end: the real client over undici, the
 * simulator's token bucket on loopback answering 429 with whole-second
 * Retry-After.
 */
import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Effect, Either, Layer, Logger, LogLevel, Redacted, Stream } from "effect"
import { CircuitBreaker, RateLimit, RetryBudget } from "../src/index.js"

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
const key = Redacted.make("sk-test")
const quiet = Logger.withMinimumLogLevel(LogLevel.None)
/** The default policy's shape, ten times faster (Retry-After is still honoured by the limiter). */
const fast = RetryPolicy.make({ base: "100 millis", jitter: "none" })

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

  it.live("5 % stray 429s (Retry-After: 1) and 15 % 5xx, not rate-limited: no pause, no cut, 0 failures", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({
        rateLimit: { enabled: false },
        faults: {
          seed: 7,
          mix: [
            { fault: Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 1 } }), probability: 0.05 },
            { fault: Fault.error("service_unavailable"), probability: 0.15 }
          ]
        }
      })
      const layer = Layer.unwrapEffect(Effect.succeed(
        RateLimit.layer({ requestsPerSecond: 50, burst: 50, concurrency: 50 }).pipe(
          Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url, retry: fast }))
        )
      ))
      const run = yield* Effect.gen(function*() {
        const result = yield* load(Layer.succeedContext(yield* Layer.build(layer)), 150, 50)
        return result
      })
      const stats = yield* sim.stats
      expect(run.failures).toBe(0)
      // 150 calls ≈ 190 attempts at 50/s after a burst of 50: ≈ 2.8 s; a paused queue would take seconds more.
      expect(run.wall).toBeLessThan(1.25 * ((stats.requests - 50) / 50) * 1000 + 2000)
    }).pipe(Effect.scoped, quiet))

  it.live("told 4 × the real limit: the adaptive rate finds it, 0 failures, few 429s", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { requestsPerSecond: 20, burst: 20 } })
      const result = yield* load(
        RateLimit.layer({ requestsPerSecond: 80, burst: 80, concurrency: 40 }).pipe(
          Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url }))
        ),
        120,
        40
      )
      const stats = yield* sim.stats
      expect(result.failures).toBe(0)
      // Physical floor: a burst of 20, then 100 at 20/s = 5 s. The bound is loose on purpose (real clock, 2 shared
      // cores): it catches a limiter that over-throttles (a queue paused for seconds doubles the wall), while the
      // tight figure (≤ 1.05 × the floor) is measured by `pnpm bench`, where nothing else runs.
      expect(result.wall).toBeLessThan(1.4 * 6000)
      // The first wave (40 at once against a burst of 20, and what the freed permits send before the 429s are
      // dense) is most of them; the adaptive rate then keeps near 20/s.
      expect(stats.rateLimited).toBeLessThanOrEqual(60)
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

  it.live("the breaker's defaults: open through an outage, traffic back within the cool-down once it ends", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
      yield* sim.script(Array.from({ length: 10_000 }, () => Fault.error("service_unavailable")))
      const context = yield* Layer.build(
        CircuitBreaker.layer().pipe(
          Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url, retry: RetryPolicy.attempts(1) }))
        )
      )
      const mimo = Context.get(context, MimoClient.MimoClient)
      // 40 calls in the outage: the breaker opens after 20 (all failed), the rest are refused without a request.
      const during = yield* Effect.forEach(Array.from({ length: 40 }), () => Effect.flip(mimo.chat(hello)))
      expect(during.slice(0, 20).every((e) => e._tag === "ServiceUnavailable")).toBe(true)
      expect(during.slice(20).every((e) => e._tag === "CircuitOpen")).toBe(true)
      expect((yield* sim.stats).requests).toBe(20)
      // The outage ends: calls succeed again within the cool-down (500 ms at first).
      yield* sim.reset
      const recovered = yield* Clock.currentTimeMillis
      let ok = false
      while (!ok && (yield* Clock.currentTimeMillis) - recovered < 5000) {
        ok = Either.isRight(yield* Effect.either(mimo.chat(hello)))
        if (!ok) yield* Effect.sleep("50 millis")
      }
      expect(ok).toBe(true)
      expect((yield* Clock.currentTimeMillis) - recovered).toBeLessThanOrEqual(1500)
    }).pipe(Effect.scoped, quiet))

  it.live("the breaker opens on repeated 503s and refuses without sending; the budget stops retries", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
      yield* sim.script(Array.from({ length: 10 }, () => Fault.error("service_unavailable")))
      const budget = yield* RetryBudget.make({ capacity: 10, costPerRetry: 5 })
      const policy = RetryPolicy.make({ base: "10 millis", jitter: "none" })
      const layer = CircuitBreaker.layer({
        minimumCalls: 3,
        failureRate: 1,
        cooldown: "1 minute",
        maxCooldown: "1 minute"
      }).pipe(
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
