/**
 * A circuit breaker that opens on a failure **rate**, not a streak: it counts
 * the outcomes of the last `window` (default 10 s, in ten buckets) and opens
 * when at least `minimumCalls` (default 20) were seen and `failureRate`
 * (default 50 %) of them failed. Open, it refuses calls at once with
 * `MimoError.CircuitOpen` (nothing is sent). After a short cool-down
 * (default 500 ms) it half-opens and lets one probe through: its success
 * closes the breaker (and clears the window), its failure opens it again for
 * a cool-down twice as long, up to `maxCooldown` (default 1.5 s). So after an
 * outage ends, traffic is back within about 1.5 s, while during it one probe
 * per 1.5 s reaches the server instead of every call.
 *
 * The defaults never open under the faults mix (15–20 % of attempts failing
 * at random): at 20 calls in the window the chance that half of them fail
 * at 20 % is 0.26 % per window, and at a few calls per second the window
 * holds far more than 20 (apps/bench, "Resilience").
 *
 * What counts as a failure: by default a retryable error other than a 429
 * (5xx, 408, transport failures and timeouts); a 429 means the server is
 * alive (rate limits are `RateLimit`'s job), and a 4xx means it answered.
 * Interruptions do not count. `CircuitOpen` is not retryable, so a retry
 * policy stops at once when the breaker refuses.
 *
 * Use it on any effect ({@link CircuitBreaker.protect}), per attempt of a
 * `MimoClient` call ({@link aroundAttempt}), or as a client decorator, one
 * breaker per model ({@link layer}). Metrics (tag `breaker`):
 * `mimo_circuit_state` (0 closed, 1 half-open, 2 open),
 * `mimo_circuit_rejected_total`, `mimo_circuit_opened_total`.
 *
 * @since 0.1.0
 */
import type { MimoClient, MimoError } from "@effect-mimo/core"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import * as internal from "./internal/circuitBreaker.js"

/**
 * The breaker's state.
 *
 * @since 0.1.0
 * @category models
 */
export type State = "closed" | "open" | "half-open"

/**
 * Settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The name in errors and in the metrics' `breaker` tag. Default `"default"`. */
  readonly name?: string | undefined
  /** The share of failed attempts in the window that opens the breaker, in (0, 1]. Default 0.5. */
  readonly failureRate?: number | undefined
  /** The fewest attempts in the window before the rate counts. Default 20. */
  readonly minimumCalls?: number | undefined
  /** The sliding window the rate is measured over. Default 10 seconds. */
  readonly window?: Duration.DurationInput | undefined
  /** How long it stays open the first time before a probe is let through. Default 500 ms. */
  readonly cooldown?: Duration.DurationInput | undefined
  /** Each failed probe multiplies the cool-down by this. Default 2. */
  readonly cooldownFactor?: number | undefined
  /** The longest cool-down. Default 1.5 seconds. */
  readonly maxCooldown?: Duration.DurationInput | undefined
  /** Which errors count as failures. Default: retryable `MimoError`s other than a 429, and any other error. */
  readonly isFailure?: ((error: unknown) => boolean) | undefined
}

/**
 * A circuit breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  readonly name: string
  /** The state now (`half-open` once the cool-down has passed). */
  readonly state: Effect.Effect<State>
  /** Runs `effect` through the breaker, or fails with `CircuitOpen` without running it. */
  readonly protect: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | MimoError.CircuitOpen, R>
}

/**
 * A new breaker.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ failureRate: 0.5, minimumCalls: 10, cooldown: "1 second" })
 *   return yield* breaker.protect(call).pipe(
 *     Effect.catchTag("CircuitOpen", (e) => Effect.succeed(`later: ${e.message}`))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<CircuitBreaker> = internal.make

/**
 * A new breaker, made outside `Effect`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 *
 * export const breaker = CircuitBreaker.unsafeMake({ name: "mimo" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake: (options?: Options) => CircuitBreaker = internal.unsafeMake

/**
 * The default failure test: a retryable `MimoError` other than
 * `RateLimitExceeded`, or any error that is not a `MimoError`.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 *
 * CircuitBreaker.defaultIsFailure(new MimoError.ServiceUnavailable({ message: "busy" })) // true
 * CircuitBreaker.defaultIsFailure(new MimoError.RateLimitExceeded({ message: "slow down" })) // false
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const defaultIsFailure: (error: unknown) => boolean = internal.defaultIsFailure

/**
 * The breaker as `MimoClient`'s per-attempt hook: each attempt (retries
 * included) goes through it.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make()
 *   const mimo = yield* MimoClient.MimoClient
 *   return yield* mimo.chat(
 *     { model: "mimo-v2-flash", messages: [{ role: "user", content: "Hi" }] },
 *     { aroundAttempt: CircuitBreaker.aroundAttempt(breaker) }
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const aroundAttempt: (breaker: CircuitBreaker) => MimoClient.AroundAttempt = internal.aroundAttempt

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions extends Options {
  /**
   * One breaker per model (named `<name>/<model>`, or `<model>` without a
   * name; `models()` calls use `models`), or one for the whole client.
   * Default `true`.
   */
  readonly perModel?: boolean | undefined
}

/**
 * A `MimoClient` decorator: every attempt goes through a breaker (one per
 * model by default). It takes the `MimoClient` from context and provides the
 * decorated one.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * const MimoLive = CircuitBreaker.layer({ failureRate: 0.5, minimumCalls: 20, window: "10 seconds" }).pipe(
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: LayerOptions) => Layer.Layer<MimoClient.MimoClient, never, MimoClient.MimoClient> =
  internal.layer

/**
 * The breakers' metrics (`breaker` tag).
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "@effect-mimo/resilience"
 * import { Metric } from "effect"
 *
 * const state = Metric.value(CircuitBreaker.metrics.state.pipe(Metric.tagged("breaker", "mimo-v2-flash")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics: {
  readonly state: Metric.Metric.Gauge<number>
  readonly rejected: Metric.Metric.Counter<number>
  readonly opened: Metric.Metric.Counter<number>
} = internal.metrics
