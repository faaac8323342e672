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
 *    refilled at the configured rate) and tokens (the request's estimate,
 *    later reconciled with `usage`). The configured rate is a hard ceiling:
 *    every attempt takes a request token, retries included;
 * 3. **429s**: the request that got one is queued again once its
 *    `Retry-After` has passed (`maxRequeues` times at most, without spending
 *    one of the call's retry attempts), and nothing else waits. The model's whole queue pauses only
 *    when 429s are **dense** — at least `denseRatio` (20 %) of the answers of
 *    the last `window` (1 s), and at least `minThrottled` (5) 429s among at
 *    least `minSamples` (10) answers — or when the server asks for `pauseAllFrom` (5 s) or more, i.e.
 *    its budget is spent for a while. A stray 429 (5 % at random, as a
 *    gateway may send) never pauses anyone;
 * 4. **adaptive** rate: a dense window cuts the allowed rate, at most once
 *    per window, to `beta` (0.9) times the rate the server accepted over the
 *    window (its non-429 answers per second), never below a quarter of the rate this
 *    process measured itself sending. The rate then grows back in time from
 *    the end of the pause: CUBIC by default (the AWS SDKs' adaptive mode,
 *    scale 0.4: back to the accepted rate in K s, then slowly above it), or
 *    AIMD (linear). Growth is in time, not per success, so processes that
 *    share a store recover together. After a first dense window, a window
 *    with half the dense ratio of 429s or more (still above the limit: the
 *    first cut's window may have held the server's burst) **soft-cuts**: the
 *    rate drops to what the server accepted over it, at once, with no pause;
 *    stray 429s stay under that ratio. The design, what it borrows from AWS,
 *    Google's client-side throttling, Envoy and Finagle, and the measurements
 *    are in the package README and BENCHMARKS.md.
 *
 * The first flight of a fresh limiter goes in rounds that double
 * (`slowStart`, TCP's); a stray 429 gives its request token back
 * (`refundStray`); after a 5xx the policy's wait is cut to 250 ms while the
 * server is otherwise healthy, and a call whose policy already retried gets
 * up to 3 uncounted extra attempts then (`quickRetry`).
 *
 * In an outage of the server (5xx), the limiter keeps the ceiling and the
 * policy's backoff (failures are dense), and the client's retry quota (core's
 * `RetryQuota`) and a `CircuitBreaker` keep retries from multiplying the load.
 *
 * The buckets are `@effect/experimental`'s `RateLimiter` (token-bucket
 * algorithm, "delay" mode), over a {@link Store}: in memory by default
 * ({@link layer}), or shared by every process through Redis with
 * `@effect-mimo/ratelimit-redis`, where a pause is shared too.
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
  /** A cut sets the rate to `beta` times the rate the server accepted over the window. Default 0.9. */
  readonly beta?: number | undefined
  /** CUBIC's scale constant C, in requests/s per s³. Default 0.4. */
  readonly scale?: number | undefined
  /** AIMD's additive increase, as a fraction of the configured rate per second. Default 0.1. */
  readonly increase?: number | undefined
  /** The floor, as a fraction of the configured rate. Default 0.02. */
  readonly minRate?: number | undefined
  /** The sliding window the 429 ratio and the rates are measured over. Default 1 second. */
  readonly window?: Duration.DurationInput | undefined
  /** The share of 429s among the window's answers that makes it dense (a pause and a cut). Default 0.2. */
  readonly denseRatio?: number | undefined
  /** The fewest answers in the window before its ratio counts. Default 10. */
  readonly minSamples?: number | undefined
  /** The fewest 429s in the window that can make it dense. Default 5. */
  readonly minThrottled?: number | undefined
}

/**
 * What the limiter reports on each 429.
 *
 * @since 0.1.0
 * @category models
 */
