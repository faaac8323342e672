/**
 * The call options by which a decorator that paces attempts (`RateLimit` of `@effect-mimo/resilience`) takes part
 * in the retry loop: `requeue`, `retryDelay`, and the call's own `retryQuota` (issue 13). Exact timelines under
 * `TestClock`, over a fake transport.
 */
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Redacted, TestClock } from "effect"
import { MimoClient, MimoError, MimoTransport, RetryPolicy, RetryQuota } from "../src/index.js"
import { okBody } from "./fixtures.js"

const bodies: Record<number, string> = {
  200: okBody,
  429: JSON.stringify({ error: { message: "slow down", type: "rate_limit_exceeded", code: "429" } }),
  503: JSON.stringify({ error: { message: "busy", type: "service_unavailable", code: "503" } })
}

interface Sent {
  readonly at: number
  readonly retryCount: string | undefined
}

/** A transport answering `statuses[n]` to the n-th request (the last one after that); a 429 asks for 2 s. */
const fakeTransport = (statuses: ReadonlyArray<number>) => {
  const sent: Array<Sent> = []
  const service: MimoTransport.Service = {
    send: (request) =>
      Effect.flatMap(Clock.currentTimeMillis, (at) => {
        const status = statuses[Math.min(sent.length, statuses.length - 1)]!
        sent.push({ at, retryCount: request.headers[MimoClient.retryCountHeader] })
        return Effect.succeed({
          status,
          headers: status === 429 ? Headers.fromInput({ "retry-after": "2" }) : Headers.empty,
          body: bodies[status]!
        })
      }),
    open: () => Effect.fail(new MimoError.TransportError({ reason: "ConnectionReset", message: "not in this test" }))
  }
  return { sent, service }
}

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "hi" }] }

/** One chat call through a client over `transport`, run to its end under the TestClock. */
const chat = (
  transport: MimoTransport.Service,
  call: MimoClient.CallOptions,
  options: Partial<MimoClient.Options> = {}
) =>
  Effect.gen(function*() {
    const client = yield* MimoClient.make({
      apiKey: Redacted.make("sk-test-0123456789"),
      baseUrl: "http://127.0.0.1:1/v1",
      retry: RetryPolicy.make({ jitter: "none" }),
      ...options
    }).pipe(Effect.provide(Layer.succeed(MimoTransport.MimoTransport, transport)))
    const fiber = yield* Effect.fork(Effect.either(client.chat(hello, call)))
    yield* TestClock.adjust("5 minutes")
    return yield* Fiber.join(fiber)
  })

describe("MimoClient call options for decorators (issue 13)", () => {
  it.effect("requeue: a 429 sent again after the hook's delay, as a new attempt the policy and the quota do not count", () =>
    Effect.gen(function*() {
      const fake = fakeTransport([429, 429, 200])
      const quota = RetryQuota.unsafeMake()
      const retried: Array<[number, string, number]> = []
      const result = yield* chat(fake.service, {
        // One attempt: only the requeues send the request again.
        retry: RetryPolicy.attempts(1),
        requeue: (error) => Effect.succeed(error._tag === "RateLimitExceeded" ? error.retryAfter : undefined),
        onRetry: (e) => Effect.sync(() => void retried.push([e.attempt, e.error._tag, Duration.toMillis(e.delay)]))
      }, { retryQuota: quota })
      expect(result._tag).toBe("Right")
      // Each send is an attempt: the retry-count header counts the requeues.
      expect(fake.sent).toEqual([
        { at: 0, retryCount: undefined },
        { at: 2000, retryCount: "1" },
        { at: 4000, retryCount: "2" }
      ])
      expect(retried).toEqual([[1, "RateLimitExceeded", 2000], [2, "RateLimitExceeded", 2000]])
      // Nothing was paid; the success refilled nothing (the quota is full).
      expect(yield* quota.left).toBe(500)
    }))

  it.effect("requeue: a delay past the call's deadline leaves the 429 to the policy, which fails the call with it", () =>
    Effect.gen(function*() {
      const fake = fakeTransport([429, 200])
      const result = yield* chat(fake.service, {
        deadline: "1 second",
        requeue: () => Effect.succeed(Duration.seconds(2))
      })
      expect(result._tag).toBe("Left")
      if (result._tag === "Left") {
        expect(result.left._tag).toBe("RateLimitExceeded")
        expect(result.left.attempts).toBe(1)
      }
      expect(fake.sent.map((s) => s.at)).toEqual([0])
    }))

  it.effect("requeue: `undefined` leaves the failure to the policy (its waits, its attempts)", () =>
    Effect.gen(function*() {
      const fake = fakeTransport([503, 503, 200])
      const result = yield* chat(fake.service, { requeue: () => Effect.succeed(undefined) })
      expect(result._tag).toBe("Right")
      // The policy's 1 s, then 2 s.
      expect(fake.sent.map((s) => s.at)).toEqual([0, 1000, 3000])
    }))

  it.effect("retryDelay: changes the waits the policy chose, and onRetry reports the wait made", () =>
    Effect.gen(function*() {
      const fake = fakeTransport([503, 503, 429, 200])
      const delays: Array<number> = []
      const result = yield* chat(fake.service, {
        // After a 503, at most 100 ms; a 429's wait is kept.
        retryDelay: (delay, error) =>
          Effect.succeed(error._tag === "ServiceUnavailable" ? Duration.min(delay, Duration.millis(100)) : delay),
        onRetry: (e) => Effect.sync(() => void delays.push(Duration.toMillis(e.delay)))
      })
      expect(result._tag).toBe("Right")
      // 100 ms, 100 ms, then the 429's wait: the larger of its Retry-After (2 s) and the policy's third backoff (4 s).
      expect(delays).toEqual([100, 100, 4000])
      expect(fake.sent.map((s) => s.at)).toEqual([0, 100, 200, 4200])
    }))

  it.effect("retryQuota: the call's quota pays its retries instead of the client's; `false`: none at all", () =>
    Effect.gen(function*() {
      const own = RetryQuota.unsafeMake({ capacity: 50 })
      const budget = RetryQuota.unsafeMake({ capacity: 100 })
      const down = fakeTransport([503])
      yield* chat(down.service, { retryQuota: budget }, { retryQuota: own })
      // 4 retries of the client's policy, 5 tokens each, from the call's quota.
      expect(down.sent).toHaveLength(5)
      expect(yield* budget.left).toBe(80)
      expect(yield* own.left).toBe(50)
      const empty = RetryQuota.unsafeMake({ capacity: 0 })
      const again = fakeTransport([503])
      yield* chat(again.service, { retryQuota: false }, { retryQuota: empty })
      expect(again.sent).toHaveLength(5)
    }))
})
