/**
 * The in-memory store's synchronous fast path (`reserveSync`, the one-step reservation) against the store path
 * through `@effect/experimental`'s own `RateLimiter.layerStoreMemory`: the same reservations, the same sends.
 */
import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, FastCheck as fc, Fiber, Layer, Metric, Random, TestClock } from "effect"
import { RateLimit } from "../src/index.js"
import * as Buckets from "../src/internal/buckets.js"
import { inMemoryStores, layerStoreMemory, makeStore, memoryPauses, Store } from "../src/internal/limiterStore.js"
import { resolveLimits } from "../src/internal/limits.js"
import { fakeServer, hello, ok, tooMany, unavailable } from "./limiterSupport.js"

const errors = Metric.counter("test_fast_path_store_errors", { incremental: true })

/** A store over the library's own in-memory `RateLimiterStore` (no synchronous access: the store path). */
const libraryStore = Effect.suspend(() => makeStore(memoryPauses())).pipe(Effect.provide(RateLimiter.layerStoreMemory))
const memoryStore = Effect.provide(Store, layerStoreMemory)

/** Every fractional number in `value`, as a matcher equal to it within half a nanosecond (6 digits of a millisecond). */
const toNanosecond = (value: unknown): unknown =>
  typeof value === "number"
    ? Number.isInteger(value) ? value : expect.closeTo(value, 6)
    : Array.isArray(value)
    ? value.map(toNanosecond)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toNanosecond(v)]))
    : value

type Op =
  | { readonly _tag: "advance"; readonly ms: number }
  | { readonly _tag: "reserve"; readonly cost: number; readonly rate: number }
  | { readonly _tag: "drain"; readonly rate: number }
  | { readonly _tag: "adjust"; readonly delta: number }

/** Rates below, at and above the configured one, with non-integer refill intervals. */
const rateArb = fc.constantFrom(10, 7, 3.3, 1.7, 0.37, 0.1)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
  fc.record({
    _tag: fc.constant("reserve" as const),
    cost: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 900, noNaN: true })),
    rate: rateArb
  }),
  fc.record({
    _tag: fc.constant("reserve" as const),
    cost: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 900, noNaN: true })),
    rate: rateArb
  }),
  fc.record({ _tag: fc.constant("drain" as const), rate: rateArb }),
  fc.record({ _tag: fc.constant("adjust" as const), delta: fc.double({ min: -900, max: 900, noNaN: true }) })
)
const limitsArb = fc.record({
  requestsPerSecond: fc.constantFrom(10, 7, 3.3),
  burst: fc.integer({ min: 1, max: 20 }),
  tokensPerMinute: fc.constantFrom(600, 777, 10_000)
})

