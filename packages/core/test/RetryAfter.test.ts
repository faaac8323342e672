import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, FastCheck as fc, Option, TestClock } from "effect"
import { RetryAfter } from "../src/index.js"

const now = Date.UTC(2026, 0, 15, 12, 0, 0)

const parse = (input: Record<string, string>, nowMillis = now) =>
  RetryAfter.parse(Headers.fromInput(input), nowMillis).pipe(Option.map(Duration.toMillis))

describe("RetryAfter.parse", () => {
  it("reads Retry-After as delta-seconds, integer or decimal", () => {
    expect(parse({ "retry-after": "2" })).toEqual(Option.some(2000))
    expect(parse({ "Retry-After": "0" })).toEqual(Option.some(0))
    expect(parse({ "retry-after": " 30 " })).toEqual(Option.some(30_000))
    expect(parse({ "retry-after": "1.5" })).toEqual(Option.some(1500))
    expect(parse({ "retry-after": "0.25" })).toEqual(Option.some(250))
  })

  it("prefers retry-after-ms (float milliseconds) over Retry-After", () => {
    expect(parse({ "retry-after-ms": "1500.5", "retry-after": "9" })).toEqual(Option.some(1500.5))
    expect(parse({ "retry-after-ms": "20" })).toEqual(Option.some(20))
    expect(parse({ "Retry-After-Ms": "0" })).toEqual(Option.some(0))
  })

  it("falls back to Retry-After when retry-after-ms is invalid", () => {
    expect(parse({ "retry-after-ms": "soon", "retry-after": "3" })).toEqual(Option.some(3000))
    expect(parse({ "retry-after-ms": "-5", "retry-after": "3" })).toEqual(Option.some(3000))
  })

  it("ignores invalid and negative values", () => {
    for (const value of ["", " ", "-1", "-0.5", "soon", "1s", "0x10", "Infinity", "NaN", "1e999", "1,5", "+3"]) {
      expect(parse({ "retry-after": value }), value).toEqual(Option.none())
      expect(parse({ "retry-after-ms": value }), value).toEqual(Option.none())
    }
    expect(parse({})).toEqual(Option.none())
  })

  it("reads the three HTTP-date forms as date - now", () => {
    expect(parse({ "retry-after": "Thu, 15 Jan 2026 12:00:30 GMT" })).toEqual(Option.some(30_000))
    expect(parse({ "retry-after": "Thursday, 15-Jan-26 12:01:00 GMT" })).toEqual(Option.some(60_000))
    expect(parse({ "retry-after": "Thu Jan 15 12:00:05 2026" })).toEqual(Option.some(5000))
    expect(parse({ "retry-after": "Thu Jan  1 00:00:00 2026" }, Date.UTC(2025, 11, 31, 23, 59, 59))).toEqual(
      Option.some(1000)
    )
    expect(parse({ "retry-after": "thu, 15 jan 2026 12:00:01 gmt" })).toEqual(Option.some(1000))
  })

  it("floors a date in the past at zero", () => {
    expect(parse({ "retry-after": "Thu, 15 Jan 2026 11:59:00 GMT" })).toEqual(Option.some(0))
    expect(parse({ "retry-after": "Sun, 06 Nov 1994 08:49:37 GMT" })).toEqual(Option.some(0))
  })

  it("rejects impossible or malformed dates", () => {
    for (
      const value of [
        "Mon, 30 Feb 2026 00:00:00 GMT",
        "Thu, 15 Foo 2026 12:00:30 GMT",
        "Thu, 15 Jan 2026 25:00:00 GMT",
        "Thu, 15 Jan 2026 12:00:30 PST",
        "2026-01-15T12:00:30Z",
        "tomorrow"
      ]
    ) {
      expect(parse({ "retry-after": value }), value).toEqual(Option.none())
    }
  })

  it("parseHttpDate gives epoch milliseconds", () => {
    expect(RetryAfter.parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")).toBe(784111777000)
    expect(RetryAfter.parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT")).toBe(784111777000)
    expect(RetryAfter.parseHttpDate("Sun Nov  6 08:49:37 1994")).toBe(784111777000)
    expect(RetryAfter.parseHttpDate("nope")).toBeUndefined()
  })
})

describe("RetryAfter.fromHeaders", () => {
  it.effect("reads now from the Clock (TestClock)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const headers = Headers.fromInput({ "retry-after": "Thu, 15 Jan 2026 12:00:42 GMT" })
      expect(yield* RetryAfter.fromHeaders(headers)).toEqual(Option.some(Duration.millis(42_000)))
      yield* TestClock.adjust("40 seconds")
      expect(yield* RetryAfter.fromHeaders(headers)).toEqual(Option.some(Duration.millis(2000)))
      yield* TestClock.adjust("1 minute")
      expect(yield* RetryAfter.fromHeaders(headers)).toEqual(Option.some(Duration.zero))
    }))

  it.effect("does not need the clock for delta-seconds", () =>
    Effect.gen(function*() {
      expect(yield* RetryAfter.fromHeaders(Headers.fromInput({ "retry-after": "7" }))).toEqual(
        Option.some(Duration.seconds(7))
      )
      expect(yield* RetryAfter.fromHeaders(Headers.empty)).toEqual(Option.none())
    }))
})

describe("RetryAfter.toHeaders", () => {
  it("writes whole seconds rounded up and the exact milliseconds", () => {
    expect(RetryAfter.toHeaders(Duration.millis(1500))).toEqual({ "retry-after": "2", "retry-after-ms": "1500" })
    expect(RetryAfter.toHeaders(Duration.seconds(3))).toEqual({ "retry-after": "3", "retry-after-ms": "3000" })
    expect(RetryAfter.toHeaders(Duration.millis(1))).toEqual({ "retry-after": "1", "retry-after-ms": "1" })
    expect(RetryAfter.toHeaders(Duration.zero)).toEqual({ "retry-after": "0", "retry-after-ms": "0" })
    expect(RetryAfter.toHeaders(Duration.infinity)).toEqual({})
  })

  it.prop("parse ∘ toHeaders is the identity (integer milliseconds)", [fc.nat({ max: 2_000_000_000 })], ([ms]) => {
    const d = Duration.millis(ms)
    expect(RetryAfter.parse(Headers.fromInput(RetryAfter.toHeaders(d)), now)).toEqual(Option.some(d))
  })

  it.prop(
    "parse ∘ toHeaders is the identity (nanosecond precision); Retry-After alone never waits less",
    [fc.integer({ min: 0, max: 1e12 })],
    ([nanos]) => {
      const d = Duration.nanos(BigInt(nanos))
      const headers = RetryAfter.toHeaders(d)
      const parsed = RetryAfter.parse(Headers.fromInput(headers), now)
      // Compare as durations: 15.625 s may come back as millis where it went out as nanos.
      expect(Option.map(parsed, (p) => Duration.equals(p, d))).toEqual(Option.some(true))
      const ms = Duration.toMillis(d)
      const secondsOnly = RetryAfter.parse(Headers.fromInput({ "retry-after": headers["retry-after"] }), now)
      expect(Option.map(secondsOnly, (s) => Duration.toMillis(s) >= ms && Duration.toMillis(s) < ms + 1000)).toEqual(
        Option.some(true)
      )
    }
  )
})
