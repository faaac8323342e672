/**
 * The `steps` case: Effect steps per operation (cases/effectSteps.ts, one child
 * process): ours against the bare Effect constructs every `Stream` run
 * costs. Exact counts, not timings: a change to our hot paths shows here as a
 * number of steps, whatever the machine's load.
 *
 * @since 0.2.0
 */
import type * as Cases from "../Cases.js"
import * as Clients from "../Clients.js"
import type * as Results from "../Results.js"
import * as Runner from "../Runner.js"

const label = (client: string): string => Clients.isId(client) ? Clients.labels[client] : "Effect 3 alone"

/**
 * @since 0.2.0
 * @category cases
 */
export const run = async (ctx: Cases.Context): Promise<Results.CaseResult> => {
  const runs = ctx.quick ? 200 : 1000
  ctx.log("steps: Effect steps per operation (one child process)")
  const outcome = await Runner.spawnCase("effectSteps", "-", { runs }, { timeoutMs: 120_000 }).outcome
  const rows: Array<Results.Row> = outcome.status !== "ok"
    ? [{ client: "ours", label: label("ours"), variant: "all", status: outcome.status, reason: outcome.reason }]
    : outcome.run.kind !== "steps"
    ? [{ client: "ours", label: label("ours"), variant: "all", status: "error", reason: "expected a steps result" }]
    : outcome.run.items.map((item): Results.Row => ({
      client: item.client,
      label: label(item.client),
      variant: item.operation,
      status: "ok",
      extra: { steps: item.steps }
    }))
  return {
    name: "steps",
    title: "Effect steps per operation (exact counts, in process)",
    server: "none: a transport answering from memory on setImmediate (one wake-up per read, as a socket's)",
    parameters: { "runs per operation": runs, concurrency: 50 },
    rows,
    notes: [
      "A step is one effect evaluated by Effect's fiber runtime (one call of an op handler of its internal " +
      "FiberRuntime, counted by wrapping them). Each figure is per run, less the harness's own steps (its first row).",
      "A 2,000-chunk stream is read in 7 pieces of 52 KB, as over the loopback. What a `Stream` answer costs its " +
      "consumer whatever it holds is the `Stream.runCount` row of Effect alone; ours adds the rest."
    ]
  }
}

/**
 * @since 0.2.0
 * @category report
 */
export const columns: ReadonlyArray<readonly [header: string, cell: (row: Results.Row) => string]> = [
  ["operation", (r) => r.variant],
  ["Effect steps per run", (r) => r.extra?.["steps"] === undefined ? "" : String(r.extra["steps"])]
]
