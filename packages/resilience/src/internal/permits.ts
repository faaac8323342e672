/**
 * The permits of one model (its bound on attempts and streams in flight):
 * `Effect.Semaphore`'s behaviour for one permit at a time, plus a synchronous
 * `tryTake`. Tested alone (test/Permits.test.ts).
 *
 * Hand-written because `Effect.Semaphore` takes a free permit only through an
 * effect (`withPermitsIfAvailable` wraps the work in its own uninterruptible
 * region and finalizer): the limiter's fast path takes and gives back the
 * permit inside the one region it already has for the attempt, which is most
 * of what is left of the limiter's own cost when nothing waits (apps/bench).
 * The rules are the semaphore's: a release wakes the waiters, each of which
 * takes a permit if one is still free when it runs (a `tryTake` in between
 * may get it first, as a `take` may with the semaphore); an interrupted waiter
 * takes nothing.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** How an uninterruptible region lets a part of itself be interrupted (`Effect.uninterruptibleMask`'s `restore`). */
type Restore = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** @internal */
export interface Permits {
  /** Takes a permit if one is free now. */
  readonly tryTake: () => boolean
  /** Gives a permit back (and wakes whoever waits for one). */
  readonly release: () => void
  /**
   * Takes a permit, waiting for one if none is free. Run it in an uninterruptible region (whose `restore` it is
   * given) that then makes sure of the `release`: only the waiting is interruptible, and an interrupted waiter
   * has taken nothing.
   */
  readonly take: (restore: Restore) => Effect.Effect<void>
  /** `effect` with a permit held (waited for if need be), given back whatever its exit. */
  readonly withPermit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Permits taken now. */
  readonly taken: () => number
}

/** @internal */
export const make = (permits: number): Permits => {
  let taken = 0
  const waiters = new Set<() => void>()

  const tryTake = (): boolean => {
    if (taken >= permits) return false
    taken++
    return true
  }

  const release = (): void => {
    taken--
    if (waiters.size === 0) return
    // Every waiter tries for itself when it runs (see `take`), in the order they came; those that find none free
    // wait again, in the same order. (Waking only as many as are free would strand a permit whenever a woken
    // waiter is interrupted before it runs.)
    const woken = Array.from(waiters)
    waiters.clear()
    for (const wake of woken) wake()
  }

  /** Until the next release (takes nothing). */
  const released = Effect.async<void>((resume) => {
    const wake = () => resume(Effect.void)
    waiters.add(wake)
    return Effect.sync(() => void waiters.delete(wake))
  })

  const take = (restore: Restore): Effect.Effect<void> => {
    const loop: Effect.Effect<void> = Effect.suspend(() =>
      tryTake() ? Effect.void : Effect.zipRight(restore(released), loop)
    )
    return loop
  }

  const giveBack = Effect.sync(release)

  return {
    tryTake,
    release,
    take,
    withPermit: (effect) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(take(restore), Effect.ensuring(restore(effect), giveBack))
      ),
    taken: () => taken
  }
}
