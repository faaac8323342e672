/**
 * wire: issue 14's table, close to the wire. Buffered calls at concurrency 64,
 * one stream of 20,000 chunks and 50 concurrent streams of 2,000 chunks, for
 * raw undici (the 1.0 reference), openai-node and ours, with each client's
 * CPU per call (per chunk) beside its rate.
 *
 * Unlike the overhead and streaming cases, every ratio here is paired: in
 * each round the clients run one after the other against the same mock
 * process (their order rotating from round to round), the round's ratio to
 * raw undici is taken, and a row reports the median of those ratios. On a
 * machine shared with other work, a slow spell then moves both sides of a
 * ratio instead of one (apps/bench/analysis.md).
 *
 * With profiling on, ours and raw undici also run once each under
 * `node --cpu-prof` (calls at concurrency 64, and the 50 streams), each
 * profile cut to the measured phase: where the CPU goes, per call and per chunk.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type * as Cases from "../Cases.js"
import * as Clients from "../Clients.js"
import * as Profile from "../Profile.js"
import type * as Results from "../Results.js"
import * as Runner from "../Runner.js"

/**
 * The case's name (`--only wire`).
 *
 * @since 0.1.0
 * @category models
 */
export const name = "wire"

/**
 * The clients it runs, raw undici first (the reference of every ratio).
 *
 * @since 0.1.0
 * @category models
 */
export const clients: ReadonlyArray<Clients.Id> = ["undici", "openai", "effect-undici", "ours"]

/**
 * Its sizes; `quick` shrinks them for a smoke run.
 *
 * @since 0.1.0
 * @category parameters
 */
export const parameters = (quick: boolean) =>
  quick
    ? {
      calls: 300,
      warmup: 100,
      concurrency: 64,
      single: 2000,
      singleStreams: 2,
      singleWarmup: 2,
      streams: 5,
      chunksPerStream: 200,
      manyStreams: 10,
      manyWarmup: 5,
      rounds: 1
    }
    : {
      // 20,000 calls after 5,000 warm-up calls: the steady state. Over 5,000 calls after 1,000 (≈ 0.6 s), the
      // CPU per call still held V8 compiling each client's code on its own threads, which `process.cpuUsage()`
      // counts: ≈ 185 µs per call for ours and 130 for raw undici, against ≈ 110 and 82 once warm
      // (apps/bench/analysis.md, session 8).
      calls: 20_000,
      warmup: 5000,
      concurrency: 64,
      // The streams likewise: 400,000 chunks of warm-up for each variant (with 10,000 — 5 streams of the 50 —
      // raw undici still spent 4.2 µs per chunk, against ≈ 2 once warm), and more than one stream (wave)
      // measured: one stream of 20,000 chunks lasts ≈ 40 ms.
      single: 20_000,
      singleStreams: 10,
      singleWarmup: 20,
      streams: 50,
      chunksPerStream: 2000,
      manyStreams: 200,
      manyWarmup: 200,
      rounds: 7
    }

type MutableRow = { -readonly [K in keyof Results.Row]: Results.Row[K] }

/**
 * A profile of the case, with the calls or chunks of its measured phase.
 *
 * @since 0.1.0
 * @category models
 */
export type ProfileResult = NonNullable<Results.Results["profiles"]>[number]

interface Variant {
  readonly variant: string
  readonly kind: "chat" | "stream"
  readonly chunks: number
  readonly config: (baseUrl: string) => unknown
  /** The clients that run it, when not all (raw undici always does: it is the reference). */
  readonly only?: ReadonlyArray<Clients.Id>
}

