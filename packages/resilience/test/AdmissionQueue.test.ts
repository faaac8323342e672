import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import * as AdmissionQueue from "../src/internal/admissionQueue.js"

/** Reservations one slot every `spacing` ms from 0 (a bucket of 1); `void` slots are refused once each. */
const paced = (spacing: number, voided: Set<number> = new Set()) => {
  let next = 0
  let reservations = 0
  return {
    get reservations() {
      return reservations
    },
    make: (): AdmissionQueue.Reservations => ({
      reserve: () =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          reservations++
          const due = Math.max(now, next)
          next = due + spacing
          return due - now
        }),
      stillValid: () => Effect.sync(() => !voided.delete(reservations))
    })
  }
}

describe("AdmissionQueue", () => {
  it.scoped("admits in order, one slot per reservation, without a dispatcher when nobody waits", () =>
    Effect.gen(function*() {
      const slots = paced(100)
      const queue = AdmissionQueue.make(slots.make(), yield* Effect.scope)
      const admitted: Array<[number, number]> = []
      const fibers = yield* Effect.forEach(
        [0, 1, 2, 3],
        (i) =>
          Effect.fork(
            Effect.zipRight(
              queue.admit(1),
              Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => admitted.push([i, now])))
            )
          )
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.joinAll(fibers)
      expect(admitted).toEqual([[0, 0], [1, 100], [2, 200], [3, 300]])
      expect(queue.size()).toBe(0)
    }))

  it.scoped("an interrupted waiter's slot goes to the next one", () =>
    Effect.gen(function*() {
      const slots = paced(100)
      const queue = AdmissionQueue.make(slots.make(), yield* Effect.scope)
      const times: Array<string> = []
      const record = (name: string) =>
        Effect.zipRight(
          queue.admit(1),
          Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => times.push(`${name}@${now}`)))
        )
      yield* record("a")
      const b = yield* Effect.fork(record("b"))
      const c = yield* Effect.fork(record("c"))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(b)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(c)
      // b held the slot due at 100 ms; c gets it.
      expect(times).toEqual(["a@0", "c@100"])
    }))

  it.scoped("a slot voided while waited for (a pause) is reserved again for the same waiter", () =>
    Effect.gen(function*() {
      // The second reservation is void when due.
      const slots = paced(100, new Set([2]))
      const queue = AdmissionQueue.make(slots.make(), yield* Effect.scope)
      yield* queue.admit(1)
      const b = yield* Effect.fork(Effect.zipRight(queue.admit(1), Clock.currentTimeMillis))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(b)).toBe(200)
      expect(slots.reservations).toBe(3)
    }))
})
