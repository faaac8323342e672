/**
 * The shapes that cross a process boundary, as Schemas: what a case child
 * writes (one JSON file per run), and the `results.json` the runner writes.
 * Both sides decode them, so a harness bug shows up as a typed failure, not as
 * a silently wrong table.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Failures by kind (an error tag, or `status:<n>`).
 *
 * @since 0.1.0
 * @category models
 */
export const Errors = Schema.Record({ key: Schema.String, value: Schema.Number })

/**
 * @since 0.1.0
 * @category models
 */
export type Errors = typeof Errors.Type

/**
 * What one process of the Redis outage row measured (resilience case): its
 * calls, the epoch milliseconds of each success, and of each switch of its
 * limiter to the in-process fallback (`downAt`) and back to Redis (`upAt`).
 *
 * @since 0.2.0
 * @category models
 */
export const OutageRun = Schema.Struct({
  kind: Schema.Literal("outage"),
  successes: Schema.Number,
  failures: Schema.Number,
  errors: Errors,
  startedAt: Schema.Number,
  endedAt: Schema.Number,
  successTimes: Schema.Array(Schema.Number),
  downAt: Schema.Array(Schema.Number),
  upAt: Schema.Array(Schema.Number)
})

/**
 * @since 0.2.0
 * @category models
 */
export type OutageRun = typeof OutageRun.Type

/**
 * What one chat-load child measured (overhead, rate limit, faults, shared limit).
 *
 * @since 0.1.0
 * @category models
 */
