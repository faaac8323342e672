import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import { RateLimit } from "@effect-mimo/resilience"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { RedisServer } from "@effect-mimo/testing"
import { expect, it, vi } from "@effect/vitest"
import { Clock, Effect, Either, Exit, Layer, Logger, LogLevel, Metric, Redacted, Scope } from "effect"
import { RedisRateLimit } from "../src/index.js"

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
const key = Redacted.make("sk-test")

/** `n` chats at `concurrency` through `layer`; the failures and the wall time in ms. */
const run = (layer: Layer.Layer<MimoClient.MimoClient>, n: number, concurrency: number) =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    // Warm the connections first (GET /models is not rate-limited), so that start-up latency is not measured.
    yield* mimo.models()
    const start = yield* Clock.currentTimeMillis
    const results = yield* Effect.forEach(Array.from({ length: n }), () => Effect.either(mimo.chat(hello)), {
      concurrency
    })
    const wall = (yield* Clock.currentTimeMillis) - start
    return { failures: results.filter(Either.isLeft).length, wall }
  }).pipe(Effect.provide(layer))

const quiet = Logger.withMinimumLogLevel(LogLevel.Error)

RedisServer.describe("RedisRateLimit (against a real redis-server)", (redisServerPath) => {
  it.live("shares pauses between stores, and a pause only ever grows", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.start(redisServerPath)
      const a = yield* RedisRateLimit.makeStore({ redis: server, redisPrefix: "t1:" })
      const b = yield* RedisRateLimit.makeStore({ redis: server, redisPrefix: "t1:" })
      const now = yield* Clock.currentTimeMillis
      expect(yield* b.pausedUntil("m:pause")).toBe(0)
      yield* a.pause("m:pause", now + 5000)
      expect(yield* b.pausedUntil("m:pause")).toBe(now + 5000)
      yield* b.pause("m:pause", now + 2000)
      expect(yield* a.pausedUntil("m:pause")).toBe(now + 5000)
      // The buckets are shared too: what A takes, B cannot.
      const take = (store: RateLimit.Store) =>
        store.buckets.consume({ key: "m:requests", algorithm: "token-bucket", limit: 2, window: "1 minute" })
      yield* take(a)
      yield* take(b)
      const third = yield* Effect.either(take(a))
      expect(Either.isLeft(third)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("three clients keep one aggregate limit: 60 requests through a 20 req/s limit", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.start(redisServerPath)
      const sim = yield* Simulator.make({ rateLimit: { requestsPerSecond: 20, burst: 20 } })
      const client = (i: number) =>
        RedisRateLimit.layer({ redis: server, requestsPerSecond: 20, burst: 20, concurrency: 10 }).pipe(
          Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url, headers: { "x-client": String(i) } }))
        )
      const results = yield* Effect.all([run(client(1), 20, 10), run(client(2), 20, 10), run(client(3), 20, 10)], {
        concurrency: "unbounded"
      })
      const stats = yield* sim.stats
      expect(results.map((r) => r.failures)).toEqual([0, 0, 0])
      // Unshared, each client would send its 20 at once: 60 at once against a burst of 20, 40 refused.
      expect(stats.rateLimited).toBeLessThanOrEqual(6)
      // 60 requests, a burst of 20 then 20 per second: at least 2 s for the last ones.
      expect(Math.max(...results.map((r) => r.wall))).toBeGreaterThanOrEqual(1900)
      expect(Math.max(...results.map((r) => r.wall))).toBeLessThan(6000)
    }).pipe(Effect.scoped, quiet))

  it.live("one client's 429 pauses the others' queues", () =>
    Effect.gen(function*() {
      const server = yield* RedisServer.start(redisServerPath)
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
      // A Retry-After of a second or more pauses every queue (`pauseAllFrom`): the server's budget is spent.
      const layer = RedisRateLimit.layer({
        redis: server,
        redisPrefix: "t3:",
        requestsPerSecond: 100,
        pauseAllFrom: "1 second",
        // The refused call fails at once (its 429 is not requeued), so the other client starts within the pause.
        maxRequeues: 0
      }).pipe(
        Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url }))
      )
      const other = yield* Layer.build(layer)
      const limiter = RateLimit.Limiter
      yield* Effect.gen(function*() {
        const mimo = yield* MimoClient.MimoClient
        yield* mimo.models()
        // The first client's first chat is refused with Retry-After: 2, which pauses mimo-v2-flash everywhere.
        yield* sim.script([Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 2 } })])
        const refused = yield* Effect.flip(mimo.chat(hello, { retry: RetryPolicy.attempts(1) }))
        expect(refused._tag).toBe("RateLimitExceeded")
      }).pipe(Effect.provide(layer))
      const start = yield* Clock.currentTimeMillis
      // The other client (its own connections, its own queue) waits for the shared pause's end.
      yield* Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(hello)).pipe(Effect.provide(other))
      const waited = (yield* Clock.currentTimeMillis) - start
      expect(waited).toBeGreaterThanOrEqual(1500)
      const [snapshot] = yield* Effect.flatMap(limiter, (l) => l.snapshot).pipe(Effect.provide(other))
      expect(snapshot!.allowedRate).toBeLessThan(100)
    }).pipe(Effect.scoped, quiet))

  it.live("an unreachable Redis from the start: the in-process fallback at once, nothing waits for Redis", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
      const fallbacks = yield* Metric.value(RedisRateLimit.metrics.fallbacks)
      const layer = RedisRateLimit.layer({
        // Nothing listens on port 1.
        redis: { host: "127.0.0.1", port: 1 },
        requestsPerSecond: 100
      }).pipe(Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url })))
      const result = yield* run(layer, 20, 5)
      expect(result.failures).toBe(0)
      // 20 calls at 100/s (the fallback starts with an empty bucket): no store timeout (1 s) is waited anywhere.
      expect(result.wall).toBeLessThan(800)
      expect((yield* Metric.value(RedisRateLimit.metrics.fallbacks)).count).toBeGreaterThan(fallbacks.count)
    }).pipe(Effect.scoped, quiet))

  it.live(
    "Redis killed mid-run: this process's share in process within a store call, shared again after restart",
    () =>
      Effect.gen(function*() {
        const printed: Array<string> = []
        const spy = vi.spyOn(console, "error").mockImplementation((...args: Array<unknown>) => {
          printed.push(args.map(String).join(" "))
        })
        yield* Effect.addFinalizer(() => Effect.sync(() => spy.mockRestore()))
        const first = yield* Scope.make()
        const server = yield* RedisServer.start(redisServerPath).pipe(Scope.extend(first))
        const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
        const errors = yield* Metric.value(RedisRateLimit.metrics.redisErrors)
        const context = yield* Layer.build(
          RedisRateLimit.layer({
            redis: server,
            redisPrefix: "t5:",
            requestsPerSecond: 20,
            burst: 20,
            fallbackShare: 0.5,
            concurrency: 50
          }).pipe(Layer.provide(NodeMimoClient.layer({ apiKey: key, baseUrl: sim.url })))
        )
        const layer = Layer.succeedContext(context)
        const up = Effect.map(Metric.value(RedisRateLimit.metrics.redisUp), (s) => s.value)
        // Shared: a burst of 20, then 20/s.
        const shared = yield* run(layer, 30, 30)
        expect(shared.failures).toBe(0)
        expect(shared.wall).toBeGreaterThanOrEqual(400)
        expect(yield* up).toBe(1)
        // Kill Redis. The fallback takes this process's share (0.5): 10/s, starting with an empty bucket (no burst at
        // the switch: the shared bucket was just spent); no admission waits for a store timeout (1 s).
        yield* Scope.close(first, Exit.void)
        yield* Effect.sleep("100 millis")
        const down = yield* run(layer, 30, 30)
        expect(down.failures).toBe(0)
        expect(yield* up).toBe(0)
        // 30 calls at a share of 10/s with no burst: about 3 s (with a burst of 10 it would be 2 s), never a second
        // per call.
        expect(down.wall).toBeGreaterThanOrEqual(2500)
        expect(down.wall).toBeLessThan(4500)
        // Bring it back on the same port: shared again within a second.
        yield* RedisServer.start(redisServerPath, { port: server.port })
        const restartedAt = yield* Clock.currentTimeMillis
        while ((yield* up) === 0 && (yield* Clock.currentTimeMillis) - restartedAt < 3000) {
          yield* Effect.sleep("50 millis")
        }
        expect((yield* Clock.currentTimeMillis) - restartedAt).toBeLessThan(1000)
        const again = yield* run(layer, 20, 20)
        expect(again.failures).toBe(0)
        // ioredis's errors were counted, and nothing was printed.
        expect((yield* Metric.value(RedisRateLimit.metrics.redisErrors)).count).toBeGreaterThan(errors.count)
        expect(printed.filter((line) => line.includes("Unhandled error event"))).toEqual([])
      }).pipe(Effect.scoped, quiet),
    30_000
  )
})
