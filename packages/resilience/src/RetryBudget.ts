/**
 * A retry budget: a token bucket of retries, as in the AWS SDKs' standard
 * retry mode, so that a long outage does not multiply traffic.
 *
 * Every retry takes `costPerRetry` tokens (`costPerTimeout` after a
 * timeout); when the bucket cannot pay, the retry is not made and the call
 * fails with the error it has. A call that succeeds at once puts back
 * `refillPerSuccess`; one that succeeds after retries gets back the cost of
 * its last retry. Defaults (AWS's): capacity 500, 5 per retry, 10 per timeout,
 * 1 per success. In a full outage each caller gives up retrying after
 * `capacity / costPerRetry` retries (100), and traffic falls back to one
 * attempt per call; with 20 % of attempts failing, the budget stays full.
 *
 * It composes with the core's Schedules ({@link schedule}), wraps any effect
 * ({@link retry}), or decorates a `MimoClient` ({@link layer}): there the
 * budget is the quota the client itself pays from, in place of its own
 * `retryQuota` (the call option `retryQuota`), under the client's own retry
 * policy. A budget is
 * core's `RetryQuota` (the bucket every client keeps by default) shared by
 * what the layer decorates: the tokens left are the gauge
 * `mimo_retry_quota_left{quota}`; refused retries count in
 * `mimo_retry_quota_denied_total{quota}` (tagged with the budget's name).
 *
 * @since 0.1.0
 */
import type { MimoClient, MimoError, RetryQuota } from "@effect-mimo/core"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/retryBudget.js"

/**
 * Settings; each has AWS's standard-mode default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The name in the metrics' `quota` tag. Default `"default"`. */
  readonly name?: string | undefined
  /** Tokens the bucket holds, and starts with. Default 500. */
  readonly capacity?: number | undefined
  /** Tokens a retry takes. Default 5. */
  readonly costPerRetry?: number | undefined
  /** Tokens a retry after a timeout (`TransportError` with reason `Timeout`) takes. Default 10. */
  readonly costPerTimeout?: number | undefined
  /** Tokens a call that succeeded without a retry puts back. Default 1. */
  readonly refillPerSuccess?: number | undefined
}

/**
 * A retry budget: core's `RetryQuota`, the token bucket every client keeps by
 * default, here shared by what {@link layer} decorates (or by whatever you pass
 * it to).
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryBudget extends RetryQuota.RetryQuota {}

/**
 * A new budget.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "@effect-mimo/resilience"
 *
 * const budget = RetryBudget.make({ capacity: 100, costPerRetry: 5 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<RetryBudget> = internal.make

/**
 * A new budget, made outside `Effect` (for module-level wiring).
 *
 * @example
 * ```ts
 * import { RetryBudget } from "@effect-mimo/resilience"
 *
 * export const shared = RetryBudget.unsafeMake({ name: "workers" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake: (options?: Options) => RetryBudget = internal.unsafeMake

/**
 * Makes a retry Schedule pay for each retry from the budget, and stop when
 * it cannot. The budget is consulted only when the policy itself would
 * retry, so errors the policy does not retry cost nothing.
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy } from "@effect-mimo/core"
 * import { RetryBudget } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.make()
 *   return yield* Effect.retry(call, RetryPolicy.defaultPolicy.pipe(RetryBudget.schedule(budget)))
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const schedule: {
  /**
   * @since 0.1.0
   * @category combinators
   */
  (
    budget: RetryBudget
  ): <Out, In extends MimoError.MimoError, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.1.0
   * @category combinators
   */
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    budget: RetryBudget
  ): Schedule.Schedule<Out, In, R>
} = internal.schedule

/**
 * Retries an effect with `policy` under the budget, and records its success
 * (the refill, or the refund of the last retry's cost).
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy } from "@effect-mimo/core"
 * import { RetryBudget } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 *
 * const program = Effect.flatMap(
 *   RetryBudget.make(),
 *   (budget) => call.pipe(RetryBudget.retry(budget, RetryPolicy.defaultPolicy))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retry: <Out, R2>(
  budget: RetryBudget,
  policy: Schedule.Schedule<Out, MimoError.MimoError, R2>
) => <A, E extends MimoError.MimoError, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R | R2> =
  internal.retry

/**
 * The per-attempt hook that records successes into the budget, for
 * `MimoClient`'s `aroundAttempt` (make one per call). Pair it with
 * {@link schedule} on the call's `retry`. A call can instead give the budget
 * as its `retryQuota` (what {@link layer} does): the client then pays its
 * retries from it and records its successes itself.
 *
 * @example
 * ```ts
 * import { MimoClient, RetryPolicy } from "@effect-mimo/core"
 * import { RetryBudget } from "@effect-mimo/resilience"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* RetryBudget.make()
 *   const mimo = yield* MimoClient.MimoClient
 *   return yield* mimo.chat(
 *     { model: "mimo-v2-flash", messages: [{ role: "user", content: "Hi" }] },
 *     {
 *       retry: RetryPolicy.defaultPolicy.pipe(RetryBudget.schedule(budget)),
 *       aroundAttempt: RetryBudget.aroundAttempt(budget)
 *     }
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const aroundAttempt: (budget: RetryBudget) => MimoClient.AroundAttempt = internal.aroundAttempt

/**
 * Options of {@link layer}: a budget (or the settings of a new one) and,
 * optionally, a policy of its own.
 *
 * @since 0.1.0
 * @category models
 */
export interface LayerOptions extends Options {
  /** Use this budget (for example one shared with other clients) instead of making one. */
  readonly budget?: RetryBudget | undefined
  /**
   * A policy for calls without their own `retry`, in place of the client's. Default: none, the client's own
   * `retry` (the budget is the quota the client pays from, whatever its policy).
   */
  readonly policy?: Schedule.Schedule<unknown, MimoError.MimoError> | undefined
}

/**
 * A `MimoClient` decorator: every call's retries are paid from the budget.
 * It takes the `MimoClient` from context and provides the decorated one,
 * whose calls give the budget as their `retryQuota`: the client pays its own
 * policy's retries from it (in place of its `retryQuota`) and refills it on
 * success. A call's own `retryQuota` or `retry` wins.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "@effect-mimo/resilience"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * const MimoLive = RetryBudget.layer({ capacity: 200 }).pipe(
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
 * The budget's metrics, core's `RetryQuota.metrics` (`quota` tag, the
 * budget's name): tokens left, and retries refused.
 *
 * @example
 * ```ts
 * import { RetryBudget } from "@effect-mimo/resilience"
 * import { Effect, Metric } from "effect"
 *
 * const left = Metric.value(RetryBudget.metrics.left.pipe(Metric.tagged("quota", "default")))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics: {
  readonly left: Metric.Metric.Gauge<number>
  readonly denied: Metric.Metric.Counter<number>
} = internal.metrics
