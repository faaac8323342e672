/**
 * The rate limiter's store: the token buckets (`@effect/experimental`'s
 * `RateLimiter`) and the model pauses, in memory or shared (Redis, in
 * `@effect-mimo/ratelimit-redis`).
 *
 * @internal
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as RateLimit from "../RateLimit.js"

/** @internal */
export const Store: Context.Tag<RateLimit.Store, RateLimit.Store> = Context.GenericTag<RateLimit.Store>(
  "@effect-mimo/resilience/RateLimit/Store"
)

/** @internal */
export const makeStore = (
  pauses: Pick<RateLimit.Store, "pausedUntil" | "pause">
): Effect.Effect<RateLimit.Store, never, RateLimiter.RateLimiterStore> =>
  Effect.map(RateLimiter.make, (buckets) => ({ buckets, ...pauses }))

/** @internal */
export const memoryPauses = (): Pick<RateLimit.Store, "pausedUntil" | "pause"> => syncPauses().pauses

/** Pauses in memory, and their synchronous read. */
const syncPauses = () => {
  const map = new Map<string, number>()
  const pausedUntil = (key: string): number => map.get(key) ?? 0
  const pauses: Pick<RateLimit.Store, "pausedUntil" | "pause"> = {
    pausedUntil: (key) => Effect.sync(() => pausedUntil(key)),
    pause: (key, until) =>
      Effect.sync(() => {
        if (until > pausedUntil(key)) map.set(key, until)
      })
  }
  return { pauses, pausedUntil }
}

/**
 * The in-memory store's buckets and pauses, read and written without an `Effect` per operation: the limiter's
 * fast path when nothing waits (apps/bench, the limiter's own cost). The same buckets are the store's
 * `RateLimiterStore.tokenBucket`, so both ways in see one state.
 *
 * @internal
 */
export interface SyncStore {
  /**
   * `buckets.consume({ key, algorithm: "token-bucket", onExceeded: "delay", limit, window, tokens })` with `window`
   * `limit / rate` seconds, at Clock time `now`: the delay in milliseconds.
   */
  readonly consume: (key: string, tokens: number, limit: number, rate: number, now: number) => number
  /** The tokens the last `consume` left (its `remaining`). */
  readonly remaining: () => number
  /**
   * Whether `consume(key, tokens, limit, rate, now)` would return 0, without taking anything; `false` also when it
   * cannot tell cheaply (a bucket not yet made, or made for another limit or rate: `consume` then remakes it).
   */
  readonly givesNow: (key: string, tokens: number, limit: number, rate: number, now: number) => boolean
  /** `pausedUntil(key)`. */
  readonly pausedUntil: (key: string) => number
}

interface Bucket {
  tokens: number
  lastRefill: number
  /** The consume parameters the refill interval below was made for. */
  limit: number
  rate: number
  refill: Duration.Duration
  refillMillis: number
}

/**
 * Token buckets in memory: `@effect/experimental`'s `RateLimiterStore.layerStoreMemory` arithmetic (refill whole
 * tokens per elapsed interval, overflow below zero allowed in "delay" mode), written here because that store keeps
 * its buckets to itself and the fast path must read and write them synchronously. A property test
 * (test/Buckets.test.ts) checks every result against `RateLimiter.layerStoreMemory`.
 */
const makeMemoryBuckets = () => {
  const buckets = new Map<string, Bucket>()
  let remaining = 0

  /** The library store's `tokenBucket` (the new token count; persisted when `allowOverflow` or not negative). */
  const take = (
    key: string,
    tokens: number,
    limit: number,
    refillMillis: number,
    allowOverflow: boolean,
    now: number
  ): number => {
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: limit, lastRefill: now, limit: -1, rate: -1, refill: Duration.zero, refillMillis: 0 }
      buckets.set(key, bucket)
    } else {
      const tokensToAdd = Math.floor((now - bucket.lastRefill) / refillMillis)
      if (tokensToAdd > 0) {
        bucket.tokens = Math.min(limit, bucket.tokens + tokensToAdd)
        bucket.lastRefill += tokensToAdd * refillMillis
      }
    }
    const left = bucket.tokens - tokens
    if (allowOverflow || left >= 0) bucket.tokens = left
    return left
  }

  const tokenBucket: RateLimiter.RateLimiterStore["Type"]["tokenBucket"] = (options) =>
    Effect.clockWith((clock) =>
      Effect.sync(() =>
        take(
          options.key,
          options.tokens,
          options.limit,
          Duration.toMillis(options.refillRate),
          options.allowOverflow,
          clock.unsafeCurrentTimeMillis()
        )
      )
    )

  /** `RateLimiter.consume`'s token-bucket "delay" arithmetic, its `Duration`s made only when the rate changes. */
  const consume = (key: string, tokens: number, limit: number, rate: number, now: number): number => {
    if (tokens > limit) {
      remaining = 0
      return Duration.toMillis(Duration.millis((limit / rate) * 1000))
    }
    let bucket = buckets.get(key)
    if (bucket === undefined || bucket.limit !== limit || bucket.rate !== rate) {
      const refill = Duration.unsafeDivide(Duration.millis((limit / rate) * 1000), limit)
      const refillMillis = Duration.toMillis(refill)
      remaining = take(key, tokens, limit, refillMillis, true, now)
      bucket = buckets.get(key)!
      bucket.limit = limit
      bucket.rate = rate
      bucket.refill = refill
      bucket.refillMillis = refillMillis
    } else {
      remaining = take(key, tokens, limit, bucket.refillMillis, true, now)
    }
    return remaining >= 0 ? 0 : Duration.toMillis(Duration.times(bucket.refill, -remaining))
  }

  const givesNow = (key: string, tokens: number, limit: number, rate: number, now: number): boolean => {
    const bucket = buckets.get(key)
    if (bucket === undefined || bucket.limit !== limit || bucket.rate !== rate || tokens > limit) return false
    // `take`'s refill, read only.
    const tokensToAdd = Math.floor((now - bucket.lastRefill) / bucket.refillMillis)
    const available = tokensToAdd > 0 ? Math.min(limit, bucket.tokens + tokensToAdd) : bucket.tokens
    return available - tokens >= 0
  }

  return { tokenBucket, consume, givesNow, remaining: () => remaining }
}

/** The stores `layerStoreMemory` made, with their synchronous access. */
/** @internal */
export const inMemoryStores = new WeakMap<RateLimit.Store, SyncStore>()

/** @internal */
export const layerStoreMemory: Layer.Layer<RateLimit.Store> = Layer.effect(
  Store,
  Effect.flatMap(RateLimiter.RateLimiterStore, (library) => {
    const memory = makeMemoryBuckets()
    const { pausedUntil, pauses } = syncPauses()
    return Effect.map(
      RateLimiter.make.pipe(
        Effect.provideService(
          RateLimiter.RateLimiterStore,
          RateLimiter.RateLimiterStore.of({ fixedWindow: library.fixedWindow, tokenBucket: memory.tokenBucket })
        )
      ),
      (buckets) => {
        const store: RateLimit.Store = { buckets, ...pauses }
        inMemoryStores.set(store, {
          consume: memory.consume,
          givesNow: memory.givesNow,
          remaining: memory.remaining,
          pausedUntil
        })
        return store
      }
    )
  })
).pipe(Layer.provide(RateLimiter.layerStoreMemory))
