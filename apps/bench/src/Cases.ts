/**
 * The cases of the issue, each run client by client against a fresh server
 * process, each client in a fresh child process.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Clients from "./Clients.js"
import * as Profile from "./Profile.js"
import type * as Results from "./Results.js"
import * as Runner from "./Runner.js"

/**
 * The sizes of every case; `quick` shrinks them for a smoke run.
 *
 * @since 0.1.0
 * @category parameters
 */
export const parameters = (quick: boolean) => ({
  overhead: { requests: quick ? 300 : 5000, warmup: quick ? 100 : 1000, concurrencies: [1, 64], rounds: quick ? 1 : 3 },
  ratelimit: quick
    ? { requests: 40, concurrency: 20, rps: 20, burst: 10 }
    : { requests: 600, concurrency: 100, rps: 50, burst: 50 },
  faults: { requests: quick ? 100 : 2000, concurrency: quick ? 20 : 50, seed: 20260101 },
  streaming: quick
    ? { single: 2000, streams: 5, chunksPerStream: 200, rounds: 1 }
    : { single: 20_000, streams: 50, chunksPerStream: 2000, rounds: 3 },
  shared: quick
    ? { processes: 2, perProcess: 20, concurrency: 10, rps: 20, burst: 10 }
    : { processes: 4, perProcess: 150, concurrency: 25, rps: 50, burst: 50 },
  memory: { inFlight: quick ? 100 : 1000 }
})

/**
 * @since 0.1.0
 * @category parameters
 */
export type Parameters = ReturnType<typeof parameters>

/**
 * The case names, in run order.
 *
 * @since 0.1.0
 * @category models
 */
export const names = [
  "overhead",
  "ratelimit",
  "faults",
  "streaming",
  "shared",
  "memory",
  "wire",
  "startup",
  "resilience",
  "steps"
] as const

/**
 * @since 0.1.0
 * @category models
 */
export type Name = typeof names[number]

/**
 * The clients each case runs (filtered by `--clients`).
 *
 * @since 0.1.0
 * @category models
 */
export const clientsOf: Readonly<Record<Name, ReadonlyArray<Clients.Id>>> = {
  overhead: ["undici", "openai", "ours", "ours+limiter"],
  ratelimit: ["undici", "openai", "openai-r4", "ours", "ours+limiter"],
  // The limiter is left out here: with Retry-After 429s injected at 5%, its adaptive pauses stall the whole queue
  // (measured: 62 s instead of 26 s for 2,000 requests), which is the rate-limit case's subject, not this one's.
  faults: ["undici", "openai", "openai-r4", "ours"],
  streaming: ["undici", "openai", "ours"],
  shared: ["ours", "ours+limiter", "ours+redis"],
  memory: ["undici", "openai", "ours", "ours+limiter"],
  // cases/Wire.ts and cases/Startup.ts (the start-up case runs commands, not clients).
  wire: ["undici", "openai", "effect-undici", "ours"],
  startup: [],
  resilience: ["ours"],
  // cases/Steps.ts: ours and the limiter in one child, with a transport answering from memory.
  steps: []
}

/**
 * What every case is given.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  readonly quick: boolean
  readonly parameters: Parameters
  readonly clients: ReadonlyArray<Clients.Id>
  readonly profile: boolean
  readonly log: (line: string) => void
}

type MutableRow = { -readonly [K in keyof Results.Row]: Results.Row[K] }

const base = (client: Clients.Id, variant: string): MutableRow => ({
  client,
  label: Clients.labels[client],
  variant,
  status: "ok"
})

const failed = (row: MutableRow, outcome: Exclude<Runner.Outcome, { status: "ok" }>): MutableRow => ({
  ...row,
  status: outcome.status,
  reason: outcome.reason.split("\n").slice(0, 6).join(" ").slice(0, 600)
})

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

const chatRow = (row: MutableRow, outcome: Runner.Outcome): MutableRow => {
  if (outcome.status !== "ok") return failed(row, outcome)
  const r = outcome.run
  if (r.kind !== "chat") return failed(row, { status: "error", reason: `expected a chat result, got ${r.kind}` })
  return {
    ...row,
    requests: r.total,
    concurrency: r.concurrency,
    successes: r.successes,
    failures: r.failures,
    errors: r.errors,
    wallSeconds: round(r.wallMs / 1000, 3),
    reqPerSec: round(r.reqPerSec, 0),
    p50Ms: round(r.p50Ms, 3),
    p99Ms: round(r.p99Ms, 3),
    cpuUsPerRequest: round(r.cpuUsPerRequest, 0)
  }
}

/**
 * The rows of the rounds of a case, by key (client and variant): `add` one per run, then `medians` keeps, per
 * key, the run with the median `metric`, in first-seen order.
 */
