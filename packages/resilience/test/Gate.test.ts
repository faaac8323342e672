import { MimoError } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, TestClock } from "effect"
import * as Gate from "../src/internal/gate.js"

const info = { operation: "chat", model: "m", attempt: 1 } as const

/** A model that admits at once and records what the gate tells it. */
const recorder = (retryAfter: number | undefined) => {
  const log: Array<string> = []
  const model: Gate.Model = {
    semaphore: Effect.unsafeMakeSemaphore(1),
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
})
