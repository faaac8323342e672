import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Clock,
  Duration,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Option,
  Random,
  Ref,
  Schedule,
  TestClock
} from "effect"
import { MimoError, RetryPolicy } from "../src/index.js"

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

const e503 = new MimoError.ServiceUnavailable({ message: "busy" })
const e500 = new MimoError.InternalError({ message: "boom" })
const rateLimited = (retryAfter?: Duration.DurationInput) =>
  retryAfter === undefined
    ? new MimoError.RateLimitExceeded({ message: "slow down" })
    : new MimoError.RateLimitExceeded({ message: "slow down", retryAfter: Duration.decode(retryAfter) })

const retryableErrors: ReadonlyArray<MimoError.MimoError> = [
  e503,
  e500,
  rateLimited(),
  new MimoError.TransportError({ reason: "ConnectionReset", message: "reset" }),
  new MimoError.TransportError({ reason: "Timeout", message: "timeout" }),
  new MimoError.UnknownApiError({ status: 502, message: "Bad Gateway", body: "<html>" }),
  new MimoError.UnknownApiError({ status: 408, message: "Request Timeout", body: "" })
]

const nonRetryable: ReadonlyArray<{ readonly name: string; readonly error: MimoError.MimoError }> = [
  { name: "400 InvalidRequest", error: new MimoError.InvalidRequest({ message: "Param Incorrect" }) },
  { name: "401 AuthenticationFailed", error: new MimoError.AuthenticationFailed({ message: "Invalid API Key" }) },
  { name: "403 PermissionDenied", error: new MimoError.PermissionDenied({ message: "no" }) },
  { name: "404 NotFound", error: new MimoError.NotFound({ message: "no such model" }) },
  {
    name: "422 UnknownApiError",
    error: new MimoError.UnknownApiError({ status: 422, message: "Unprocessable", body: "{}" })
  },
  { name: "402 UnknownApiError", error: new MimoError.UnknownApiError({ status: 402, message: "Pay", body: "{}" }) },
  {
    name: "ValidationError",
    error: new MimoError.ValidationError({ field: "temperature", value: "3", expected: "[0, 1.5]", message: "m" })
  },
  { name: "ResponseDecodeError", error: new MimoError.ResponseDecodeError({ status: 200, message: "x", body: "{" }) }
]

const describeError = (error: MimoError.MimoError): string =>
  error._tag === "TransportError" ? `TransportError ${error.reason}` : `${MimoError.statusOf(error)} ${error._tag}`

// ---------------------------------------------------------------------------
// Harness: a scripted fake request, run under Effect.retry with TestClock
// ---------------------------------------------------------------------------

type Outcome = MimoError.MimoError | "ok"

/** The i-th attempt gets `outcomes[i]` (the last one repeats forever); each attempt's Clock time is recorded. */
const scripted = (outcomes: ReadonlyArray<Outcome>) =>
  Effect.map(Ref.make<ReadonlyArray<number>>([]), (log) => ({
    request: Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const n = yield* Ref.modify(log, (times) => [times.length, [...times, now]] as const)
      const outcome = outcomes[Math.min(n, outcomes.length - 1)]!
      return outcome === "ok" ? n : yield* Effect.fail(outcome)
    }),
    times: Ref.get(log)
  }))

const waitsOf = (times: ReadonlyArray<number>): Array<number> => times.slice(1).map((t, i) => t - times[i]!)

interface Run {
  readonly exit: Exit.Exit<number, MimoError.MimoError>
  readonly start: number
  /** Attempt times relative to the start. */
  readonly times: ReadonlyArray<number>
  readonly waits: ReadonlyArray<number>
}

/** Forks `Effect.retry(request, policy)` with a seeded Random, moves the TestClock `horizon` ahead, collects. */
const timeline = <Out>(
  policy: Schedule.Schedule<Out, MimoError.MimoError>,
  outcomes: ReadonlyArray<Outcome>,
  seed: number,
  horizon: Duration.DurationInput = "1 hour"
): Effect.Effect<Run> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const { request, times } = yield* scripted(outcomes)
    const fiber = yield* Effect.retry(request, policy).pipe(Effect.withRandom(Random.make(seed)), Effect.fork)
    yield* TestClock.adjust(horizon)
    const exit = yield* Fiber.await(fiber)
    const absolute = yield* times
    const relative = absolute.map((t) => t - start)
    return { exit, start, times: relative, waits: waitsOf(relative) }
  })

