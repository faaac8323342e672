/**
 * The `RateLimit` limiter of `@effect-mimo/resilience`, shared by every
 * process and machine through Redis: MiMo counts its limits per account,
 * across all keys and processes, so a fleet of workers must share one budget.
 *
 * - The request and token buckets live in Redis (one Lua script per
 *   reservation, over `@effect/experimental`'s `RateLimiter`): every process
 *   reserves its slots from the same bucket, so N processes together keep
 *   one rate.
 * - A pause (dense 429s, or a long `Retry-After`) is shared too: a key holds
 *   the pause's end (epoch ms); a process that sees a later pause than it
 *   knew pauses its own queue and cuts its own rate.
 *
 * **When Redis is down** (killed, unreachable, or not answering within
 * `storeTimeout`), the first store call that fails — or the connection's
 * `close` event, whichever comes first — switches the limiter to its
 * **in-process fallback**: the same limiter over memory, at this process's
 * share of the limit (1 / the number of processes that kept a heartbeat in
 * Redis over the last 5 s, or `fallbackShare`), its buckets starting each
 * outage empty (no burst at the switch, when the shared budget was just
 * spent) and refilled at exactly that share of the rate. No admission waits for
 * Redis while it is down: the fleet keeps about its full limit, each
 * process its share. The connection reconnects every ≤ 500 ms, and a probe
 * runs every 250 ms; the limiter is back on the shared buckets as soon as
 * Redis answers (within about 0.5 s). ioredis's errors are log lines at
 * `logLevel` (default `Debug`: silent unless asked for) and the counter
 * `mimo_ratelimit_redis_errors_total`; `mimo_ratelimit_redis_up` (1/0) and
 * `mimo_ratelimit_redis_fallback_total` tell the outages. Nothing is
 * printed that the program did not ask for, and no call fails for Redis.
 *
 * Clocks: bucket refills and pauses use each process's clock; keep machines
 * NTP-synchronised.
 *
 * @since 0.1.0
 */
import type { MimoClient } from "@effect-mimo/core"
import type { RateLimit } from "@effect-mimo/resilience"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import type * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import type { Redis, RedisOptions } from "ioredis"
import * as internal from "./internal/redisRateLimit.js"

/**
 * Where the shared state lives.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreOptions {
  /**
   * `ioredis` options (one connection is opened, closed with the layer; it
   * does not queue commands while disconnected, so an outage is seen at
   * once), or a client of yours (left open; give it `enableOfflineQueue:
   * false` for the same fast detection).
   */
  readonly redis: RedisOptions | Redis
  /** The prefix of every Redis key. Default `"ratelimiter:"` (`@effect/experimental`'s). */
  readonly redisPrefix?: string | undefined
  /** The longest a Redis call may take before the limiter switches to its in-process fallback. Default 1 second. */
  readonly storeTimeout?: Duration.DurationInput | undefined
  /**
   * This process's share of the limit while Redis is down, in (0, 1]. Default: 1 / the processes that kept a
   * heartbeat in Redis over the last 5 seconds.
   */
  readonly fallbackShare?: number | undefined
  /** The level of the log lines about the Redis connection (ioredis errors, outages, recovery). Default `"Debug"`. */
  readonly logLevel?: LogLevel.Literal | undefined
}

/**
 * The limiter's settings (see `RateLimit.Options`; limits are the account's,
 * shared by all processes) and where to share them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends RateLimit.Options, StoreOptions {}

/**
 * The Redis store for `RateLimit.layerWithStore`.
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Effect } from "effect"
 *
 * const store = Effect.scoped(RedisRateLimit.makeStore({ redis: { host: "127.0.0.1", port: 6379 } }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStore: (options: StoreOptions) => Effect.Effect<RateLimit.Store, never, Scope.Scope> =
  internal.makeStore

/**
 * The Redis store as a layer.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Layer } from "effect"
 *
 * const MimoLive = RateLimit.layerWithStore({ requestsPerMinute: 100 }).pipe(
 *   Layer.provide(RedisRateLimit.layerStore({ redis: { host: "redis.internal" } })),
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: (options: StoreOptions) => Layer.Layer<RateLimit.Store> = internal.layerStore

/**
 * The decorator: it takes the `MimoClient` from context and provides one
 * whose calls go through the shared limiter (and the `RateLimit.Limiter`).
 *
 * @example
 * ```ts
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Layer } from "effect"
 *
 * // Every worker, on every machine, shares the account's 100 RPM:
 * const MimoLive = RedisRateLimit.layer({
 *   redis: { host: "redis.internal", port: 6379 },
 *   requestsPerMinute: 100
 * }).pipe(Layer.provide(NodeMimoClient.layerConfig()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  options: Options
) => Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, never, MimoClient.MimoClient> = internal.layer

/**
 * The store settings read from configuration: `MIMO_REDIS_HOST` (default
 * `127.0.0.1`), `MIMO_REDIS_PORT` (6379), `MIMO_REDIS_PASSWORD` (redacted,
 * optional), `MIMO_REDIS_DB` (0), `MIMO_REDIS_PREFIX` (`ratelimiter:`).
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Effect } from "effect"
 *
 * const settings = Effect.runSync(RedisRateLimit.config)
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<StoreOptions> = internal.config

/**
 * {@link layer} with the store settings of {@link config}.
 *
 * @example
 * ```ts
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Layer } from "effect"
 *
 * const MimoLive = RedisRateLimit.layerConfig({ requestsPerMinute: 100 }).pipe(
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: (
  options?: RateLimit.Options
) => Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, ConfigError.ConfigError, MimoClient.MimoClient> =
  internal.layerConfig

/**
 * The Redis store's metrics: connection errors, whether Redis is in use (1)
 * or the in-process fallback (0), and the switches to the fallback.
 *
 * @example
 * ```ts
 * import { RedisRateLimit } from "@effect-mimo/ratelimit-redis"
 * import { Metric } from "effect"
 *
 * const up = Metric.value(RedisRateLimit.metrics.redisUp)
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const metrics: {
  readonly redisErrors: Metric.Metric.Counter<number>
  readonly redisUp: Metric.Metric.Gauge<number>
  readonly fallbacks: Metric.Metric.Counter<number>
} = internal.metrics
