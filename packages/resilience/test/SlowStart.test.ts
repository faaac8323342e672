import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import * as SlowStart from "../src/internal/slowStart.js"

/** `n` attempts through the slow start, each answered `latency` ms after it went (429 when `throttled(i)`). */
const attempts = (
  slow: SlowStart.SlowStart,
  n: number,
  latency: number,
  throttled: (i: number) => boolean = () => false
) =>
  Effect.gen(function*() {
    const went: Array<number> = []
    const ended: Array<number> = []
    const fiber = yield* Effect.fork(Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        Effect.gen(function*() {
          yield* slow.await
          went.push(yield* Clock.currentTimeMillis)
          yield* Effect.sleep(latency)
          const now = yield* Clock.currentTimeMillis
          if (throttled(i)) slow.throttled(now)
          if (slow.finished(now)) ended.push(now)
        }),
      // All of them waiting at once.
      { concurrency: "unbounded" }
    ))
    yield* TestClock.adjust("1 minute")
    yield* Fiber.join(fiber)
    return { went, ended }
  })

const count = (times: ReadonlyArray<number>) => {
  const out: Record<number, number> = {}
  for (const t of times) out[t] = (out[t] ?? 0) + 1
  return out
}

describe("SlowStart", () => {
  it.scoped("rounds of 10, 20, 40, each opened when the one before was answered, until the burst went out", () =>
    Effect.gen(function*() {
      const slow = SlowStart.make(10, 50, 500, yield* Effect.scope, Effect.void)
      const { went } = yield* attempts(slow, 100, 10)
      // 10 + 20 + 40 = 70: once the third round is answered, 50 have gone out and the slow start is over.
      expect(count(went)).toEqual({ 0: 10, 10: 20, 20: 40, 30: 30 })
      expect(slow.active()).toBe(false)
    }))

  it.scoped("a round whose answers are slow opens the next after the probe, when no 429 came", () =>
    Effect.gen(function*() {
      const slow = SlowStart.make(10, 100, 500, yield* Effect.scope, Effect.void)
      const { went } = yield* attempts(slow, 40, 2000)
      expect(count(went)).toEqual({ 0: 10, 500: 20, 1000: 10 })
    }))

  it.scoped("the first 429 holds everything until the flight is answered, then ends the slow start", () =>
    Effect.gen(function*() {
      let ends = 0
      const slow = SlowStart.make(10, 200, 500, yield* Effect.scope, Effect.sync(() => void ends++))
      // The 25th attempt (in the second round) is refused; the rest are answered 10 ms after they went.
      const { ended, went } = yield* attempts(slow, 60, 10, (i) => i === 24)
      expect(count(went)).toEqual({ 0: 10, 10: 20, 20: 30 })
      // The flight's last answer ended it (the caller's to act on: `finished` said so); no timer did.
      expect(ended).toEqual([20])
      expect(ends).toBe(0)
      expect(slow.active()).toBe(false)
    }))

  it.scoped("a flight that never answers after a 429 ends at the probe, and runs what the caller gave", () =>
    Effect.gen(function*() {
      let ends = 0
      const slow = SlowStart.make(2, 200, 500, yield* Effect.scope, Effect.sync(() => void ends++))
      const fiber = yield* Effect.fork(Effect.forEach([0, 1, 2], () => slow.await, { concurrency: "unbounded" }))
      yield* TestClock.adjust("100 millis")
      slow.throttled(100)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(ends).toBe(1)
      expect(slow.active()).toBe(false)
    }))
})