const failureOf = <A, E>(exit: Exit.Exit<A, E>): Option.Option<E> =>
  Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

/** The seeded `Random` sequence, drawn outside any policy, to compute expected timelines. */
const draws = (seed: number) => {
  const random = Random.make(seed)
  return () => Effect.runSync(random.next)
}

/** `U[0, span)` in whole milliseconds, as the policy draws it. */
const uniform = (r: number, span: number) => Math.min(span - 1, Math.floor(r * span))

/**
 * The seed's rules, restated independently: the waits the default policy takes for a sequence of failures
 * (one draw for the backoff jitter per failure; one more for a Retry-After that is honoured).
 */
const expectedWaits = (errors: ReadonlyArray<MimoError.MimoError>, seed: number): Array<number> => {
  const next = draws(seed)
  const waits: Array<number> = []
  for (let n = 0; n < errors.length; n++) {
    const error = errors[n]!
    const backoff = Math.min(2 ** n * 1000 + uniform(next(), 1000), 60_000)
    if (n >= 4 || !MimoError.isRetryable(error)) break
    const retryAfter = error._tag === "RateLimitExceeded" && error.retryAfter !== undefined
      ? Duration.toMillis(error.retryAfter)
      : undefined
    if (retryAfter === undefined) {
      waits.push(backoff)
    } else if (retryAfter > 60_000) {
      break
    } else {
      waits.push(Math.max(backoff, retryAfter + uniform(next(), 250)))
    }
  }
  return waits
}

const cumulative = (waits: ReadonlyArray<number>): Array<number> =>
  waits.reduce<Array<number>>((times, w) => [...times, times[times.length - 1]! + w], [0])

const SEED = 42

/** The default policy's four waits for seed 42, precomputed once (and checked against the formula below). */
const SEED_42_WAITS = [1_739, 2_679, 4_421, 8_944]

const within = (value: number, lo: number, hi: number, hiInclusive = false) => {
  expect(value).toBeGreaterThanOrEqual(lo)
  if (hiInclusive) expect(value).toBeLessThanOrEqual(hi)
  else expect(value).toBeLessThan(hi)
}

// ---------------------------------------------------------------------------

