/**
 * `mimo agent` and `mimo extract`, end to end: the built CLI as a child
 * process against the simulator (in-process, on a random loopback port, or
 * the CLI's embedded one), checked on stdout, stderr, the exit status and what
 * the simulator received. Also the agent's calculator, as a unit.
 */
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { execFileSync, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll } from "vitest"
import { evaluate } from "../src/Agent.js"

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(appDir, "dist", "bin.js")

/** A distinctive key: no output of the CLI may ever contain it. */
const KEY = "sk-CANARY-ai-1e5b2d4680-do-not-print"

beforeAll(() => {
  execFileSync("pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], { cwd: appDir, stdio: "inherit" })
}, 240_000)

interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI to completion with our environment minus MIMO_*, plus `env`. */
const runCli = (args: ReadonlyArray<string>, env: Record<string, string>): Effect.Effect<Exited> =>
  Effect.async<Exited>((resume) => {
    const base: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MIMO_")) base[k] = v
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: appDir,
      env: { ...base, NO_COLOR: "1", MIMO_RETRY_BASE: "20 millis", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const simulator = () => Simulator.make({ apiKey: Redacted.make(KEY), seed: 7, rateLimit: { enabled: false } })
const hostEnv = (sim: Simulator.SimulatorService) => ({ MIMO_BASE_URL: sim.url, MIMO_API_KEY: KEY })

const Transcript = Schema.Struct({
  ok: Schema.Literal(true),
  task: Schema.String,
  model: Schema.String,
  answer: Schema.String,
  turns: Schema.Number,
  transcript: Schema.Array(Schema.Union(
    Schema.Struct({
      type: Schema.Literal("tool-call"),
      turn: Schema.Number,
      id: Schema.String,
      name: Schema.String,
      params: Schema.Unknown
    }),
    Schema.Struct({
      type: Schema.Literal("tool-result"),
      turn: Schema.Number,
      id: Schema.String,
      name: Schema.String,
      result: Schema.Unknown,
      isFailure: Schema.Boolean
    }),
    Schema.Struct({
      type: Schema.Literal("malformed-tool-call"),
      turn: Schema.Number,
      name: Schema.String,
      arguments: Schema.String
    }),
    Schema.Struct({ type: Schema.Literal("answer"), turn: Schema.Number, text: Schema.String })
  )),
  usage: Schema.Struct({ inputTokens: Schema.Number, outputTokens: Schema.Number })
})

describe("mimo agent", () => {
  it.scopedLive("on the embedded simulator (no key): each tool call and result as it happens, then the answer", () =>
    Effect.gen(function*() {
      const run = yield* runCli(
        [
          "agent",
          "Check the clock, use the calculator on expression=\"(17+25)*2\" and the file_size of path=package.json"
        ],
        {}
      )
      expect(run.code).toBe(0)
      expect(run.stderr).toContain("using the embedded simulator")
      const lines = run.stdout.trim().split("\n").filter((l) => l !== "")
      expect(lines[0]).toBe("→ clock({})")
      expect(lines[1]).toMatch(/^← clock: \d{4}-\d\d-\d\dT/)
      expect(lines[2]).toBe("→ calculator({\"expression\":\"(17+25)*2\"})")
      expect(lines[3]).toBe("← calculator: 84")
      expect(lines[4]).toBe("→ file_size({\"path\":\"package.json\"})")
      expect(lines[5]).toMatch(/^← file_size: \d+$/)
      expect(lines[6]).toMatch(
        /^The clock tool returned .+ The calculator tool returned 84\. The file_size tool returned \d+\.$/
      )
    }))

  it.scopedLive("--json: one object with the transcript; malformed arguments fed back; tool failures returned", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.script([
        Fault.malformedToolArguments("calculator"),
        Fault.toolCalls({ name: "calculator", arguments: { expression: "6 *" } }, {
          name: "file_size",
          arguments: { path: "../../etc/passwd" }
        })
      ])
      const run = yield* runCli(["agent", "--json", "What is 6 * 7?"], hostEnv(sim))
      expect(run.code).toBe(0)
      const out = Schema.decodeUnknownSync(Schema.parseJson(Transcript))(run.stdout.trim())
      expect(out.transcript.map((e) => e.type)).toEqual([
        "malformed-tool-call",
        "tool-call",
        "tool-result",
        "tool-call",
        "tool-result",
        "answer"
      ])
      const results = out.transcript.flatMap((e) => e.type === "tool-result" ? [e] : [])
      expect(results.every((r) => r.isFailure)).toBe(true)
      expect(String(results[0].result)).toContain("ends too early")
      expect(String(results[1].result)).toContain("only files inside the current folder")
      expect(out.turns).toBe(3)
      expect(out.usage.inputTokens).toBeGreaterThan(0)
      const stats = yield* sim.stats
      expect(stats.requests).toBe(3)
      expect(stats.byStatus).toEqual({ "200": 3 })
      expect(run.stdout + run.stderr).not.toContain(KEY)
    }))

  it.scopedLive("a failure below the provider is shown as its MimoError, exit 1", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["agent", "hi"], { ...hostEnv(sim), MIMO_API_KEY: "sk-wrong" })
      expect(run.code).toBe(1)
      expect(run.stderr).toContain("mimo: failed with AuthenticationFailed")
      expect(run.stderr).toContain("status:      401")
    }))
})

describe("mimo extract", () => {
  it.scopedLive("--schema contact: the object, decoded with the Schema, as JSON", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(
        ["extract", "--schema", "contact", "Ada Lovelace (ada@example.com) works at Analytical Engines"],
        hostEnv(sim)
      )
      expect(run.code).toBe(0)
      const Contact = Schema.Struct({
        name: Schema.String,
        email: Schema.String,
        company: Schema.optional(Schema.String)
      })
      const value = Schema.decodeUnknownSync(Schema.parseJson(Contact), { onExcessProperty: "error" })(
        run.stdout.trim()
      )
      expect(typeof value.name).toBe("string")
    }))

  it.scopedLive("an answer that breaks the Schema: exit 1, the failure and MiMo's text on stderr", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.script([Fault.nonConformingJson])
      const run = yield* runCli(["extract", "--schema", "product", "A kettle for 30 euros"], hostEnv(sim))
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.stderr).toContain("mimo: failed with MalformedOutput")
      expect(run.stderr).toMatch(/answer: +\{/)
    }))

  it.scopedLive("an unknown schema name is refused by the CLI, nothing sent", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["extract", "--schema", "recipe", "text"], hostEnv(sim))
      expect(run.code).toBe(1)
      expect((yield* sim.stats).requests).toBe(0)
    }))
})

describe("the agent's calculator", () => {
  it("evaluates arithmetic with precedence, power and parentheses; refuses anything else", () => {
    expect(evaluate("(17 + 25) * 2")).toEqual(Either.right(84))
    expect(evaluate("2 ^ 3 ^ 2")).toEqual(Either.right(512))
    expect(evaluate("-3 + 10 % 4 / 2")).toEqual(Either.right(-2))
    expect(evaluate("1.5 * 4")).toEqual(Either.right(6))
    expect(Either.isLeft(evaluate("process.exit(1)"))).toBe(true)
    expect(Either.isLeft(evaluate("(1 + 2"))).toBe(true)
    expect(Either.isLeft(evaluate("1 / 0"))).toBe(true)
    expect(Either.isLeft(evaluate("1".repeat(201)))).toBe(true)
  })
})