const rounds = (metric: "reqPerSec" | "chunksPerSec") => {
  const samples = new Map<string, Array<MutableRow>>()
  return {
    add: (key: string, row: MutableRow): void => {
      const runs = samples.get(key)
      if (runs === undefined) samples.set(key, [row])
      else runs.push(row)
    },
    medians: (): Array<MutableRow> => [...samples.values()].map(medianRow(metric))
  }
}

/** The sample with the median `metric` (failed samples count as 0), with every sample's in `rounds`. */
const medianRow = (metric: "reqPerSec" | "chunksPerSec") => (rows: ReadonlyArray<MutableRow>): MutableRow => {
  const rate = (r: MutableRow) => (r.status === "ok" ? r[metric] ?? 0 : 0)
  const sorted = [...rows].sort((a, b) => rate(a) - rate(b))
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!
  return rows.length > 1 ? { ...median, rounds: rows.map(rate) } : median
}

const timeoutFor = (ctx: Context, seconds: number) => (ctx.quick ? Math.min(seconds, 60) : seconds) * 1000

const selected = (ctx: Context, name: Name) => clientsOf[name].filter((c) => ctx.clients.includes(c))

/** Adds `ratioToUndici` (of `metric`) within each variant. */
const withRatios = (rows: ReadonlyArray<MutableRow>, metric: "reqPerSec" | "chunksPerSec"): Array<MutableRow> =>
  rows.map((row) => {
    const reference = rows.find((r) => r.client === "undici" && r.variant === row.variant && r.status === "ok")
    const value = row[metric]
    const ref = reference?.[metric]
    return row.status === "ok" && value !== undefined && ref !== undefined && ref > 0
      ? { ...row, ratioToUndici: round(value / ref, 2) }
      : row
  })

// -----------------------------------------------------------------------------
// overhead
// -----------------------------------------------------------------------------

/**
 * The profile of our client at the highest concurrency of the overhead case.
 *
 * @since 0.1.0
 * @category models
 */
export type ProfileResult = NonNullable<Results.Results["profile"]>

/**
 * overhead: `requests` calls with a tiny 200 answer at concurrency 1 and 64.
 *
 * @since 0.1.0
 * @category cases
 */
