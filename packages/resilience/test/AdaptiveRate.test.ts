import { describe, expect, it } from "@effect/vitest"
import * as AdaptiveRate from "../src/internal/adaptiveRate.js"
import { resolveAdaptive } from "../src/internal/rateLimit.js"

const cubic = resolveAdaptive(true)
const aimd = resolveAdaptive({ algorithm: "aimd" })

/** `n` sends and answers spread over [from, from + span) ms, `throttled` of them 429s (the last ones). */
const traffic = (rate: AdaptiveRate.AdaptiveRate, from: number, span: number, n: number, throttled: number) => {
  const dense: Array<boolean> = []
  for (let i = 0; i < n; i++) {
    const at = from + Math.floor((i * span) / n)
    rate.sent(at)
    dense.push(rate.answered(at, i >= n - throttled, at + 1000))
  }
  return dense
}

describe("AdaptiveRate", () => {
  it("defaults: CUBIC, beta 0.9, a 1 s window, dense from 20 % and 5 429s of at least 10 answers", () => {
    expect(cubic).toEqual({
      algorithm: "cubic",
      beta: 0.9,
      scale: 0.4,
      increase: 0.1,
      minRate: 0.02,
      window: 1000,
      denseRatio: 0.2,
      minSamples: 10,
      minThrottled: 5
    })
    expect(resolveAdaptive(false).algorithm).toBe("off")
  })

  it("stray 429s (5 %) never make a window dense, so the rate stays at the ceiling", () => {
    const rate = AdaptiveRate.make(cubic, 50)
    for (let second = 0; second < 40; second++) {
      // 50 answers a second, every 20th a 429.
      for (let i = 0; i < 50; i++) {
        const at = second * 1000 + i * 20
        rate.sent(at)
        expect(rate.answered(at, i % 20 === 19, at + 1000)).toBe(false)
      }
    }
    expect(rate.rate(40_000)).toBe(50)
  })

  it("a dense window cuts to beta × the accepted rate, once per window; CUBIC climbs back in K s", () => {
    const rate = AdaptiveRate.make(cubic, 200)
    // 200 sent in the first second, the server accepted 50: the 429s come last.
    const dense = traffic(rate, 0, 1000, 200, 150)
    // Dense from the 13th 429 (13 of 63 ≥ 20 %); the cut happened then, from what the window held.
    expect(dense.indexOf(true)).toBe(62)
    // At that moment: 63 answers in the window (50 accepted), 63 sent: target = min(63, max(50, 31.5)) = 50.
    expect(rate.rate(640)).toBeCloseTo(45, 6)
    // The later 429s of the same window do not cut again.
    expect(rate.rate(999)).toBeCloseTo(45, 6)
    // Growth starts at the pause's end (the 429's time + 1 s) and reaches 50 in K = cbrt(50 × 0.1 / 0.4) s.
    const start = 310 + 1000
    const k = Math.cbrt(12.5)
    expect(rate.rate(start)).toBeCloseTo(45, 6)
    expect(rate.rate(start + 1000)).toBeCloseTo(0.4 * Math.pow(1 - k, 3) + 50, 6)
    expect(rate.rate(start + k * 1000)).toBeCloseTo(50, 6)
    // Then slowly above it: +0.4 req/s one second later, +3.2 two seconds later.
    expect(rate.rate(start + k * 1000 + 1000)).toBeCloseTo(50.4, 6)
    expect(rate.rate(start + k * 1000 + 2000)).toBeCloseTo(53.2, 6)
  })

  it("another window's dense 429s cut again, from the lowered rate", () => {
    const rate = AdaptiveRate.make(cubic, 100)
    traffic(rate, 0, 1000, 100, 50)
    const first = rate.rate(1000)
    // Half a window later: still the same window, no cut.
    traffic(rate, 1000, 400, 40, 20)
    expect(rate.rate(1400)).toBeCloseTo(first, 6)
    traffic(rate, 2100, 900, 40, 30)
    expect(rate.rate(3000)).toBeLessThan(first)
  })

  it("AIMD: beta × the accepted rate, then + 10 % of the ceiling per second", () => {
    const rate = AdaptiveRate.make(aimd, 10)
    // 40 sent in a second, the last 20 refused: dense at the 5th 429 (5 of 25, at 600 ms), when 20 of 25 were
    // accepted; the target is capped by the ceiling (10), the rate falls to 9 and grows from the pause's end.
    traffic(rate, 0, 1000, 40, 20)
    const growFrom = 600 + 1000
    expect(rate.rate(growFrom)).toBeCloseTo(0.9 * 10, 6)
    expect(rate.rate(growFrom + 1000)).toBe(10)
  })

  it("a cut ordered from outside (a shared pause) uses what this process sent", () => {
    const rate = AdaptiveRate.make(cubic, 100)
    for (let i = 0; i < 30; i++) {
      rate.sent(i * 33)
      rate.answered(i * 33, false, 0)
    }
    expect(rate.cut(990, 2000)).toBe(true)
    // 30 sent and accepted in the window: target 30, then 0.9 × 30 until the pause ends at 2000.
    expect(rate.rate(1500)).toBeCloseTo(27, 6)
    // Not twice in a window.
    expect(rate.cut(1500, 2500)).toBe(false)
  })

  it("the floor: never below minRate × the ceiling", () => {
    const rate = AdaptiveRate.make(resolveAdaptive({ minRate: 0.1 }), 100)
    // 5 sent, all refused: the target (half the send rate, 2.5 req/s) is below the floor.
    for (let i = 0; i < 20; i++) {
      if (i < 5) rate.sent(i)
      rate.answered(i, true, 0)
    }
    expect(rate.rate(100)).toBe(10)
  })

  it("after a cut, sustained 429s under the dense ratio (≥ half of it) soft-cut to the accepted rate: no pause", () => {
    const rate = AdaptiveRate.make(cubic, 200)
    traffic(rate, 0, 1000, 200, 150)
    // Cut at 620 ms to target 50; growth from 1310 ms (the pause's end); K = cbrt(12.5) s back to 50.
    const k = Math.cbrt(12.5)
    const plateau = 1310 + k * 1000
    // 3 s past the plateau (a whole ms, so that the window's 100 ms buckets are plain): probing above 50.
    const probing = Math.round(plateau + 3000)
    const at3 = 50 + 0.4 * Math.pow((probing - plateau) / 1000, 3)
    expect(at3).toBeCloseTo(60.8, 1)
    // 60 answers in the window before `probing`, 5 of them 429s (8 %, under half the dense ratio): no change.
    const before = traffic(rate, probing - 900, 900, 60, 5)
    expect(before.every((d) => !d)).toBe(true)
    expect(rate.rate(probing)).toBeCloseTo(at3, 6)
    // One more 429: 6 of 61 (9.8 %), still nothing; the next: 7 of 62 (11.3 % ≥ 10 %) soft-cuts.
    rate.sent(probing)
    expect(rate.answered(probing, true, probing + 1000)).toBe(false)
    expect(rate.rate(probing)).toBeCloseTo(at3, 6)
    rate.sent(probing)
    expect(rate.answered(probing, true, probing + 1000)).toBe(false)
    // Down to what the server accepted over the window, 55 (62 − 7) req/s, at once (no beta, no pause); then
    // CUBIC's plateau there: +0.4 one second later, +3.2 two seconds later.
    expect(rate.rate(probing)).toBeCloseTo(55, 6)
    expect(rate.rate(probing + 1000)).toBeCloseTo(55.4, 6)
    expect(rate.rate(probing + 2000)).toBeCloseTo(58.2, 6)
    // Once per window: more 429s within the next second change nothing.
    rate.sent(probing + 500)
    rate.answered(probing + 500, true, probing + 1500)
    expect(rate.rate(probing + 1000)).toBeCloseTo(55.4, 6)
  })

  it("a first cut measured too high (its window held the server's burst) is corrected by the next window", () => {
    const rate = AdaptiveRate.make(cubic, 200)
    // The server let a burst of 56 through in the first window: the cut aims at 56 (and starts at 50.4).
    traffic(rate, 0, 1000, 200, 144)
    const k = Math.cbrt((56 * 0.1) / 0.4)
    const plateau = Math.ceil(1000 + 310 + k * 1000)
    expect(rate.rate(plateau + 100)).toBeCloseTo(56, 1)
    // At 56 req/s against a real limit of 50: 6 429s a second (10.7 %), never dense; the first such window
    // soft-cuts to the 50 it accepted.
    const at = plateau + 1000
    traffic(rate, at, 900, 56, 6)
    expect(rate.rate(at + 900)).toBeCloseTo(50, 4)
  })

  it("stray 429s while probing (5 %) leave the probe alone; before any cut there is no probe", () => {
    const rate = AdaptiveRate.make(cubic, 200)
    traffic(rate, 0, 1000, 200, 150)
    const from = 1310 + Math.cbrt(12.5) * 1000 + 1000
    for (let i = 0; i < 200; i++) {
      const at = from + i * 20
      rate.sent(at)
      rate.answered(at, i % 20 === 19, at + 1000)
    }
    const t = (from + 4000 - 1310) / 1000 - Math.cbrt(12.5)
    expect(rate.rate(from + 4000)).toBeCloseTo(Math.min(200, 50 + 0.4 * t ** 3), 6)
    const fresh = AdaptiveRate.make(cubic, 50)
    traffic(fresh, 0, 1000, 50, 8)
    expect(fresh.rate(1000)).toBe(50)
  })
})