export const ChatRun = Schema.Struct({
  kind: Schema.Literal("chat"),
  client: Schema.String,
  total: Schema.Number,
  concurrency: Schema.Number,
  successes: Schema.Number,
  failures: Schema.Number,
  errors: Errors,
  /** Epoch milliseconds of the first request and of the last completion (for the shared case). */
  startedAt: Schema.Number,
  endedAt: Schema.Number,
  wallMs: Schema.Number,
  reqPerSec: Schema.Number,
  p50Ms: Schema.Number,
  p99Ms: Schema.Number,
  cpuUserUs: Schema.Number,
  cpuSystemUs: Schema.Number,
  cpuUsPerRequest: Schema.Number,
  /** The measured phase on the monotonic clock of `--cpu-prof` (µs), to cut a profile to it. */
  monoStartUs: Schema.Number,
  monoEndUs: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type ChatRun = typeof ChatRun.Type

/**
 * What one streaming child measured.
 *
 * @since 0.1.0
 * @category models
 */
export const StreamRun = Schema.Struct({
  kind: Schema.Literal("stream"),
  client: Schema.String,
  streams: Schema.Number,
  /** How many streams ran at once (absent in results written before it was recorded: as many as `streams`). */
  concurrency: Schema.optional(Schema.Number),
  chunksPerStream: Schema.Number,
  chunks: Schema.Number,
  failures: Schema.Number,
  errors: Errors,
  wallMs: Schema.Number,
  chunksPerSec: Schema.Number,
  cpuUsPerChunk: Schema.Number,
  /** The measured phase on the monotonic clock of `--cpu-prof` (µs), to cut a profile to it. */
  monoStartUs: Schema.optional(Schema.Number),
  monoEndUs: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type StreamRun = typeof StreamRun.Type

/**
 * Memory of one process: resident set and V8 heap, in bytes.
 *
 * @since 0.1.0
 * @category models
 */
export const Memory = Schema.Struct({ rss: Schema.Number, heapUsed: Schema.Number })

/**
 * What one memory child measured.
 *
 * @since 0.1.0
 * @category models
 */
export const MemoryRun = Schema.Struct({
  kind: Schema.Literal("memory"),
  client: Schema.String,
  inFlight: Schema.Number,
  /** Requests the server held (received, unanswered) when memory was sampled. */
  serverHeld: Schema.Number,
  /** After warm-up, idle, after a full GC. */
  baseline: Memory,
  /** With `inFlight` calls outstanding, after a full GC (live memory). */
  loaded: Memory,
  successes: Schema.Number,
  failures: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type MemoryRun = typeof MemoryRun.Type

/**
 * What the Effect-steps child counted (cases/effectSteps.ts): per operation, the steps Effect's fiber runtime evaluated
 * for one run of it, the harness's own steps taken off (but for the harness's row itself).
 *
 * @since 0.2.0
 * @category models
 */
export const StepsRun = Schema.Struct({
  kind: Schema.Literal("steps"),
  runs: Schema.Number,
  items: Schema.Array(Schema.Struct({ client: Schema.String, operation: Schema.String, steps: Schema.Number }))
})

/**
 * @since 0.2.0
 * @category models
 */
export type StepsRun = typeof StepsRun.Type

/**
 * Any child's result.
 *
 * @since 0.1.0
 * @category models
 */
export const Run = Schema.Union(ChatRun, StreamRun, MemoryRun, OutageRun, StepsRun)

/**
 * @since 0.1.0
 * @category models
 */
export type Run = typeof Run.Type

/**
 * How a row ended: measured, skipped because a part is not there yet, or broken.
 *
 * @since 0.1.0
 * @category models
 */
export const Status = Schema.Literal("ok", "not available", "error", "timeout")

const num = Schema.optional(Schema.Number)

/**
 * One row of a table in `results.json`: a client in a case (and a variant,
 * such as the concurrency), with the metrics of that case.
 *
 * @since 0.1.0
 * @category models
 */
export const Row = Schema.Struct({
  client: Schema.String,
  label: Schema.String,
  variant: Schema.String,
  status: Status,
  reason: Schema.optional(Schema.String),
  requests: num,
  concurrency: num,
  successes: num,
  failures: num,
  errors: Schema.optional(Errors),
  wallSeconds: num,
  reqPerSec: num,
  /** Overhead and streaming: req/s (chunks/s) of each round, in run order (the row is the median round). */
  rounds: Schema.optional(Schema.Array(Schema.Number)),
  p50Ms: num,
  p99Ms: num,
  cpuUsPerRequest: num,
  /** The server process's CPU per request (to show whether the server, not the client, was the bottleneck). */
  serverCpuUsPerRequest: num,
  /** req/s (or chunks/s) relative to raw undici in the same variant. */
  ratioToUndici: num,
  /** Wall time ÷ the physical limit (requests ÷ the limit's rate). */
  wallRatio: num,
  /** 429s the server sent (rate limiter and injected). */
  received429: num,
  serverRequests: num,
  attemptsPerSuccess: num,
  chunks: num,
  chunksPerSec: num,
  cpuUsPerChunk: num,
  rssMiB: num,
  heapUsedMiB: num,
  rssDeltaMiB: num,
  heapDeltaMiB: num,
  heapKiBPerRequest: num,
  serverHeld: num,
  /** Wire: client CPU per call (per chunk) relative to raw undici's, the median of the rounds' paired ratios. */
  cpuRatioToUndici: num,
  /** Wire: the ratio to raw undici (req/s or chunks/s) of each round, in run order. */
  ratioRounds: Schema.optional(Schema.Array(Schema.Number)),
  /** Start-up: the median wall time of the runs of a command, in milliseconds. */
  medianMs: num,
  /** Start-up: `medianMs` ÷ bare `node -e 0`'s, measured in the same run. */
  ratioToBare: num,
  /** Start-up: the mean CPU time (user + system) of the runs of a command, in milliseconds. */
  cpuMs: num,
  /** Start-up: `cpuMs` ÷ bare `node -e 0`'s. */
  cpuRatioToBare: num,
  /** Start-up: what the command printed besides the CLI's own output (`none`, or a description). */
  extraOutput: Schema.optional(Schema.String),
  /** Figures particular to a case (the resilience case's), by name. */
  extra: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Row = typeof Row.Type

/**
 * One case: its parameters, what serves it, and its rows.
 *
 * @since 0.1.0
 * @category models
 */
export const CaseResult = Schema.Struct({
  name: Schema.String,
  title: Schema.String,
  server: Schema.String,
  parameters: Schema.Record({ key: Schema.String, value: Schema.Union(Schema.Number, Schema.String) }),
  rows: Schema.Array(Row),
  notes: Schema.Array(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type CaseResult = typeof CaseResult.Type

/**
 * A target of the issue, checked against this run.
 *
 * @since 0.1.0
 * @category models
 */
export const Target = Schema.Struct({
  case: Schema.String,
  target: Schema.String,
  measured: Schema.String,
  pass: Schema.Union(Schema.Boolean, Schema.Literal("n/a"))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Target = typeof Target.Type

/**
 * A frame of a CPU profile, by self time.
 *
 * @since 0.1.0
 * @category models
 */
export const Frame = Schema.Struct({
  functionName: Schema.String,
  location: Schema.String,
  selfMs: Schema.Number,
  percent: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Frame = typeof Frame.Type

/**
 * The whole `results.json`.
 *
 * @since 0.1.0
 * @category models
 */
export const Results = Schema.Struct({
  generatedAt: Schema.String,
  command: Schema.String,
  quick: Schema.Boolean,
  durationSeconds: Schema.Number,
  machine: Schema.Struct({
    cpu: Schema.String,
    cores: Schema.Number,
    memoryGiB: Schema.Number,
    node: Schema.String,
    platform: Schema.String
  }),
  versions: Schema.Record({ key: Schema.String, value: Schema.String }),
  cases: Schema.Array(CaseResult),
  targets: Schema.Array(Target),
  profile: Schema.optional(Schema.Struct({
    client: Schema.String,
    case: Schema.String,
    totalMs: Schema.Number,
    top: Schema.Array(Frame),
    byPackage: Schema.Array(Schema.Struct({ name: Schema.String, selfMs: Schema.Number, percent: Schema.Number }))
  })),
  /** More profiles (the wire case's), each with the count of what was measured, to show µs per call or chunk. */
  profiles: Schema.optional(Schema.Array(Schema.Struct({
    client: Schema.String,
    case: Schema.String,
    totalMs: Schema.Number,
    /** Calls or chunks in the profiled phase. */
    units: Schema.Number,
    unit: Schema.String,
    top: Schema.Array(Frame),
    byPackage: Schema.Array(Schema.Struct({ name: Schema.String, selfMs: Schema.Number, percent: Schema.Number }))
  })))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Results = typeof Results.Type
