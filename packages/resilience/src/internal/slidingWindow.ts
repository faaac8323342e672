/**
 * Outcome counts over a sliding time window, in fixed buckets: what the
 * circuit breaker and the limiter's 429 ratio read. Written by hand: Effect's
 * `Metric`s aggregate for export, not per instance over a window that slides.
 *
 * @internal
 */

/** @internal */
export interface SlidingWindow {
  /** Records one outcome at `now` (Clock ms). */
  readonly record: (now: number, bad: boolean) => void
  /** Totals over the window ending at `now`. */
  readonly totals: (now: number) => { readonly total: number; readonly bad: number }
  /** Forgets everything. */
  readonly clear: () => void
}

/** @internal */
export const make = (windowMillis: number, buckets = 10): SlidingWindow => {
  const n = Math.max(1, Math.floor(buckets))
  const width = Math.max(1, windowMillis / n)
  const starts = new Array<number>(n).fill(Number.NEGATIVE_INFINITY)
  const total = new Array<number>(n).fill(0)
  const bad = new Array<number>(n).fill(0)
  const slot = (now: number): number => {
    const index = Math.floor(now / width)
    const i = ((index % n) + n) % n
    const start = index * width
    if (starts[i] !== start) {
      starts[i] = start
      total[i] = 0
      bad[i] = 0
    }
    return i
  }
  return {
    record: (now, isBad) => {
      const i = slot(now)
      total[i]++
      if (isBad) bad[i]++
    },
    totals: (now) => {
      const oldest = (Math.floor(now / width) - n + 1) * width
      let t = 0
      let b = 0
      for (let i = 0; i < n; i++) {
        if (starts[i]! >= oldest && starts[i]! <= now) {
          t += total[i]!
          b += bad[i]!
        }
      }
      return { total: t, bad: b }
    },
    clear: () => {
      starts.fill(Number.NEGATIVE_INFINITY)
      total.fill(0)
      bad.fill(0)
    }
  }
}
