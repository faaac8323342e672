/**
 * A client-side rate limiter in front of the wire, as a `MimoClient`
 * decorator: users opt in with one `Layer`.
 *
 * MiMo limits each account per model (100 requests and 10M tokens per
 * minute), across all keys and processes. Every attempt of every call (the
 * first and each retry) goes through its model's limiter:
 *
 * 1. a **concurrency** bound (`concurrency` permits per model; a stream holds
 *    one for as long as it is open);
 * 2. a **queue**, served in order by one dispatcher per model, which admits
 *    the head when both **token buckets** allow it: requests (`burst` at once,
 *    refilled at the allowed rate) and tokens (the request's estimate, later
 *    reconciled with `usage`). Admissions are spread at the allowed rate, so
 *    a queue of 100 does not wake at once;
 * 3. **adaptive** limits: a 429 (on any attempt) **pauses the model's whole
 *    queue** until its `Retry-After`, and lowers the allowed rate
 *    multiplicatively (once per round trip: 429s to requests sent before the
 *    last decrease do not lower it again); the rate then grows back with
 *    time. The default growth is the CUBIC rule of the AWS SDKs' adaptive mode
 *    (beta 0.7, scale 0.4): it climbs back fast, then flattens near the rate
 *    that was too high, so it probes the limit seldom. AIMD (beta 0.5, linear
 *    growth) is an option. Growth is in time, not per success, so processes
 *    that share a store recover together. The measurements behind the choice
 *    are in BENCHMARKS.md ("The limiter's adaptive rule").
 *
 * The buckets are `@effect/experimental`'s `RateLimiter` (token-bucket
 * algorithm, "delay" mode), over a {@link Store}: in memory by default
 * ({@link layer}), or shared by every process through Redis with
 * `@effect-mimo/ratelimit-redis`, where a 429's pause is shared too.
 *
 * Metrics (Effect `Metric`s, tag `model`): `mimo_ratelimit_queue_length`,
 * `mimo_ratelimit_in_flight`, `mimo_ratelimit_allowed_rate`,
 * `mimo_ratelimit_wait_ms` (histogram), `mimo_ratelimit_throttled_total`
 * (429s), `mimo_ratelimit_admitted_total`; and
 * `mimo_ratelimit_store_errors_total`. A failing store never fails a call:
 * the limiter logs a warning and lets the attempt through.
 *
 * @since 0.1.0
 */
import type { ChatCompletion, MimoClient } from "@effect-mimo/core"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricState from "effect/MetricState"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/rateLimit.js"

/**
 * The limits of one model (or, at the top level of {@link Options}, of every
 * model). Defaults are the documented per-model limits.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limits {
  /** Requests per minute. Default 100. */
  readonly requestsPerMinute?: number | undefined
  /** Requests per second: when set, it replaces `requestsPerMinute` (e.g. `{ requestsPerSecond: 50, burst: 50 }`). */
  readonly requestsPerSecond?: number | undefined
  /** Requests allowed at once. Default: the request limit in its own unit (100 for 100 RPM, 50 for 50 RPS). */
  readonly burst?: number | undefined
  /** Tokens per minute. Default 10,000,000 (10,000 for `mimo-v2.5-asr`). */
  readonly tokensPerMinute?: number | undefined
  /** Tokens allowed at once. Default: `tokensPerMinute`. */
  readonly tokenBurst?: number | undefined
  /** Attempts in flight at once (a stream counts until it ends). Default 64. */
  readonly concurrency?: number | undefined
}

/**
 * How the allowed rate reacts to 429s.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdaptiveOptions {
  /** `"cubic"` (default; the AWS SDKs' adaptive mode) or `"aimd"`. */
  readonly algorithm?: "cubic" | "aimd" | undefined
  /** The multiplicative decrease: the rate becomes `beta` times what it was. Default 0.7 (cubic), 0.5 (aimd). */
  readonly beta?: number | undefined
  /** CUBIC's scale constant C, in requests/s per s³. Default 0.4. */
  readonly scale?: number | undefined
  /** AIMD's additive increase, as a fraction of the configured rate per second. Default 0.1. */
  readonly increase?: number | undefined
  /** The floor, as a fraction of the configured rate. Default 0.02. */
  readonly minRate?: number | undefined
}

