/**
 * End-to-end tests of the built `mimo` CLI: each test starts the simulator
 * in-process on a random loopback port, runs `node dist/bin.js ...` (the bundle) as a child
 * process against it (MIMO_BASE_URL / MIMO_API_KEY in the child's env), and
 * checks stdout, stderr, the exit status and what the simulator received.
 *
 * Backoffs are kept short with `MIMO_RETRY_BASE=20 millis` (the CLI's
 * documented knob) and short `Retry-After`s; no test sleeps through a real
 * backoff except the SIGINT one, which interrupts it.
 */
import * as ErrorCode from "@effect-mimo/core/ErrorCode"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import * as CommandDescriptor from "@effect/cli/CommandDescriptor"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as util from "node:util"
import { beforeAll, vi } from "vitest"
import * as Cli from "../src/Cli.js"
import * as Program from "../src/Program.js"

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const bin = path.join(appDir, "dist", "bin.js")

/** A distinctive key: no output of the CLI may ever contain it. */
const KEY = "sk-CANARY-7f3a9c1e5b2d4680-do-not-print"

beforeAll(() => {
  // Builds the packages the CLI references (incremental: quick when up to date), then bundles the CLI
  // as `pnpm run build` does (esbuild, a second or two): the tests run what `mimo` users run.
  execFileSync("pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], { cwd: appDir, stdio: "inherit" })
  execFileSync(process.execPath, [path.join(appDir, "scripts", "bundle.mjs")], { cwd: appDir, stdio: "pipe" })
}, 240_000)

/** The child's environment: ours without any MIMO_* variable, plus `env`. */
const childEnv = (env: Record<string, string>): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("MIMO_")) base[k] = v
  }
  return { ...base, NO_COLOR: "1", MIMO_RETRY_BASE: "20 millis", ...env }
}

interface Exited {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

interface Child {
  readonly stdout: () => string
  readonly stderr: () => string
  readonly kill: (signal: NodeJS.Signals) => void
  readonly exited: Effect.Effect<Exited>
}

/** Spawns the CLI; the child is killed when the test's scope closes, if still running. */
const spawnCli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawn(process.execPath, [bin, ...args], { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
      child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
      const done = new Promise<Exited>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
      )
      return {
        stdout: () => stdout,
        stderr: () => stderr,
        kill: (signal) => child.kill(signal),
        exited: Effect.promise(() => done)
      }
    }),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )

/** Runs the CLI to completion. */
const runCli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.flatMap(spawnCli(args, env), (child) => child.exited)

/** The simulator of a test: only KEY is accepted, no rate limits. */
const simulator = (options: Simulator.Options = {}) =>
  Simulator.make({ apiKey: Redacted.make(KEY), seed: 7, rateLimit: { enabled: false }, ...options })

const hostEnv = (sim: Simulator.SimulatorService, key = KEY) => ({ MIMO_BASE_URL: sim.url, MIMO_API_KEY: key })

const lastLine = (text: string) => {
  const lines = text.trim().split("\n")
  return lines[lines.length - 1]
}

const JsonSuccess = Schema.Struct({
  ok: Schema.Literal(true),
  content: Schema.String,
  attempts: Schema.Number,
  model: Schema.String,
  usage: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  requestId: Schema.NullOr(Schema.String)
})

const JsonFailure = Schema.Struct({
  ok: Schema.Literal(false),
  tag: Schema.String,
  code: Schema.NullOr(Schema.String),
  status: Schema.NullOr(Schema.Number),
  message: Schema.String,
  requestId: Schema.NullOr(Schema.String),
  retryAfterMs: Schema.NullOr(Schema.Number),
  attempts: Schema.Number,
  content: Schema.String
})

const decodeLast = <A, I>(schema: Schema.Schema<A, I>, stdout: string): A =>
  Schema.decodeUnknownSync(Schema.parseJson(schema), { onExcessProperty: "error" })(lastLine(stdout))

