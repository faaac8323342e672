/**
 * The per-attempt gate of one call: `MimoClient`'s `aroundAttempt` hook
 * that makes an attempt wait for its turn, counts it, and reports its
 * outcome. What the outcome does (slow the model, pause it) is the model's
 * business; the gate only keeps the order of things and the per-request
 * `Retry-After`. Tested alone (test/Gate.test.ts).
 *
 * @internal
 */
import type { MimoClient, MimoError } from "@effect-mimo/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** @internal */
export interface Model {
  /** The model's bound on attempts in flight. */
  readonly semaphore: Effect.Semaphore
  /** Waits for a slot for `cost` tokens. */
  readonly admit: (cost: number) => Effect.Effect<void>
  /** Attempts waiting: +1 when one starts waiting, −1 when it is let through or leaves. */
  readonly queued: (delta: number) => Effect.Effect<void>
  /** An attempt let through at `sentAt` after waiting `waited` ms; `finished` follows when its outcome is in. */
  readonly admitted: (waited: number, sentAt: number) => Effect.Effect<void>
  readonly finished: Effect.Effect<void>
  /** The attempt succeeded. */
  readonly succeeded: (sentAt: number) => Effect.Effect<void>
  /**
   * The attempt failed with `error`: the time before which this call's next attempt must not go (a 429's
   * `Retry-After`), or `undefined`.
   */
  readonly failed: (error: MimoError.MimoError, cost: number, sentAt: number) => Effect.Effect<number | undefined>
}

const sleepUntil = (at: number | undefined): Effect.Effect<void> =>
  at === undefined ? Effect.void : Effect.flatMap(
    Clock.currentTimeMillis,
    (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void
  )

/**
 * `semaphore.withPermits(1)(effect)`, cheaper when a permit is free: `withPermitsIfAvailable` takes it without the
 * asynchronous step of `take` (≈ half the cost; apps/bench, the limiter's cost). Whoever finds no permit free waits
 * for one as before; `take` does not look at the waiters either, so the order in which permits go is the same.
 */
const withPermit = <A, E, R>(semaphore: Effect.Semaphore, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    semaphore.withPermitsIfAvailable(1)(effect),
    (done) => Option.isSome(done) ? Effect.succeed(done.value) : semaphore.withPermits(1)(effect)
  )

/**
 * The hook for one call (make one per call: it remembers the call's `Retry-After`). Each attempt waits out the
 * `Retry-After` its call was given, then for a permit (when `permits`) and a slot, is sent, and reports.
 *
 * @internal
 */
export const make = (model: Model, cost: number, permits: boolean): MimoClient.AroundAttempt => {
  let notBefore: number | undefined
  // A flatMap chain, not `Effect.gen`: this runs on every attempt, and when nothing waits its steps are most of
  // the limiter's own cost (apps/bench, the limiter's cost).
  return (attempt) =>
    Effect.suspend(() => {
      let waiting = true
      let sentAt = 0
      const leave = Effect.suspend(() => {
        if (!waiting) return Effect.void
        waiting = false
        return model.queued(-1)
      })
      const sent = Effect.tapBoth(attempt, {
        onFailure: (error) => Effect.map(model.failed(error, cost, sentAt), (until) => void (notBefore = until)),
        onSuccess: () => model.succeeded(sentAt)
      })
      const body = Effect.clockWith((clock) => {
        const enteredAt = clock.unsafeCurrentTimeMillis()
        return Effect.zipRight(
          model.admit(cost),
          Effect.zipRight(
            leave,
            Effect.suspend(() => {
              sentAt = clock.unsafeCurrentTimeMillis()
              // Finished before the permit goes back, as the attempt's own finalizer.
              return Effect.zipRight(model.admitted(sentAt - enteredAt, sentAt), Effect.ensuring(sent, model.finished))
            })
          )
        )
      })
      const gated = permits ? withPermit(model.semaphore, body) : body
      const queued = Effect.zipRight(model.queued(1), gated)
      // Whatever the exit, a waiter leaves the queue count.
      return Effect.ensuring(notBefore === undefined ? queued : Effect.zipRight(sleepUntil(notBefore), queued), leave)
    })
}