export const overhead = async (
  ctx: Context
): Promise<{ readonly result: Results.CaseResult; readonly profile: ProfileResult | undefined }> => {
  const p = ctx.parameters.overhead
  // Every (client, concurrency) runs `rounds` times, the clients interleaved round by round, and the row is the
  // round with the median req/s: on a shared 2-core machine one run's req/s moves by ±30 % (apps/bench/analysis.md),
  // and interleaving spreads such a slow spell over every client instead of landing on one.
  const samples = rounds("reqPerSec")
  let profile: ProfileResult | undefined
  for (let pass = 1; pass <= p.rounds; pass++) {
    for (const client of selected(ctx, "overhead")) {
      await Runner.withServer("mock", { chunks: 2 }, async (server) => {
        for (const concurrency of p.concurrencies) {
          ctx.log(`overhead: ${client} at concurrency ${concurrency} (round ${pass} of ${p.rounds})`)
          const before = await Runner.mockStats(server)
          const outcome = await Runner.runCase(
            "chat",
            client,
            { baseUrl: server.url, total: p.requests, concurrency, warmup: p.warmup },
            { timeoutMs: timeoutFor(ctx, 120) }
          )
          const after = await Runner.mockStats(server)
          const row = chatRow(base(client, `concurrency ${concurrency}`), outcome)
          if (row.status === "ok" && after.requests > before.requests) {
            row.serverCpuUsPerRequest = round((after.cpuUs - before.cpuUs) / (after.requests - before.requests), 0)
          }
          samples.add(`${client} ${concurrency}`, row)
        }
        if (client === "ours" && ctx.profile && pass === p.rounds) profile = await profileOurs(ctx, server)
      })
    }
  }
  const rows = samples.medians()
  return {
    result: {
      name: "overhead",
      title: "Overhead: a tiny 200 answer",
      server: "mock (node:http, keep-alive, fixed tiny chat.completion JSON) in its own process: the simulator's " +
        "own per-request cost (routing, validation, answer generation, Effect HttpServer) would dominate the client's",
      parameters: {
        requests: p.requests,
        warmup: p.warmup,
        concurrency: p.concurrencies.join(", ")
      },
      rows: withRatios(rows, "reqPerSec"),
      notes: [
        "req/s counts successful calls over the measured wall time (after an unmeasured warm-up at the same concurrency).",
        `Each client ran ${p.rounds} time(s) at each concurrency, the clients interleaved round by round (a fresh ` +
        "mock and a fresh client process each time); a row is the round with the median req/s, and \"req/s per " +
        "round\" shows all of them. Ratios are between median rows.",
        "Client CPU is process.cpuUsage() of the client's own process (user + system) ÷ requests; the server runs " +
        "in another process (its CPU per request is shown too: when it nears a full core, the server bounds req/s)."
      ]
    },
    profile
  }
}

