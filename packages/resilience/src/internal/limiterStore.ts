/**
 * The rate limiter's store: the token buckets (`@effect/experimental`'s
 * `RateLimiter`) and the model pauses, in memory or shared (Redis, in
 * `@effect-mimo/ratelimit-redis`).
 *
 * @internal
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
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
export const memoryPauses = (): Pick<RateLimit.Store, "pausedUntil" | "pause"> => {
  const pauses = new Map<string, number>()
  return {
    pausedUntil: (key) => Effect.sync(() => pauses.get(key) ?? 0),
    pause: (key, until) =>
      Effect.sync(() => {
        if (until > (pauses.get(key) ?? 0)) pauses.set(key, until)
      })
  }
}

/** The stores `layerStoreMemory` made: their operations are synchronous. */
/** @internal */
export const inMemoryStores = new WeakSet<RateLimit.Store>()

/** @internal */
export const layerStoreMemory: Layer.Layer<RateLimit.Store> = Layer.effect(
  Store,
  Effect.suspend(() => makeStore(memoryPauses())).pipe(Effect.tap((store) => inMemoryStores.add(store)))
).pipe(Layer.provide(RateLimiter.layerStoreMemory))
