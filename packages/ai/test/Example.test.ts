/**
 * The README's "Using MiMo with @effect/ai" program (examples/agent.ts), run
 * for real against the simulator, and checked to be the very text the README shows.
 */
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import { Clock, ConfigProvider, Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { MainLive, program } from "../examples/agent.js"

const here = Path.dirname(fileURLToPath(import.meta.url))

describe("README: Using MiMo with @effect/ai", () => {
  it("the README shows examples/agent.ts verbatim", () => {
    const readme = Fs.readFileSync(Path.join(here, "../../../README.md"), "utf8")
    const example = Fs.readFileSync(Path.join(here, "../examples/agent.ts"), "utf8")
    expect(readme).toContain(example.trim())
  })

  it.scopedLive("the program runs against the simulator: a tool loop (one malformed turn fed back), an object", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } }).pipe(Effect.withClock(Clock.make()))
      yield* sim.script([
        Fault.malformedToolArguments("add"),
        Fault.toolCalls({ name: "add", arguments: { a: 17, b: 25 } }, { name: "clock" })
      ])
      // MainLive as written, its client configured from the environment: here, the simulator.
      const env = ConfigProvider.fromMap(new Map([["MIMO_API_KEY", "sk-example"], ["MIMO_BASE_URL", sim.url]]))
      const result = yield* program.pipe(Effect.provide(MainLive), Effect.withConfigProvider(env))
      expect(result.answer).toMatch(/^The add tool returned 42\. The clock tool returned \d{4}-/)
      expect(typeof result.contact.name).toBe("string")
      expect(typeof result.contact.email).toBe("string")
      const stats = yield* sim.stats
      expect(stats.requests).toBe(4)
      expect(stats.byStatus).toEqual({ "200": 4 })
    }))
})
