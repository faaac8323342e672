import type { MimoClient } from "@effect-mimo/core"
import { RateLimit } from "@effect-mimo/resilience"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as RateLimiterRedis from "@effect/experimental/RateLimiter/Redis"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import { Redis } from "ioredis"
import type * as RedisRateLimit from "../RedisRateLimit.js"

/** @internal */
export const defaults = {
  prefix: "ratelimiter:",
  timeout: Duration.seconds(1)
} as const

/**
 * Keeps the later of the stored pause end and the new one; the key expires a little after the pause.
 * KEYS[1] = key, ARGV[1] = until (epoch ms), ARGV[2] = time to live (ms).
 */
const pauseScript = `
local current = tonumber(redis.call("GET", KEYS[1]) or "0")
local untilms = tonumber(ARGV[1])
if untilms > current then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return untilms
end
return current
`

const storeError = (message: string) => (cause: unknown) => new RateLimiter.RateLimitStoreError({ message, cause })

const isClient = (u: RedisRateLimit.StoreOptions["redis"]): u is Redis => u instanceof Redis

/** The connection for pauses: the caller's client (left open), or one of our own (closed with the scope). */
const pauseConnection = (
  redis: RedisRateLimit.StoreOptions["redis"],
  options: RedisOptions
): Effect.Effect<Redis, never, Scope.Scope> =>
  isClient(redis)
    ? Effect.succeed(redis)
    : Effect.acquireRelease(
      Effect.sync(() => {
        const connection = new Redis(options)
        // Failures come back from the commands (and the limiter fails open); no unhandled-error noise.
        connection.on("error", () => {})
        return connection
      }),
      (connection) => Effect.promise(() => connection.quit().then(() => undefined, () => connection.disconnect()))
    )

/** Our defaults under the caller's options: a command that gets no answer fails (and the limiter fails open). */
const connectionOptions = (options: RedisOptions): RedisOptions => ({
  commandTimeout: Duration.toMillis(defaults.timeout),
  maxRetriesPerRequest: 1,
  ...options
})

/** Bounds every store call by `timeout`, so that an unreachable Redis delays an attempt at most that long. */
const bounded = <A>(
  effect: Effect.Effect<A, RateLimiter.RateLimiterError>,
  timeout: Duration.Duration,
  what: string
): Effect.Effect<A, RateLimiter.RateLimiterError> =>
  Effect.timeoutFail(effect, {
    duration: timeout,
    onTimeout: () => new RateLimiter.RateLimitStoreError({ message: `Redis ${what} timed out` })
  })

/** @internal */
export const makeStore = (
  options: RedisRateLimit.StoreOptions
): Effect.Effect<RateLimit.Store, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.redisPrefix ?? defaults.prefix
    const timeout = Duration.decode(options.storeTimeout ?? defaults.timeout)
    const redisOptions = connectionOptions(isClient(options.redis) ? options.redis.options : options.redis)
    // The token buckets: @effect/experimental's RateLimiter over its Redis store (its own connection, its Lua).
    // Its connection closes with a scope of its own: `quit()` rejects when Redis is unreachable, and a store that
    // is down must not turn the layer's release into a defect.
    const bucketScope = yield* Scope.make()
    yield* Effect.addFinalizer(() =>
      Scope.close(bucketScope, Exit.void).pipe(
        Effect.timeout(timeout),
        Effect.catchAllCause((cause) => Effect.logDebug("MiMo rate limiter: closing the Redis store failed", cause))
      )
    )
    const bucketStore = yield* RateLimiterRedis.make({ ...redisOptions, prefix }).pipe(Scope.extend(bucketScope))
    const buckets = yield* RateLimiter.make.pipe(Effect.provideService(RateLimiter.RateLimiterStore, bucketStore))
    const redis = yield* pauseConnection(options.redis, redisOptions)
    const bucketsBounded: RateLimiter.RateLimiter = {
      [RateLimiter.TypeId]: RateLimiter.TypeId,
      consume: (o) => bounded(buckets.consume(o), timeout, "consume")
    }
    return {
      buckets: bucketsBounded,
      pausedUntil: (key) =>
        bounded(
          Effect.tryPromise({
            try: () => redis.get(`${prefix}${key}`),
            catch: storeError("Failed to read a rate-limit pause")
          }).pipe(Effect.map((value) => {
            const until = value === null ? 0 : Number(value)
            return Number.isFinite(until) ? until : 0
          })),
          timeout,
          "GET"
        ),
      pause: (key, until) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          until <= now ? Effect.void : bounded(
            Effect.tryPromise({
              try: () => redis.eval(pauseScript, 1, `${prefix}${key}`, Math.ceil(until), Math.ceil(until - now) + 1000),
              catch: storeError("Failed to write a rate-limit pause")
            }).pipe(Effect.asVoid),
            timeout,
            "pause"
          ))
    } satisfies RateLimit.Store
  })

/** @internal */
export const layerStore = (options: RedisRateLimit.StoreOptions): Layer.Layer<RateLimit.Store> =>
  Layer.scoped(RateLimit.Store, makeStore(options))

/** @internal */
export const layer = (
  options: RedisRateLimit.Options
): Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, never, MimoClient.MimoClient> =>
  RateLimit.layerWithStore(options).pipe(Layer.provide(layerStore(options)))

/** @internal */
export const config: Config.Config<RedisRateLimit.StoreOptions> = Config.all({
  host: Config.string("MIMO_REDIS_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.port("MIMO_REDIS_PORT").pipe(Config.withDefault(6379)),
  password: Config.option(Config.redacted("MIMO_REDIS_PASSWORD")),
  db: Config.integer("MIMO_REDIS_DB").pipe(Config.withDefault(0)),
  redisPrefix: Config.string("MIMO_REDIS_PREFIX").pipe(Config.withDefault(defaults.prefix))
}).pipe(Config.map(({ db, host, password, port, redisPrefix }) => ({
  redis: {
    host,
    port,
    db,
    ...Option.match(password, { onNone: () => ({}), onSome: (p) => ({ password: Redacted.value(p) }) })
  },
  redisPrefix
})))

/** @internal */
export const layerConfig = (
  options?: RateLimit.Options
): Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, ConfigError.ConfigError, MimoClient.MimoClient> =>
  Layer.unwrapEffect(Effect.map(config, (store) => layer({ ...options, ...store })))
