/**
 * The README's "Using the client" program (examples/client.ts), run for real
 * against the simulator, and checked to be the very text the README shows.
 */
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Simulator } from "@effect-mimo/simulator"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { program } from "../examples/client.js"

const here = Path.dirname(fileURLToPath(import.meta.url))

describe("README: Using the client", () => {
  it("the README shows examples/client.ts verbatim", () => {
    const readme = Fs.readFileSync(Path.join(here, "../../../README.md"), "utf8")
    const example = Fs.readFileSync(Path.join(here, "../examples/client.ts"), "utf8")
    expect(readme).toContain(example.trim())
  })

  it.live("the program runs against the simulator: chat, stream, TTS file", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ rateLimit: { enabled: false } }).pipe(Effect.withClock(Clock.make()))
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mimo-example-"))
      const cwd = process.cwd()
      process.chdir(dir)
      yield* Effect.addFinalizer(() => Effect.sync(() => process.chdir(cwd)))
      const result = yield* program.pipe(
        Effect.provide(Layer.mergeAll(
          NodeMimoClient.layer({ apiKey: Redacted.make("sk-example"), baseUrl: sim.url }),
          NodeContext.layer
        ))
      )
      expect(result.answer.length).toBeGreaterThan(0)
      expect(result.streamed.length).toBeGreaterThan(0)
      expect(Fs.readFileSync(Path.join(dir, "hello.wav")).subarray(0, 4).toString("latin1")).toBe("RIFF")
      expect((yield* sim.stats).requests).toBe(3)
    }).pipe(Effect.scoped))
})
