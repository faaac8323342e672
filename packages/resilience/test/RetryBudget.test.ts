import { MimoClient, MimoError, RetryPolicy, RetryQuota } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, Schedule, TestClock } from "effect"
import { RetryBudget } from "../src/index.js"
import { fakeServer, hello, ok, unavailable } from "./limiterSupport.js"

const busy = new MimoError.ServiceUnavailable({ message: "busy" })
const timeout = new MimoError.TransportError({ reason: "Timeout", message: "slow" })
const notFound = new MimoError.NotFound({ message: "no such model" })

/** An effect that fails `failures` times with `error`, then succeeds; counts its runs. */
const flaky = (failures: number, error: MimoError.MimoError = busy) => {
  let runs = 0
  const effect = Effect.suspend(() => ++runs <= failures ? Effect.fail(error) : Effect.succeed("ok"))
  return { effect, runs: () => runs }
}

describe("RetryBudget", () => {
  it.effect("a schedule under the budget stops retrying when the budget is empty", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ name: "t-empty", capacity: 10, costPerRetry: 5 })
      const denied = RetryBudget.metrics.denied.pipe(Metric.tagged("quota", "t-empty"))
      const call = flaky(100)
      const exit = yield* Effect.either(
        Effect.retry(call.effect, Schedule.recurs(10).pipe(RetryBudget.schedule(budget)))
      )
      // Two retries paid (10 tokens), the third refused: 3 runs instead of 11.
      expect(exit._tag).toBe("Left")
      expect(call.runs()).toBe(3)
      expect(yield* budget.left).toBe(0)
      expect((yield* Metric.value(denied)).count).toBe(1)
      expect((yield* Metric.value(RetryBudget.metrics.left.pipe(Metric.tagged("quota", "t-empty")))).value).toBe(0)
      // Empty: the next failing call is not retried at all.
      const next = flaky(100)
      yield* Effect.either(Effect.retry(next.effect, Schedule.recurs(10).pipe(RetryBudget.schedule(budget))))
      expect(next.runs()).toBe(1)
    }))

  it.effect("costs nothing for errors the policy does not retry", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 10 })
      const call = flaky(1, notFound)
      yield* Effect.either(Effect.retry(call.effect, RetryPolicy.whileRetryable.pipe(RetryBudget.schedule(budget))))
      expect(call.runs()).toBe(1)
      expect(yield* budget.left).toBe(10)
    }))

  it.effect("a timeout costs more than another failure", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 20, costPerRetry: 5, costPerTimeout: 10 })
      expect(budget.costOf(timeout)).toBe(10)
      expect(budget.costOf(busy)).toBe(5)
      expect(yield* budget.withdraw(timeout)).toBe(true)
      expect(yield* budget.left).toBe(10)
      expect(yield* budget.withdraw(busy)).toBe(true)
      expect(yield* budget.withdraw(timeout)).toBe(false)
      expect(yield* budget.left).toBe(5)
    }))

  it.effect("refills on success: +1 at once, the last retry's cost after retries, never above capacity", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ capacity: 20, costPerRetry: 5, refillPerSuccess: 1 })
      const retried = flaky(2)
      yield* retried.effect.pipe(RetryBudget.retry(budget, Schedule.recurs(5)))
      // Two retries took 10; the success gave the last one's 5 back.
      expect(retried.runs()).toBe(3)
      expect(yield* budget.left).toBe(15)
      yield* Effect.succeed("ok").pipe(RetryBudget.retry(budget, Schedule.recurs(5)))
      expect(yield* budget.left).toBe(16)
      for (let i = 0; i < 10; i++) yield* budget.recordSuccess()
      expect(yield* budget.left).toBe(20)
    }))

  it.effect("the AWS defaults keep retrying through 20 % failures, and stop in a full outage", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make()
      expect(budget.capacity).toBe(500)
      // 2,000 calls, each failing with probability 0.2 per attempt (a fixed pattern), up to 5 attempts.
      let attemptNo = 0
      const policy = RetryPolicy.attempts(5)
      for (let i = 0; i < 2000; i++) {
        const call = Effect.suspend(() => (attemptNo++ % 5 === 0 ? Effect.fail(busy) : Effect.succeed("ok")))
        yield* call.pipe(RetryBudget.retry(budget, policy))
      }
      expect(yield* budget.left).toBe(500)
      // A full outage: 100 retries (500 / 5) in all, then none.
      let sent = 0
      const down = Effect.suspend(() => {
        sent++
        return Effect.fail(busy)
      })
      for (let i = 0; i < 200; i++) yield* Effect.either(down.pipe(RetryBudget.retry(budget, policy)))
      expect(sent).toBe(200 + 100)
    }))

  it.effect("as a client decorator: a dead server gets one attempt per call once the budget is spent", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n < 100 ? unavailable : ok()))
      const budget = yield* RetryBudget.make({ capacity: 10, costPerRetry: 5 })
      const layer = RetryBudget.layer({ budget }).pipe(
        Layer.provide(server.layer({ retry: RetryPolicy.make({ jitter: "none" }) }))
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(
          MimoClient.MimoClient,
          (mimo) => Effect.all([Effect.either(mimo.chat(hello)), Effect.either(mimo.chat(hello))])
        ).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("1 minute")
      const [first, second] = yield* Fiber.join(fiber)
      expect(first._tag).toBe("Left")
      expect(second._tag).toBe("Left")
      // 3 attempts (2 paid retries), then 1.
      expect(server.sent).toHaveLength(4)
    }))

  it.effect("as a client decorator: a success after a retry refunds it", () =>
    Effect.gen(function*() {
      const server = fakeServer((n) => Effect.succeed(n === 0 ? unavailable : ok()))
      const budget = yield* RetryBudget.make({ capacity: 10, costPerRetry: 5 })
      const layer = RetryBudget.layer({ budget }).pipe(
        Layer.provide(server.layer({ retry: RetryPolicy.make({ jitter: "none" }) }))
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(hello)).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect(server.sent).toHaveLength(2)
      expect(yield* budget.left).toBe(10)
    }))

  it.effect("as a client decorator: the client's own policy retries, paid from the budget instead of the client's quota", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(unavailable))
      const budget = yield* RetryBudget.make({ capacity: 100, costPerRetry: 5 })
      const own = RetryQuota.unsafeMake({ capacity: 50 })
      // The client's policy: 2 attempts in all, 100 ms apart (the budget has no policy of its own).
      const layer = RetryBudget.layer({ budget }).pipe(
        Layer.provide(
          server.layer({
            retry: RetryPolicy.make({ maxAttempts: 2, base: "100 millis", jitter: "none" }),
            retryQuota: own
          })
        )
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(MimoClient.MimoClient, (mimo) => Effect.forEach([1, 2, 3], () => Effect.flip(mimo.chat(hello))))
          .pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("1 minute")
      const errors = yield* Fiber.join(fiber)
      expect(errors.map((e) => [e._tag, e.attempts])).toEqual([
        ["ServiceUnavailable", 2],
        ["ServiceUnavailable", 2],
        ["ServiceUnavailable", 2]
      ])
      expect(server.sent.map((s) => s.at)).toEqual([0, 100, 100, 200, 200, 300])
      expect(yield* budget.left).toBe(85)
      expect(yield* own.left).toBe(50)
    }))
})
