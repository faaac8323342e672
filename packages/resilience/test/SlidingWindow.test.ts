import { describe, expect, it } from "@effect/vitest"
import * as SlidingWindow from "../src/internal/slidingWindow.js"

describe("SlidingWindow", () => {
  it("counts outcomes over the last window, in buckets that expire as time moves on", () => {
    // 1 s in 10 buckets of 100 ms.
    const w = SlidingWindow.make(1000, 10)
    w.record(0, true)
    w.record(50, false)
    w.record(950, false)
    expect(w.totals(999)).toEqual({ total: 3, bad: 1 })
    // At 1000 ms the bucket [0, 100) has left the window.
    expect(w.totals(1000)).toEqual({ total: 1, bad: 0 })
    // A bucket reused a window later starts from zero.
    w.record(1010, true)
    expect(w.totals(1010)).toEqual({ total: 2, bad: 1 })
    expect(w.totals(5000)).toEqual({ total: 0, bad: 0 })
    w.record(5000, true)
    w.clear()
    expect(w.totals(5000)).toEqual({ total: 0, bad: 0 })
  })
})
