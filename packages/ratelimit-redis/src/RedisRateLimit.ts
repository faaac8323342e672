/**
 * The core's `RateLimit` limiter, shared by every process and machine
 * through Redis: MiMo counts its limits per account, across all keys and
 * processes, so a fleet of workers must share one budget.
 *
 * - The request and token buckets are `@effect/experimental`'s `RateLimiter`
 *   over its Redis store (`@effect/experimental/RateLimiter/Redis`, Lua
 *   scripts on `ioredis`): every process reserves its slots from the same
 *   bucket, so N processes together keep one rate.
 * - A 429's pause is shared too: a key holds the pause's end (epoch ms); a
 *   process that sees a later pause than it knew pauses its own queue and
 *   lowers its own allowed rate, so one process's 429 slows the others.
 *   The adaptive rate grows back with time, not with successes, so the
 *   processes recover together.
 *
 * Clocks: bucket refills and pauses use each process's clock (as
 * `@effect/experimental`'s store does); keep machines NTP-synchronised.
 * Every Redis call is bounded by `storeTimeout` (default 1 s); when Redis
 * fails, the limiter logs a warning and lets the attempt through.
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
   * `ioredis` options, or a client. The buckets always use a connection of
   * their own (`@effect/experimental`'s store opens it from these options,
   * or from the client's `options`); pauses use the given client, or one
   * more connection. Connections opened here close with the layer.
   */
  readonly redis: RedisOptions | Redis
  /** The prefix of every Redis key. Default `"ratelimiter:"` (`@effect/experimental`'s). */
  readonly redisPrefix?: string | undefined
  /** The longest a Redis call may take before the limiter fails open. Default 1 second. */
  readonly storeTimeout?: Duration.DurationInput | undefined
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