const profileOurs = async (ctx: Context, server: Runner.Server): Promise<ProfileResult | undefined> => {
  const p = ctx.parameters.overhead
  const concurrency = Math.max(...p.concurrencies)
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mimo-bench-prof-"))
  try {
    ctx.log(`overhead: profiling ours at concurrency ${concurrency}`)
    const outcome = await Runner.runCase(
      "chat",
      "ours",
      { baseUrl: server.url, total: p.requests, concurrency, warmup: p.warmup },
      { timeoutMs: timeoutFor(ctx, 120), nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${dir}`] }
    )
    const file = Fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (outcome.status !== "ok" || outcome.run.kind !== "chat" || file === undefined) return undefined
    const summary = Profile.summarize(Profile.decode(Fs.readFileSync(Path.join(dir, file), "utf8")), {
      fromUs: outcome.run.monoStartUs,
      toUs: outcome.run.monoEndUs,
      top: 20
    })
    return { client: "ours", case: `overhead, concurrency ${concurrency}`, ...summary }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

// -----------------------------------------------------------------------------
// rate limit
// -----------------------------------------------------------------------------

/**
 * rate limit: `requests` calls at `concurrency` against a `rps` token bucket (burst `burst`) answering 429 with
 * `Retry-After` in whole seconds.
 *
 * @since 0.1.0
 * @category cases
 */
export const ratelimit = async (ctx: Context): Promise<Results.CaseResult> => {
  const p = ctx.parameters.ratelimit
  const physical = p.requests / p.rps
  const rows: Array<MutableRow> = []
  for (const client of selected(ctx, "ratelimit")) {
    ctx.log(`ratelimit: ${client}`)
    rows.push(
      await Runner.withServer(
        "simulator",
        { rateLimit: { requestsPerSecond: p.rps, burst: p.burst, retryAfter: "seconds" } },
        async (server) => {
          const outcome = await Runner.runCase(
            "chat",
            client,
            {
              baseUrl: server.url,
              total: p.requests,
              concurrency: p.concurrency,
              retries: true,
              limit: { requestsPerSecond: p.rps, burst: p.burst }
            },
            { timeoutMs: timeoutFor(ctx, 150) }
          )
          const row = chatRow(base(client, "rate limit"), outcome)
          if (row.status !== "ok") return row
          const stats = await Runner.simStats(server)
          return {
            ...row,
            wallRatio: round((row.wallSeconds ?? 0) / physical, 2),
            received429: stats.byStatus["429"] ?? 0,
            serverRequests: stats.requests
          }
        }
      )
    )
  }
  return {
    name: "ratelimit",
    title: "Rate limit: a token bucket answering 429 with Retry-After",
    server: "simulator (fresh per client, own process): rateLimit requestsPerSecond " +
      `${p.rps}, burst ${p.burst}, Retry-After in whole seconds`,
    parameters: {
      requests: p.requests,
      concurrency: p.concurrency,
      "limit (req/s)": p.rps,
      burst: p.burst,
      "physical limit (s)": physical
    },
    rows,
    notes: [
      `wall ÷ limit is the wall time ÷ ${physical} s (${p.requests} requests ÷ ${p.rps} req/s).`,
      "raw undici runs the seed's own loop here: 5 attempts, min(2^n + U[0,1), 60) s, at least Retry-After.",
      `The limiter variant is configured with the same limit (${p.rps} req/s, burst ${p.burst}) on the client side.`
    ]
  }
}

// -----------------------------------------------------------------------------
// faults
// -----------------------------------------------------------------------------

/**
 * faults: a seeded mix of 10% 503, 5% 500 and 5% 429 (Retry-After 1).
 *
 * @since 0.1.0
 * @category cases
 */
export const faults = async (ctx: Context): Promise<Results.CaseResult> => {
  const p = ctx.parameters.faults
  const rows: Array<MutableRow> = []
  const mix = [
    { fault: { _tag: "Error", code: "service_unavailable" }, probability: 0.1 },
    { fault: { _tag: "Error", code: "internal_error" }, probability: 0.05 },
    { fault: { _tag: "Error", code: "rate_limit_exceeded", retryAfter: { seconds: 1 } }, probability: 0.05 }
  ]
  for (const client of selected(ctx, "faults")) {
    ctx.log(`faults: ${client}`)
    rows.push(
      await Runner.withServer(
        "simulator",
        { rateLimit: { enabled: false }, faults: { seed: p.seed, mix } },
        async (server) => {
          const outcome = await Runner.runCase(
            "chat",
            client,
            { baseUrl: server.url, total: p.requests, concurrency: p.concurrency, retries: true },
            { timeoutMs: timeoutFor(ctx, 120) }
          )
          const row = chatRow(base(client, "faults"), outcome)
          if (row.status !== "ok") return row
          const stats = await Runner.simStats(server)
          return {
            ...row,
            serverRequests: stats.requests,
            received429: stats.byStatus["429"] ?? 0,
            attemptsPerSuccess: row.successes ? round(stats.requests / row.successes, 3) : undefined
          }
        }
      )
    )
  }
  return {
    name: "faults",
    title: "Faults: a seeded mix of 503, 500 and 429",
    server: `simulator (fresh per client, own process): faults seed ${p.seed}, 10% 503, 5% 500, ` +
      "5% 429 with Retry-After: 1; rate limit off",
    parameters: { requests: p.requests, concurrency: p.concurrency, seed: p.seed },
    rows,
    notes: [
      "attempts per success = requests the simulator received ÷ successes.",
      "raw undici runs the seed's own loop (5 attempts). With 20% of attempts failing and 5 attempts per call, " +
      "the chance that a call fails 5 times is 0.2^5 = 1/3125: about 0.64 expected final failures in 2,000 calls " +
      "for any client with 5 attempts (openai-node's default 3 attempts: 2000 × 0.2^3 = 16)."
    ]
  }
}

// -----------------------------------------------------------------------------
// streaming
// -----------------------------------------------------------------------------

/**
 * streaming: one stream of `single` chunks, and `streams` concurrent streams of `chunksPerStream`.
 *
 * @since 0.1.0
 * @category cases
 */
export const streaming = async (ctx: Context): Promise<Results.CaseResult> => {
  const p = ctx.parameters.streaming
  const variants = [
    { variant: `1 × ${p.single}`, chunks: p.single, streams: 1, warmup: 1 },
    { variant: `${p.streams} × ${p.chunksPerStream}`, chunks: p.chunksPerStream, streams: p.streams, warmup: 5 }
  ]
  // As in the overhead case: rounds, the clients interleaved, the median round reported (a single stream of
  // 20,000 small chunks is ~0.1 s of work, too short for one run to be trusted on a shared machine).
  const samples = rounds("chunksPerSec")
  for (let pass = 1; pass <= p.rounds; pass++) {
    for (const client of selected(ctx, "streaming")) {
      for (const v of variants) {
        ctx.log(`streaming: ${client}, ${v.variant} (round ${pass} of ${p.rounds})`)
        const row = await Runner.withServer("mock", { chunks: v.chunks }, async (server) => {
          const outcome = await Runner.runCase(
            "stream",
            client,
            {
              baseUrl: server.url,
              streams: v.streams,
              concurrency: v.streams,
              chunksPerStream: v.chunks,
              warmup: v.warmup
            },
            { timeoutMs: timeoutFor(ctx, 120) }
          )
          const row = base(client, v.variant)
          if (outcome.status !== "ok") return failed(row, outcome)
          const r = outcome.run
          if (r.kind !== "stream") return failed(row, { status: "error", reason: "expected a stream result" })
          return {
            ...row,
            requests: r.streams,
            concurrency: r.streams,
            failures: r.failures,
            errors: r.errors,
            chunks: r.chunks,
            wallSeconds: round(r.wallMs / 1000, 3),
            chunksPerSec: round(r.chunksPerSec, 0),
            cpuUsPerChunk: round(r.cpuUsPerChunk, 2)
          }
        })
        samples.add(`${client} ${v.variant}`, row)
      }
    }
  }
  const rows = samples.medians()
  return {
    name: "streaming",
    title: "Streaming: SSE chunks counted on the client",
    server: "mock (node:http) serving a pre-built SSE body (small chat.completion.chunk events, then [DONE]), " +
      "written at once",
    parameters: {
      "single stream (chunks)": p.single,
      "concurrent streams": p.streams,
      "chunks each": p.chunksPerStream
    },
    rows: withRatios(rows, "chunksPerSec"),
    notes: [
      "raw undici: undici.request and a minimal `data:` line parser with JSON.parse per chunk; openai-node: " +
      "`stream: true` and `for await`; ours: `mimo.stream(...)` and `Stream.runCount` (typed, validated chunks).",
      "One unmeasured warm-up stream (5 for the concurrent variant) first.",
      `Each client ran each variant ${p.rounds} time(s), the clients interleaved round by round; a row is the ` +
      "round with the median chunks/s, and \"chunks/s per round\" shows all of them."
    ]
  }
}

// -----------------------------------------------------------------------------
// shared limit
// -----------------------------------------------------------------------------

/**
 * shared limit: `processes` processes × `perProcess` requests sharing one limit.
 *
 * @since 0.1.0
 * @category cases
 */
export const shared = async (ctx: Context): Promise<Results.CaseResult> => {
  const p = ctx.parameters.shared
  const total = p.processes * p.perProcess
  const physical = total / p.rps
  const rows: Array<MutableRow> = []
  const clients = selected(ctx, "shared")
  const redis = clients.includes("ours+redis") ? await Runner.startRedis() : "not requested"
  try {
    for (const client of clients) {
      const row = base(client, `${p.processes} processes`)
      if (client === "ours+redis" && typeof redis === "string") {
        rows.push({ ...row, status: "not available", reason: redis })
        continue
      }
      ctx.log(`shared: ${client} (${p.processes} processes)`)
      rows.push(
        await Runner.withServer(
          "simulator",
          { rateLimit: { requestsPerSecond: p.rps, burst: p.burst, retryAfter: "seconds" } },
          async (server) => {
            const config = {
              baseUrl: server.url,
              total: p.perProcess,
              concurrency: p.concurrency,
              retries: true,
              limit: { requestsPerSecond: p.rps, burst: p.burst },
              ...(typeof redis === "string" ? {} : { redisUrl: redis.url }),
              limitKey: `mimo-bench-${process.pid}-${Date.now()}`,
              barrier: true
            }
            const children = Array.from(
              { length: p.processes },
              () => Runner.spawnCase("chat", client, config, { timeoutMs: timeoutFor(ctx, 90) })
            )
            await Promise.all(children.map((c) => c.ready))
            for (const c of children) c.go()
            const outcomes = await Promise.all(children.map((c) => c.outcome))
            for (const o of outcomes) if (o.status !== "ok") return failed(row, o)
            const runs = outcomes.flatMap((o) => o.status === "ok" && o.run.kind === "chat" ? [o.run] : [])
            const stats = await Runner.simStats(server)
            const wall = (Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000
            const errors: Record<string, number> = {}
            for (const r of runs) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
            return {
              ...row,
              requests: total,
              concurrency: p.concurrency * p.processes,
              successes: runs.reduce((n, r) => n + r.successes, 0),
              failures: runs.reduce((n, r) => n + r.failures, 0),
              errors,
              wallSeconds: round(wall, 3),
              wallRatio: round(wall / physical, 2),
              received429: stats.byStatus["429"] ?? 0,
              serverRequests: stats.requests
            }
          }
        )
      )
    }
  } finally {
    if (typeof redis !== "string") await redis.stop()
  }
  return {
    name: "shared",
    title: "Shared limit: several processes, one account limit",
    server: `simulator (own process): rateLimit requestsPerSecond ${p.rps}, burst ${p.burst}; ` +
      "redis-server (own process, no persistence) for the shared limiter",
    parameters: {
      processes: p.processes,
      "requests per process": p.perProcess,
      "concurrency per process": p.concurrency,
      "limit (req/s)": p.rps,
      "physical limit (s)": physical
    },
    rows,
    notes: [
      "The processes start together (each builds its client, then waits for a go); wall = last completion − first start.",
      `"ours + limiter" gives each process its own in-memory ${p.rps} req/s limiter (not shared): the case the ` +
      "Redis limiter exists for."
    ]
  }
}

// -----------------------------------------------------------------------------
// memory
// -----------------------------------------------------------------------------

/**
 * memory: RSS and heap with `inFlight` requests outstanding.
 *
 * @since 0.1.0
 * @category cases
 */
export const memory = async (ctx: Context): Promise<Results.CaseResult> => {
  const p = ctx.parameters.memory
  const rows: Array<MutableRow> = []
  const mib = (bytes: number) => round(bytes / 2 ** 20, 1)
  for (const client of selected(ctx, "memory")) {
    ctx.log(`memory: ${client}`)
    rows.push(
      await Runner.withServer("mock", { chunks: 2 }, async (server) => {
        const outcome = await Runner.runCase(
          "memory",
          client,
          { baseUrl: server.url, origin: server.origin, inFlight: p.inFlight },
          { timeoutMs: timeoutFor(ctx, 60), nodeArgs: ["--expose-gc"] }
        )
        const row = base(client, `${p.inFlight} in flight`)
        if (outcome.status !== "ok") return failed(row, outcome)
        const r = outcome.run
        if (r.kind !== "memory") return failed(row, { status: "error", reason: "expected a memory result" })
        return {
          ...row,
          requests: r.inFlight,
          successes: r.successes,
          failures: r.failures,
          serverHeld: r.serverHeld,
          rssMiB: mib(r.loaded.rss),
          heapUsedMiB: mib(r.loaded.heapUsed),
          rssDeltaMiB: mib(r.loaded.rss - r.baseline.rss),
          heapDeltaMiB: mib(r.loaded.heapUsed - r.baseline.heapUsed),
          heapKiBPerRequest: round((r.loaded.heapUsed - r.baseline.heapUsed) / 1024 / r.inFlight, 2)
        }
      })
    )
  }
  return {
    name: "memory",
    title: "Memory: requests in flight",
    server: "mock (node:http) holding every request until released",
    parameters: { "in flight": p.inFlight },
    rows,
    notes: [
      "Sampled after a full GC (node --expose-gc), once the number of requests the server holds stops growing; " +
      "the baseline is the same process idle after a warm-up.",
      "\"held by server\" is how many were on the wire: a pooled client (ours: 128 connections per origin) keeps the " +
      "rest in its own queue, which is part of what is measured."
    ]
  }
}
