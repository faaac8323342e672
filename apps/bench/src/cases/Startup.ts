/**
 * startup: how long `mimo --help` takes as a whole process, against a bare
 * `node -e 0` measured in the same run, and what `pnpm mimo` adds before the
 * CLI runs (the build check) and prints of its own.
 *
 * Commands, run one after the other in rounds (so that a slow spell of the
 * shared machine touches each), every run a fresh process, wall time from
 * spawn to exit:
 *
 * - `node -e 0`: the floor, Node's own start-up;
 * - `node apps/sample/dist/bin.js --help`: the CLI (the esbuild bundle), which
 *   answers help and version from the text `@effect/cli` rendered for them at
 *   build time (`apps/sample/src/Prerendered.ts`);
 * - `node apps/sample/dist/main.js --help`: the CLI without that record:
 *   `@effect/cli` loaded and rendering the help, i.e. what every other command
 *   pays before its handler runs, plus the rendering;
 * - `node apps/sample/scripts/mimo.mjs --help`: what `pnpm mimo` runs (turbo's
 *   cache check of the CLI and its packages, then the CLI in the same process);
 * - `pnpm mimo --help`: the same through pnpm, as typed.
 *
 * Before the rounds, `scripts/mimo.mjs --version` runs once (it builds what is
 * stale) and once more with a fresh, empty `HOME` and no
 * `TURBO_TELEMETRY_DISABLED`, as on a new machine: its output must be the CLI's
 * alone (no turbo summary, no telemetry notice).
 *
 * @since 0.1.0
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type * as Cases from "../Cases.js"
import type * as Results from "../Results.js"

/**
 * The case's name (`--only startup`).
 *
 * @since 0.1.0
 * @category models
 */
export const name = "startup"

/**
 * Its sizes: runs of each command.
 *
 * @since 0.1.0
 * @category parameters
 */
export const parameters = (quick: boolean) => ({ runs: quick ? 3 : 15 })

type MutableRow = { -readonly [K in keyof Results.Row]: Results.Row[K] }

const repoRoot = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..")
const bin = Path.join(repoRoot, "apps", "sample", "dist", "bin.js")
const main = Path.join(repoRoot, "apps", "sample", "dist", "main.js")
const script = Path.join(repoRoot, "apps", "sample", "scripts", "mimo.mjs")

interface Command {
  readonly client: string
  readonly label: string
  readonly file: string
  readonly args: ReadonlyArray<string>
}

const commands: ReadonlyArray<Command> = [
  { client: "node", label: "bare Node.js", file: process.execPath, args: ["-e", "0"] },
  { client: "mimo", label: "mimo (the bundle)", file: process.execPath, args: [bin, "--help"] },
  { client: "mimo-cli", label: "mimo, help rendered by @effect/cli", file: process.execPath, args: [main, "--help"] },
  { client: "mimo-script", label: "pnpm mimo's script", file: process.execPath, args: [script, "--help"] },
  { client: "pnpm-mimo", label: "pnpm mimo", file: "pnpm", args: ["mimo", "--help"] }
]

/** The command as typed from the repository's root. */
const commandLine = (c: Command) =>
  [
    c.file === process.execPath ? "node" : c.file,
    ...c.args.map((a) => (Path.isAbsolute(a) ? Path.relative(repoRoot, a) : a))
  ]
    .join(" ")

/**
 * CPU time (user + system, ms) of this process's waited-for children so far: Linux's `/proc/self/stat`
 * (cutime, cstime, in clock ticks of 10 ms); `undefined` elsewhere. Node has no `getrusage(RUSAGE_CHILDREN)`.
 */
