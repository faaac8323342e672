import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Permits from "../src/internal/permits.js"

describe("Permits", () => {
  it("tryTake takes up to the bound, release gives back", () => {
    const permits = Permits.make(2)
    expect([permits.tryTake(), permits.tryTake(), permits.tryTake()]).toEqual([true, true, false])
    expect(permits.taken()).toBe(2)
    permits.release()
    expect(permits.taken()).toBe(1)
    expect(permits.tryTake()).toBe(true)
  })

  it.effect("waiters get released permits in the order they came", () =>
    Effect.gen(function*() {
      const permits = Permits.make(1)
      const order: Array<number> = []
      expect(permits.tryTake()).toBe(true)
      const fibers = yield* Effect.forEach(
        [1, 2, 3],
        (n) =>
          Effect.fork(permits.withPermit(Effect.sync(() => {
            order.push(n)
          }))),
        { concurrency: 1 }
      )
      yield* Effect.yieldNow()
      expect(order).toEqual([])
      permits.release()
      yield* Fiber.joinAll(fibers)
      expect(order).toEqual([1, 2, 3])
      expect(permits.taken()).toBe(0)
    }))

  it.effect("an interrupted waiter takes nothing, and the permit goes to the next", () =>
    Effect.gen(function*() {
      const permits = Permits.make(1)
      expect(permits.tryTake()).toBe(true)
      const first = yield* Effect.fork(permits.withPermit(Effect.succeed("first")))
      const second = yield* Effect.fork(permits.withPermit(Effect.succeed("second")))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(first)
      permits.release()
      expect(yield* Fiber.join(second)).toBe("second")
      expect(permits.taken()).toBe(0)
    }))

  it.effect("a permit is given back whatever the exit, and a waiter woken but interrupted strands nothing", () =>
    Effect.gen(function*() {
      const permits = Permits.make(1)
      expect(yield* Effect.exit(permits.withPermit(Effect.die("boom")))).toMatchObject({ _tag: "Failure" })
      expect(yield* Effect.flip(permits.withPermit(Effect.fail("no")))).toBe("no")
      expect(permits.taken()).toBe(0)
      expect(permits.tryTake()).toBe(true)
      const a = yield* Effect.fork(permits.withPermit(Effect.never))
      const b = yield* Effect.fork(permits.withPermit(Effect.succeed("b")))
      yield* Effect.yieldNow()
      // Both are woken; `a` is interrupted before it runs: `b` must still get the permit.
      permits.release()
      yield* Fiber.interrupt(a)
      expect(yield* Fiber.join(b)).toBe("b")
      expect(permits.taken()).toBe(0)
    }))

  it.effect("take under a caller's uninterruptible region: only the waiting is interruptible", () =>
    Effect.gen(function*() {
      const permits = Permits.make(1)
      expect(permits.tryTake()).toBe(true)
      const waiting = yield* Effect.fork(Effect.uninterruptibleMask((restore) => permits.take(restore)))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiting)
      expect(permits.taken()).toBe(1)
      permits.release()
      const got = yield* Effect.uninterruptibleMask((restore) => permits.take(restore))
      expect(got).toBeUndefined()
      expect(permits.taken()).toBe(1)
    }))
})