const retryLine =
  /retry: attempt (\d+) of (\d+) failed: (\S+) \((\d+|no HTTP status)\) .*; waiting (\d+(?:\.\d+)? m?s) \((.+)\)/

describe("mimo chat --json", () => {
  it.scopedLive("success: one object with every field, exit 0, one request", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["chat", "--json", "Say hello"], hostEnv(sim))
      expect(run.code).toBe(0)
      const out = decodeLast(JsonSuccess, run.stdout)
      expect(out.content.length).toBeGreaterThan(0)
      expect(out.attempts).toBe(1)
      expect(out.model).toBe("mimo-v2-flash")
      expect(out.usage?.total_tokens).toEqual(expect.any(Number))
      expect(out.requestId).toEqual(expect.any(String))
      expect((yield* sim.stats).requests).toBe(1)
    }))

  it.scopedLive("503 then success: a retry line on stderr, attempts 2", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.script([Fault.error("service_unavailable")])
      const run = yield* runCli(
        ["chat", "--json", "--max-attempts", "3", "--timeout", "2 seconds", "Hello"],
        hostEnv(sim)
      )
      expect(run.code).toBe(0)
      expect(decodeLast(JsonSuccess, run.stdout).attempts).toBe(2)
      const match = run.stderr.match(retryLine)
      expect(match?.slice(1, 4)).toEqual(["1", "3", "service_unavailable"])
      expect(match?.[4]).toBe("503")
      expect(match?.[6]).toMatch(/backoff/)
      expect((yield* sim.stats).requests).toBe(2)
    }))

  it.scopedLive("401: failure object with every field, not retried, exit 1", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["chat", "--json", "Hello"], hostEnv(sim, "sk-wrong-key"))
      expect(run.code).toBe(1)
      const out = decodeLast(JsonFailure, run.stdout)
      expect(out).toMatchObject({
        ok: false,
        tag: "AuthenticationFailed",
        code: "authentication_failed",
        status: 401,
        retryAfterMs: null,
        attempts: 1,
        content: ""
      })
      expect(out.message.length).toBeGreaterThan(0)
      expect((yield* sim.stats).requests).toBe(1)
    }))

  it.scopedLive("429 with Retry-After until the attempts run out: retryAfterMs, the wait's reason", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const limited = Fault.error("rate_limit_exceeded", { retryAfter: { millis: 150 } })
      yield* sim.script([limited, limited])
      const run = yield* runCli(["chat", "--json", "--max-attempts", "2", "Hello"], hostEnv(sim))
      expect(run.code).toBe(1)
      expect(decodeLast(JsonFailure, run.stdout)).toMatchObject({
        tag: "RateLimitExceeded",
        code: "rate_limit_exceeded",
        status: 429,
        retryAfterMs: 150,
        attempts: 2
      })
      const match = run.stderr.match(retryLine)
      expect(match?.[3]).toBe("rate_limit_exceeded")
      expect(match?.[6]).toBe("Retry-After 150 ms")
      expect((yield* sim.stats).requests).toBe(2)
    }))

  it.scopedLive("a stream cut after some chunks: the text before the failure is in content", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.script([Fault.streamCut(3)])
      const run = yield* runCli(["chat", "--json", "--stream", "--max-attempts", "1", "Tell me more"], hostEnv(sim))
      expect(run.code).toBe(1)
      const out = decodeLast(JsonFailure, run.stdout)
      expect(out.tag).toBe("TransportError")
      expect(out.status).toBeNull()
      expect(out.attempts).toBe(1)
      expect(out.content.length).toBeGreaterThan(0)
    }))

  it.scopedLive("validation: rejected before sending (attempts 0, no request received)", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["chat", "--json", "--temperature", "3", "Hello"], hostEnv(sim))
      expect(run.code).toBe(1)
      expect(decodeLast(JsonFailure, run.stdout)).toMatchObject({
        tag: "ValidationError",
        code: "invalid_request",
        status: null,
        requestId: null,
        retryAfterMs: null,
        attempts: 0,
        content: ""
      })
      expect((yield* sim.stats).requests).toBe(0)
    }))
})

