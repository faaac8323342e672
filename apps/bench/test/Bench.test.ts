/**
 * End to end: the quick mode of one tiny case (overhead, raw undici and ours)
 * through the built runner, as `pnpm bench` runs it: a mock server process,
 * one child process per client and concurrency, `results.json` and
 * `BENCHMARKS.md` written. Asserts the shape of the output, not timings.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll } from "vitest"
import * as Results from "../src/Results.js"

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** Runs `dist/main.js` with `args` and `--out out` (as `pnpm bench -- …` would) and decodes its results.json. */
const quickRun = (args: ReadonlyArray<string>, out: string, timeout: number): Results.Results => {
  execFileSync(process.execPath, ["dist/main.js", ...args, "--out", out], { cwd: appDir, stdio: "pipe", timeout })
  return Schema.decodeUnknownSync(Schema.parseJson(Results.Results))(
    fs.readFileSync(path.join(out, "results.json"), "utf8")
  )
}

beforeAll(() => {
  // Builds the runner and the packages it references (incremental: quick when up to date).
  execFileSync("pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], { cwd: appDir, stdio: "inherit" })
}, 240_000)

describe("pnpm bench -- --quick", () => {
  it("runs the overhead case for raw undici and ours and writes results.json and BENCHMARKS.md", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mimo-bench-test-"))
    try {
      const results = quickRun(
        ["--quick", "--only", "overhead", "--clients", "undici,ours", "--no-profile"],
        out,
        120_000
      )
      expect(results.quick).toBe(true)
      expect(results.command).toBe(
        `pnpm bench -- --quick --only overhead --clients undici,ours --no-profile --out ${out}`
      )
      expect(results.machine.cores).toBeGreaterThan(0)
      expect(results.versions["effect"]).toBe("3.22.4")
      expect(results.cases.map((c) => c.name)).toEqual(["overhead"])

      const rows = results.cases[0].rows
      expect(rows.map((r) => [r.client, r.variant, r.status])).toEqual([
        ["undici", "concurrency 1", "ok"],
        ["undici", "concurrency 64", "ok"],
        ["ours", "concurrency 1", "ok"],
        ["ours", "concurrency 64", "ok"]
      ])
      for (const row of rows) {
        expect(row.requests).toBe(300)
        expect(row.successes).toBe(300)
        expect(row.failures).toBe(0)
        expect(row.reqPerSec).toBeGreaterThan(0)
        expect(row.p99Ms).toBeGreaterThanOrEqual(row.p50Ms ?? Infinity)
        expect(row.cpuUsPerRequest).toBeGreaterThan(0)
        expect(row.serverCpuUsPerRequest).toBeGreaterThan(0)
      }
      expect(rows.filter((r) => r.client === "undici").map((r) => r.ratioToUndici)).toEqual([1, 1])
      expect(rows.filter((r) => r.client === "ours").every((r) => (r.ratioToUndici ?? 0) > 0)).toBe(true)

      // Every target is listed; those of cases not run are "n/a", the overhead ones are judged.
      const overheadTargets = results.targets.filter((t) => t.case === "overhead")
      expect(overheadTargets.map((t) => typeof t.pass)).toEqual(["boolean", "string", "boolean"])
      expect(results.targets.filter((t) => t.case === "rate limit").every((t) => t.pass === "n/a")).toBe(true)

      const markdown = fs.readFileSync(path.join(out, "BENCHMARKS.md"), "utf8")
      expect(markdown).toContain("## Targets")
      expect(markdown).toContain("## Overhead: a tiny 200 answer")
      expect(markdown).toContain("| raw undici | 64 |")
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 180_000)
})

describe("pnpm bench -- --quick --only wire,startup", () => {
  it(
    "pairs ours (and raw undici inside Effect) with raw undici round by round, times mimo --help against node -e 0, and judges issue 14's targets",
    () => {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "mimo-bench-test-"))
      try {
        const results = quickRun(
          ["--quick", "--only", "wire,startup", "--clients", "undici,effect-undici,ours", "--no-profile"],
          out,
          240_000
        )
        expect(results.cases.map((c) => c.name)).toEqual(["wire", "startup"])

        const wire = results.cases[0].rows
        expect(wire.map((r) => [r.client, r.variant, r.status])).toEqual([
          ["undici", "calls at concurrency 64", "ok"],
          ["effect-undici", "calls at concurrency 64", "ok"],
          ["ours", "calls at concurrency 64", "ok"],
          // The Effect clients forking a fiber per call instead of running the calls in 64 fibers.
          ["undici", "calls at concurrency 64, one fiber per call", "ok"],
          ["effect-undici", "calls at concurrency 64, one fiber per call", "ok"],
          ["ours", "calls at concurrency 64, one fiber per call", "ok"],
          ["undici", "1 stream × 2000 chunks", "ok"],
          ["effect-undici", "1 stream × 2000 chunks", "ok"],
          ["ours", "1 stream × 2000 chunks", "ok"],
          ["undici", "5 streams × 200 chunks", "ok"],
          ["effect-undici", "5 streams × 200 chunks", "ok"],
          ["ours", "5 streams × 200 chunks", "ok"]
        ])
        for (const row of wire) {
          expect(row.failures).toBe(0)
          expect((row.reqPerSec ?? row.chunksPerSec ?? 0) > 0).toBe(true)
          expect((row.cpuUsPerRequest ?? row.cpuUsPerChunk ?? 0) > 0).toBe(true)
          expect(row.ratioRounds?.length).toBe(1)
          if (row.client === "undici") expect([row.ratioToUndici, row.cpuRatioToUndici]).toEqual([1, 1])
          else expect((row.ratioToUndici ?? 0) > 0 && (row.cpuRatioToUndici ?? 0) > 0).toBe(true)
        }
        for (const row of wire) {
          expect([row.requests, row.concurrency]).toEqual(
            row.variant.startsWith("calls") ? [300, 64] : row.variant.startsWith("1 ") ? [2, 1] : [10, 5]
          )
        }
        // Every client of a stream variant counts the same chunks (raw undici inside Effect counts events as ours).
        for (const variant of ["1 stream × 2000 chunks", "5 streams × 200 chunks"]) {
          const chunks = wire.filter((r) => r.variant === variant).map((r) => r.chunks)
          expect(chunks).toEqual([chunks[0], chunks[0], chunks[0]])
          // Quick sizes: 2 streams of 2000 chunks one at a time; 10 streams of 200, 5 at a time.
          expect(chunks[0]).toBe(variant.startsWith("1 ") ? 4000 : 2000)
        }

        const startup = results.cases[1].rows
        expect(startup.map((r) => r.client)).toEqual(["node", "mimo", "mimo-cli", "mimo-script", "pnpm-mimo"])
        const [bare, mimo, cli, script] = startup
        expect([bare.status, mimo.status, cli.status, script.status]).toEqual(["ok", "ok", "ok", "ok"])
        expect(bare.ratioToBare).toBe(1)
        expect(mimo.medianMs).toBeGreaterThan(0)
        expect(mimo.rounds?.length).toBe(3)
        // The CLI's --help (prerendered, and rendered by @effect/cli), and what `pnpm mimo` runs, print nothing
        // besides the CLI's own output.
        expect([mimo.extraOutput, cli.extraOutput, script.extraOutput]).toEqual(["none", "none", "none"])

        // Every target of issue 14's table is judged (pass or miss), none is left "n/a".
        const issue14 = results.targets.filter((t) => t.case.startsWith("wire") || t.case === "startup")
        expect(issue14).toHaveLength(7)
        expect(issue14.every((t) => typeof t.pass === "boolean")).toBe(true)
        const markdown = fs.readFileSync(path.join(out, "BENCHMARKS.md"), "utf8")
        expect(markdown).toContain("## Wire: buffered calls and streams against raw undici, paired round by round")
        expect(markdown).toContain("## Start-up: `mimo --help` as a whole process")
      } finally {
        fs.rmSync(out, { recursive: true, force: true })
      }
    },
    300_000
  )
})

