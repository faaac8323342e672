/**
 * A retry quota: a token bucket of retries shared by every call of a client,
 * so that an outage is not multiplied by retries. It is the AWS SDKs'
 * standard retry quota: every retry takes `costPerRetry` tokens
 * (`costPerTimeout` after a timeout); when the bucket cannot pay, the retry is
 * not made and the call fails with the error it has. A call that succeeds at
 * once puts back `refillPerSuccess`; one that succeeds after retries gets back
 * the cost of its last retry.
 *
 * `MimoClient` has one by default (`Options.retryQuota`): capacity 500, 5 per
 * retry, 10 per timeout, 1 per success. In a full outage the client makes at
 * most `capacity / costPerRetry` = 100 retries in all, then one attempt per
 * call: at 40 calls/s for 20 s, 800 calls reach the server as ≈ 900 requests
 * (1.1×) instead of up to 5× (apps/bench, "Resilience"). With 20 % of attempts
 * failing, each call puts back more than it takes (+0.8 for first-time
 * successes, about −0.25 for the retries that failed again), so the quota
 * stays full and no retry is refused.
 *
 * The tokens left are the gauge `mimo_retry_quota_left{quota}`; refused
 * retries count in `mimo_retry_quota_denied_total{quota}`.
 *
 * @since 0.2.0
 */
import type * as Effect from "effect/Effect"
import type * as Metric from "effect/Metric"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/retryQuota.js"
import type * as MimoError from "./MimoError.js"

/**
 * Settings; each has AWS's standard-mode default.
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** The name in the metrics' `quota` tag. Default `"client"`. */
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
 * A retry quota.
 *
 * @since 0.2.0
 * @category models
 */
export interface RetryQuota {
  readonly name: string
  readonly capacity: number
  /** The tokens left now. */
  readonly left: Effect.Effect<number>
  /** What a retry after `error` costs. */
  readonly costOf: (error: MimoError.MimoError) => number
  /** Takes the cost of a retry after `error`: `true` when paid, `false` (nothing taken) when the quota is short. */
  readonly withdraw: (error: MimoError.MimoError) => Effect.Effect<boolean>
  /**
   * Records a call that succeeded: pass the failure its last retry followed
   * (its cost is given back), or nothing when it succeeded at once
   * (`refillPerSuccess` is added). Never above `capacity`.
   */
  readonly recordSuccess: (retriedAfter?: MimoError.MimoError) => Effect.Effect<void>
  /** {@link RetryQuota.recordSuccess}, synchronously (the client's hot path). */
  readonly unsafeRecordSuccess: (retriedAfter?: MimoError.MimoError) => void
}

/**
 * A new quota.
 *
 * @example
 * ```ts
 * import { RetryQuota } from "@effect-mimo/core"
 *
 * const quota = RetryQuota.make({ capacity: 100, costPerRetry: 5 })
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<RetryQuota> = internal.make

/**
 * A new quota, made outside `Effect` (for module-level wiring, or to share
 * one between clients through `MimoClient`'s `retryQuota` option).
 *
 * @example
 * ```ts
 * import { MimoClient, RetryQuota } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * const shared = RetryQuota.unsafeMake({ name: "workers" })
 * const options: MimoClient.Options = { apiKey: Redacted.make("sk-..."), retryQuota: shared }
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const unsafeMake: (options?: Options) => RetryQuota = internal.unsafeMake

/**
 * Makes a retry Schedule pay for each retry from the quota, and stop when it
 * cannot. The quota is consulted only when the policy itself would retry, so
 * errors the policy does not retry cost nothing.
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy, RetryQuota } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 *
 * const quota = RetryQuota.unsafeMake()
 * const program = Effect.retry(call, RetryPolicy.defaultPolicy.pipe(RetryQuota.schedule(quota)))
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const schedule: {
  /**
   * @since 0.2.0
   * @category combinators
   */
  (
    quota: RetryQuota
  ): <Out, In extends MimoError.MimoError, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.2.0
   * @category combinators
   */
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    quota: RetryQuota
  ): Schedule.Schedule<Out, In, R>
} = internal.schedule

/**
 * The defaults: AWS's standard retry quota.
 *
 * @example
 * ```ts
 * import { RetryQuota } from "@effect-mimo/core"
 *
 * RetryQuota.defaults.capacity / RetryQuota.defaults.costPerRetry // 100 retries in a full outage
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaults: {
  readonly name: string
  readonly capacity: number
  readonly costPerRetry: number
  readonly costPerTimeout: number
  readonly refillPerSuccess: number
} = internal.defaults

/**
 * The quota's metrics (`quota` tag): tokens left, and retries refused.
 *
 * @example
 * ```ts
 * import { RetryQuota } from "@effect-mimo/core"
 * import { Metric } from "effect"
 *
 * const left = Metric.value(RetryQuota.metrics.left.pipe(Metric.tagged("quota", "client")))
 * ```
 *
 * @since 0.2.0
 * @category metrics
 */
export const metrics: {
  readonly left: Metric.Metric.Gauge<number>
  readonly denied: Metric.Metric.Counter<number>
} = internal.metrics