describe("mimo chat", () => {
  it.scopedLive("prints the answer on stdout; --stream prints the same text as it arrives", () =>
    Effect.gen(function*() {
      // 15 ms between SSE events, so the stream takes a while
      const sim = yield* simulator({ chunkDelay: "15 millis" })
      const json = decodeLast(JsonSuccess, (yield* runCli(["chat", "--json", "Stream this"], hostEnv(sim))).stdout)
      const plain = yield* runCli(["chat", "Stream this"], hostEnv(sim))
      expect(plain.code).toBe(0)
      expect(plain.stdout).toBe(`${json.content}\n`)
      const child = yield* spawnCli(["chat", "--stream", "Stream this"], hostEnv(sim))
      while (child.stdout() === "") yield* Effect.sleep("5 millis")
      // the first words are out while the rest is still coming
      const early = child.stdout()
      const streamed = yield* child.exited
      expect(streamed.code).toBe(0)
      expect(early.length).toBeLessThan(streamed.stdout.length)
      expect(streamed.stdout).toBe(`${json.content}\n`)
      const streamedJson = yield* runCli(["chat", "--stream", "--json", "Stream this"], hostEnv(sim))
      expect(decodeLast(JsonSuccess, streamedJson.stdout)).toMatchObject({ content: json.content, attempts: 1 })
      const stats = yield* sim.stats
      expect(stats.streams.opened).toBe(2)
      expect(stats.streams.closed).toBe(2)
    }))

  it.scopedLive("a failure is a short block on stderr: code, status, message, solution, request id", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["chat", "Hello"], hostEnv(sim, "sk-wrong-key"))
      expect(run.code).toBe(1)
      expect(run.stdout).toBe("")
      expect(run.stderr).toMatch(/failed with AuthenticationFailed/)
      expect(run.stderr).toMatch(/code: +authentication_failed\n/)
      expect(run.stderr).toMatch(/status: +401\n/)
      expect(run.stderr).toMatch(/message: +\S/)
      // the seed's solution text, from the core's table
      expect(run.stderr).toContain(`solution:    ${ErrorCode.table.authentication_failed.solution}`)
      expect(run.stderr).toMatch(/request id: +\S/)
      expect(run.stderr).toMatch(/attempts: +1\n/)
    }))

  it.scopedLive("the key is never printed, --log-level debug included", () =>
    Effect.gen(function*() {
      const sim = yield* simulator({ apiKey: Redacted.make("sk-some-other-key") })
      const accepted = yield* simulator()
      yield* accepted.script([Fault.error("service_unavailable"), Fault.error("internal_error")])
      const runs = yield* Effect.all([
        // rejected with 401 (the simulator expects another key)
        runCli(["chat", "--log-level", "debug", "Hello"], hostEnv(sim)),
        runCli(["chat", "--json", "--log-level", "debug", "Hello"], hostEnv(sim)),
        // retried twice, then answered, streamed
        runCli(["chat", "--log-level", "debug", "--stream", "Hello"], hostEnv(accepted)),
        // refused connection (nothing listens there), retried
        runCli(["chat", "--log-level", "debug", "--max-attempts", "2", "Hello"], {
          MIMO_BASE_URL: "http://127.0.0.1:9/v1",
          MIMO_API_KEY: KEY
        })
      ], { concurrency: "unbounded" })
      expect(runs.map((r) => r.code)).toEqual([1, 1, 0, 1])
      // debug logs did appear (so the check below looked at them)
      expect(runs[2].stderr).toContain("MiMo attempt failed")
      for (const run of runs) {
        expect(run.stdout + run.stderr).not.toContain(KEY)
        expect(run.stdout + run.stderr).not.toContain("CANARY")
      }
    }))

  it.scopedLive("MIMO_BASE_URL without a key: a local error, nothing sent", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["chat", "--json", "Hello"], { MIMO_BASE_URL: sim.url })
      expect(run.code).toBe(1)
      expect(decodeLast(JsonFailure, run.stdout)).toMatchObject({ tag: "ValidationError", attempts: 0 })
      const human = yield* runCli(["chat", "Hello"], { MIMO_BASE_URL: sim.url, MIMO_API_KEY: "  " })
      expect(human.code).toBe(1)
      expect(human.stderr).toContain("MIMO_API_KEY")
      expect((yield* sim.stats).requests).toBe(0)
    }))

  it.scopedLive("no MIMO_* variables: the embedded simulator, announced in one stderr line", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["chat", "Hello"], {})
      expect(run.code).toBe(0)
      const lines = run.stderr.trim().split("\n")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/embedded simulator at http:\/\/127\.0\.0\.1:\d+\/v1/)
      expect(run.stdout.trim().length).toBeGreaterThan(0)
    }))

  it.scopedLive("SIGINT during a backoff wait: exits within 1 s, sends nothing more", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      yield* sim.script([Fault.error("service_unavailable")])
      // A 10 s base backoff: the CLI is surely waiting when the signal comes.
      const child = yield* spawnCli(["chat", "Hello"], { ...hostEnv(sim), MIMO_RETRY_BASE: "10 seconds" })
      while (!child.stderr().includes("retry:")) yield* Effect.sleep("20 millis")
      const start = Date.now()
      child.kill("SIGINT")
      const exited = yield* child.exited
      const elapsed = Date.now() - start
      expect(elapsed).toBeLessThan(1000)
      expect(exited.code).toBe(130)
      yield* Effect.sleep("200 millis")
      expect((yield* sim.stats).requests).toBe(1)
    }))
})