const childrenCpuMs = (): number | undefined => {
  try {
    const stat = Fs.readFileSync("/proc/self/stat", "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // After the name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14 here.
    const ticks = Number(fields[13]) + Number(fields[14])
    return Number.isFinite(ticks) ? ticks * 10 : undefined
  } catch {
    return undefined
  }
}

interface Ran {
  readonly ms: number
  /** The child's CPU time (ms, 10 ms resolution), where the platform tells it. */
  readonly cpuMs: number | undefined
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  readonly error: string | undefined
}

const runOnce = (file: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env): Ran => {
  const cpu0 = childrenCpuMs()
  const t0 = performance.now()
  const r = ChildProcess.spawnSync(file, args, {
    cwd: repoRoot,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000
  })
  const ms = performance.now() - t0
  const cpu1 = childrenCpuMs()
  return {
    ms,
    cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
    status: r.status,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    error: r.error?.message
  }
}

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

/** What `ran` printed besides `expected` (the CLI's own output): `none`, or what it was. */
const extra = (ran: Ran, expected: Ran): string => {
  const out = ran.stdout.replace(expected.stdout, "")
  const parts = [out.trim(), ran.stderr.trim()].filter((s) => s !== "")
  return parts.length === 0 ? "none" : JSON.stringify(parts.join(" / ").slice(0, 300))
}

/**
 * Runs the case.
 *
 * @since 0.1.0
 * @category cases
 */
export const run = async (ctx: Cases.Context): Promise<Results.CaseResult> => {
  const p = parameters(ctx.quick)
  const rows: Array<MutableRow> = []
  const base = (c: Command): MutableRow => ({ client: c.client, label: c.label, variant: commandLine(c), status: "ok" })

  // Build what is stale, through the script itself; then the CLI's own output, to tell any other apart.
  ctx.log("startup: building the CLI if needed (scripts/mimo.mjs --version)")
  const built = runOnce(process.execPath, [script, "--version"])
  const version = runOnce(process.execPath, [bin, "--version"])
  if (built.status !== 0 || version.status !== 0) {
    const reason = `the CLI did not build or run: ${(built.stderr + version.stderr).slice(-500)}`
    return result(p, commands.map((c) => ({ ...base(c), status: "not available", reason })), "not checked")
  }
  const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mimo-bench-home-"))
  let fresh: Ran
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: Path.join(home, ".config") }
    delete env["TURBO_TELEMETRY_DISABLED"]
    delete env["DO_NOT_TRACK"]
    ctx.log("startup: scripts/mimo.mjs --version with a fresh HOME")
    fresh = runOnce(process.execPath, [script, "--version"], env)
  } finally {
    Fs.rmSync(home, { recursive: true, force: true })
  }
  const freshOutput = fresh.status === 0
    ? extra(fresh, version)
    : `failed (${fresh.status}): ${fresh.stderr.slice(-300)}`

  const help = runOnce(process.execPath, [bin, "--help"])
  const times = new Map<string, Array<number>>()
  const cpus = new Map<string, Array<number>>()
  const broken = new Map<string, string>()
  const outputs = new Map<string, string>()
  for (let i = 0; i < p.runs; i++) {
    ctx.log(`startup: round ${i + 1} of ${p.runs}`)
    for (let j = 0; j < commands.length; j++) {
      const c = commands[(i + j) % commands.length]
      if (broken.has(c.client)) continue
      const ran = runOnce(c.file, c.args)
      if (ran.status !== 0) {
        broken.set(c.client, ran.error ?? `exited ${ran.status}: ${ran.stderr.slice(-300)}`)
        continue
      }
      if (!outputs.has(c.client)) outputs.set(c.client, c.client === "node" ? "none" : extra(ran, help))
      times.set(c.client, [...(times.get(c.client) ?? []), ran.ms])
      if (ran.cpuMs !== undefined) cpus.set(c.client, [...(cpus.get(c.client) ?? []), ran.cpuMs])
    }
  }
  const bare = times.get("node")
  const bareMs = bare === undefined ? undefined : median(bare)
  const mean = (xs: ReadonlyArray<number> | undefined) =>
    xs === undefined || xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length
  const bareCpu = mean(cpus.get("node"))
  for (const c of commands) {
    const ms = times.get(c.client)
    const why = broken.get(c.client)
    if (why !== undefined || ms === undefined) {
      rows.push({
        ...base(c),
        status: c.client === "pnpm-mimo" ? "not available" : "error",
        reason: why ?? "no run"
      })
      continue
    }
    const m = median(ms)
    const cpu = mean(cpus.get(c.client))
    rows.push({
      ...base(c),
      requests: ms.length,
      medianMs: round(m, 1),
      ...(cpu !== undefined ? { cpuMs: round(cpu, 1) } : {}),
      ...(cpu !== undefined && bareCpu !== undefined && bareCpu > 0 ? { cpuRatioToBare: round(cpu / bareCpu, 2) } : {}),
      rounds: ms.map((x) => round(x, 0)),
      ...(bareMs !== undefined ? { ratioToBare: round(m / bareMs, 2) } : {}),
      extraOutput: outputs.get(c.client) ?? "none"
    })
  }
  return result(p, rows, freshOutput)
}