describe("RetryPolicy", () => {
  describe("defaultPolicy under TestClock", () => {
    it.effect("the precomputed seed-42 waits follow the seed's formula", () =>
      Effect.sync(() => {
        expect(expectedWaits(Array.from({ length: 5 }, () => e503), SEED)).toEqual(SEED_42_WAITS)
        SEED_42_WAITS.forEach((w, n) => within(w, 2 ** n * 1000, 2 ** n * 1000 + 1000))
      }))

    it.effect("1. 503 forever: exactly 5 attempts, 4 waits in [2^n, 2^n + 1) s, then ServiceUnavailable", () =>
      Effect.gen(function*() {
        const run = yield* timeline(RetryPolicy.defaultPolicy, [e503], SEED)
        expect(run.times).toEqual(cumulative(SEED_42_WAITS))
        expect(run.times).toEqual([0, 1_739, 4_418, 8_839, 17_783])
        run.waits.forEach((w, n) => within(w, 2 ** n * 1000, 2 ** n * 1000 + 1000))
        expect(failureOf(run.exit)).toEqual(Option.some(e503))
      }))

    it.effect.each([1, 7, 2024, 99_999])(
      "503 forever, seed %i: the timeline is the formula's",
      (seed) =>
        Effect.gen(function*() {
          const run = yield* timeline(RetryPolicy.defaultPolicy, [e503], seed)
          expect(run.waits).toEqual(expectedWaits(Array.from({ length: 5 }, () => e503), seed))
          expect(run.times).toHaveLength(5)
        })
    )

    it.effect("2. 500, 500, then success: 3 attempts at the right times", () =>
      Effect.gen(function*() {
        const run = yield* timeline(RetryPolicy.defaultPolicy, [e500, e500, "ok"], SEED)
        expect(run.times).toEqual([0, 1_739, 4_418])
        expect(run.exit).toEqual(Exit.succeed(2))
      }))

    it.effect("3. 429 with Retry-After 3 s, then success: waits >= 3 s, < 3.25 s, >= the backoff", () =>
      Effect.gen(function*() {
        const error = rateLimited("3 seconds")
        const run = yield* timeline(RetryPolicy.defaultPolicy, [error, "ok"], SEED)
        expect(run.times).toHaveLength(2)
        const [wait] = run.waits
        within(wait!, 3_000, 3_250)
        expect(wait).toBeGreaterThanOrEqual(expectedWaits([e503], SEED)[0]!)
        expect(run.waits).toEqual(expectedWaits([error], SEED))
        expect(run.waits).toEqual([3_169])
        expect(run.exit).toEqual(Exit.succeed(1))
      }))

    it.effect("4. 429 with a Retry-After HTTP-date: waits until that date (plus < 250 ms)", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.parse("2026-11-05T12:00:00.000Z"))
        const now = yield* Clock.currentTimeMillis
        // What RetryAfter would give for `Retry-After: Thu, 05 Nov 2026 12:00:07 GMT` at this instant.
        const error = rateLimited(Duration.millis(Date.parse("Thu, 05 Nov 2026 12:00:07 GMT") - now))
        const run = yield* timeline(RetryPolicy.defaultPolicy, [error, "ok"], SEED)
        expect(run.start).toBe(now)
        within(run.waits[0]!, 7_000, 7_250)
        expect(run.waits).toEqual(expectedWaits([error], SEED))
        expect(run.exit).toEqual(Exit.succeed(1))
      }))

    it.effect("5. 429 with Retry-After 120 s: no retry, one attempt, the error carries 120 s, no time passes", () =>
      Effect.gen(function*() {
        const error = rateLimited("120 seconds")
        const { request, times } = yield* scripted([error, "ok"])
        const before = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.retry(request, RetryPolicy.defaultPolicy).pipe(
          Effect.withRandom(Random.make(SEED)),
          Effect.fork
        )
        yield* TestClock.adjust(0) // lets the fiber run; moves no time
        const exit = yield* Fiber.poll(fiber)
        expect(Option.isSome(exit)).toBe(true)
        const failure = Option.flatMap(exit, failureOf)
        expect(failure).toEqual(Option.some(error))
        const carried = Option.getOrThrow(failure)
        expect(carried._tag === "RateLimitExceeded" && carried.retryAfter).toEqual(Duration.seconds(120))
        expect(yield* times).toEqual([before])
        expect(yield* Clock.currentTimeMillis).toBe(before)
        expect(Chunk.isEmpty(yield* TestClock.sleeps())).toBe(true)
      }))

    it.effect("a Retry-After of exactly the cap (60 s) is still honoured", () =>
      Effect.gen(function*() {
        const error = rateLimited("60 seconds")
        const run = yield* timeline(RetryPolicy.defaultPolicy, [error, "ok"], SEED)
        within(run.waits[0]!, 60_000, 60_250)
        expect(run.exit).toEqual(Exit.succeed(1))
      }))

    it.effect("a Retry-After shorter than the backoff leaves the backoff", () =>
      Effect.gen(function*() {
        const error = rateLimited("100 millis")
        const run = yield* timeline(RetryPolicy.defaultPolicy, [e503, e503, e503, error, "ok"], SEED)
        expect(run.waits).toEqual(SEED_42_WAITS)
      }))

    it.effect.each(nonRetryable)(
      "6. non-retryable $name: exactly one attempt, no wait",
      ({ error }) =>
        Effect.gen(function*() {
          const run = yield* timeline(RetryPolicy.defaultPolicy, [error, "ok"], SEED)
          expect(run.times).toEqual([0])
          expect(failureOf(run.exit)).toEqual(Option.some(error))
        })
    )

    it.effect.each(retryableErrors.map((error) => ({ name: describeError(error), error })))(
      "retryable $name: retried until success",
      ({ error }) =>
        Effect.gen(function*() {
          const run = yield* timeline(RetryPolicy.defaultPolicy, [error, error, "ok"], SEED)
          expect(run.times).toEqual([0, 1_739, 4_418])
          expect(run.exit).toEqual(Exit.succeed(2))
        })
    )

    it.effect("a non-retryable error after retryable ones stops the retries there", () =>
      Effect.gen(function*() {
        const notFound = nonRetryable[3]!.error
        const run = yield* timeline(RetryPolicy.defaultPolicy, [e503, e500, notFound, "ok"], SEED)
        expect(run.times).toEqual([0, 1_739, 4_418])
        expect(failureOf(run.exit)).toEqual(Option.some(notFound))
      }))

    it.effect("7. interruption during a backoff wait: no further attempt", () =>
      Effect.gen(function*() {
        const { request, times } = yield* scripted([e503])
        const fiber = yield* Effect.retry(request, RetryPolicy.defaultPolicy).pipe(
          Effect.withRandom(Random.make(SEED)),
          Effect.fork
        )
        yield* TestClock.adjust(0)
        expect(yield* times).toEqual([0])
        expect(Chunk.toReadonlyArray(yield* TestClock.sleeps())).toEqual([1_739])
        yield* TestClock.adjust("700 millis")
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        yield* TestClock.adjust("1 hour")
        expect(yield* times).toEqual([0])
        expect(Chunk.isEmpty(yield* TestClock.sleeps())).toBe(true)
      }))
  })

  describe("8. deadline", () => {
    it.effect("deadline 5 s after start: only the retries whose wait ends before it run", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(1_800_000_000_000)
        const start = yield* Clock.currentTimeMillis
        const viaMake = yield* timeline(RetryPolicy.make({ deadline: start + 5_000 }), [e503], SEED)
        // Waits 1.739 s and 2.679 s end at 1.739 s and 4.418 s; the next (4.421 s) would end at 8.839 s.
        expect(viaMake.start).toBe(start)
        expect(viaMake.times).toEqual([0, 1_739, 4_418])
        expect(failureOf(viaMake.exit)).toEqual(Option.some(e503))
        const later = yield* Clock.currentTimeMillis // the TestClock moved on: a fresh deadline, 5 s from now
        const viaPipe = yield* timeline(
          RetryPolicy.defaultPolicy.pipe(RetryPolicy.deadline(later + 5_000)),
          [e503],
          SEED
        )
        expect(viaPipe.times).toEqual(viaMake.times)
      }))

    it.effect("a wait that ends exactly at the deadline is allowed; one ms earlier it is not", () =>
      Effect.gen(function*() {
        const exact = yield* timeline(RetryPolicy.deadline(RetryPolicy.defaultPolicy, 8_839), [e503], SEED)
        expect(exact.times).toEqual([0, 1_739, 4_418, 8_839])
        const now = yield* Clock.currentTimeMillis
        const earlier = yield* timeline(RetryPolicy.deadline(RetryPolicy.defaultPolicy, now + 8_838), [e503], SEED)
        expect(earlier.times).toEqual([0, 1_739, 4_418])
      }))

    it.effect("a deadline already past allows no retry", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(10_000)
        const run = yield* timeline(RetryPolicy.make({ deadline: 9_000 }), [e503], SEED)
        expect(run.times).toEqual([0])
      }))

    it.effect("the deadline sees the Retry-After wait, not only the backoff", () =>
      Effect.gen(function*() {
        const run = yield* timeline(RetryPolicy.make({ deadline: 2_000 }), [rateLimited("3 seconds"), "ok"], SEED)
        expect(run.times).toEqual([0])
        expect(failureOf(run.exit)).toEqual(Option.some(rateLimited("3 seconds")))
      }))
  })

  describe("9. building blocks", () => {
    const busy = (n: number) => Array.from({ length: n }, () => e503)
    const millis = (ds: ReadonlyArray<Duration.Duration>) => ds.map(Duration.toMillis)
    const runDelays = <Out>(policy: Schedule.Schedule<Out, MimoError.MimoError>, n: number, seed: number) =>
      Effect.map(RetryPolicy.delays(policy, busy(n)), millis).pipe(Effect.withRandom(Random.make(seed)))

    it.effect("exponential: base * factor^n, Effect's own", () =>
      Effect.gen(function*() {
        expect(yield* runDelays(RetryPolicy.exponential(), 6, SEED)).toEqual([1000, 2000, 4000, 8000, 16000, 32000])
        expect(yield* runDelays(RetryPolicy.exponential("200 millis", 1.5), 4, SEED)).toEqual([200, 300, 450, 675])
      }))

    it.effect("attempts(n): n attempts in all; below 1 means one attempt", () =>
      Effect.gen(function*() {
        const count = (n: number) =>
          Effect.map(runDelays(Schedule.intersect(Schedule.spaced("1 second"), RetryPolicy.attempts(n)), 10, 1), (d) =>
            d.length + 1)
        expect(yield* count(1)).toBe(1)
        expect(yield* count(3)).toBe(3)
        expect(yield* count(5)).toBe(5)
        expect(yield* count(0)).toBe(1)
        expect(yield* count(Number.NaN)).toBe(1)
        expect(yield* count(Infinity)).toBe(11)
      }))

    it.effect("whileRetryable: recurs on retryable errors only, without a delay of its own", () =>
      Effect.gen(function*() {
        const notFound = nonRetryable[3]!.error
        const out = yield* RetryPolicy.delays(RetryPolicy.whileRetryable, [e503, e500, notFound, e503])
        expect(millis(out)).toEqual([0, 0])
      }))

    it.effect("capDelay caps each delay; defaults to 60 s", () =>
      Effect.gen(function*() {
        expect(yield* runDelays(RetryPolicy.exponential().pipe(RetryPolicy.capDelay("5 seconds")), 5, SEED)).toEqual(
          [1000, 2000, 4000, 5000, 5000]
        )
        const capped = yield* runDelays(RetryPolicy.capDelay(RetryPolicy.exponential()), 9, SEED)
        expect(capped.slice(5)).toEqual([32_000, 60_000, 60_000, 60_000])
      }))

    it.effect("the cap holds with jitter: min(2^n s + U[0, 1 s), 60 s) for n up to 20", () =>
      Effect.gen(function*() {
        const next = draws(SEED)
        const out = yield* runDelays(RetryPolicy.make({ maxAttempts: 21 }), 30, SEED)
        expect(out).toHaveLength(20)
        out.forEach((d, n) => {
          expect(d).toBe(Math.min(2 ** n * 1000 + uniform(next(), 1000), 60_000))
          expect(d).toBeLessThanOrEqual(60_000)
        })
        expect(out.slice(6)).toEqual(Array.from({ length: 14 }, () => 60_000))
      }))

    it.effect("Random.fixed at the edges: jitter bounds stay half-open", () =>
      Effect.gen(function*() {
        const at = (r: number) => <Out>(policy: Schedule.Schedule<Out, MimoError.MimoError>) =>
          Effect.map(RetryPolicy.delays(policy, busy(3)), millis).pipe(Effect.withRandom(Random.fixed([r])))
        const base = RetryPolicy.exponential()
        expect(yield* at(0)(RetryPolicy.jitterAdditive(base))).toEqual([1000, 2000, 4000])
        expect(yield* at(1)(RetryPolicy.jitterAdditive(base))).toEqual([1999, 2999, 4999])
        expect(yield* at(0)(RetryPolicy.jitterFull(base))).toEqual([0, 0, 0])
        expect(yield* at(1)(RetryPolicy.jitterFull(base))).toEqual([999, 1999, 3999])
        expect(yield* at(0)(RetryPolicy.jitterEqual(base))).toEqual([500, 1000, 2000])
        expect(yield* at(1)(RetryPolicy.jitterEqual(base))).toEqual([999, 1999, 3999])
        // decorrelated: U[base, prev * 3): r = 1 gives 3 * prev - 1 ms, capped
        expect(yield* at(1)(RetryPolicy.jitterDecorrelated(Schedule.forever, "1 second", "20 seconds"))).toEqual([
          2999,
          8996,
          20_000
        ])
        expect(yield* at(0)(RetryPolicy.jitterDecorrelated(Schedule.forever))).toEqual([1000, 1000, 1000])
      }))

    const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 })
    const baseArb = fc.integer({ min: 1, max: 100_000 })

    it.effect.prop(
      "jitterAdditive(max): d + U[0, max)",
      { seed: seedArb, base: baseArb, max: baseArb },
      (p) =>
        Effect.gen(function*() {
          const out = yield* runDelays(
            RetryPolicy.exponential(p.base).pipe(RetryPolicy.jitterAdditive(p.max)),
            8,
            p.seed
          )
          out.forEach((d, n) => within(d, p.base * 2 ** n, p.base * 2 ** n + p.max))
        })
    )

    it.effect.prop("jitterFull: U[0, d)", { seed: seedArb, base: baseArb }, (p) =>
      Effect.gen(function*() {
        const out = yield* runDelays(RetryPolicy.exponential(p.base).pipe(RetryPolicy.jitterFull), 8, p.seed)
        out.forEach((d, n) => {
          within(d, 0, p.base * 2 ** n)
          expect(Number.isInteger(d)).toBe(true)
        })
      }))

    it.effect.prop("jitterEqual: d/2 + U[0, d/2)", { seed: seedArb, base: baseArb }, (p) =>
      Effect.gen(function*() {
        const out = yield* runDelays(RetryPolicy.exponential(p.base).pipe(RetryPolicy.jitterEqual), 8, p.seed)
        out.forEach((d, n) => {
          const full = p.base * 2 ** n
          if (full >= 2) within(d, full / 2, full)
          else expect(d).toBe(full)
        })
      }))

    it.effect.prop(
      "jitterDecorrelated(base, cap): min(cap, U[base, prev * 3))",
      { seed: seedArb, base: baseArb, extra: fc.integer({ min: 0, max: 200_000 }) },
      (p) =>
        Effect.gen(function*() {
          const cap = p.base + p.extra
          const out = yield* runDelays(RetryPolicy.jitterDecorrelated(Schedule.forever, p.base, cap), 12, p.seed)
          out.reduce((previous, d) => {
            within(d, p.base, cap, true)
            if (d < cap) expect(d).toBeLessThan(Math.max(p.base + 1, previous * 3))
            return d
          }, p.base)
        })
    )

    it.effect.prop(
      "retryAfterAware: max(delay, retryAfter + U[0, jitter)); beyond the cap it stops",
      { seed: seedArb, retryAfter: fc.integer({ min: 0, max: 90_000 }), spaced: fc.integer({ min: 0, max: 90_000 }) },
      (p) =>
        Effect.gen(function*() {
          const policy = Schedule.spaced(p.spaced).pipe(
            RetryPolicy.retryAfterAware({ cap: "45 seconds", jitter: "100 millis" })
          )
          const out = yield* Effect.map(RetryPolicy.delays(policy, [rateLimited(p.retryAfter)]), millis).pipe(
            Effect.withRandom(Random.make(p.seed))
          )
          if (p.retryAfter > 45_000) {
            expect(out).toEqual([])
          } else {
            expect(out).toHaveLength(1)
            const wait = out[0]!
            expect(wait).toBeGreaterThanOrEqual(p.spaced)
            if (wait > p.spaced) within(wait, p.retryAfter, p.retryAfter + 100)
            expect(wait).toBeGreaterThanOrEqual(p.retryAfter)
            expect(wait).toBeLessThan(Math.max(p.spaced + 1, p.retryAfter + 100))
          }
        })
    )

    it.effect("delays() matches what Effect.retry actually waits under the TestClock", () =>
      Effect.gen(function*() {
        const errors = [e503, rateLimited("5 seconds"), e500, e503, e503]
        const simulated = yield* RetryPolicy.delays(RetryPolicy.defaultPolicy, errors).pipe(
          Effect.withRandom(Random.make(SEED))
        )
        const run = yield* timeline(RetryPolicy.defaultPolicy, errors, SEED)
        expect(run.waits).toEqual(millis(simulated))
        expect(run.waits).toEqual(expectedWaits(errors, SEED))
      }))
  })

  describe("make", () => {
    it.effect("make() is the default policy", () =>
      Effect.gen(function*() {
        const errors = [e503, rateLimited("3 seconds"), e500, rateLimited(), e503]
        const a = yield* timeline(RetryPolicy.make(), errors, SEED)
        const b = yield* timeline(RetryPolicy.defaultPolicy, errors, SEED)
        expect(a.times).toEqual(b.times)
        expect(a.times).toHaveLength(5)
      }))

    it.effect("jitter 'none', base, factor, maxAttempts", () =>
      Effect.gen(function*() {
        const run = yield* timeline(
          RetryPolicy.make({ jitter: "none", base: "100 millis", factor: 3, maxAttempts: 4 }),
          [e503],
          SEED
        )
        expect(run.times).toEqual([0, 100, 400, 1300])
      }))

    it.effect("cap applies to delays and to Retry-After", () =>
      Effect.gen(function*() {
        const run = yield* timeline(RetryPolicy.make({ jitter: "none", cap: "3 seconds" }), [e503], SEED)
        expect(run.waits).toEqual([1000, 2000, 3000, 3000])
        const refused = yield* timeline(RetryPolicy.make({ cap: "3 seconds" }), [rateLimited("4 seconds")], SEED)
        expect(refused.times).toEqual([0])
      }))

    it.effect("retryAfter: false ignores Retry-After (and its cap)", () =>
      Effect.gen(function*() {
        const run = yield* timeline(RetryPolicy.make({ retryAfter: false }), [rateLimited("120 seconds"), "ok"], SEED)
        expect(run.waits).toEqual([SEED_42_WAITS[0]])
      }))

    it.effect.each(["full", "equal", "decorrelated"] as const)(
      "jitter '%s': 5 attempts within bounds",
      (jitter) =>
        Effect.gen(function*() {
          const run = yield* timeline(RetryPolicy.make({ jitter }), [e503], SEED)
          expect(run.times).toHaveLength(5)
          run.waits.forEach((w, n) => {
            if (jitter === "full") within(w, 0, 2 ** n * 1000)
            if (jitter === "equal") within(w, 2 ** n * 500, 2 ** n * 1000)
            if (jitter === "decorrelated") within(w, 1000, 60_000, true)
          })
        })
    )
  })

  describe("10. properties of the default policy", () => {
    const retryableArb = fc.constantFrom(...retryableErrors)
    const anyErrorArb = fc.oneof(
      { weight: 4, arbitrary: retryableArb },
      { weight: 1, arbitrary: fc.constantFrom(...nonRetryable.map((c) => c.error)) }
    )
    const outcomesArb = fc.tuple(fc.array(anyErrorArb, { maxLength: 8 }), fc.boolean()).map((
      [errors, succeeds]
    ): ReadonlyArray<Outcome> => succeeds ? [...errors, "ok"] : errors.length > 0 ? errors : ["ok"])

    it.effect.prop(
      "waits in [2^n, min(2^n + 1, 60)] s, at most 4 retries, never a retry after a non-retryable error",
      { outcomes: outcomesArb, seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }) },
      ({ outcomes, seed }) =>
        Effect.gen(function*() {
          const run = yield* timeline(RetryPolicy.defaultPolicy, outcomes, seed)
          const outcomeAt = (i: number) => outcomes[Math.min(i, outcomes.length - 1)]!
          expect(run.times.length).toBeLessThanOrEqual(5)
          run.waits.forEach((w, n) => within(w, 2 ** n * 1000, Math.min(2 ** n * 1000 + 1000, 60_000), true))
          // every attempt but the last failed with a retryable error
          for (let i = 0; i < run.times.length - 1; i++) {
            const o = outcomeAt(i)
            expect(o !== "ok" && MimoError.isRetryable(o)).toBe(true)
          }
          // the last attempt ended the call: success, a non-retryable error, or the fifth attempt
          const last = outcomeAt(run.times.length - 1)
          if (last === "ok") {
            expect(run.exit).toEqual(Exit.succeed(run.times.length - 1))
          } else {
            expect(failureOf(run.exit)).toEqual(Option.some(last))
            expect(!MimoError.isRetryable(last) || run.times.length === 5).toBe(true)
          }
          // and the timeline is exactly the seed's formula for this seed
          const failures = run.times.map((_, i) => outcomeAt(i)).filter((o): o is MimoError.MimoError => o !== "ok")
          expect(run.waits).toEqual(expectedWaits(failures, seed).slice(0, run.waits.length))
        }),
      { fastCheck: { numRuns: 150 } }
    )

    it.effect.prop(
      "with Retry-After: wait = max(backoff, retryAfter + U[0, 250 ms)), or no retry beyond 60 s",
      {
        retryAfter: fc.integer({ min: 0, max: 120_000 }),
        at: fc.integer({ min: 0, max: 3 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 })
      },
      ({ at, retryAfter, seed }) =>
        Effect.gen(function*() {
          const outcomes: Array<Outcome> = [...Array.from({ length: at }, () => e503), rateLimited(retryAfter), "ok"]
          const run = yield* timeline(RetryPolicy.defaultPolicy, outcomes, seed)
          if (retryAfter > 60_000) {
            expect(run.times).toHaveLength(at + 1)
            expect(failureOf(run.exit)).toEqual(Option.some(rateLimited(retryAfter)))
          } else {
            expect(run.times).toHaveLength(at + 2)
            const wait = run.waits[at]!
            expect(wait).toBeGreaterThanOrEqual(Math.max(2 ** at * 1000, retryAfter))
            expect(wait).toBeLessThan(Math.max(2 ** at * 1000 + 1000, retryAfter + 250))
          }
          expect(run.waits).toEqual(expectedWaits(outcomes.filter((o) => o !== "ok"), seed))
        }),
      { fastCheck: { numRuns: 100 } }
    )
  })

  describe("11. composition with Effect's combinators", () => {
    it.effect("Schedule.intersect(defaultPolicy, Schedule.spaced('5 seconds')): waits are max(backoff, 5 s)", () =>
      Effect.gen(function*() {
        const run = yield* timeline(Schedule.intersect(RetryPolicy.defaultPolicy, Schedule.spaced("5 seconds")), [
          e503
        ], SEED)
        expect(run.waits).toEqual(SEED_42_WAITS.map((w) => Math.max(w, 5_000)))
        expect(run.waits).toEqual([5_000, 5_000, 5_000, 8_944])
        expect(failureOf(run.exit)).toEqual(Option.some(e503))
      }))

    it.effect("Schedule.upTo(defaultPolicy, '5 seconds'): no retry decided after 5 s have elapsed", () =>
      Effect.gen(function*() {
        const run = yield* timeline(Schedule.upTo(RetryPolicy.defaultPolicy, "5 seconds"), [e503], SEED)
        // decisions at 0, 1.739 and 4.418 s are within 5 s; the one at 8.839 s is not
        expect(run.times).toEqual([0, 1_739, 4_418, 8_839])
      }))

    it.effect("Schedule.union with Schedule.spaced: the shorter wait, while either recurs", () =>
      Effect.gen(function*() {
        const policy = Schedule.union(
          RetryPolicy.defaultPolicy,
          Schedule.spaced("3 seconds").pipe(Schedule.intersect(Schedule.recurs(5)))
        )
        const run = yield* timeline(policy, [e503], SEED)
        // min(backoff, 3 s) for the first four, then 3 s once more while recurs(5) still allows it
        expect(run.waits).toEqual([1_739, 2_679, 3_000, 3_000, 3_000])
      }))

    it.effect("Schedule.andThen: after the default gives up, a slower tail takes over", () =>
      Effect.gen(function*() {
        const tail = Schedule.spaced("30 seconds").pipe(Schedule.intersect(Schedule.recurs(2)))
        const run = yield* timeline(Schedule.andThen(RetryPolicy.defaultPolicy, tail), [e503], SEED)
        expect(run.waits).toEqual([...SEED_42_WAITS, 30_000, 30_000])
      }))

    it.effect("Schedule.compose with Schedule.recurs: fewer retries, same waits", () =>
      Effect.gen(function*() {
        const run = yield* timeline(Schedule.compose(RetryPolicy.defaultPolicy, Schedule.recurs(2)), [e503], SEED)
        expect(run.waits).toEqual(SEED_42_WAITS.slice(0, 2))
      }))

    it.effect("the parts compose into the default by hand", () =>
      Effect.gen(function*() {
        const byHand = RetryPolicy.exponential().pipe(
          RetryPolicy.jitterAdditive(),
          RetryPolicy.capDelay(),
          Schedule.intersect(RetryPolicy.attempts(5)),
          Schedule.intersect(RetryPolicy.whileRetryable),
          RetryPolicy.retryAfterAware()
        )
        const errors = [e503, rateLimited("2 seconds"), e500, e503, e503]
        const a = yield* timeline(byHand, errors, SEED)
        const b = yield* timeline(RetryPolicy.defaultPolicy, errors, SEED)
        expect(a.times).toEqual(b.times)
      }))

    it.effect("the default's output is the wait before the next attempt", () =>
      Effect.gen(function*() {
        const outputs = yield* Ref.make<ReadonlyArray<number>>([])
        const policy = RetryPolicy.defaultPolicy.pipe(
          Schedule.tapOutput((d) => Ref.update(outputs, (xs) => [...xs, Duration.toMillis(d)]))
        )
        const run = yield* timeline(policy, [e503], SEED)
        // four waits, then 0 when it gives up
        expect(yield* Ref.get(outputs)).toEqual([...run.waits, 0])
      }))
  })
})
