import { MimoClient, RetryQuota } from "@effect-mimo/core"
import type { MimoError } from "@effect-mimo/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as RetryBudget from "../RetryBudget.js"
import { decorate } from "./decorate.js"

/** @internal */
export const defaults = { ...RetryQuota.defaults, name: "default" } as const

/** @internal */
export const metrics = RetryQuota.metrics

/**
 * A budget is core's `RetryQuota` (the same token bucket the client keeps by
 * default), shared by whatever this layer decorates; only its default name
 * differs.
 *
 * @internal
 */
export const unsafeMake = (options: RetryBudget.Options = {}): RetryBudget.RetryBudget =>
  RetryQuota.unsafeMake({ ...options, name: options.name ?? defaults.name })

/** @internal */
export const make = (options?: RetryBudget.Options): Effect.Effect<RetryBudget.RetryBudget> =>
  Effect.sync(() => unsafeMake(options))

/** @internal */
export const schedule = RetryQuota.schedule

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

/**
 * The budget as the quota the client itself pays from (issue 13): core charges each retry of the call's own
 * policy — the client's `retry`, or the call's — to it, and gives it back the refills of successes.
 *
 * @internal
 */
export const decorateClient = (
  service: MimoClient.Service,
  budget: RetryBudget.RetryBudget,
  policy: Schedule.Schedule<unknown, MimoError.MimoError> | undefined
): MimoClient.Service => {
  const callOptions = (call: MimoClient.CallOptions | undefined): MimoClient.CallOptions => ({
    ...call,
    retryQuota: call?.retryQuota ?? budget,
    ...(policy === undefined || call?.retry !== undefined ? {} : { retry: policy })
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
      return decorateClient(service, budget, options.policy)
    })
  )
