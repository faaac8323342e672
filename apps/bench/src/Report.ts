/**
 * The targets of the issue checked against a run, and `BENCHMARKS.md`.
 *
 * @since 0.1.0
 */
import * as Resilience from "./cases/Resilience.js"
import * as Startup from "./cases/Startup.js"
import * as Steps from "./cases/Steps.js"
import * as Wire from "./cases/Wire.js"
import type * as Results from "./Results.js"

type Row = Results.Row

const find = (cases: ReadonlyArray<Results.CaseResult>, name: string, client: string, variant?: string) =>
  cases.find((c) => c.name === name)?.rows.find((r) =>
    r.client === client && (variant === undefined || r.variant === variant)
  )

const unavailable = (row: Row | undefined, what: string): string =>
  row === undefined ? `${what}: not run` : `${what}: ${row.status}${row.reason !== undefined ? ` (${row.reason})` : ""}`

const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: digits })

/**
 * The issue's targets, each with what this run measured and pass / fail.
 *
 * @since 0.1.0
 * @category targets
 */
export const targets = (cases: ReadonlyArray<Results.CaseResult>): Array<Results.Target> => {
  const out: Array<Results.Target> = []
  const check = (
    caseName: string,
    target: string,
    row: Row | undefined,
    what: string,
    measure: (row: Row) => { readonly measured: string; readonly pass: boolean } | undefined,
    /** The row a ratio is taken against, and its name. */
    reference?: readonly [Row | undefined, string]
  ) => {
    if (reference !== undefined && reference[0]?.status !== "ok") {
      out.push({ case: caseName, target, measured: unavailable(reference[0], reference[1]), pass: "n/a" })
      return
    }
    const m = row !== undefined && row.status === "ok" ? measure(row) : undefined
    out.push(
      m === undefined
        ? { case: caseName, target, measured: unavailable(row, what), pass: "n/a" }
        : { case: caseName, target, measured: m.measured, pass: m.pass }
    )
  }

  const limited = find(cases, "ratelimit", "ours+limiter")
  check("rate limit", "ours + limiter: 0 failures", limited, "ours + limiter", (r) => ({
    measured: `${r.failures} of ${r.requests} failed`,
    pass: r.failures === 0
  }))
  check(
    "rate limit",
    "ours + limiter: wall ≤ 1.05 × the physical limit",
    limited,
    "ours + limiter",
    (r) => r.wallRatio === undefined ? undefined : { measured: `${fmt(r.wallRatio)} ×`, pass: r.wallRatio <= 1.05 }
  )
  check(
    "rate limit",
    "ours + limiter: ≤ 30 429s",
    limited,
    "ours + limiter",
    (r) => r.received429 === undefined ? undefined : { measured: `${r.received429} 429s`, pass: r.received429 <= 30 }
  )

  const redis = find(cases, "shared", "ours+redis")
  check("shared limit", "ours + Redis limiter: 0 failures", redis, "ours + Redis limiter", (r) => ({
    measured: `${r.failures} of ${r.requests} failed`,
    pass: r.failures === 0
  }))
  check(
    "shared limit",
    "ours + Redis limiter: wall ≤ 1.10 × the limit",
    redis,
    "ours + Redis limiter",
    (r) => r.wallRatio === undefined ? undefined : { measured: `${fmt(r.wallRatio)} ×`, pass: r.wallRatio <= 1.1 }
  )

  const faulty = find(cases, "faults", "ours")
  check("faults", "ours (default policy): 0 failures", faulty, "ours", (r) => ({
    measured: `${r.failures} of ${r.requests} failed`,
    pass: r.failures === 0
  }))

  const overhead = cases.find((c) => c.name === "overhead")
  const c64 = overhead?.rows.find((r) => r.client === "ours" && r.concurrency === 64)?.variant ?? "concurrency 64"
  const ours64 = find(cases, "overhead", "ours", c64)
  const undici64 = find(cases, "overhead", "undici", c64)
  const openai64 = find(cases, "overhead", "openai", c64)
  check(
    "overhead",
    "ours at concurrency 64: ≥ 0.6 × raw undici req/s",
    ours64,
    "ours",
    (r) =>
      r.reqPerSec === undefined || undici64?.reqPerSec === undefined ? undefined : {
        measured: `${fmt(r.reqPerSec / undici64.reqPerSec)} × (${fmt(r.reqPerSec, 0)} vs ${
          fmt(undici64.reqPerSec, 0)
        } req/s)`,
        pass: r.reqPerSec >= 0.6 * undici64.reqPerSec
      },
    [undici64, "raw undici"]
  )
  check(
    "overhead",
    "ours at concurrency 64: ≥ 3 × openai-node req/s",
    ours64,
    "ours",
    (r) =>
      r.reqPerSec === undefined || openai64?.reqPerSec === undefined ? undefined : {
        measured: `${fmt(r.reqPerSec / openai64.reqPerSec)} × (${fmt(r.reqPerSec, 0)} vs ${
          fmt(openai64.reqPerSec, 0)
        } req/s)`,
        pass: r.reqPerSec >= 3 * openai64.reqPerSec
      },
    [openai64, "openai-node"]
  )
  check(
    "overhead",
    "ours at concurrency 64: client CPU ≤ 300 µs per request",
    ours64,
    "ours",
    (r) =>
      r.cpuUsPerRequest === undefined ? undefined : {
        measured: `${fmt(r.cpuUsPerRequest, 0)} µs`,
        pass: r.cpuUsPerRequest <= 300
      }
  )

  for (const row of cases.find((c) => c.name === "streaming")?.rows.filter((r) => r.client === "ours") ?? []) {
    const openai = find(cases, "streaming", "openai", row.variant)
    check(
      "streaming",
      `ours (${row.variant}): ≥ 1.5 × openai-node chunks/s`,
      row,
      "ours",
      (r) =>
        r.chunksPerSec === undefined || openai?.chunksPerSec === undefined ? undefined : {
          measured: `${fmt(r.chunksPerSec / openai.chunksPerSec)} × (${fmt(r.chunksPerSec, 0)} vs ${
            fmt(openai.chunksPerSec, 0)
          } chunks/s)`,
          pass: r.chunksPerSec >= 1.5 * openai.chunksPerSec
        },
      [openai, "openai-node"]
    )
  }
  // Issue 14's table (cases/Wire.ts, cases/Startup.ts) and the limiter's own cost (from the overhead case).
  out.push(...Wire.targets(cases), ...Startup.targets(cases))
  const limiter64 = find(cases, "overhead", "ours+limiter", c64)
  check(
    "limiter",
    "the limiter's own cost when it never waits: ≤ 42 µs of client CPU per call at concurrency 64 (half of 85)",
    limiter64,
    "ours + limiter",
    (r) =>
      r.cpuUsPerRequest === undefined || ours64?.cpuUsPerRequest === undefined ? undefined : {
        measured: `${fmt(r.cpuUsPerRequest - ours64.cpuUsPerRequest, 0)} µs (${fmt(r.cpuUsPerRequest, 0)} vs ${
          fmt(ours64.cpuUsPerRequest, 0)
        } µs per call)`,
        pass: r.cpuUsPerRequest - ours64.cpuUsPerRequest <= 42
      },
    [ours64, "ours"]
  )
  out.push(...Resilience.targets(cases))
  return out
}

