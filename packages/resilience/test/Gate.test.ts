import { MimoError } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Clock, Deferred, Duration, Effect, Exit, Fiber, TestClock } from "effect"
import * as Gate from "../src/internal/gate.js"
import * as Permits from "../src/internal/permits.js"

const info = { operation: "chat", model: "m", attempt: 1 } as const

/** A model that admits at once and records what the gate tells it. */
const recorder = (retryAfter: number | undefined) => {
  const log: Array<string> = []
  const model: Gate.Model = {
    permits: Permits.make(1),
    admit: () => Effect.sync(() => void log.push("admit")),
    queued: (delta) => Effect.sync(() => void log.push(`queued ${delta > 0 ? "+" : "-"}`)),
    admitted: (waited, sentAt) => Effect.sync(() => void log.push(`admitted @${sentAt} waited ${waited}`)),
    finished: Effect.sync(() => void log.push("finished")),
    succeeded: (sentAt) => Effect.sync(() => void log.push(`succeeded @${sentAt}`)),
    failed: (error, cost) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.sync(() => {
          log.push(`failed ${error._tag} cost ${cost}`)
          return retryAfter === undefined ? undefined : now + retryAfter
        }))
  }
  return { log, model }
}

describe("Gate", () => {
  it.effect("reports an attempt's life in order: queued, admitted, its outcome, finished", () =>
    Effect.gen(function*() {
      const { log, model } = recorder(undefined)
      const gate = Gate.make(model, 7, true)
      yield* gate(Effect.succeed(1), info)
      expect(log).toEqual(["queued +", "admit", "queued -", "admitted @0 waited 0", "succeeded @0", "finished"])
    }))

  it.effect("holds the same call's next attempt until the Retry-After its failure gave; other calls go", () =>
    Effect.gen(function*() {
      const { log, model } = recorder(2000)
      const gate = Gate.make(model, 1, true)
      yield* Effect.either(gate(Effect.fail(new MimoError.RateLimitExceeded({ message: "x" })), info))
      const retry = yield* Effect.fork(gate(Clock.currentTimeMillis, { ...info, attempt: 2 }))
      // Another call has its own gate: not held.
      const other = Gate.make(model, 1, true)
      yield* other(Effect.void, info)
      yield* TestClock.adjust(Duration.millis(1999))
      expect(retry.unsafePoll()).toBe(null)
      yield* TestClock.adjust(Duration.millis(1))
      expect(yield* Fiber.join(retry)).toBe(2000)
      expect(log.filter((l) => l.startsWith("failed"))).toEqual(["failed RateLimitExceeded cost 1"])
    }))

  it.effect("an attempt interrupted while it waits leaves the queue count balanced", () =>
    Effect.gen(function*() {
      const { log, model } = recorder(undefined)
      const held: Gate.Model = { ...model, admit: () => Effect.never }
      const fiber = yield* Effect.fork(Gate.make(held, 1, true)(Effect.void, info))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(fiber)
      expect(log).toEqual(["queued +", "queued -"])
    }))

  describe("the fast path (a model with synchronous steps)", () => {
    /** The recorder's model with `fast` steps that record too; `admits` says whether `tryAdmit` lets through. */
    const fastRecorder = (admits: () => boolean, retryAfter?: number) => {
      const { log, model } = recorder(retryAfter)
      const fast: Gate.Fast = {
        tryAdmit: (cost, now) => {
          const ok = admits()
          log.push(`tryAdmit ${cost} @${now}: ${ok}`)
          return ok
        },
        succeeded: (sentAt, now) => void log.push(`fast succeeded @${sentAt} (${now})`),
        finished: () => void log.push(`fast finished (permits taken ${model.permits.taken()})`)
      }
      return { log, model: { ...model, fast } }
    }

    it.effect("an attempt that waits for nothing: admitted, reported and finished with its permit, no waiter counted", () =>
      Effect.gen(function*() {
        const { log, model } = fastRecorder(() => true)
        const gate = Gate.make(model, 7, true)
        expect(yield* gate(Effect.succeed(1), info)).toBe(1)
        expect(log).toEqual(["tryAdmit 7 @0: true", "fast succeeded @0 (0)", "fast finished (permits taken 1)"])
        expect(model.permits.taken()).toBe(0)
      }))

    it.effect("a failed attempt is reported to the model (its Retry-After holds the call's next attempt)", () =>
      Effect.gen(function*() {
        const { log, model } = fastRecorder(() => true, 2000)
        const gate = Gate.make(model, 1, true)
        const error = new MimoError.RateLimitExceeded({ message: "x" })
        expect(yield* Effect.flip(gate(Effect.fail(error), info))).toBe(error)
        expect(log).toEqual([
          "tryAdmit 1 @0: true",
          "failed RateLimitExceeded cost 1",
          "fast finished (permits taken 1)"
        ])
        expect(model.permits.taken()).toBe(0)
        const retry = yield* Effect.fork(gate(Clock.currentTimeMillis, { ...info, attempt: 2 }))
        yield* TestClock.adjust(Duration.millis(1999))
        expect(retry.unsafePoll()).toBe(null)
        yield* TestClock.adjust(Duration.millis(1))
        expect(yield* Fiber.join(retry)).toBe(2000)
      }))

    it.effect("a defect or an interruption of the attempt still counts it out and gives the permit back", () =>
      Effect.gen(function*() {
        const { log, model } = fastRecorder(() => true)
        const gate = Gate.make(model, 1, true)
        const exit = yield* Effect.exit(gate(Effect.die("boom"), info))
        expect(Exit.isFailure(exit)).toBe(true)
        const started = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(
          gate(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never), info)
        )
        yield* Deferred.await(started)
        expect(model.permits.taken()).toBe(1)
        yield* Fiber.interrupt(fiber)
        expect(log.filter((l) => l.startsWith("fast finished"))).toHaveLength(2)
        expect(log.some((l) => l.startsWith("failed"))).toBe(false)
        expect(model.permits.taken()).toBe(0)
      }))

    it.effect("a defect of the model's fast step dies the attempt and keeps no permit", () =>
      Effect.gen(function*() {
        const { model } = fastRecorder(() => {
          throw new Error("model bug")
        })
        const gate = Gate.make(model, 1, true)
        let ran = false
        const exit = yield* Effect.exit(gate(Effect.sync(() => void (ran = true)), info))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(ran).toBe(false)
        expect(model.permits.taken()).toBe(0)
      }))

    it.effect("a slot not free at once: the usual way (queued, admit, admitted), the permit held throughout", () =>
      Effect.gen(function*() {
        const { log, model } = fastRecorder(() => false)
        const gate = Gate.make(model, 3, true)
        expect(yield* gate(Effect.succeed("x"), info)).toBe("x")
        expect(log).toEqual([
          "tryAdmit 3 @0: false",
          "queued +",
          "admit",
          "queued -",
          "admitted @0 waited 0",
          "succeeded @0",
          "finished"
        ])
        expect(model.permits.taken()).toBe(0)
      }))

    it.effect("no free permit: the attempt waits for one as a counted waiter, then goes the usual way", () =>
      Effect.gen(function*() {
        const { log, model } = fastRecorder(() => true)
        expect(model.permits.tryTake()).toBe(true)
        const gate = Gate.make(model, 1, true)
        const fiber = yield* Effect.fork(gate(Effect.succeed(2), info))
        yield* Effect.yieldNow()
        expect(log).toEqual(["queued +"])
        model.permits.release()
        expect(yield* Fiber.join(fiber)).toBe(2)
        expect(log).toEqual(["queued +", "admit", "queued -", "admitted @0 waited 0", "succeeded @0", "finished"])
        expect(model.permits.taken()).toBe(0)
      }))
  })
})
