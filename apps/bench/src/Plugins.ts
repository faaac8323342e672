/**
 * The client-side limiters: `RateLimit` (`@effect-mimo/resilience`, in memory) and `RedisRateLimit`
 * (`@effect-mimo/ratelimit-redis`, shared through Redis).
 *
 * @since 0.1.0
 */
import type * as MimoClient from "@effect-mimo/core/MimoClient"
import * as RedisRateLimit from "@effect-mimo/ratelimit-redis/RedisRateLimit"
import * as RateLimit from "@effect-mimo/resilience/RateLimit"
import * as Layer from "effect/Layer"

/**
 * A request limit configured on the client side.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limit {
  readonly requestsPerSecond: number
  readonly burst: number
}

/**
 * A limit that never waits (to measure the limiter's own cost).
 *
 * @since 0.1.0
 * @category constants
 */
export const unlimited: Limit = { requestsPerSecond: 1_000_000, burst: 1_000_000 }

/**
 * Turns the plain client layer into a limited one.
 *
 * @since 0.1.0
 * @category models
 */
export type Decorate = (
  base: Layer.Layer<MimoClient.MimoClient>
) => Layer.Layer<MimoClient.MimoClient, unknown>

/**
 * The in-memory limiter: `RateLimit.layer` of `@effect-mimo/resilience`, configured with the
 * limit only (every other setting at its default, as a user would).
 *
 * @since 0.1.0
 * @category constructors
 */
export const limiter = (limit: Limit): Promise<Decorate | string> =>
  Promise.resolve((base) =>
    Layer.provide(RateLimit.layer({ requestsPerSecond: limit.requestsPerSecond, burst: limit.burst }), base)
  )

/**
 * The Redis-shared limiter (`RedisRateLimit.layer`), or why it is not available.
 *
 * @since 0.1.0
 * @category constructors
 */
export const redisLimiter = (limit: Limit, url: string, key: string): Promise<Decorate | string> => {
  const at = new URL(url)
  const limited = RedisRateLimit.layer({
    redis: { host: at.hostname, port: Number(at.port || 6379) },
    // A prefix per run: the processes of one run share it, runs do not.
    redisPrefix: `${key}:`,
    requestsPerSecond: limit.requestsPerSecond,
    burst: limit.burst
  })
  return Promise.resolve((base) => Layer.provide(limited, base))
}
