import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as MimoError from "../MimoError.js"
import type * as RetryQuota from "../RetryQuota.js"

/** @internal */
export const defaults = {
  name: "client",
  capacity: 500,
  costPerRetry: 5,
  costPerTimeout: 10,
  refillPerSuccess: 1
} as const

/** @internal */
export const metrics = {
  left: Metric.gauge("mimo_retry_quota_left", {
    description: "Retry tokens left in the quota (tagged by quota)"
  }),
  denied: Metric.counter("mimo_retry_quota_denied_total", {
    description: "Retries not made because the quota was empty (tagged by quota)",
    incremental: true
  })
}

const nonNegative = (n: number | undefined, fallback: number): number =>
  n !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback

/** @internal */
export const unsafeMake = (options: RetryQuota.Options = {}): RetryQuota.RetryQuota => {
  const name = options.name ?? defaults.name
  const capacity = nonNegative(options.capacity, defaults.capacity)
  const costPerRetry = nonNegative(options.costPerRetry, defaults.costPerRetry)
  const costPerTimeout = nonNegative(options.costPerTimeout, defaults.costPerTimeout)
  const refillPerSuccess = nonNegative(options.refillPerSuccess, defaults.refillPerSuccess)
  const left = Metric.tagged(metrics.left, "quota", name)
  const denied = Metric.tagged(metrics.denied, "quota", name)
  let tokens = capacity
  left.unsafeUpdate(tokens, [])

  const costOf = (error: MimoError.MimoError): number =>
    error._tag === "TransportError" && error.reason === "Timeout" ? costPerTimeout : costPerRetry

  const unsafeRecordSuccess = (retriedAfter?: MimoError.MimoError): void => {
    // A full quota (the common case) is left alone: no gauge update on the hot path.
    if (tokens >= capacity) return
    tokens = Math.min(capacity, tokens + (retriedAfter === undefined ? refillPerSuccess : costOf(retriedAfter)))
    left.unsafeUpdate(tokens, [])
  }

  return {
    name,
    capacity,
    left: Effect.sync(() => tokens),
    costOf,
    withdraw: (error) =>
      Effect.sync(() => {
        const cost = costOf(error)
        if (tokens < cost) {
          denied.unsafeUpdate(1, [])
          return false
        }
        tokens -= cost
        left.unsafeUpdate(tokens, [])
        return true
      }),
    recordSuccess: (retriedAfter) => Effect.sync(() => unsafeRecordSuccess(retriedAfter)),
    unsafeRecordSuccess
  }
}

/** @internal */
export const make = (options?: RetryQuota.Options): Effect.Effect<RetryQuota.RetryQuota> =>
  Effect.sync(() => unsafeMake(options))

/** @internal */
export const schedule: {
  (
    quota: RetryQuota.RetryQuota
  ): <Out, In extends MimoError.MimoError, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    quota: RetryQuota.RetryQuota
  ): Schedule.Schedule<Out, In, R>
} = dual(
  2,
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    quota: RetryQuota.RetryQuota
  ): Schedule.Schedule<Out, In, R> =>
    // `checkEffect` runs only when `self` decided to recur: a retry the policy would not make costs nothing.
    Schedule.checkEffect(self, (error: In) => quota.withdraw(error))
)
