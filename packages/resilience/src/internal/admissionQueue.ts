/**
 * The admission queue of one model: callers wait in order, and one
 * dispatcher fiber hands out slots as the buckets allow, first come, first
 * served. What a slot costs and when it is due is the caller's business
 * (`reserve`); the queue only orders the waiters and hands a reserved slot
 * on when its waiter is interrupted. Tested alone (test/AdmissionQueue.test.ts).
 *
 * Hand-written: `Effect.Semaphore` and `Queue` hand out permits, not slots
 * reserved at a time in the future that must move to the next waiter.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

/** @internal */
export interface Reservations {
  /** Reserves the next slot for `cost` (after any pause): the milliseconds until it is due. */
  readonly reserve: (cost: number) => Effect.Effect<number>
  /**
   * After waiting for a reserved slot: `false` when it became void meanwhile (a pause began); the queue then
   * reserves again for the same waiter.
   */
  readonly stillValid: (cost: number) => Effect.Effect<boolean>
}

/** @internal */
export interface AdmissionQueue {
  /** Waits for a slot for `cost`, in order. Interruptible: an interrupted waiter's slot goes to the next one. */
  readonly admit: (cost: number) => Effect.Effect<void>
  /** Waiters in the queue now (a waiter taking its own slot is not counted). */
  readonly size: () => number
  /** Nobody waits and nobody is reserving: a slot taken now, synchronously, would be taken in order. */
  readonly idle: () => boolean
}

interface Waiter {
  readonly cost: number
  readonly deferred: Deferred.Deferred<void>
  cancelled: boolean
  /** A slot already reserved for the head of the queue: when it is due (Clock ms). */
  dueAt: number | undefined
}

const makeWaiter = (cost: number, dueAt: number | undefined): Waiter => ({
  cost,
  deferred: Deferred.unsafeMake<void>(FiberId.none),
  cancelled: false,
  dueAt
})

/** @internal */
export const make = (reservations: Reservations, scope: Scope.Scope): AdmissionQueue => {
  const queue: Array<Waiter> = []
  let running = false

  const dropCancelled = (): void => {
    while (queue.length > 0 && queue[0]!.cancelled) queue.shift()
  }

  /**
   * The dispatcher: one fiber while the queue is busy. A slot is reserved for the head of the queue and given,
   * when due, to whoever is the head then (a waiter interrupted meanwhile leaves it to the next one).
   */
  const dispatch: Effect.Effect<void> = Effect.gen(function*() {
    while (true) {
      dropCancelled()
      if (queue.length === 0) {
        running = false
        return
      }
      const head = queue[0]!
      const cost = head.cost
      const reserved = head.dueAt
      head.dueAt = undefined
      const wait = reserved === undefined
        ? yield* reservations.reserve(cost)
        : reserved - (yield* Clock.currentTimeMillis)
      if (wait > 0) {
        yield* Effect.sleep(Duration.millis(wait))
        if (!(yield* reservations.stillValid(cost))) continue
      }
      dropCancelled()
      const waiter = queue.shift()
      if (waiter !== undefined) Deferred.unsafeDone(waiter.deferred, Exit.void)
    }
  }).pipe(
    // The loop has no failures; should it die, later waiters must still be served.
    Effect.onExit(() => Effect.sync(() => void (running = false)))
  )

  /** Claims the dispatcher at once (synchronously) when waiters need one; the effect forks it. */
  const startDispatcher = (): Effect.Effect<void> => {
    if (running || queue.length === 0) return Effect.void
    running = true
    return Effect.asVoid(Effect.forkIn(dispatch, scope))
  }

  /** Puts a waiter in the queue (at its head when `first`) and makes sure a dispatcher serves it. */
  const push = (waiter: Waiter, first: boolean): Effect.Effect<void> => {
    if (first) queue.unshift(waiter)
    else queue.push(waiter)
    return startDispatcher()
  }

  const awaitTurn = (waiter: Waiter): Effect.Effect<void> =>
    Deferred.await(waiter.deferred).pipe(Effect.onInterrupt(() => Effect.sync(() => void (waiter.cancelled = true))))

  /**
   * When nobody is queued and no dispatcher runs, the caller reserves its slot itself, as the dispatcher would:
   * a slot free now admits it at once, without a `Deferred` or a forked fiber (the common case when the limiter
   * is not the bottleneck; apps/bench); a slot due later puts it first in the queue with that slot, so that the
   * dispatcher hands the slot on should the caller be interrupted. Whoever arrives meanwhile queues behind it.
   */
  const admit = (cost: number): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (running || queue.length > 0) {
        const waiter = makeWaiter(cost, undefined)
        return Effect.zipRight(push(waiter, false), awaitTurn(waiter))
      }
      running = true
      // One `matchCauseEffect` in the uninterruptible region rather than `zip` + `onExit` + `flatMap`: this runs on
      // every attempt when nothing waits (apps/bench, the limiter's own cost).
      return Effect.uninterruptibleMask((restore) =>
        Effect.matchCauseEffect(restore(reservations.reserve(cost)), {
          onFailure: (cause) => {
            running = false
            return Effect.zipRight(startDispatcher(), Effect.failCause(cause))
          },
          onSuccess: (delay) =>
            Effect.clockWith((clock) => {
              // One synchronous step from here until the queue is served again: nobody slips in between.
              running = false
              if (delay <= 0) return startDispatcher()
              const waiter = makeWaiter(cost, clock.unsafeCurrentTimeMillis() + delay)
              return Effect.zipRight(push(waiter, true), restore(awaitTurn(waiter)))
            })
        })
      )
    })

  return { admit, size: () => queue.length, idle: () => !running && queue.length === 0 }
}
