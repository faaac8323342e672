/**
 * The slow start of one model's limiter (issue 13): the first flight of a
 * fresh limiter is let out in rounds that double — `initial` attempts, then
 * twice that, and so on — as TCP's slow start lets a connection's first
 * window grow (RFC 5681), instead of the whole configured burst at once.
 *
 * A round opens the next one when each of its attempts has been answered
 * (the server took them all), or `probe` after it opened with no 429 yet (429s
 * come back quickly, successes may take seconds: no news is good news). The
 * first 429 stops the rounds: nothing more goes until every attempt in flight
 * has been answered (or `probe` has passed), so that the 429 ratio the limiter
 * then judges holds the whole flight's answers — the successes of a flight
 * must not refill it before its 429s are read (the first wave, told 4 × a
 * 50/s limit, sent 50 more on the first wave's 200s). Then the slow start
 * ends, whatever the verdict, as it ends once `until` attempts went out (the
 * configured burst: past it the bucket paces anyway). It never starts again.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

/** @internal */
export interface SlowStart {
  /** Waits until the next attempt may go, and counts it (nothing once the slow start is over). */
  readonly await: Effect.Effect<void>
  /** An attempt let through by {@link await} got a 429 at `now` (Clock ms). */
  readonly throttled: (now: number) => void
  /**
   * An attempt let through by {@link await} ended at `now` (after its outcome, if any); `true` when this ended
   * the slow start after a 429 (the caller then runs what it runs then: the limiter empties its bucket).
   */
  readonly finished: (now: number) => boolean
  /** Whether the slow start is still on. */
  readonly active: () => boolean
}

/** A slow start that is over from the start (`slowStart: false`). */
export const off: SlowStart = {
  await: Effect.void,
  throttled: () => {},
  finished: () => false,
  active: () => false
}

/** @internal */
export const make = (
  initial: number,
  until: number,
  probe: number,
  scope: Scope.Scope,
  /** Run when the slow start ends after a 429 from a timer or a waiter (`finished` returns `true` instead). */
  onThrottledEnd: Effect.Effect<void>
): SlowStart => {
  let active = initial < until
  let window = Math.max(1, Math.floor(initial))
  /** Attempts let out in the current round, and in all. */
  let released = 0
  let total = 0
  /** Attempts let out and not finished. */
  let outstanding = 0
  let throttled = false
  /** When the current round opened (or the first 429 came): the probe runs from then. */
  let since: number | undefined
  /** The current round (a 429 starts one of its own), and the round a probe timer runs for. */
  let round = 0
  let timed = -1
  let changed = Deferred.unsafeMake<void>(FiberId.none)

  const signal = () => {
    const done = changed
    changed = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(done, Effect.void)
  }

  const end = () => {
    active = false
    signal()
  }

  const nextRound = (now: number) => {
    if (total >= until) return end()
    window *= 2
    released = 0
    since = now
    round++
    signal()
  }

  /** The probe of `of` ran out: no 429 in the round (the next one opens), or the flight's answers did not all come. */
  const probed = (of: number, now: number): Effect.Effect<void> => {
    if (!active || of !== round) return Effect.void
    if (!throttled) return Effect.sync(() => nextRound(now))
    end()
    return onThrottledEnd
  }

  // The waiter waits on one `Deferred`, which the probe's timer (a fiber of its own, in the limiter's scope)
  // completes as an answer does: a race of the two would cost a fiber per wait, and under a loaded scheduler its
  // winner can be resumed late.
  const await_: Effect.Effect<void> = Effect.suspend(() => {
    if (!active) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<void> => {
      if (since === undefined) since = now
      if (!throttled && released < window) {
        released++
        total++
        outstanding++
        return Effect.void
      }
      const left = since + probe - now
      if (left <= 0) return Effect.zipRight(probed(round, now), await_)
      const wake = Deferred.await(changed)
      if (timed === round) return Effect.zipRight(wake, await_)
      timed = round
      const of = round
      const timer = Effect.zipRight(
        Effect.sleep(Duration.millis(left)),
        Effect.flatMap(Clock.currentTimeMillis, (at) => probed(of, at))
      )
      return Effect.zipRight(Effect.forkIn(timer, scope), Effect.zipRight(wake, await_))
    })
  })

  return {
    await: await_,
    throttled: (now) => {
      if (!active || throttled) return
      throttled = true
      since = now
      round++
      // The waiter sets the probe's timer again, from now.
      signal()
    },
    finished: (now) => {
      if (!active) return false
      outstanding = Math.max(0, outstanding - 1)
      if (outstanding > 0) return false
      if (throttled) {
        end()
        return true
      }
      // The round was answered in full, without a 429: the next, twice as large.
      if (released >= window) nextRound(now)
      return false
    },
    active: () => active
  }
}