export interface ThrottledEvent {
  readonly model: string
  /** How long the request that got the 429 waits (its `Retry-After`, bounded by `maxPause`). */
  readonly retryAfter: Duration.Duration
  /** The end of the model's pause (epoch ms, Clock time); now when the queue is not paused. */
  readonly pausedUntil: number
  /** The rate allowed now (requests per second). */
  readonly allowedRate: number
  /** Whether this 429 paused the model's whole queue (dense 429s, or a long `Retry-After`). */
  readonly pausedAll: boolean
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
  /** Adaptive limits: `true` (default, CUBIC), `false` (dense 429s still pause the queue, but the rate stays), or options. */
  readonly adaptive?: boolean | AdaptiveOptions | undefined
  /**
   * The token estimate of a request, taken from the token bucket before it
   * is sent and reconciled with `usage` after. Default {@link estimateTokens}.
   */
  readonly estimateTokens?: ((request: ChatCompletion.Request) => number) | undefined
  /** How long a 429 without `Retry-After` holds its request (and the queue, when it pauses it). Default 1 second. */
  readonly defaultPause?: Duration.DurationInput | undefined
  /** The longest wait a `Retry-After` can impose. Default 60 seconds. */
  readonly maxPause?: Duration.DurationInput | undefined
  /** A `Retry-After` this long or longer pauses the whole queue even when 429s are rare. Default 5 seconds. */
  readonly pauseAllFrom?: Duration.DurationInput | undefined
  /** The prefix of the store's keys (`<prefix><model>:requests`, `:tokens`, `:pause`). Default `"mimo:"`. */
  readonly prefix?: string | undefined
  /** Called on every 429 the limiter sees. */
  readonly onThrottled?: ((event: ThrottledEvent) => Effect.Effect<void>) | undefined
  /**
   * How many times one call's request refused with 429 is queued again (after its `Retry-After`, behind the
   * limiter) without spending one of the call's retry attempts or its retry quota. Past it, or for a
   * `Retry-After` longer than `maxPause`, the call's retry policy decides, so a server that answers 429 forever
   * still ends the call with `RateLimitExceeded`. `0` leaves every 429 to the policy. Default 8.
   *
   * @since 0.2.0
   */
  readonly maxRequeues?: number | undefined
  /**
   * Whether a stray 429 (sparse: under half the dense ratio over the window, with the rate not cut) gives its
   * request token back, so that the ceiling counts the requests the server took, not the ones it refused.
   * Default `true`; `false` charges every attempt.
   *
   * @since 0.2.0
   */
  readonly refundStray?: boolean | undefined
  /**
   * After a 5xx or a transport failure, the wait of the call's retry policy is cut to `delay` (default 250 ms)
   * while fewer than `maxFailureRatio` (default 0.25) of the model's attempts over the window failed so (at
   * least `minSamples` of them): the queue spaces retries already, and sparse failures are not an outage. When
   * failures are dense, the policy's backoff stands. `false` keeps the policy's waits.
   *
   * @since 0.2.0
   */
  readonly quickRetry?: false | QuickRetryOptions | undefined
  /**
   * The first flight of each model in rounds that double (`initialWindow`, default 10, then 20, 40, …), each
   * opened when the previous one was answered or `probe` (default 500 ms) after it opened without a 429, until
   * the configured burst (or concurrency) went out; the first 429 holds everything until the flight's answers
   * are in, so that a limit lower than the one configured is seen before the whole burst is sent (TCP's slow
   * start). `true` (default) or options; `false` sends the whole burst at once.
   *
   * @since 0.2.0
   */
  readonly slowStart?: boolean | SlowStartOptions | undefined
}

/**
 * Options of {@link Options.quickRetry}.
 *
 * @since 0.2.0
 * @category models
 */
export interface QuickRetryOptions {
  /** The longest wait before retrying a 5xx or a transport failure while the server is healthy. Default 250 ms. */
  readonly delay?: Duration.DurationInput | undefined
  /** The share of failed attempts over the window from which the policy's own waits stand. Default 0.25. */
  readonly maxFailureRatio?: number | undefined
  /**
   * While the model's attempts are healthy (as above), a call's retryable 5xx or transport failure, once its
   * policy has retried it at least once, is sent again after `delay` without spending one of the policy's
   * attempts or the retry quota — at most `extraAttempts` times per call. A call then survives a run of sparse,
   * independent failures longer than its policy allows: with 15 % of attempts failing at random, about one call
   * in 13,000 fails all 5 attempts of the default policy; with 3 more, about one in 4 million. When failures are
   * dense none is granted, and a policy that does not retry (one attempt) is never overridden. Default 3; `0`
   * grants none.
   *
   * @since 0.2.0
   */
  readonly extraAttempts?: number | undefined
}

/**
 * Options of {@link Options.slowStart}.
 *
 * @since 0.2.0
 * @category models
 */
export interface SlowStartOptions {
  /** The first round's attempts. Default 10 (TCP's initial window). */
  readonly initialWindow?: number | undefined
  /** How long a round waits for its answers before the next one opens, when no 429 came. Default 500 ms. */
  readonly probe?: Duration.DurationInput | undefined
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
  /** The share of 429s among the answers of the last window. */
  readonly throttledRatio: number
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
  /**
   * For a store shared by several processes: this process's share of them (e.g. 1/4), so that what it measures
   * stands for the fleet. Default 1.
   */
  readonly share?: (() => number) | undefined
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