describe("mimo tts, models, simulator", () => {
  it.scopedLive("tts writes a WAV file and prints its path, size and duration", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimo-test-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      const out = path.join(dir, "hello.wav")
      const run = yield* runCli(["tts", "--voice", "Mia", "--out", out, "Hello there"], hostEnv(sim))
      expect(run.code).toBe(0)
      const bytes = fs.readFileSync(out)
      expect(bytes.subarray(0, 4).toString("latin1")).toBe("RIFF")
      expect(bytes.subarray(8, 12).toString("latin1")).toBe("WAVE")
      expect(run.stdout).toContain(out)
      expect(run.stdout).toContain(`${bytes.byteLength} bytes`)
      expect(run.stdout).toMatch(/\d+\.\d+ s/)
    }))

  it.scopedLive("models lists the models", () =>
    Effect.gen(function*() {
      const sim = yield* simulator()
      const run = yield* runCli(["models"], hostEnv(sim))
      expect(run.code).toBe(0)
      const ids = run.stdout.trim().split("\n").map((line) => line.split(/\s+/)[0])
      expect(ids).toContain("mimo-v2-flash")
      expect(ids).toContain("mimo-v2.5-tts")
    }))

  it.scopedLive("simulator prints its URL and enforces MIMO_API_KEY", () =>
    Effect.gen(function*() {
      const child = yield* spawnCli(["simulator", "--port", "0"], { MIMO_API_KEY: KEY })
      while (!child.stdout().includes("\n")) yield* Effect.sleep("20 millis")
      const url = child.stdout().trim()
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
      const status = (key: string) =>
        Effect.promise(() => fetch(`${url}/models`, { headers: { authorization: `Bearer ${key}` } })).pipe(
          Effect.map((r) => r.status)
        )
      expect(yield* status("sk-wrong")).toBe(401)
      expect(yield* status(KEY)).toBe(200)
      child.kill("SIGINT")
      const exited = yield* child.exited
      expect(exited.code).toBe(130)
      expect(exited.stdout + exited.stderr).not.toContain(KEY)
    }))
})

/** esbuild's metafile of the bundle (`scripts/bundle.mjs` writes it next to `dist/bin.js`). */
const Meta = Schema.Struct({
  outputs: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({
      bytes: Schema.Number,
      entryPoint: Schema.optional(Schema.String),
      imports: Schema.Array(
        Schema.Struct({ path: Schema.String, kind: Schema.String, external: Schema.optional(Schema.Boolean) })
      ),
      inputs: Schema.Record({ key: Schema.String, value: Schema.Unknown })
    })
  })
})