// -----------------------------------------------------------------------------
// markdown
// -----------------------------------------------------------------------------

type Column = readonly [header: string, cell: (row: Row) => string]

const errorsCell = (row: Row) =>
  row.errors === undefined || Object.keys(row.errors).length === 0
    ? ""
    : Object.entries(row.errors).map(([k, v]) => `${k} × ${v}`).join(", ")

/** The rate-limit cases (one process, and several sharing Redis) report the same figures. */
const limitColumns: ReadonlyArray<Column> = [
  ["wall s", (r) => fmt(r.wallSeconds)],
  ["wall ÷ limit", (r) => fmt(r.wallRatio)],
  ["successes", (r) => fmt(r.successes)],
  ["final failures", (r) => fmt(r.failures)],
  ["429s received", (r) => fmt(r.received429)],
  ["requests sent", (r) => fmt(r.serverRequests)],
  ["failed with", errorsCell]
]

const columns: Readonly<Record<string, ReadonlyArray<Column>>> = {
  overhead: [
    ["concurrency", (r) => fmt(r.concurrency)],
    ["req/s", (r) => fmt(r.reqPerSec, 0)],
    ["× undici", (r) => fmt(r.ratioToUndici)],
    ["req/s per round", (r) => (r.rounds === undefined ? "" : r.rounds.map((x) => fmt(x, 0)).join(" · "))],
    ["p50 ms", (r) => fmt(r.p50Ms, 2)],
    ["p99 ms", (r) => fmt(r.p99Ms, 2)],
    ["client CPU µs/req", (r) => fmt(r.cpuUsPerRequest, 0)],
    ["server CPU µs/req", (r) => fmt(r.serverCpuUsPerRequest, 0)],
    ["failures", (r) => fmt(r.failures)]
  ],
  ratelimit: limitColumns,
  faults: [
    ["successes", (r) => fmt(r.successes)],
    ["failures", (r) => fmt(r.failures)],
    ["attempts per success", (r) => fmt(r.attemptsPerSuccess, 3)],
    ["wall s", (r) => fmt(r.wallSeconds)],
    ["requests sent", (r) => fmt(r.serverRequests)],
    ["failed with", errorsCell]
  ],
  streaming: [
    ["streams × chunks", (r) => r.variant],
    ["chunks", (r) => fmt(r.chunks)],
    ["chunks/s", (r) => fmt(r.chunksPerSec, 0)],
    ["× undici", (r) => fmt(r.ratioToUndici)],
    ["chunks/s per round", (r) => (r.rounds === undefined ? "" : r.rounds.map((x) => fmt(x, 0)).join(" · "))],
    ["client CPU µs/chunk", (r) => fmt(r.cpuUsPerChunk, 2)],
    ["wall s", (r) => fmt(r.wallSeconds, 3)],
    ["failures", (r) => fmt(r.failures)]
  ],
  shared: limitColumns,
  resilience: Resilience.columns.slice(1),
  memory: [
    ["in flight", (r) => fmt(r.requests)],
    ["held by server", (r) => fmt(r.serverHeld)],
    ["RSS MiB", (r) => fmt(r.rssMiB, 1)],
    ["heap MiB", (r) => fmt(r.heapUsedMiB, 1)],
    ["Δ RSS MiB", (r) => fmt(r.rssDeltaMiB, 1)],
    ["Δ heap MiB", (r) => fmt(r.heapDeltaMiB, 1)],
    ["heap KiB per request", (r) => fmt(r.heapKiBPerRequest, 2)]
  ],
  wire: Wire.columns,
  startup: Startup.columns,
  steps: Steps.columns
}