describe("pnpm bench -- --quick --only steps", () => {
  it("counts Effect steps per operation, exactly: ours against the bare Stream run every Stream answer costs", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mimo-bench-test-"))
    try {
      const run = () => {
        const results = quickRun(["--quick", "--only", "steps"], out, 120_000)
        expect(results.cases.map((c) => c.name)).toEqual(["steps"])
        return results.cases[0].rows
      }
      const rows = run()
      expect(rows.map((r) => [r.client, r.variant, r.status])).toEqual([
        ["effect", "the harness: Effect.forEach of Effect.void", "ok"],
        ["effect", "Channel.runDrain(Channel.void)", "ok"],
        ["effect", "Stream.runCount of a 2-element Chunk", "ok"],
        ["ours", "chat", "ok"],
        ["ours+limiter", "chat", "ok"],
        ["ours", "Stream.runCount(stream), 2 chunks", "ok"],
        ["ours", "Stream.runCount(stream), 2,000 chunks", "ok"]
      ])
      const steps = rows.map((r) => r.extra?.["steps"] ?? Number.NaN)
      const [, channel, bareStream, chat, limitedChat, stream, longStream] = steps
      for (const n of steps.slice(1)) expect(Number.isInteger(n) && n > 0).toBe(true)
      // A stream costs at least a bare Stream run, which costs more than a bare channel run; the limiter adds steps
      // to a call; a longer stream adds steps per read, not per chunk (7 reads for 2,000 chunks).
      expect(channel).toBeLessThan(bareStream)
      expect(stream).toBeGreaterThan(bareStream)
      expect(limitedChat).toBeGreaterThan(chat)
      expect(longStream).toBeGreaterThan(stream)
      expect(longStream).toBeLessThan(stream + 2000)
      // Exact: a second run counts the same.
      expect(run().map((r) => r.extra?.["steps"])).toEqual(steps)
      const markdown = fs.readFileSync(path.join(out, "BENCHMARKS.md"), "utf8")
      expect(markdown).toContain("## Effect steps per operation (exact counts, in process)")
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 180_000)
})