const readMeta = () =>
  Schema.decodeUnknownSync(Schema.parseJson(Meta))(fs.readFileSync(path.join(appDir, "dist", "meta.json"), "utf8"))

/** The output files Node loads before `file` runs: itself and what it imports statically, transitively. */
const staticClosure = (meta: typeof Meta.Type, file: string, loaded = new Set<string>()): Set<string> => {
  if (loaded.has(file)) return loaded
  loaded.add(file)
  for (const i of meta.outputs[file].imports) {
    if (i.kind === "import-statement" && i.external !== true) staticClosure(meta, i.path, loaded)
  }
  return loaded
}

describe("mimo: start-up", () => {
  it("help and version load dist/bin.js only: no effect, no @effect/cli, a few KiB", () => {
    const meta = readMeta()
    expect(meta.outputs["dist/bin.js"]?.entryPoint).toBe("src/bin.ts")
    const loaded = staticClosure(meta, "dist/bin.js")
    const inputs = [...loaded].flatMap((file) => Object.keys(meta.outputs[file].inputs))
    expect(inputs.sort()).toEqual(["src/Prerendered.ts", "src/bin.ts"])
    const bytes = [...loaded].reduce((n, file) => n + meta.outputs[file].bytes, 0)
    // The prerendered texts (≈ 21 KiB) and the few lines that print them.
    expect(bytes).toBeLessThan(40 * 1024)
    // Anything else: the CLI, loaded by `import()`.
    expect(meta.outputs["dist/bin.js"].imports.filter((i) => i.kind === "dynamic-import").map((i) => i.path))
      .toEqual(["dist/main.js"])
  })

  it("a command loads @effect/cli and the declarations only: each command's code, the client, the simulator, the gateway's server and @effect/experimental are chunks of their own", () => {
    const meta = readMeta()
    expect(meta.outputs["dist/main.js"]?.entryPoint).toBe("src/Main.ts")
    const loaded = staticClosure(meta, "dist/main.js")
    const inputs = [...loaded].flatMap((file) => Object.keys(meta.outputs[file].inputs))
    expect(inputs).toContain("src/Cli.ts")
    expect(inputs).not.toContain("src/Prerendered.ts")
    expect(inputs.some((input) => input.includes("@effect/cli/"))).toBe(true)
    for (const lazy of ["Chat", "Speech", "ServeSimulator", "Gateway", "Load", "Demo", "Environment", "Output"]) {
      expect(inputs).not.toContain(`src/${lazy}.ts`)
    }
    for (
      const heavy of ["@effect/experimental", "undici", "packages/simulator", "packages/platform-node", "HttpServer"]
    ) {
      expect(inputs.filter((input) => input.includes(heavy))).toEqual([])
    }
    // ≈ 420 KiB today (effect ≈ 290, @effect/cli ≈ 80, printer, platform, the declarations); undici alone is 520.
    expect([...loaded].reduce((n, file) => n + meta.outputs[file].bytes, 0)).toBeLessThan(600 * 1024)
    // ... and every command's module is in a chunk that `import()` loads.
    const lazyChunks = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.kind === "dynamic-import"))
    expect(lazyChunks.length).toBeGreaterThanOrEqual(6)
  })

  it.scopedLive("--help lists every command and exits 0", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["--help"], {})
      expect(run.code).toBe(0)
      for (const command of ["chat", "tts", "models", "simulator", "gateway", "load", "demo"]) {
        expect(run.stdout).toContain(command)
      }
    }))
})

// -----------------------------------------------------------------------------
// prerendered help and version (src/Prerendered.ts)
// -----------------------------------------------------------------------------