/** One client's figures in one round. */
interface Sample {
  readonly rate: number
  readonly cpu: number
  readonly run: Results.ChatRun | Results.StreamRun
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The variant names, as the targets find them. */
const callsVariant = (p: ReturnType<typeof parameters>) => `calls at concurrency ${p.concurrency}`
const fiberPerCallVariant = (p: ReturnType<typeof parameters>) =>
  `calls at concurrency ${p.concurrency}, one fiber per call`
const singleVariant = (p: ReturnType<typeof parameters>) => `1 stream × ${p.single} chunks`
const manyVariant = (p: ReturnType<typeof parameters>) => `${p.streams} streams × ${p.chunksPerStream} chunks`

const variants = (p: ReturnType<typeof parameters>): ReadonlyArray<Variant> => [
  {
    variant: callsVariant(p),
    kind: "chat",
    chunks: 2,
    // Every client as 64 workers making calls one after the other: raw undici's and openai-node's `pool`, and as
    // many fibers for the Effect clients (like with like).
    config: (baseUrl) => ({ baseUrl, total: p.calls, concurrency: p.concurrency, warmup: p.warmup, shape: "workers" })
  },
  {
    // The Effect clients' calls forked one fiber each by `Effect.forEach` with the concurrency, as Effect programs
    // usually write it (and as the bench's other cases run them), instead of as many fibers as the concurrency:
    // what a fiber per call costs on this Effect version, beside raw undici's same round.
    variant: fiberPerCallVariant(p),
    kind: "chat",
    chunks: 2,
    config: (baseUrl) => ({
      baseUrl,
      total: p.calls,
      concurrency: p.concurrency,
      warmup: p.warmup,
      shape: "fiber-per-call"
    }),
    only: ["undici", "effect-undici", "ours"]
  },
  {
    variant: singleVariant(p),
    kind: "stream",
    chunks: p.single,
    // The same warm-up for every client: after a single warm-up stream the one measured stream (≈ 0.1 s) mostly
    // measured how fast each client's code got optimised, not how fast it streams (apps/bench/analysis.md).
    // Streams of 20,000 chunks one at a time, several of them measured.
    config: (baseUrl) => ({
      baseUrl,
      streams: p.singleStreams,
      concurrency: 1,
      chunksPerStream: p.single,
      warmup: p.singleWarmup,
      shape: "workers"
    })
  },
  {
    variant: manyVariant(p),
    kind: "stream",
    chunks: p.chunksPerStream,
    // 50 streams at a time, in waves of 50 (`manyStreams` measured in all).
    config: (baseUrl) => ({
      baseUrl,
      streams: p.manyStreams,
      concurrency: p.streams,
      chunksPerStream: p.chunksPerStream,
      warmup: p.manyWarmup,
      shape: "workers"
    })
  }
]

const sampleOf = (outcome: Runner.Outcome): Sample | string => {
  if (outcome.status !== "ok") return `${outcome.status}: ${outcome.reason.split("\n").slice(0, 4).join(" ")}`
  const run = outcome.run
  if (run.kind === "chat") {
    return run.failures > 0
      ? `${run.failures} calls failed: ${JSON.stringify(run.errors)}`
      : { rate: run.reqPerSec, cpu: run.cpuUsPerRequest, run }
  }
  if (run.kind === "stream") {
    return run.failures > 0
      ? `${run.failures} streams failed: ${JSON.stringify(run.errors)}`
      : { rate: run.chunksPerSec, cpu: run.cpuUsPerChunk, run }
  }
  return `expected a chat or stream result, got ${run.kind}`
}

/**
 * Runs the case: `rounds` rounds; in each, every variant against a fresh mock,
 * the clients one after the other in an order that rotates.
 *
 * @since 0.1.0
 * @category cases
 */
export const run = async (
  ctx: Cases.Context
): Promise<{ readonly result: Results.CaseResult; readonly profiles: ReadonlyArray<ProfileResult> }> => {
  const p = parameters(ctx.quick)
  const selected = clients.filter((c) => ctx.clients.includes(c))
  /** The selected clients that run a variant. */
  const clientsOf = (v: Variant) => selected.filter((c) => v.only === undefined || v.only.includes(c))
  const timeoutMs = (ctx.quick ? 60 : 120) * 1000
  // samples[variant][client][round]: a Sample, or why there is none.
  const samples = new Map<string, Map<Clients.Id, Array<Sample | string>>>()
  for (let pass = 0; pass < p.rounds; pass++) {
    for (const v of variants(p)) {
      const runs = clientsOf(v)
      await Runner.withServer("mock", { chunks: v.chunks }, async (server) => {
        for (let i = 0; i < runs.length; i++) {
          const client = runs[(i + pass) % runs.length]
          ctx.log(`wire: ${client}, ${v.variant} (round ${pass + 1} of ${p.rounds})`)
          const outcome = await Runner.runCase(v.kind, client, v.config(server.url), { timeoutMs })
          const byClient = samples.get(v.variant) ?? new Map<Clients.Id, Array<Sample | string>>()
          samples.set(v.variant, byClient)
          const list = byClient.get(client) ?? []
          byClient.set(client, list)
          list[pass] = sampleOf(outcome)
        }
      })
    }
  }

  const rows: Array<MutableRow> = []
  for (const v of variants(p)) {
    const byClient = samples.get(v.variant)
    const reference = byClient?.get("undici") ?? []
    for (const client of clientsOf(v)) {
      const row: MutableRow = { client, label: Clients.labels[client], variant: v.variant, status: "ok" }
      const list = byClient?.get(client) ?? []
      const ok = list.filter((s): s is Sample => typeof s !== "string")
      const broken = list.find((s): s is string => typeof s === "string")
      if (broken !== undefined || ok.length === 0) {
        rows.push({ ...row, status: "error", reason: broken ?? "no run" })
        continue
      }
      // Paired ratios: this client's round against raw undici's same round.
      const pairs = list.flatMap((s, i) => {
        const ref = reference[i]
        return typeof s === "string" || ref === undefined || typeof ref === "string" ? [] : [[s, ref] as const]
      })
      const rate = median(ok.map((s) => s.rate))
      const cpu = median(ok.map((s) => s.cpu))
      const first = ok[0].run
      rows.push({
        ...row,
        ...(first.kind === "chat"
          ? {
            requests: first.total,
            concurrency: first.concurrency,
            reqPerSec: round(rate, 0),
            cpuUsPerRequest: round(cpu, 0)
          }
          : {
            requests: first.streams,
            concurrency: first.concurrency ?? first.streams,
            chunks: first.chunks,
            chunksPerSec: round(rate, 0),
            cpuUsPerChunk: round(cpu, 2)
          }),
        failures: 0,
        ...(pairs.length === 0 ? {} : {
          ratioToUndici: round(median(pairs.map(([s, ref]) => s.rate / ref.rate)), 2),
          cpuRatioToUndici: round(median(pairs.map(([s, ref]) => s.cpu / ref.cpu)), 2),
          ratioRounds: pairs.map(([s, ref]) => round(s.rate / ref.rate, 2))
        })
      })
    }
  }

  const profiles: Array<ProfileResult> = []
  if (ctx.profile) {
    for (const v of variants(p).filter((v) => v.variant !== singleVariant(p) && v.variant !== fiberPerCallVariant(p))) {
      for (const client of selected.filter((c) => c === "ours" || c === "undici")) {
        const profile = await profileOne(ctx, v, client, timeoutMs)
        if (profile !== undefined) profiles.push(profile)
      }
    }
  }

  return {
    result: {
      name,
      title: "Wire: buffered calls and streams against raw undici, paired round by round",
      server: "mock (node:http, keep-alive) in its own process, one per round and variant, shared by the clients of " +
        "that round: a tiny chat.completion JSON, or a pre-built SSE body (small chat.completion.chunk events, " +
        "then [DONE]) written at once",
      parameters: {
        rounds: p.rounds,
        calls: p.calls,
        "warm-up calls": p.warmup,
        concurrency: p.concurrency,
        "single stream (chunks)": p.single,
        "single stream: streams measured (one at a time)": p.singleStreams,
        "single stream: warm-up streams": p.singleWarmup,
        "concurrent streams": p.streams,
        "chunks each": p.chunksPerStream,
        "concurrent streams: streams measured (in waves)": p.manyStreams,
        "concurrent streams: warm-up streams": p.manyWarmup
      },
      rows,
      notes: [
        "Each round runs every variant against a fresh mock, the clients one after the other (raw undici, " +
        "openai-node, raw undici inside Effect, ours, the order rotating by one each round), each in a fresh process " +
        `after an unmeasured warm-up of the same variant, the same for every client (the calls: ${p.warmup} calls; ` +
        `the streams: ${p.singleWarmup * p.single} and ${p.manyWarmup * p.chunksPerStream} chunks), so that what ` +
        "is measured is each client warm, not V8 compiling it.",
        "req/s, chunks/s and CPU are the medians of the rounds; × undici and CPU × undici are the medians of the " +
        "rounds' paired ratios (this client's round ÷ raw undici's same round), and \"× undici per round\" lists " +
        "them: a slow spell of the shared machine moves both sides of a pair.",
        "Client CPU is process.cpuUsage() of the client's own process (user + system) over the measured phase, ÷ " +
        "calls or ÷ chunks. raw undici: undici.request, JSON.parse of the body, and for streams a minimal `data:` " +
        "line parser with JSON.parse per chunk; openai-node: `create` and `for await`; ours: `mimo.chat` and " +
        "`Stream.runCount(mimo.stream(...))` (typed, validated answers and chunks).",
        "The load shape is the same for every client: as many workers as the concurrency, each making its calls " +
        "(streams) one after the other — async functions for raw undici and openai-node, fibers for the Effect " +
        "clients. The variant \"one fiber per call\" runs the Effect clients' calls one fiber each instead " +
        "(`Effect.forEach` with the concurrency, as Effect programs usually write it and as the bench's other " +
        "cases run them), beside raw undici's same round: what a fiber per call costs.",
        "raw undici inside Effect: raw undici's own request and `data:` loop, driven as ours is — " +
        "`Effect.tryPromise` per call, and for streams one `Stream` per call " +
        "(the cheapest `Stream` of the body's pieces: one channel, one effect per piece, each piece's events one " +
        "`Chunk`) counted by `Stream.runCount` — " +
        "with no client logic at all (no validation, typed errors, retries or timeouts): what running raw undici's " +
        "requests as an Effect program costs on this Effect version, the floor of a client that uses undici.request " +
        "and Effect's Stream as they are (ours sends through its own undici dispatch handler and stream reader)."
      ]
    },
    profiles
  }
}

const profileOne = async (
  ctx: Cases.Context,
  v: Variant,
  client: Clients.Id,
  timeoutMs: number
): Promise<ProfileResult | undefined> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mimo-bench-wire-prof-"))
  try {
    ctx.log(`wire: profiling ${client}, ${v.variant}`)
    return await Runner.withServer("mock", { chunks: v.chunks }, async (server) => {
      const outcome = await Runner.runCase(v.kind, client, v.config(server.url), {
        timeoutMs,
        nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`]
      })
      const file = Fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
      if (outcome.status !== "ok" || file === undefined) return undefined
      const r = outcome.run
      const window = r.kind === "chat" || r.kind === "stream" ? r : undefined
      if (window === undefined) return undefined
      const summary = Profile.summarize(Profile.decode(Fs.readFileSync(Path.join(dir, file), "utf8")), {
        fromUs: window.monoStartUs,
        toUs: window.monoEndUs,
        top: 20
      })
      return {
        client,
        case: `wire, ${v.variant}`,
        units: r.kind === "chat" ? r.successes : r.kind === "stream" ? r.chunks : 0,
        unit: r.kind === "chat" ? "call" : "chunk",
        ...summary
      }
    })
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

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
  ["variant", (r) => r.variant],
  ["req/s or chunks/s", (r) => fmt(r.reqPerSec ?? r.chunksPerSec, 0)],
  ["× undici", (r) => fmt(r.ratioToUndici)],
  ["× undici per round", (r) => (r.ratioRounds === undefined ? "" : r.ratioRounds.map((x) => fmt(x)).join(" · "))],
  [
    "client CPU µs per call or chunk",
    (r) => (r.cpuUsPerRequest !== undefined ? fmt(r.cpuUsPerRequest, 0) : fmt(r.cpuUsPerChunk))
  ],
  ["CPU × undici", (r) => fmt(r.cpuRatioToUndici)]
]

/**
 * Issue 14's targets for calls and streams, judged on this run's paired ratios.
 *
 * @since 0.1.0
 * @category report
 */
export const targets = (cases: ReadonlyArray<Results.CaseResult>): Array<Results.Target> => {
  const c = cases.find((x) => x.name === name)
  // The variant names come from the sizes the run used (a quick run's are smaller).
  const full = parameters(false)
  const number = (key: string, fallback: number) => {
    const v = c?.parameters[key]
    return typeof v === "number" ? v : fallback
  }
  const p = {
    ...full,
    concurrency: number("concurrency", full.concurrency),
    single: number("single stream (chunks)", full.single),
    streams: number("concurrent streams", full.streams),
    chunksPerStream: number("chunks each", full.chunksPerStream)
  }
  const row = (client: string, variant: string) => c?.rows.find((r) => r.client === client && r.variant === variant)
  const judge = (
    variant: string,
    target: string,
    metric: (r: Results.Row) => number | undefined,
    pass: (x: number) => boolean,
    detail: (ours: Results.Row, undici: Results.Row, openai: Results.Row | undefined) => string
  ): Results.Target => {
    const ours = row("ours", variant)
    const undici = row("undici", variant)
    const value = ours?.status === "ok" ? metric(ours) : undefined
    if (ours === undefined || undici === undefined || value === undefined || undici.status !== "ok") {
      const why = ours === undefined || undici === undefined
        ? "not run"
        : ours.status !== "ok"
        ? `ours: ${ours.status} (${ours.reason ?? ""})`
        : undici.status !== "ok"
        ? `raw undici: ${undici.status} (${undici.reason ?? ""})`
        : "no paired round"
      return { case: `wire, ${variant}`, target, measured: why, pass: "n/a" }
    }
    return {
      case: `wire, ${variant}`,
      target,
      measured: `${fmt(value)} × (${detail(ours, undici, row("openai", variant))})`,
      pass: pass(value)
    }
  }
  const openaiText = (openai: Results.Row | undefined, what: (r: Results.Row) => number | undefined, unit: string) =>
    openai?.status === "ok" ? `; openai-node ${fmt(openai.ratioToUndici)} ×, ${fmt(what(openai))} ${unit}` : ""
  const rates = (unit: string) => (ours: Results.Row, undici: Results.Row, openai: Results.Row | undefined) =>
    `ours ${fmt(ours.reqPerSec ?? ours.chunksPerSec, 0)} vs ${
      fmt(undici.reqPerSec ?? undici.chunksPerSec, 0)
    } ${unit}` +
    openaiText(openai, (r) => r.reqPerSec ?? r.chunksPerSec, unit)
  const cpus = (unit: string) => (ours: Results.Row, undici: Results.Row, openai: Results.Row | undefined) => {
    const cpu = (r: Results.Row) => r.cpuUsPerRequest ?? r.cpuUsPerChunk
    return `ours ${fmt(cpu(ours))} vs ${fmt(cpu(undici))} µs per ${unit}` +
      (openai?.status === "ok" ? `; openai-node ${fmt(openai.cpuRatioToUndici)} ×` : "")
  }
  return [
    judge(
      callsVariant(p),
      "ours ≥ 0.85 × raw undici req/s",
      (r) => r.ratioToUndici,
      (x) => x >= 0.85,
      rates("req/s")
    ),
    judge(
      callsVariant(p),
      "ours: client CPU per call ≤ 1.3 × raw undici's",
      (r) => r.cpuRatioToUndici,
      (x) => x <= 1.3,
      cpus("call")
    ),
    judge(
      singleVariant(p),
      "ours ≥ 0.9 × raw undici chunks/s (hold)",
      (r) => r.ratioToUndici,
      (x) => x >= 0.9,
      rates("chunks/s")
    ),
    judge(
      manyVariant(p),
      "ours ≥ 0.8 × raw undici chunks/s",
      (r) => r.ratioToUndici,
      (x) => x >= 0.8,
      rates("chunks/s")
    ),
    judge(
      manyVariant(p),
      "ours: client CPU per chunk ≤ 1.5 × raw undici's",
      (r) => r.cpuRatioToUndici,
      (x) => x <= 1.5,
      cpus("chunk")
    )
  ]
}
