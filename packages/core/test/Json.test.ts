/**
 * Reading JSON from the wire: no prototype from `__proto__` keys (plain or
 * escaped), and a depth check without recursion.
 */
import { describe, expect, it } from "@effect/vitest"
import { maxDepth, mayBeTooDeep, parse, tooDeep } from "../src/internal/json.js"

describe("wire JSON", () => {
  it("drops __proto__ keys, written plainly or with escapes, and keeps everything else", () => {
    for (
      const text of [
        `{"a":1,"__proto__":{"polluted":true}}`,
        String.raw`{"a":1,"\u005f_proto__":{"polluted":true}}`,
        String.raw`{"a":1,"__pr\u006fto__":{"polluted":true}}`,
        String.raw`{"a":1,"nested":[{"__proto__":{"polluted":true}}]}`
      ]
    ) {
      const value = parse(text) as Record<string, unknown>
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(value.a).toBe(1)
      expect(value.polluted).toBeUndefined()
      expect(Object.keys(value)).not.toContain("__proto__")
      expect(JSON.stringify(value)).not.toContain("polluted")
    }
    // CJK escapes and ordinary text are parsed as they are.
    expect(parse(String.raw`{"t":"\u4e2d\u6587","p":"prototype"}`)).toEqual({ t: "中文", p: "prototype" })
  })

  it("finds a nesting deeper than the limit without recursion, at any depth", () => {
    const nested = (depth: number) => JSON.parse("[".repeat(depth) + "]".repeat(depth))
    expect(tooDeep(nested(maxDepth))).toBe(false)
    expect(tooDeep(nested(maxDepth + 1))).toBe(true)
    expect(tooDeep(nested(200_000))).toBe(true)
    expect(tooDeep({ a: [{ b: { c: 1 } }], d: "x" })).toBe(false)
    // A short text cannot nest past the limit: no walk is needed.
    expect(mayBeTooDeep(2 * maxDepth)).toBe(false)
    expect(mayBeTooDeep(2 * maxDepth + 2)).toBe(true)
  })
})
