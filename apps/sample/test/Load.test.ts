/**
 * `mimo load`, in process: a small run through the limiter against the
 * embedded simulator, and the rendering of the progress line.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Load from "../src/Load.js"

const options = (limiter: boolean): Load.Options => ({
  requests: 40,
  concurrency: 20,
  rps: 20,
  burst: Option.none(),
  limiter,
  model: "mimo-v2-flash"
})

describe("mimo load", () => {
  it.live("runs through the limiter: no failures, few 429s, paced, with progress reports", () =>
    Effect.gen(function*() {
      const reports: Array<Load.Progress> = []
      const summary = yield* Load.runLoad(options(true), (p) => Effect.sync(() => void reports.push(p)), 100)
      expect(summary.successes).toBe(40)
      expect(summary.failures).toBe(0)
      expect(summary.rateLimited).toBeLessThanOrEqual(5)
      // A burst of 20, then 20 more at 20 per second.
      expect(summary.wallMs).toBeGreaterThanOrEqual(900)
      expect(Option.isSome(summary.limiter)).toBe(true)
      expect(Option.getOrThrow(summary.waits).count).toBeGreaterThanOrEqual(40)
      const last = reports[reports.length - 1]!
      expect(last.done).toBe(40)
      expect(reports.some((p) => Option.exists(p.limiter, (s) => s.queued > 0))).toBe(true)
      const text = Load.summaryText(summary)
      expect(text).toContain("failures:   0")
      expect(text).toContain("through the client-side rate limiter")
      expect(text).toMatch(/x the physical limit \(40 \/ 20 req\/s = 2 s\)/)
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error)))

  it("renders the progress line: a bar, counts, the limiter's queue, rate and pause", () => {
    const line = Load.progressLine({
      done: 12,
      total: 48,
      successes: 11,
      failures: 1,
      rateLimited: 3,
      limiter: Option.some({
        model: "mimo-v2-flash",
        queued: 30,
        inFlight: 6,
        allowedRate: 35,
        maxRate: 50,
        pausedUntil: 1_500,
        throttled: 3,
        admitted: 15,
        throttledRatio: 0.1
      }),
      elapsedMs: 2_000,
      now: 1_000
    })
    expect(line).toBe(
      "[######------------------] 12/48  ok 11  failed 1  429s 3  queue 30  in flight 6  allowed 35.0/s  paused 0.5 s  2.0 s"
    )
  })
})