const result = (
  p: ReturnType<typeof parameters>,
  rows: ReadonlyArray<MutableRow>,
  freshOutput: string
): Results.CaseResult => ({
  name,
  title: "Start-up: `mimo --help` as a whole process",
  server: "none",
  parameters: { "runs of each command": p.runs },
  rows,
  notes: [
    "Wall time from spawn to exit (Node's child_process.spawnSync, output piped), the commands run one after the " +
    "other in rotating order; a row is the median of its runs (every run is listed, in ms), and × node is that " +
    "median ÷ bare `node -e 0`'s median in this run. CPU is the child's user + system time (Linux " +
    "/proc/self/stat of the runner: its waited-for children, 10 ms ticks), the mean of the runs: on a shared " +
    "machine it moves less than the wall time.",
    "`dist/bin.js --help` prints the help `@effect/cli` rendered for exactly these arguments when the CLI was " +
    "built (apps/sample/src/Prerendered.ts; a test keeps it byte for byte what `dist/main.js --help` prints); " +
    "`dist/main.js --help` is the CLI without that record: `effect` and `@effect/cli` loaded and the help " +
    "rendered, i.e. what any other command costs before its handler runs, plus the rendering.",
    "\"pnpm mimo's script\" is what `pnpm mimo` and `pnpm start` run: `turbo run build` of the CLI and its " +
    "packages (a cache hit here), quiet unless the build fails, then the CLI in the same process; its row minus " +
    "the bundle's is what the build check costs. \"pnpm mimo\" adds pnpm's own start-up (and pnpm's echo of the " +
    "script, `> effect-mimo@ mimo …`, which `pnpm -s mimo` leaves out).",
    `On a fresh machine (an empty HOME, no TURBO_TELEMETRY_DISABLED), \`scripts/mimo.mjs --version\` printed ` +
    `besides the CLI's own output: ${freshOutput}.`
  ]
})

// -----------------------------------------------------------------------------
// report
// -----------------------------------------------------------------------------

const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits })

/**
 * The columns of its table in `BENCHMARKS.md`.
 *
 * @since 0.1.0
 * @category report
 */
export const columns: ReadonlyArray<readonly [header: string, cell: (row: Results.Row) => string]> = [
  ["command", (r) => `\`${r.variant}\``],
  ["median ms", (r) => fmt(r.medianMs, 1)],
  ["× node", (r) => fmt(r.ratioToBare)],
  ["CPU ms (mean)", (r) => fmt(r.cpuMs, 1)],
  ["CPU × node", (r) => fmt(r.cpuRatioToBare)],
  ["ms per run", (r) => (r.rounds === undefined ? "" : r.rounds.map((x) => fmt(x, 0)).join(" · "))],
  ["printed besides the CLI's output", (r) => r.extraOutput ?? ""]
]

/**
 * Issue 14's start-up targets, judged on this run.
 *
 * @since 0.1.0
 * @category report
 */
export const targets = (cases: ReadonlyArray<Results.CaseResult>): Array<Results.Target> => {
  const c = cases.find((x) => x.name === name)
  const row = (client: string) => c?.rows.find((r) => r.client === client)
  const mimo = row("mimo")
  const bare = row("node")
  const scripted = row("mimo-script")
  const out: Array<Results.Target> = []
  out.push(
    mimo?.status === "ok" && mimo.ratioToBare !== undefined && bare?.medianMs !== undefined
      ? {
        case: "startup",
        target: "`mimo --help`, whole process wall ≤ 3 × bare `node -e 0`",
        measured: `${fmt(mimo.ratioToBare)} × (${fmt(mimo.medianMs, 0)} vs ${fmt(bare.medianMs, 0)} ms, medians; ` +
          `fastest runs ${fmt(Math.min(...(mimo.rounds ?? [])), 0)} vs ${fmt(Math.min(...(bare.rounds ?? [])), 0)} ms` +
          `${mimo.cpuRatioToBare !== undefined ? `; CPU ${fmt(mimo.cpuRatioToBare)} ×` : ""})`,
        pass: mimo.ratioToBare <= 3
      }
      : {
        case: "startup",
        target: "`mimo --help`, whole process wall ≤ 3 × bare `node -e 0`",
        measured: mimo === undefined ? "not run" : `${mimo.status} ${mimo.reason ?? ""}`,
        pass: "n/a"
      }
  )
  const freshNote = c?.notes.find((n) => n.includes("fresh machine"))
  const freshClean = freshNote?.endsWith("output: none.") ?? false
  out.push(
    scripted?.status === "ok" && freshNote !== undefined
      ? {
        case: "startup",
        target: "`pnpm mimo` / `pnpm start` print nothing of the build tool's own (fresh machine included)",
        measured: `${scripted.extraOutput === "none" && freshClean ? "nothing" : "something"} (build check ${
          fmt((scripted.medianMs ?? 0) - (mimo?.medianMs ?? 0), 0)
        } ms before the CLI runs)`,
        pass: scripted.extraOutput === "none" && freshClean
      }
      : {
        case: "startup",
        target: "`pnpm mimo` / `pnpm start` print nothing of the build tool's own (fresh machine included)",
        measured: scripted === undefined ? "not run" : `${scripted.status} ${scripted.reason ?? ""}`,
        pass: "n/a"
      }
  )
  return out
}
