/**
 * The limiter's buckets in its store, for one model: a reservation (one
 * request and its token estimate, at the allowed rate, the request bucket
 * shrinking with the rate), emptying the request bucket, and debiting or
 * crediting tokens after the fact. Every store failure lets the attempt
 * through (fails open), counted and logged. Tested alone (test/Buckets.test.ts).
 *
 * @internal
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as RateLimit from "../RateLimit.js"
import { inMemoryStores } from "./limiterStore.js"
import type { Resolved } from "./limits.js"

/** @internal */
export interface Model {
  readonly keys: { readonly requests: string; readonly tokens: string }
  readonly limits: Resolved
}

/** @internal */
export const make = (
  store: RateLimit.Store,
  storeErrors: Metric.Metric.Counter<number>,
  inMemory: boolean
) => {
  const storeFailed = (operation: string) => (error: RateLimiter.RateLimiterError) =>
    Effect.zipRight(
      Metric.increment(storeErrors),
      Effect.logWarning("MiMo rate limiter: store failed; letting the attempt through").pipe(
        Effect.annotateLogs({ "mimo.ratelimit.operation": operation, "mimo.ratelimit.error": error.message })
      )
    )

  const storeDefect = (operation: string, defect: unknown) =>
    Effect.zipRight(
      Metric.increment(storeErrors),
      Effect.logError("MiMo rate limiter: store defect; letting the attempt through", defect).pipe(
        Effect.annotateLogs({ "mimo.ratelimit.operation": operation })
      )
    )

  const consume = (key: string, tokens: number, limit: number, rate: number) =>
    store.buckets.consume({
      key,
      algorithm: "token-bucket",
      onExceeded: "delay",
      limit,
      // The store refills `limit` tokens per `window`: one token every 1000 / rate ms.
      window: Duration.millis((limit / rate) * 1000),
      tokens
    })

  /** The request bucket's size at `rate`: it shrinks with the rate, so a pause does not end in a full-size burst. */
  const bucketSize = (s: Model, rate: number) => Math.max(1, Math.round((s.limits.burst * rate) / s.limits.rate))

  /** The in-memory store's synchronous access (`inMemory` and made by `layerStoreMemory`), else `undefined`. */
  const sync = inMemory ? inMemoryStores.get(store) : undefined

  /**
   * `reserve` with plain arithmetic at Clock time `now`, for the in-memory store: the same buckets, the same
   * decisions, no `Effect` per bucket (apps/bench, the limiter's own cost). `undefined` for any other store.
   */
  const reserveSync = sync === undefined ? undefined : (s: Model, cost: number, rate: number, now: number): number => {
    const requests = sync.consume(s.keys.requests, 1, bucketSize(s, rate), rate, now)
    const tokens = Math.min(Math.ceil(cost), s.limits.tokenBurst)
    return tokens <= 0
      ? requests
      : Math.max(requests, sync.consume(s.keys.tokens, tokens, s.limits.tokenBurst, s.limits.tokenRate, now))
  }

  /**
   * `reserveSync` when both buckets give at once (it then returns 0): `true`, the reservation made; `false`,
   * nothing taken (the caller reserves the usual way). `undefined` for any other store than the in-memory one.
   */
  const reserveNowSync = sync === undefined || reserveSync === undefined ?
    undefined :
    (s: Model, cost: number, rate: number, now: number): boolean => {
      const tokens = Math.min(Math.ceil(cost), s.limits.tokenBurst)
      if (
        !sync.givesNow(s.keys.requests, 1, bucketSize(s, rate), rate, now) ||
        (tokens > 0 && !sync.givesNow(s.keys.tokens, tokens, s.limits.tokenBurst, s.limits.tokenRate, now))
      ) return false
      reserveSync(s, cost, rate, now)
      return true
    }

  /** Reserves one request and `cost` tokens; the milliseconds until the reservation is due. */
  const reserve = (s: Model, cost: number, rate: number): Effect.Effect<number> => {
    if (reserveSync !== undefined) {
      return Effect.clockWith((clock) => Effect.succeed(reserveSync(s, cost, rate, clock.unsafeCurrentTimeMillis())))
    }
    // Token counts stay whole numbers (the store multiplies durations by them).
    const requests = consume(s.keys.requests, 1, bucketSize(s, rate), rate)
    const tokens = Math.min(Math.ceil(cost), s.limits.tokenBurst)
    const both = tokens <= 0
      ? Effect.map(requests, (r) => Duration.toMillis(r.delay))
      : inMemory
      // In memory both are synchronous: one after the other, as `Effect.all` without concurrency would run them,
      // without its machinery (apps/bench, the limiter's own cost); a remote store (Redis) does its two round
      // trips at once.
      ? Effect.flatMap(requests, (r) =>
        Effect.map(
          consume(s.keys.tokens, tokens, s.limits.tokenBurst, s.limits.tokenRate),
          (t) => Math.max(Duration.toMillis(r.delay), Duration.toMillis(t.delay))
        ))
      : Effect.map(
        Effect.all([requests, consume(s.keys.tokens, tokens, s.limits.tokenBurst, s.limits.tokenRate)], {
          concurrency: 2
        }),
        ([r, t]) => Math.max(Duration.toMillis(r.delay), Duration.toMillis(t.delay))
      )
    return both.pipe(
      Effect.catchAll((error) => Effect.as(storeFailed("consume")(error), 0)),
      Effect.catchAllDefect((defect) => Effect.as(storeDefect("consume", defect), 0))
    )
  }

  /**
   * Empties the request bucket: the server said its own is empty (a dense window). The bucket then refills
   * during the pause at the (lowered) rate, so the burst after the pause is what the server can have gathered.
   */
  const drain = (s: Model, rate: number): Effect.Effect<void> => {
    const limit = bucketSize(s, rate)
    if (sync !== undefined) {
      return Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        sync.consume(s.keys.requests, 0, limit, rate, now)
        const remaining = sync.remaining()
        if (remaining > 0) sync.consume(s.keys.requests, remaining, limit, rate, now)
        return Effect.void
      })
    }
    return consume(s.keys.requests, 0, limit, rate).pipe(
      Effect.flatMap((r) => r.remaining > 0 ? consume(s.keys.requests, r.remaining, limit, rate) : Effect.void),
      Effect.asVoid,
      Effect.catchAll(storeFailed("drain"))
    )
  }

  /** `adjustTokens` at Clock time `now` in one synchronous step, for the in-memory store; else `undefined`. */
  const adjustTokensSync = sync === undefined ? undefined : (s: Model, delta: number, now: number): void => {
    if (delta === 0 || !Number.isFinite(delta)) return
    sync.consume(
      s.keys.tokens,
      Math.min(Math.round(delta), s.limits.tokenBurst),
      s.limits.tokenBurst,
      s.limits.tokenRate,
      now
    )
  }

  /** Debits (or, when negative, credits back) tokens after the fact: a usage reconciliation. */
  const adjustTokens = (s: Model, delta: number): Effect.Effect<void> =>
    delta === 0 || !Number.isFinite(delta)
      ? Effect.void
      : adjustTokensSync !== undefined
      ? Effect.clockWith((clock) => {
        adjustTokensSync(s, delta, clock.unsafeCurrentTimeMillis())
        return Effect.void
      })
      : consume(
        s.keys.tokens,
        Math.min(Math.round(delta), s.limits.tokenBurst),
        s.limits.tokenBurst,
        s.limits.tokenRate
      ).pipe(Effect.asVoid, Effect.catchAll(storeFailed("adjust")))

  return {
    storeFailed,
    storeDefect,
    consume,
    bucketSize,
    reserve,
    reserveSync,
    reserveNowSync,
    drain,
    adjustTokens,
    adjustTokensSync
  }
}
