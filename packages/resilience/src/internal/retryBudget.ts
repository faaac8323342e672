import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import type { MimoError } from "@effect-mimo/core"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import type * as RetryBudget from "../RetryBudget.js"
import { decorate, withAround } from "./decorate.js"

/** @internal */
export const defaults = {
  name: "default",
  capacity: 500,
  costPerRetry: 5,
  costPerTimeout: 10,
  refillPerSuccess: 1
} as const

/** @internal */
export const metrics = {
  left: Metric.gauge("mimo_retry_budget_left", {
    description: "Retry tokens left in the budget (tagged by budget)"
  }),
  denied: Metric.counter("mimo_retry_budget_denied_total", {
    description: "Retries refused because the budget was empty (tagged by budget)",
    incremental: true
  })
}

const nonNegative = (n: number | undefined, fallback: number): number =>
  n !== undefined && Number.isFinite(n) && n >= 0 ? n : fallback

/** @internal */
export const unsafeMake = (options: RetryBudget.Options = {}): RetryBudget.RetryBudget => {
  const name = options.name ?? defaults.name
  const capacity = nonNegative(options.capacity, defaults.capacity)
  const costPerRetry = nonNegative(options.costPerRetry, defaults.costPerRetry)
  const costPerTimeout = nonNegative(options.costPerTimeout, defaults.costPerTimeout)
  const refillPerSuccess = nonNegative(options.refillPerSuccess, defaults.refillPerSuccess)
  const left = Metric.tagged(metrics.left, "budget", name)
  const denied = Metric.tagged(metrics.denied, "budget", name)
  let tokens = capacity
  left.unsafeUpdate(tokens, [])

  const costOf = (error: MimoError.MimoError): number =>
    error._tag === "TransportError" && error.reason === "Timeout" ? costPerTimeout : costPerRetry

  const credit = (amount: number) =>
    Effect.suspend(() => {
      tokens = Math.min(capacity, tokens + amount)
      return Metric.set(left, tokens)
    })

  return {
    name,
    capacity,
    left: Effect.sync(() => tokens),
    costOf,
    withdraw: (error) =>
      Effect.suspend(() => {
        const cost = costOf(error)
        if (tokens < cost) return Effect.as(Metric.increment(denied), false)
        tokens -= cost
        return Effect.as(Metric.set(left, tokens), true)
      }),
    recordSuccess: (retriedAfter) => credit(retriedAfter === undefined ? refillPerSuccess : costOf(retriedAfter))
  }
}

/** @internal */
export const make = (options?: RetryBudget.Options): Effect.Effect<RetryBudget.RetryBudget> =>
  Effect.sync(() => unsafeMake(options))

/** @internal */
export const schedule: {
  (
    budget: RetryBudget.RetryBudget
  ): <Out, In extends MimoError.MimoError, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    budget: RetryBudget.RetryBudget
  ): Schedule.Schedule<Out, In, R>
} = dual(
  2,
  <Out, In extends MimoError.MimoError, R>(
    self: Schedule.Schedule<Out, In, R>,
    budget: RetryBudget.RetryBudget
  ): Schedule.Schedule<Out, In, R> =>
    // `checkEffect` runs only when `self` decided to recur: a retry the policy would not make costs nothing.
    Schedule.checkEffect(self, (error: In) => budget.withdraw(error))
)

/** @internal */
export const retry = <Out, R2>(
  budget: RetryBudget.RetryBudget,
  policy: Schedule.Schedule<Out, MimoError.MimoError, R2>
) =>
<A, E extends MimoError.MimoError, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | R2> =>
  Effect.suspend(() => {
    // The last failure; when the effect then succeeds, it was retried and the retry paid for that failure.
    let last: E | undefined
    const observed: Effect.Effect<A, E, R> = Effect.tapError(effect, (error) => Effect.sync(() => void (last = error)))
    const paid: Schedule.Schedule<Out, E, R2> = schedule(policy, budget)
    return Effect.retry(observed, paid).pipe(Effect.tap(() => budget.recordSuccess(last)))
  })

/** @internal */
export const aroundAttempt = (budget: RetryBudget.RetryBudget): MimoClient.AroundAttempt => {
  // One hook per call: it remembers the previous attempt's failure, which the retry paid for.
  let last: MimoError.MimoError | undefined
  return (attempt, info) =>
    attempt.pipe(
      Effect.tapError((error) => Effect.sync(() => void (last = error))),
      Effect.tap(() => budget.recordSuccess(info.attempt > 1 ? last : undefined))
    )
}

/** @internal */
export const decorateClient = (
  service: MimoClient.Service,
  budget: RetryBudget.RetryBudget,
  policy: Schedule.Schedule<unknown, MimoError.MimoError>
): MimoClient.Service => {
  const callOptions = (call: MimoClient.CallOptions | undefined): MimoClient.CallOptions => ({
    ...withAround(call, aroundAttempt(budget)),
    retry: schedule(call?.retry ?? policy, budget)
  })
  return decorate(service, {
    chat: (_, call, send) => send(callOptions(call)),
    stream: (_, call, send) => send(callOptions(call)),
    speech: (_, call, send) => send(callOptions(call)),
    models: callOptions
  })
}

/** @internal */
export const layer = (
  options: RetryBudget.LayerOptions = {}
): Layer.Layer<MimoClient.MimoClient, never, MimoClient.MimoClient> =>
  Layer.effect(
    MimoClient.MimoClient,
    Effect.gen(function*() {
      const service = yield* MimoClient.MimoClient
      const budget = options.budget ?? (yield* make(options))
      return decorateClient(service, budget, options.policy ?? RetryPolicy.defaultPolicy)
    })
  )