describe("the in-memory fast path", () => {
  it.effect.prop(
    "reserves, drains and reconciles exactly as the library's in-memory store, over any sequence and clock",
    [limitsArb, fc.array(opArb, { maxLength: 80 })],
    ([options, ops]) =>
      Effect.gen(function*() {
        const model: Buckets.Model = {
          keys: { requests: "p:requests", tokens: "p:tokens" },
          limits: resolveLimits(options, "m")
        }
        const fastStore = yield* memoryStore
        const fast = Buckets.make(fastStore, errors, true)
        // The same store through its `RateLimiter` interface (the shared buckets, the store path), and the library's.
        const viaStore = Buckets.make(yield* memoryStore, errors, false)
        const library = Buckets.make(yield* libraryStore, errors, true)
        expect(fast.reserveSync).toBeDefined()
        expect(inMemoryStores.has(fastStore)).toBe(true)
        expect(viaStore.reserveSync).toBeUndefined()
        expect(library.reserveSync).toBeUndefined()
        const run = (b: ReturnType<typeof Buckets.make>, op: Op): Effect.Effect<number | undefined> =>
          op._tag === "reserve"
            ? b.reserve(model, op.cost, op.rate)
            : op._tag === "drain"
            ? Effect.as(b.drain(model, op.rate), undefined)
            : op._tag === "adjust"
            ? Effect.as(b.adjustTokens(model, op.delta), undefined)
            : Effect.succeed(undefined)
        const seen: Record<"fast" | "viaStore" | "library", Array<number | undefined>> = {
          fast: [],
          viaStore: [],
          library: []
        }
        for (const op of ops) {
          if (op._tag === "advance") yield* TestClock.adjust(Duration.millis(op.ms))
          seen.fast.push(yield* run(fast, op))
          seen.viaStore.push(yield* run(viaStore, op))
          seen.library.push(yield* run(library, op))
        }
        expect(seen.fast).toEqual(seen.library)
        expect(seen.viaStore).toEqual(seen.library)
      }),
    { timeout: 120_000, fastCheck: { numRuns: 300 } }
  )

  type Reply = "ok" | "429" | "503"
  let pausedRuns = 0
  const callArb = fc.record({
    gap: fc.integer({ min: 0, max: 400 }),
    reply: fc.oneof(
      { arbitrary: fc.constantFrom<Reply>("ok", "ok", "ok", "ok", "429", "503"), weight: 1 },
      // Dense 429s: pauses, cuts and drains.
      { arbitrary: fc.constantFrom<Reply>("ok", "429", "429"), weight: 1 }
    ),
    // 5 s or more pauses the whole queue (`pauseAllFrom`).
    retryAfter: fc.integer({ min: 1, max: 7 }),
    usage: fc.integer({ min: 2, max: 400 }).map((n) => n * 2)
  })

  it.effect.prop(
    "a limiter on the in-memory store sends at the same times as one on the library's store",
    [fc.array(callArb, { minLength: 1, maxLength: 40 })],
    ([calls]) =>
      Effect.gen(function*() {
        const runWith = (store: Layer.Layer<RateLimit.Store>) =>
          Effect.gen(function*() {
            const start = yield* Clock.currentTimeMillis
            const server = fakeServer((n) =>
              Effect.succeed(
                n >= calls.length ? ok() : calls[n]!.reply === "ok"
                  ? ok(calls[n]!.usage)
                  : calls[n]!.reply === "429"
                  ? tooMany(calls[n]!.retryAfter)
                  : unavailable
              )
            )
            const layer = RateLimit.layerWithStore({
              requestsPerSecond: 5,
              burst: 3,
              tokensPerMinute: 3_000,
              adaptive: { minSamples: 3 }
            }).pipe(
              Layer.provide(store),
              Layer.provide(server.layer({ retry: RetryPolicy.make({ jitter: "none" }) }))
            )
            const fiber = yield* Effect.fork(
              Effect.flatMap(MimoClient.MimoClient, (mimo) =>
                Effect.forEach(
                  calls,
                  (c) => Effect.zipRight(Effect.sleep(Duration.millis(c.gap)), Effect.either(mimo.chat(hello))),
                  { concurrency: 8 }
                )).pipe(
                  Effect.zip(Effect.flatMap(RateLimit.Limiter, (limiter) => limiter.snapshot)),
                  Effect.provide(layer)
                )
            )
            yield* TestClock.adjust("10 minutes")
            const [exits, [snapshot]] = yield* Fiber.join(fiber)
            if (snapshot !== undefined && snapshot.pausedUntil > 0) pausedRuns++
            return {
              sent: server.sent.map((s) => ({ ...s, at: s.at - start })),
              exits: exits.map((e) => e._tag),
              snapshot: snapshot === undefined
                ? undefined
                : { ...snapshot, pausedUntil: snapshot.pausedUntil > 0 ? snapshot.pausedUntil - start : 0 }
            }
          })
        // The same seed for both: the client spreads a retry after a 429 at random.
        const fast = yield* Effect.withRandom(runWith(layerStoreMemory), Random.make(14))
        const library = yield* Effect.withRandom(runWith(Layer.effect(Store, libraryStore)), Random.make(14))
        // Equal to the nanosecond: the library's store computes its refill in `Duration` nanoseconds, so an instant
        // derived from it (a send, a pause's end, the adaptive rate) may differ from ours in the last bits of a float
        // (2289.888889 against 2289.8888890000526), never by more.
        expect(fast).toEqual(toNanosecond(library))
        expect(fast.sent.length).toBeGreaterThanOrEqual(calls.length)
      }),
    // A new seed each run. (An exact `toEqual` here once failed one batch in four on float noise; fast-check then spent
    // minutes shrinking, which looked like a hang. Issue 13's note has the counterexample.)
    { timeout: 120_000, fastCheck: { numRuns: 40 } }
  )

  it("the sequences above paused the whole queue in some runs (pauses, cuts and drains were compared too)", () => {
    expect(pausedRuns).toBeGreaterThan(0)
  })
})