/**
 * What the limiter reports on each 429.
 *
 * @since 0.1.0
 * @category models
 */
export interface ThrottledEvent {
  readonly model: string
  /** How long the model's queue is paused from now. */
  readonly retryAfter: Duration.Duration
  /** The end of the pause (epoch ms, Clock time). */
  readonly pausedUntil: number
  /** The rate allowed now (requests per second). */
  readonly allowedRate: number
}

/**
 * Settings. Every field is optional: `RateLimit.layer()` applies the
 * documented limits (100 RPM, 10M TPM per model) with adaptive CUBIC.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Limits {
  /** Limits of particular models, over the top-level ones. */
  readonly perModel?: Readonly<Record<string, Limits>> | undefined
  /** Adaptive limits: `true` (default, CUBIC), `false` (a 429 still pauses the queue, but the rate stays), or options. */
  readonly adaptive?: boolean | AdaptiveOptions | undefined
  /**
   * The token estimate of a request, taken from the token bucket before it
   * is sent and reconciled with `usage` after. Default {@link estimateTokens}.
   */
  readonly estimateTokens?: ((request: ChatCompletion.Request) => number) | undefined
  /** How long a 429 without `Retry-After` pauses the queue. Default 1 second. */
  readonly defaultPause?: Duration.DurationInput | undefined
  /** The longest pause a `Retry-After` can impose. Default 60 seconds. */
  readonly maxPause?: Duration.DurationInput | undefined
  /** The prefix of the store's keys (`<prefix><model>:requests`, `:tokens`, `:pause`). Default `"mimo:"`. */
  readonly prefix?: string | undefined
  /** Called on every 429 the limiter sees. */
  readonly onThrottled?: ((event: ThrottledEvent) => Effect.Effect<void>) | undefined
}

/**
 * One model's limiter, seen from outside.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly model: string
  /** Attempts waiting (for a permit or a slot). */
  readonly queued: number
  /** Attempts let through and not finished. */
  readonly inFlight: number
  /** Requests per second allowed now. */
  readonly allowedRate: number
  /** The configured rate (requests per second). */
  readonly maxRate: number
  /** The end of the latest pause (epoch ms, Clock time; in the past when not paused). */
  readonly pausedUntil: number
  /** 429s seen. */
  readonly throttled: number
  /** Attempts let through. */
  readonly admitted: number
}

/**
 * A running limiter: it decorates clients and reports on its models.
 *
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  /** A client whose calls go through this limiter. Several clients may share one limiter. */
  readonly wrap: (client: MimoClient.Service) => MimoClient.Service
  /** The state of every model used so far. */
  readonly snapshot: Effect.Effect<ReadonlyArray<Snapshot>>
}

/**
 * The running limiter, provided beside the decorated `MimoClient` by the
 * layers, for progress displays.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * const queued = Effect.map(
 *   Effect.flatMap(RateLimit.Limiter, (limiter) => limiter.snapshot),
 *   (models) => models.reduce((n, m) => n + m.queued, 0)
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Limiter: Context.Tag<Limiter, Limiter> = internal.Limiter

/**
 * Where the limiter keeps its state: token buckets (`@effect/experimental`'s
 * `RateLimiter`, over its memory or Redis store) and pauses (epoch ms per
 * key; `pause` only ever extends one).
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly buckets: RateLimiter.RateLimiter
  /** The end of the pause under `key` (0 when none). */
  readonly pausedUntil: (key: string) => Effect.Effect<number, RateLimiter.RateLimiterError>
  /** Pauses `key` until `until`, unless it already is paused longer. */
  readonly pause: (key: string, until: number) => Effect.Effect<void, RateLimiter.RateLimiterError>
}

