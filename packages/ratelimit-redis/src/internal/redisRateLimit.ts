import type { MimoClient } from "@effect-mimo/core"
import { RateLimit } from "@effect-mimo/resilience"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { RedisOptions } from "ioredis"
import { Redis } from "ioredis"
import type * as RedisRateLimit from "../RedisRateLimit.js"

/** @internal */
export const defaults = {
  prefix: "ratelimiter:",
  timeout: Duration.seconds(1),
  logLevel: "Debug",
  probeInterval: Duration.millis(250),
  heartbeat: Duration.seconds(1),
  memberTtl: Duration.seconds(5)
} as const

/** @internal */
export const metrics = {
  redisErrors: Metric.counter("mimo_ratelimit_redis_errors_total", {
    description: "Errors reported by the Redis connection of the shared rate limiter (ioredis 'error' events)",
    incremental: true
  }),
  redisUp: Metric.gauge("mimo_ratelimit_redis_up", {
    description: "1 while the shared rate limiter uses Redis, 0 while it runs on its in-process fallback"
  }),
  fallbacks: Metric.counter("mimo_ratelimit_redis_fallback_total", {
    description: "Times the shared rate limiter switched to its in-process fallback (a Redis outage)",
    incremental: true
  })
}

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

/**
 * A token bucket in one hash (`t`: tokens, `at`: the time they were counted), refilled one token per `refill` ms
 * up to `limit`; returns the tokens left after taking `tokens` (negative: owed, when `overflow`).
 * KEYS[1] = key; ARGV = tokens, refill (ms per token), limit, now (epoch ms), overflow (1/0).
 */
const tokenBucketScript = `
local tokens = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call("HMGET", KEYS[1], "t", "at")
local have = tonumber(state[1])
local at = tonumber(state[2])
if have == nil or at == nil then
  have = limit
  at = now
end
if refill > 0 and now > at then
  local gained = math.floor((now - at) / refill)
  if gained > 0 then
    have = math.min(limit, have + gained)
    at = at + gained * refill
  end
end
if have >= limit then
  at = now
end
local left = have - tokens
local kept = left
if left < 0 and ARGV[5] ~= "1" then
  kept = have
end
redis.call("HSET", KEYS[1], "t", kept, "at", at)
redis.call("PEXPIRE", KEYS[1], math.ceil(refill * (limit - kept)) + 1000)
return left
`

const storeError = (message: string) => (cause: unknown) => new RateLimiter.RateLimitStoreError({ message, cause })

const isClient = (u: RedisRateLimit.StoreOptions["redis"]): u is Redis => u instanceof Redis

/**
 * Our defaults under the caller's options: no offline queue (a command while disconnected fails at once, so an
 * outage is seen in one store call), one retry per command, a command timeout, and reconnects at most 500 ms
 * apart (so the limiter is back on Redis within about half a second of its return).
 */
const connectionOptions = (options: RedisOptions, timeout: Duration.Duration): RedisOptions => ({
  commandTimeout: Duration.toMillis(timeout),
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: (times) => Math.min(times * 50, 500),
  ...options
})

/** Bounds a store call by `timeout`. */
const bounded = <A>(
  effect: Effect.Effect<A, RateLimiter.RateLimiterError>,
  timeout: Duration.Duration,
  what: string
): Effect.Effect<A, RateLimiter.RateLimiterError> =>
  Effect.timeoutFail(effect, {
    duration: timeout,
    onTimeout: () => new RateLimiter.RateLimitStoreError({ message: `Redis ${what} timed out` })
  })

/** `@effect/experimental`'s `RateLimiterStore` over our connection (token buckets only: all the limiter uses). */
const redisBuckets = (redis: Redis, prefix: string): RateLimiter.RateLimiterStore["Type"] => ({
  fixedWindow: () =>
    Effect.fail(
      new RateLimiter.RateLimitStoreError({
        message: "the MiMo Redis store keeps token buckets only (no fixed window)"
      })
    ),
  tokenBucket: (o) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.tryPromise({
        try: () =>
          redis.eval(
            tokenBucketScript,
            1,
            `${prefix}${o.key}`,
            o.tokens,
            Duration.toMillis(o.refillRate),
            o.limit,
            now,
            o.allowOverflow ? 1 : 0
          ),
        catch: storeError("Failed to take from a rate-limit bucket")
      }).pipe(Effect.map((left) => Number(left))))
})

