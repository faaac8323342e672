/**
 * A circuit breaker: after `failureThreshold` consecutive failures it opens
 * and refuses calls at once with `MimoError.CircuitOpen` (nothing is sent);
 * after `cooldown` it half-opens and lets one probe through; the probe's
 * success closes it, its failure opens it for another cool-down.
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
  /** Consecutive failures that open the breaker. Default 5. */
  readonly failureThreshold?: number | undefined
  /** How long it stays open before a probe is let through. Default 30 seconds. */
  readonly cooldown?: Duration.DurationInput | undefined
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
 *   const breaker = yield* CircuitBreaker.make({ failureThreshold: 3, cooldown: "10 seconds" })
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
 * const MimoLive = CircuitBreaker.layer({ failureThreshold: 5, cooldown: "30 seconds" }).pipe(
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