/**
 * The store service, read by {@link layerWithStore} and {@link make}.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { Clock, Effect } from "effect"
 *
 * // Pause mimo-v2-flash for every limiter on this store for 5 seconds.
 * const pause = Effect.gen(function*() {
 *   const store = yield* RateLimit.Store
 *   yield* store.pause("mimo:mimo-v2-flash:pause", (yield* Clock.currentTimeMillis) + 5000)
 * }).pipe(Effect.provide(RateLimit.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export const Store: Context.Tag<Store, Store> = internal.Store

/**
 * A store from `@effect/experimental`'s `RateLimiterStore` in context and
 * the given pauses (for stores other than the memory one, e.g. Redis).
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { RateLimiter } from "@effect/experimental"
 * import { Effect, Layer } from "effect"
 *
 * const StoreLive = Layer.effect(RateLimit.Store, RateLimit.makeStore(RateLimit.memoryPauses())).pipe(
 *   Layer.provide(RateLimiter.layerStoreMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStore: (
  pauses: Pick<Store, "pausedUntil" | "pause">
) => Effect.Effect<Store, never, RateLimiter.RateLimiterStore> = internal.makeStore

/**
 * Pauses kept in this process's memory.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 *
 * const pauses = RateLimit.memoryPauses()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const memoryPauses: () => Pick<Store, "pausedUntil" | "pause"> = internal.memoryPauses

/**
 * The in-memory store: one process's buckets and pauses.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * const MimoLive = RateLimit.layerWithStore({ requestsPerMinute: 100 }).pipe(
 *   Layer.provide(RateLimit.layerStoreMemory),
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<Store> = internal.layerStoreMemory

/**
 * The default token estimate: about one token per 4 characters of message
 * text, 4 per message, a flat 1024 per image, audio or video part, plus
 * `max_completion_tokens` (1024 when unset).
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 *
 * RateLimit.estimateTokens({
 *   model: "mimo-v2-flash",
 *   messages: [{ role: "user", content: "Hello there" }],
 *   max_completion_tokens: 100
 * }) // 3 + 4 + 100 = 107
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const estimateTokens: (request: ChatCompletion.Request) => number = internal.estimateTokens

/**
 * A limiter over the {@link Store} in context; it lives as long as the scope.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * const limited = Effect.gen(function*() {
 *   const limiter = yield* RateLimit.make({ requestsPerSecond: 50, burst: 50 })
 *   const client = yield* MimoClient.MimoClient
 *   return limiter.wrap(client)
 * }).pipe(Effect.provide(RateLimit.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Limiter, never, Scope.Scope | Store> = internal.make

/**
 * The decorator: it takes the `MimoClient` from context and provides one
 * whose calls go through the limiter (and the {@link Limiter} itself), over
 * the in-memory store.
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * // The documented limits, adaptive:
 * const MimoLive = RateLimit.layer().pipe(Layer.provide(NodeMimoClient.layerConfig()))
 *
 * // A known limit of 50 requests per second, 50 at once, 100 in flight:
 * const Fast = RateLimit.layer({ requestsPerSecond: 50, burst: 50, concurrency: 100 }).pipe(
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  options?: Options
) => Layer.Layer<MimoClient.MimoClient | Limiter, never, MimoClient.MimoClient> = internal.layer

/**
 * As {@link layer}, over the {@link Store} in context (e.g. Redis, shared by
 * every process).
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * const MimoLive = RateLimit.layerWithStore().pipe(
 *   Layer.provide(RateLimit.layerStoreMemory),
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithStore: (
  options?: Options
) => Layer.Layer<MimoClient.MimoClient | Limiter, never, MimoClient.MimoClient | Store> = internal.layerWithStore

/**
 * The limiter's metrics (tag `model`, except `storeErrors`).
 *
 * @example
 * ```ts
 * import { RateLimit } from "@effect-mimo/resilience"
 * import { Metric } from "effect"
 *
 * const queued = Metric.value(RateLimit.metrics.queueLength.pipe(Metric.tagged("model", "mimo-v2-flash")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics: {
  readonly queueLength: Metric.Metric.Gauge<number>
  readonly inFlight: Metric.Metric.Gauge<number>
  readonly allowedRate: Metric.Metric.Gauge<number>
  readonly waitMillis: Metric.Metric<
    MetricKeyType.MetricKeyType.Histogram,
    number,
    MetricState.MetricState.Histogram
  >
  readonly throttled: Metric.Metric.Counter<number>
  readonly admitted: Metric.Metric.Counter<number>
  readonly storeErrors: Metric.Metric.Counter<number>
} = internal.metrics