/** @internal */
export const makeStore = (
  options: RedisRateLimit.StoreOptions
): Effect.Effect<RateLimit.Store, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.redisPrefix ?? defaults.prefix
    const timeout = Duration.decode(options.storeTimeout ?? defaults.timeout)
    const level = LogLevel.fromLiteral(options.logLevel ?? defaults.logLevel)
    const runtime = yield* Effect.runtime<never>()
    const log = (message: string, annotations: Record<string, unknown>) =>
      Runtime.runFork(runtime)(Effect.logWithLevel(level, message).pipe(Effect.annotateLogs(annotations)))

    // --- the connection: the caller's client (left open), or ours (closed with the scope) ---------------------
    const given = options.redis
    const redis = isClient(given) ? given : yield* Effect.acquireRelease(
      Effect.sync(() => new Redis(connectionOptions(given, timeout))),
      (connection) =>
        Effect.promise(() => connection.quit().then(() => undefined, () => connection.disconnect())).pipe(
          Effect.timeout(timeout),
          Effect.catchAllCause(() => Effect.sync(() => connection.disconnect()))
        )
    )

    // --- health: Redis, or the in-process fallback --------------------------------------------------------------
    // Commands are not queued while disconnected: wait (at most `storeTimeout`) for the connection to be ready.
    const ready = redis.status === "ready" || (yield* Effect.async<boolean>((resume) => {
      const onReady = () => resume(Effect.succeed(true))
      redis.once("ready", onReady)
      return Effect.sync(() => redis.off("ready", onReady))
    }).pipe(Effect.timeoutTo({ duration: timeout, onTimeout: () => false, onSuccess: (r) => r })))
    let up = ready
    /** The outages so far (the fallback's buckets start empty in each). */
    let outages = up ? 0 : 1
    metrics.redisUp.unsafeUpdate(up ? 1 : 0, [])
    if (!up) metrics.fallbacks.unsafeUpdate(1, [])
    const markDown = (reason: string): void => {
      if (!up) return
      up = false
      outages++
      metrics.redisUp.unsafeUpdate(0, [])
      metrics.fallbacks.unsafeUpdate(1, [])
      log("MiMo rate limiter: Redis is unreachable; limiting in process at this process's share", {
        "mimo.ratelimit.reason": reason,
        "mimo.ratelimit.share": share()
      })
    }
    const markUp = (): void => {
      if (up) return
      up = true
      metrics.redisUp.unsafeUpdate(1, [])
      log("MiMo rate limiter: Redis is back; the limit is shared again", {})
    }
    // ioredis reports connection trouble as 'error' events: a log line at the caller's level and a metric,
    // never its "Unhandled error event" on stderr.
    const onError = (error: Error) => {
      metrics.redisErrors.unsafeUpdate(1, [])
      log("MiMo rate limiter: Redis connection error", { "mimo.ratelimit.error": error.message })
    }
    const onClose = () => markDown("connection closed")
    const onReady = () => markUp()
    redis.on("error", onError)
    redis.on("close", onClose)
    redis.on("ready", onReady)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        redis.off("error", onError)
        redis.off("close", onClose)
        redis.off("ready", onReady)
        // ioredis may still report the closing connection: keep it quiet.
        redis.on("error", () => {})
      })
    )

    // --- this process's share of the limit while Redis is down ---------------------------------------------------
    // Every process keeps its id in a sorted set with a heartbeat; the share is 1 / the live members last seen.
    const memberKey = `${prefix}members`
    const memberId = `${process.pid}:${Math.random().toString(36).slice(2)}`
    let members = 1
    const share = (): number => options.fallbackShare ?? 1 / Math.max(1, members)
    const heartbeat = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.tryPromise(() =>
        redis.multi()
          .zadd(memberKey, now, memberId)
          .zremrangebyscore(memberKey, "-inf", now - Duration.toMillis(defaults.memberTtl))
          .zcard(memberKey)
          .pexpire(memberKey, Duration.toMillis(defaults.memberTtl) * 2)
          .exec()
      )).pipe(
        Effect.map((replies) => {
          const count = Number(replies?.[2]?.[1])
          if (Number.isFinite(count) && count > 0) members = count
        }),
        Effect.ignore
      )

    // While down: probe every 250 ms (a Redis that hung does not close the connection, so 'ready' never comes);
    // while up: the membership heartbeat.
    const probe = Effect.tryPromise(() => redis.ping()).pipe(
      Effect.timeout(timeout),
      Effect.flatMap(() => Effect.sync(() => redis.status === "ready" && markUp())),
      Effect.ignore
    )
    let sinceHeartbeat = Number.POSITIVE_INFINITY
    const tick = Effect.suspend(() => {
      if (!up) return probe
      sinceHeartbeat += Duration.toMillis(defaults.probeInterval)
      if (sinceHeartbeat < Duration.toMillis(defaults.heartbeat)) return Effect.void
      sinceHeartbeat = 0
      return heartbeat
    })
    yield* Effect.forkScoped(Effect.repeat(tick, Schedule.spaced(defaults.probeInterval)))

    // --- buckets and pauses: Redis while up, the fallback while down ----------------------------------------------
    const shared = yield* RateLimiter.make.pipe(
      Effect.provideService(RateLimiter.RateLimiterStore, redisBuckets(redis, prefix))
    )
    const local = yield* RateLimiter.make.pipe(Effect.provide(RateLimiter.layerStoreMemory))
    const localPauses = RateLimit.memoryPauses()

    // The fallback takes this process's share of the limit: a bucket `share` times the size, refilled `share` times
    // as fast (the window is stretched by the bucket's rounding, so that the processes' rates add up to the limit,
    // not above it). Each bucket starts an outage empty: the shared one was in use, and the server's own bucket may
    // be empty too, so a full local burst in every process at once would overshoot the account's limit at the
    // switch (4 processes at 50 req/s: about 40 429s, apps/bench's Redis outage row).
    const drainedIn = new Map<string, number>()
    const fallbackConsume: RateLimiter.RateLimiter["consume"] = (o) => {
      const s = share()
      const limit = Math.max(1, Math.round(o.limit * s))
      const window = Duration.millis((Duration.toMillis(Duration.decode(o.window)) * limit) / (o.limit * s))
      const scaled = { ...o, limit, window }
      if (drainedIn.get(o.key) === outages) return local.consume(scaled)
      drainedIn.set(o.key, outages)
      return Effect.zipRight(local.consume({ ...scaled, tokens: limit, onExceeded: "delay" }), local.consume(scaled))
    }

    const viaRedis = <A>(
      what: string,
      remote: () => Effect.Effect<A, RateLimiter.RateLimiterError>,
      fallback: () => Effect.Effect<A, RateLimiter.RateLimiterError>
    ): Effect.Effect<A, RateLimiter.RateLimiterError> =>
      Effect.suspend(() =>
        up
          ? bounded(remote(), timeout, what).pipe(
            // A store failure is an outage; an exceeded limit is an answer.
            Effect.catchIf((error) => error.reason === "StoreError", (error) => {
              markDown(error.message)
              return fallback()
            })
          )
          : fallback()
      )

    const buckets: RateLimiter.RateLimiter = {
      [RateLimiter.TypeId]: RateLimiter.TypeId,
      consume: (o) =>
        viaRedis("consume", () => shared.consume(o), () => fallbackConsume(o)).pipe(
          // "delay" mode only ever fails on the store: the fallback is in memory.
          Effect.catchAll((error) => error.reason === "StoreError" ? fallbackConsume(o) : Effect.fail(error))
        )
    }

    return {
      buckets,
      share: () => 1 / Math.max(1, members),
      pausedUntil: (key) =>
        viaRedis(
          "GET",
          () =>
            Effect.tryPromise({
              try: () => redis.get(`${prefix}${key}`),
              catch: storeError("Failed to read a rate-limit pause")
            }).pipe(Effect.flatMap((value) => {
              const stored = value === null ? 0 : Number(value)
              return Effect.map(
                localPauses.pausedUntil(key),
                (mine) => Math.max(mine, Number.isFinite(stored) ? stored : 0)
              )
            })),
          () => localPauses.pausedUntil(key)
        ),
      pause: (key, until) =>
        Effect.zipRight(
          localPauses.pause(key, until),
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            until <= now ? Effect.void : viaRedis(
              "pause",
              () =>
                Effect.tryPromise({
                  try: () =>
                    redis.eval(pauseScript, 1, `${prefix}${key}`, Math.ceil(until), Math.ceil(until - now) + 1000),
                  catch: storeError("Failed to write a rate-limit pause")
                }).pipe(Effect.asVoid),
              () => Effect.void
            ))
        )
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
  redisPrefix: Config.string("MIMO_REDIS_PREFIX").pipe(Config.withDefault(defaults.prefix)),
  logLevel: Config.literal("All", "Fatal", "Error", "Warning", "Info", "Debug", "Trace", "None")(
    "MIMO_REDIS_LOG_LEVEL"
  ).pipe(Config.withDefault(defaults.logLevel))
}).pipe(Config.map(({ db, host, logLevel, password, port, redisPrefix }) => ({
  redis: {
    host,
    port,
    db,
    ...Option.match(password, { onNone: () => ({}), onSome: (p) => ({ password: Redacted.value(p) }) })
  },
  redisPrefix,
  logLevel
})))

/** @internal */
export const layerConfig = (
  options?: RateLimit.Options
): Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, ConfigError.ConfigError, MimoClient.MimoClient> =>
  Layer.unwrapEffect(Effect.map(config, (store) => layer({ ...options, ...store })))
