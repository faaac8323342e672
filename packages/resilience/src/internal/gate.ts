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
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import type * as Permits from "./permits.js"

/** @internal */
export interface Model {
  /** The model's bound on attempts in flight. */
  readonly permits: Permits.Permits
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
  /** The synchronous steps of an attempt that waits for nothing (in memory, nothing queued or paused). */
  readonly fast?: Fast | undefined
}

/** @internal */
export interface Fast {
  /**
   * When the attempt would not wait for its slot at all: reserves it and does what `admitted(0, now)` does, and
   * says `true`; else `false`, with nothing done (the attempt then takes `admit`).
   */
  readonly tryAdmit: (cost: number, now: number, labels: ReadonlyArray<MetricLabel.MetricLabel>) => boolean
  /** What `succeeded(sentAt)` does, at `now`. */
  readonly succeeded: (sentAt: number, now: number) => void
  /** What `finished` does, for an attempt admitted by `tryAdmit`. */
  readonly finished: (labels: ReadonlyArray<MetricLabel.MetricLabel>) => void
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
  const fast = model.fast
  /** The attempt's failure reported to the model: the time before which the call's next attempt must not go. */
  const failed = (error: MimoError.MimoError, sentAt: number) =>
    Effect.map(model.failed(error, cost, sentAt), (until) => void (notBefore = until))
  // A flatMap chain, not `Effect.gen`: this runs on every attempt, and when nothing waits its steps are most of
  // the limiter's own cost (apps/bench, the limiter's cost).
  return (attempt) => {
    /**
     * Waits for a slot (counted among the model's waiters meanwhile), then sends the attempt and reports; first for
     * a permit too, when `gated` (else the permit is held already, or none is needed).
     */
    const queued = (gated: boolean) => {
      let waiting = false
      let sentAt = 0
      const leave = Effect.suspend(() => {
        if (!waiting) return Effect.void
        waiting = false
        return model.queued(-1)
      })
      const enter = Effect.suspend(() => {
        waiting = true
        return model.queued(1)
      })
      const sent = Effect.tapBoth(attempt, {
        onFailure: (error) => failed(error, sentAt),
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
      return Effect.ensuring(Effect.zipRight(enter, gated && permits ? model.permits.withPermit(body) : body), leave)
    }
    // Nothing to wait for (a free permit, a slot at once): the permit taken, the attempt admitted, sent and
    // reported, and the permit given back, in synchronous steps within one uninterruptible region (only the attempt
    // itself is interruptible), without counting a waiter. Else the usual way, with the permit held if it was free.
    // Decided when the attempt runs (the call's previous attempt may have set a `Retry-After` since the hook was
    // called).
    return Effect.uninterruptibleMask((restore) =>
      Effect.withFiberRuntime<Effect.Effect.Success<typeof attempt>, MimoError.MimoError>((fiber) => {
        if (notBefore !== undefined) {
          return restore(Effect.zipRight(sleepUntil(notBefore), Effect.suspend(() => queued(true))))
        }
        if (fast === undefined || (permits && !model.permits.tryTake())) return restore(queued(true))
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const sentAt = clock.unsafeCurrentTimeMillis()
        const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
        let admitted: boolean
        try {
          admitted = fast.tryAdmit(cost, sentAt, labels)
        } catch (defect) {
          // A defect of the model's (it then dies the attempt): the permit is not kept.
          if (permits) model.permits.release()
          return Effect.die(defect)
        }
        if (!admitted) {
          const held = restore(queued(false))
          return permits ? Effect.ensuring(held, Effect.sync(model.permits.release)) : held
        }
        // Finished before the permit goes back.
        const finish = () => {
          fast.finished(labels)
          if (permits) model.permits.release()
        }
        return Effect.matchCauseEffect(restore(attempt), {
          onSuccess: (a) => {
            fast.succeeded(sentAt, clock.unsafeCurrentTimeMillis())
            finish()
            return Effect.succeed(a)
          },
          onFailure: (cause) => {
            const failure = Cause.failureOption(cause)
            const finished = Effect.zipRight(Effect.sync(finish), Effect.failCause(cause))
            return Option.isSome(failure) ? Effect.zipRight(failed(failure.value, sentAt), finished) : finished
          }
        })
      })
    )
  }
}
