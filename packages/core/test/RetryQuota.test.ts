/**
 * The client's default retry quota, over a fake transport: a full outage is
 * not multiplied, a 20 % fault rate never empties it, successes refill it.
 */
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Schedule } from "effect"
import { MimoClient, MimoError, MimoTransport, RetryQuota } from "../src/index.js"
import { okBody } from "./fixtures.js"

const unavailable = JSON.stringify({ error: { message: "busy", type: "service_unavailable", code: "503" } })

/**
 * A transport answering `reply(n)` to the n-th request (from 0): a status, or `"timeout"` (the attempt's time
 * limit passed); it counts what it received. Only buffered calls are made here: `open` is never used.
 */
const fakeTransport = (reply: (n: number) => number | "timeout") => {
  const state = { requests: 0 }
  const service: MimoTransport.Service = {
    send: () =>
      Effect.suspend(() => {
        const status = reply(state.requests++)
        return status === "timeout"
          ? Effect.fail(new MimoError.TransportError({ reason: "Timeout", message: "no answer in time" }))
          : Effect.succeed({ status, headers: Headers.empty, body: status === 200 ? okBody : unavailable })
      }),
    open: () => Effect.fail(new MimoError.TransportError({ reason: "ConnectionReset", message: "not in this test" }))
  }
  return { state, service }
}

const clientWith = (transport: MimoTransport.Service, options: Partial<MimoClient.Options> = {}) =>
  MimoClient.make({
    apiKey: Redacted.make("sk-test-0123456789"),
    baseUrl: "http://127.0.0.1:1/v1",
    // Five attempts without waits: the quota, not the backoff, is under test.
    retry: Schedule.recurs(4),
    ...options
  }).pipe(Effect.provide(Layer.succeed(MimoTransport.MimoTransport, transport)))

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "hi" }] }

const calls = (client: MimoClient.Service, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.either(client.chat(hello)))

const failures = (results: ReadonlyArray<Either.Either<unknown, MimoError.MimoError>>) =>
  results.filter(Either.isLeft).length

describe("RetryQuota (the client's default)", () => {
  it.effect("a full outage: 100 retries in all, then one attempt per call", () =>
    Effect.gen(function*() {
      const fake = fakeTransport(() => 503)
      const quota = RetryQuota.unsafeMake()
      const client = yield* clientWith(fake.service, { retryQuota: quota })
      const results = yield* calls(client, 400)
      expect(failures(results)).toBe(400)
      // 400 first attempts + 500 / 5 = 100 retries (1.25×; without the quota 5×).
      expect(fake.state.requests).toBe(500)
      expect(yield* quota.left).toBe(0)
    }))

  it.effect("without the quota (retryQuota: false) every call makes its five attempts", () =>
    Effect.gen(function*() {
      const fake = fakeTransport(() => 503)
      const client = yield* clientWith(fake.service, { retryQuota: false })
      yield* calls(client, 100)
      expect(fake.state.requests).toBe(500)
    }))

  it.effect("20 % of attempts failing, 2,000 calls: no failure, the quota stays (almost) full", () =>
    Effect.gen(function*() {
      // Every fifth attempt fails, and one call in 25 sees two failures in a row.
      const fake = fakeTransport((n) => (n % 5 === 0 || n % 125 === 1 ? 503 : 200))
      const quota = RetryQuota.unsafeMake()
      const client = yield* clientWith(fake.service, { retryQuota: quota })
      const results = yield* calls(client, 2000)
      expect(failures(results)).toBe(0)
      expect(yield* quota.left).toBeGreaterThanOrEqual(495)
    }))

  it.effect("after an outage, first-time successes refill it one token each", () =>
    Effect.gen(function*() {
      let down = true
      const fake = fakeTransport(() => (down ? 503 : 200))
      const quota = RetryQuota.unsafeMake({ capacity: 50 })
      const client = yield* clientWith(fake.service, { retryQuota: quota })
      yield* calls(client, 20)
      expect(yield* quota.left).toBe(0)
      down = false
      yield* calls(client, 30)
      expect(yield* quota.left).toBe(30)
      // A retry paid, then given back by the success that followed it.
      let first = true
      const once = fakeTransport(() => (first ? ((first = false), 503) : 200))
      const quota2 = RetryQuota.unsafeMake({ capacity: 10 })
      const client2 = yield* clientWith(once.service, { retryQuota: quota2 })
      yield* quota2.withdraw(new MimoError.InternalError({ message: "x" }))
      expect(yield* quota2.left).toBe(5)
      expect(Either.isRight(yield* Effect.either(client2.chat(hello)))).toBe(true)
      expect(yield* quota2.left).toBe(5)
    }))

  it.effect("a retry after a timeout costs twice as much: 50 retries in a full outage of timeouts", () =>
    Effect.gen(function*() {
      const fake = fakeTransport(() => "timeout")
      const quota = RetryQuota.unsafeMake()
      const client = yield* clientWith(fake.service, { retryQuota: quota })
      const results = yield* calls(client, 200)
      expect(failures(results)).toBe(200)
      // 200 first attempts + 500 / 10 = 50 retries.
      expect(fake.state.requests).toBe(250)
      expect(yield* quota.left).toBe(0)
    }))

  it.effect("the schedule combinator stops retrying when the quota cannot pay", () =>
    Effect.gen(function*() {
      const quota = RetryQuota.unsafeMake({ capacity: 10, costPerRetry: 5 })
      let runs = 0
      const failing = Effect.suspend(() => {
        runs++
        return Effect.fail(new MimoError.InternalError({ message: "x" }))
      })
      yield* Effect.either(Effect.retry(failing, Schedule.recurs(10).pipe(RetryQuota.schedule(quota))))
      expect(runs).toBe(3)
      expect(yield* quota.left).toBe(0)
    }))
})