/** Every command's path, from the declarations themselves (`Cli.mimo`), nested ones included. */
const commandPaths = (): Array<ReadonlyArray<string>> => {
  const paths: Array<ReadonlyArray<string>> = []
  const visit = (descriptor: CommandDescriptor.Command<unknown>, prefix: ReadonlyArray<string>) => {
    for (const [name, child] of CommandDescriptor.getSubcommands(descriptor)) {
      if (name === prefix[prefix.length - 1]) continue // a leaf lists itself
      paths.push([...prefix, name])
      visit(child, [...prefix, name])
    }
  }
  visit(Cli.mimo.descriptor, [])
  return paths
}

/** The forms answered from the record: all of them, and no other. */
const expectedForms = (): Array<ReadonlyArray<string>> => [
  ["--help"],
  ["-h"],
  ["--version"],
  ...commandPaths().flatMap((p) => [[...p, "--help"], [...p, "-h"]])
]

const Prerendered = Schema.Struct({
  forms: Schema.Array(Schema.Tuple(Schema.String, Schema.Int)),
  outputs: Schema.Array(Schema.Struct({ stdout: Schema.String, stderr: Schema.String, status: Schema.Int }))
})

/** What a process printed, and how it ended. */
const runNode = (
  command: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv
): Effect.Effect<{ readonly stdout: string; readonly stderr: string; readonly code: number | null }> =>
  Effect.async((resume) => {
    const child = spawn(command[0], command.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    child.on("close", (code) => resume(Effect.succeed({ stdout, stderr, code })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Our environment without MIMO_* and the variables a terminal program may read, plus `env`. */
const plainEnv = (env: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("MIMO_") && !["NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "TERM"].includes(k)) base[k] = v
  }
  return { ...base, ...env }
}

/** `script` runs a command on a pseudo-terminal (util-linux). */
const scriptProgram = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe("mimo: prerendered help and version", () => {
  /**
   * dist/bin.js and the files it imports statically, alone in a folder: no dist/main.js beside them, so
   * whatever it prints there comes from the record (anything else fails to import the CLI).
   */
  const alone = Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mimo-bin-alone-"))
      for (const file of staticClosure(readMeta(), "dist/bin.js")) {
        fs.copyFileSync(path.join(appDir, file), path.join(dir, path.basename(file)))
      }
      return path.join(dir, "bin.js")
    }),
    (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
  )
  const main = path.join(appDir, "dist", "main.js")

  const readTable = () =>
    Schema.decodeUnknownSync(Schema.parseJson(Prerendered))(
      fs.readFileSync(path.join(appDir, "dist", "prerendered.json"), "utf8")
    )

  it("records exactly the help of every command declared in Cli.ts (-h and --help) and --version", () => {
    const table = readTable()
    const forms = table.forms.map(([key]) => key).sort()
    expect(forms).toEqual(expectedForms().map((args) => JSON.stringify(args)).sort())
    for (const [, index] of table.forms) expect(table.outputs[index].status).toBe(0)
  })

  it.live("the record is what @effect/cli renders now from the sources (Program.ts in this process), form by form", () =>
    Effect.gen(function*() {
      const table = readTable()
      const recorded = new Map(table.forms)
      for (const args of expectedForms()) {
        let stdout = ""
        let stderr = ""
        const log = vi.spyOn(console, "log").mockImplementation((...xs) => void (stdout += util.format(...xs) + "\n"))
        const error = vi.spyOn(console, "error").mockImplementation((...xs) =>
          void (stderr += util.format(...xs) + "\n")
        )
        const exit = yield* Effect.exit(Program.program([process.execPath, "mimo", ...args])).pipe(
          Effect.ensuring(Effect.sync(() => (log.mockRestore(), error.mockRestore())))
        )
        const index = recorded.get(JSON.stringify(args))
        expect(index).toBeDefined()
        expect({ args, stdout, stderr, status: Exit.isSuccess(exit) ? 0 : 1 })
          .toEqual({ args, ...table.outputs[index ?? -1] })
      }
    }))

  it.scopedLive(
    "dist/bin.js answers each form alone, byte for byte what @effect/cli prints for it (dist/main.js), exit status included",
    () =>
      Effect.gen(function*() {
        const bin = yield* alone
        const forms = expectedForms()
        expect(forms.length).toBeGreaterThanOrEqual(3 + 2 * 9)
        yield* Effect.forEach(forms, (args) =>
          Effect.gen(function*() {
            const fast = yield* runNode([process.execPath, bin, ...args], plainEnv())
            const real = yield* runNode([process.execPath, main, ...args], plainEnv())
            expect({ args, ...fast }).toEqual({ args, ...real })
            expect(real.code).toBe(0)
            expect(real.stdout.length).toBeGreaterThan(0)
          }), { concurrency: 2, discard: true })
      }),
    120_000
  )

  it.scopedLive(
    "the same under NO_COLOR, FORCE_COLOR, TERM=dumb and a narrow COLUMNS (@effect/cli's help reads none of them)",
    () =>
      Effect.gen(function*() {
        const bin = yield* alone
        const envs = [{ NO_COLOR: "1" }, { FORCE_COLOR: "3" }, { TERM: "dumb" }, { COLUMNS: "40", LINES: "10" }]
        const cases = envs.flatMap((env) => [["--help"], ["chat", "-h"], ["--version"]].map((args) => ({ env, args })))
        yield* Effect.forEach(cases, ({ args, env }) =>
          Effect.gen(function*() {
            const fast = yield* runNode([process.execPath, bin, ...args], plainEnv(env))
            const real = yield* runNode([process.execPath, main, ...args], plainEnv(env))
            expect({ env, args, ...fast }).toEqual({ env, args, ...real })
          }), { concurrency: 2, discard: true })
      }),
    120_000
  )

  it.scopedLive("any other arguments go to the CLI itself", () =>
    Effect.gen(function*() {
      const bin = yield* alone
      // Alone, dist/bin.js has no CLI to import: these are not answered from the record.
      for (const args of [[], ["chat"], ["--help", "--log-level", "debug"], ["chat", "--help", "x"], ["--HELP"]]) {
        const run = yield* runNode([process.execPath, bin, ...args], plainEnv())
        expect(run.code).not.toBe(0)
        expect(run.stderr).toContain("ERR_MODULE_NOT_FOUND")
      }
      // In dist/, they are: exactly as dist/main.js.
      for (const args of [[], ["chat"], ["--help", "--log-level", "debug"], ["nope", "--help"]]) {
        const real = yield* runNode([process.execPath, main, ...args], plainEnv())
        const run = yield* runNode([process.execPath, path.join(appDir, "dist", "bin.js"), ...args], plainEnv())
        expect({ args, ...run }).toEqual({ args, ...real })
      }
    }), 60_000)

  const onTerminal = "the same on a terminal (script(1)'s pseudo-terminal)"
  if (!scriptProgram && process.env.CI !== "true") {
    console.warn(`[${onTerminal}] skipped: script not found (apt-get install bsdutils)`)
    it.skip(`${onTerminal} — skipped: script not found (apt-get install bsdutils)`, () => {})
  } else {
    it.scopedLive(
      onTerminal,
      () =>
        Effect.gen(function*() {
          expect(scriptProgram, "script not found (apt-get install bsdutils); required when CI=true").toBe(true)
          const bin = yield* alone
          const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
          for (const args of [["--help"], ["tts", "--help"], ["--version"]]) {
            const line = (file: string) => [process.execPath, file, ...args].map(quote).join(" ")
            const fast = yield* runNode(
              ["script", "-qec", line(bin), "/dev/null"],
              plainEnv({ TERM: "xterm-256color" })
            )
            const real = yield* runNode(
              ["script", "-qec", line(main), "/dev/null"],
              plainEnv({ TERM: "xterm-256color" })
            )
            expect(real.code).toBe(0)
            expect(real.stdout).toContain("\r\n") // a terminal indeed
            expect({ args, ...fast }).toEqual({ args, ...real })
          }
        }),
      60_000
    )
  }
})
