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
 * The hook for one call (make one per call: it remembers the call's `Retry-After`). Each attempt waits out the
 * `Retry-After` its call was given, then for a permit (when `permits`) and a slot, is sent, and reports.
 *
 * @internal
 */
export const make = (model: Model, cost: number, permits: boolean): MimoClient.AroundAttempt => {
  let notBefore: number | undefined
  return (attempt) =>
    Effect.suspend(() => {
      let waiting = true
      const leave = Effect.suspend(() => {
        if (!waiting) return Effect.void
        waiting = false
        return model.queued(-1)
      })
      const body = Effect.gen(function*() {
        const enteredAt = yield* Clock.currentTimeMillis
        yield* model.admit(cost)
        yield* leave
        const sentAt = yield* Clock.currentTimeMillis
        yield* model.admitted(sentAt - enteredAt, sentAt)
        return yield* attempt.pipe(
          Effect.tapBoth({
            onFailure: (error) => Effect.map(model.failed(error, cost, sentAt), (until) => void (notBefore = until)),
            onSuccess: () => model.succeeded(sentAt)
          }),
          Effect.ensuring(model.finished)
        )
      })
      const gated = permits ? model.semaphore.withPermits(1)(body) : body
      return Effect.zipRight(sleepUntil(notBefore), Effect.zipRight(model.queued(1), gated)).pipe(
        Effect.ensuring(leave)
      )
    })
}