const escape = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ")

const table = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  numeric = true
): string =>
  [
    `| ${headers.join(" | ")} |`,
    `|${headers.map((_, i) => (i === 0 || !numeric ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`)
  ].join("\n")

const caseTable = (c: Results.CaseResult): string => {
  const cols = columns[c.name] ?? []
  return table(
    ["client", ...cols.map(([h]) => h)],
    c.rows.map((r) =>
      r.status === "ok"
        ? [r.label, ...cols.map(([, cell]) => cell(r))]
        : [r.label, `**${r.status}**: ${r.reason ?? ""}`, ...cols.slice(1).map(() => "")]
    )
  )
}

/**
 * `BENCHMARKS.md`: machine, versions, command, targets, tables, profile and analysis.
 *
 * @since 0.1.0
 * @category markdown
 */
export const markdown = (results: Results.Results, analysis: string | undefined): string => {
  const m = results.machine
  const lines: Array<string> = [
    "# Benchmarks",
    "",
    `Generated by \`${results.command}\` on ${results.generatedAt} (the whole run took ${
      fmt(results.durationSeconds, 0)
    } s). ` +
    "Every number in the tables comes from that one run, on this machine. Do not edit this file by hand: run the " +
    "command again (the analysis at the end comes from `apps/bench/analysis.md`; " +
    "`node apps/bench/dist/main.js --render` rewrites this file from `apps/bench/results.json` without a run).",
    ""
  ]
  if (results.quick) {
    lines.push("> **Quick mode**: small counts for a smoke run; the numbers are not comparable to a full run.", "")
  }
  lines.push(
    "## Machine",
    "",
    table(["", ""], [
      ["CPU", m.cpu],
      ["cores", String(m.cores)],
      ["memory", `${m.memoryGiB} GiB`],
      ["Node.js", m.node],
      ["OS", m.platform]
    ], false),
    "",
    "## Versions",
    "",
    table(["package", "version"], Object.entries(results.versions), false),
    "",
    "## Command",
    "",
    "```sh",
    results.command,
    "```",
    "",
    "From the repository root; turbo builds the workspace first. `pnpm bench -- --quick` is a smoke run with small " +
      "counts (written to a temporary folder unless `--out` is given); `--only <cases>` and `--clients <ids>` " +
      "narrow a run. Each case starts a fresh server process per client (mock or simulator, said below) and runs " +
      "each client in a fresh child process, so that `process.cpuUsage()` of that process is the client's CPU alone. " +
      "The overhead and streaming cases run 3 rounds with the clients interleaved and report each client's median " +
      "round (every round's figure is in the table); the wire case pairs each client's round with raw undici's " +
      "same round and reports the median of those ratios.",
    "",
    "## Targets",
    "",
    table(
      ["case", "target", "measured", "pass"],
      results.targets.map((
        t
      ) => [t.case, t.target, t.measured, t.pass === "n/a" ? "n/a" : t.pass ? "✅ pass" : "❌ miss"]),
      false
    ),
    ""
  )
  for (const c of results.cases) {
    lines.push(
      `## ${c.title}`,
      "",
      `Server: ${c.server}.`,
      "",
      `Parameters: ${Object.entries(c.parameters).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
      "",
      caseTable(c),
      "",
      ...c.notes.map((n) => `- ${n}`),
      ""
    )
  }
  if (results.profile !== undefined) {
    const p = results.profile
    lines.push(
      `## Profile: ${p.client}, ${p.case}`,
      "",
      `\`node --cpu-prof\` of the client process, cut to the measured phase (${
        fmt(p.totalMs, 0)
      } ms sampled, idle excluded); self time. Summarise any profile with ` +
        "`node apps/bench/dist/summarize.js <file.cpuprofile>`.",
      "",
      table(
        ["self ms", "self %", "function", "location"],
        p.top.map((f) => [
          fmt(f.selfMs, 1),
          fmt(f.percent, 1),
          `\`${f.functionName}\``,
          f.location
        ])
      ),
      "",
      table(["package", "self ms", "self %"], p.byPackage.map((b) => [b.name, fmt(b.selfMs, 1), fmt(b.percent, 1)])),
      ""
    )
  }
  for (const p of results.profiles ?? []) {
    const per = (ms: number) => (p.units > 0 ? fmt((ms * 1000) / p.units, 2) : "–")
    lines.push(
      `## Profile: ${p.client}, ${p.case}`,
      "",
      `\`node --cpu-prof\` of the client process, cut to the measured phase (${fmt(p.totalMs, 0)} ms sampled, ` +
        `idle excluded, ${fmt(p.units, 0)} ${p.unit}s: ${per(p.totalMs)} µs per ${p.unit}); self time. The sampler ` +
        "counts wall time while the thread is busy, including time it waits for a core on a shared machine: compare " +
        "the shares (%), and take CPU per call or chunk from the case's table.",
      "",
      table(
        ["package", "self ms", "self %", `µs per ${p.unit}`],
        p.byPackage.map((b) => [b.name, fmt(b.selfMs, 1), fmt(b.percent, 1), per(b.selfMs)])
      ),
      "",
      table(
        ["self ms", "self %", "function", "location"],
        p.top.slice(0, 12).map((f) => [fmt(f.selfMs, 1), fmt(f.percent, 1), `\`${f.functionName}\``, f.location])
      ),
      ""
    )
  }
  if (analysis !== undefined) lines.push(analysis.trim(), "")
  return lines.join("\n")
}
