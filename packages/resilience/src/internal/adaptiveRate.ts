/**
 * The adaptive rate of one model: pure arithmetic over Clock milliseconds,
 * no Effect, so that it is tested alone (test/AdaptiveRate.test.ts).
 *
 * - The configured rate is the ceiling; the allowed rate is never above it.
 * - 429s are counted over a sliding window, with every other answer: the
 *   window is **dense** when it holds at least `minSamples` answers and at
 *   least `denseRatio` of them are 429s. A stray 429 (5 % at random) never
 *   makes a window dense.
 * - A dense window **cuts** the rate, at most once per window: to `beta`
 *   times the rate the server accepted over the window (its non-429 answers
 *   per second), never below a quarter of the rate we measured ourselves sending,
 *   and never above it. The rate then grows back in time, from the end of
 *   the pause: CUBIC (the AWS SDKs' adaptive mode: back to the accepted rate
 *   in K s, then slowly above it) or AIMD (linearly).
 * - After a first cut the limit is known to be real, and 429s that are not
 *   dense but sustained (half the dense ratio or more over a window) mean the
 *   rate is still above it: the first cut's measure can be too high (its window
 *   held the server's initial burst), or growth probed above the limit. Then
 *   a **soft cut**, under the same once per window rule: the rate drops to the
 *   rate the server accepted over the window (no beta, no pause), and grows
 *   again from CUBIC's plateau there. Stray 429s (5 %) stay under the half
 *   ratio; before any cut there is no soft cut.
 *
 * @internal
 */
import * as SlidingWindow from "./slidingWindow.js"

/** @internal */
export interface Config {
  readonly algorithm: "cubic" | "aimd" | "off"
  /** The rate after a cut, as a fraction of the accepted rate. */
  readonly beta: number
  /** CUBIC's C, requests/s per s³. */
  readonly scale: number
  /** AIMD's increase, as a fraction of the configured rate per second. */
  readonly increase: number
  /** The floor, as a fraction of the configured rate. */
  readonly minRate: number
  /** The window (ms) the 429 ratio and the rates are measured over. */
  readonly window: number
  /** The 429 ratio that makes a window dense. */
  readonly denseRatio: number
  /** The fewest answers in the window before its ratio counts. */
  readonly minSamples: number
  /** The fewest 429s in the window that can make it dense. */
  readonly minThrottled: number
}

/** @internal */
export interface AdaptiveRate {
  /** The allowed rate (requests/s) at `now`. */
  readonly rate: (now: number) => number
  /** Counts a request sent at `now` (the measured send rate). */
  readonly sent: (now: number) => void
  /**
   * Counts an answer at `now` (`throttled` for a 429): `true` when the window is dense now (only ever after a
   * 429). A dense window cuts the rate, once per window; the rate then grows back from `growFrom` (the end of
   * the pause).
   */
  readonly answered: (now: number, throttled: boolean, growFrom: number) => boolean
  /**
   * A cut ordered from outside (another process's pause, read from a shared store), under the same once per
   * window rule: from what this process measured itself.
   */
  readonly cut: (now: number, growFrom: number) => boolean
  /** The 429 ratio over the window ending at `now` (0 with no answers). */
  readonly ratio: (now: number) => number
}

/** @internal */
export const make = (config: Config, maxRate: number, share: () => number = () => 1): AdaptiveRate => {
  const answers = SlidingWindow.make(config.window)
  const sends = SlidingWindow.make(config.window)
  const floor = config.minRate * maxRate
  let cutOnce = false
  let lastCut = Number.NEGATIVE_INFINITY
  /**
   * When the last cut's pause ended: the next cut waits a window of sending after it (issue 13). The 429s of the
   * attempts held until then, sent together, are not a new measure — told 4 × a 50/s limit, they cut the rate
   * a second time, from a window that was mostly pause.
   */
  let resumedAt = Number.NEGATIVE_INFINITY
  /** The rate the cut aimed at (the accepted rate), and where growth starts from. */
  let target = maxRate
  let growFrom = 0
  /** CUBIC's K: seconds from `growFrom` back to `target`. */
  let k = 0

  const clamp = (r: number) => Math.min(maxRate, Math.max(floor, r))

  const rate = (now: number): number => {
    if (config.algorithm === "off" || !cutOnce) return maxRate
    const t = Math.max(0, now - growFrom) / 1000
    return clamp(
      config.algorithm === "cubic"
        ? config.scale * Math.pow(t - k, 3) + target
        : config.beta * target + config.increase * maxRate * t
    )
  }

  /** The rate the server accepted over the window ending at `now` (its non-429 answers per second). */
  const acceptedRate = (now: number): number => {
    // This process's counts stand for the whole fleet that shares the limit: divided by its share of it.
    const seconds = (config.window / 1000) * Math.min(1, Math.max(1e-3, share()))
    const { bad, total } = answers.totals(now)
    return (total - bad) / seconds
  }

  /** Sustained 429s after a cut: down to the accepted rate at once, growing again from the plateau there. */
  const softCut = (now: number): void => {
    const current = rate(now)
    const accepted = acceptedRate(now)
    if (accepted >= current) return
    target = clamp(Math.max(accepted, current / 4))
    k = Math.cbrt((target * (1 - config.beta)) / config.scale)
    const plateau = config.algorithm === "cubic"
      ? k
      : ((1 - config.beta) * target) / (config.increase * maxRate)
    growFrom = now - plateau * 1000
    lastCut = now
  }

  const doCut = (now: number, from: number): boolean => {
    if (config.algorithm === "off" || now - Math.max(lastCut, resumedAt) < config.window) return false
    const seconds = (config.window / 1000) * Math.min(1, Math.max(1e-3, share()))
    const sendRate = sends.totals(now).total / seconds
    const accepted = acceptedRate(now)
    const current = rate(now)
    const ceiling = Math.min(current, sendRate > 0 ? sendRate : current)
    target = clamp(Math.min(ceiling, Math.max(accepted, ceiling / 4)))
    k = Math.cbrt((target * (1 - config.beta)) / config.scale)
    growFrom = Math.max(now, from)
    resumedAt = growFrom
    lastCut = now
    cutOnce = true
    return true
  }

  return {
    rate,
    sent: (now) => sends.record(now, false),
    answered: (now, throttled, from) => {
      answers.record(now, throttled)
      if (!throttled) return false
      const { bad, total } = answers.totals(now)
      const dense = total >= config.minSamples && bad >= config.minThrottled && bad >= config.denseRatio * total
      if (dense) doCut(now, from)
      else if (
        cutOnce && config.algorithm !== "off" && now - Math.max(lastCut, resumedAt) >= config.window &&
        total >= config.minSamples && bad >= (config.denseRatio / 2) * total
      ) softCut(now)
      return dense
    },
    cut: doCut,
    ratio: (now) => {
      const { bad, total } = answers.totals(now)
      return total === 0 ? 0 : bad / total
    }
  }
}
