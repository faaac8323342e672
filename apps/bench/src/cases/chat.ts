/**
 * One client, `total` non-streaming chat calls at `concurrency`: the body of
 * the overhead, rate-limit, faults and shared-limit cases.
 *
 * Measures wall time, req/s, p50/p99 latency of the successful calls, and the
 * client's CPU (`process.cpuUsage()`; the server runs in another process).
 * An optional warm-up at the same concurrency runs first, unmeasured.
 *
 * Usage: `node dist/cases/chat.js <client> '{"baseUrl":"…/v1","total":5000,"concurrency":64,"warmup":1000}'`
 * (`"shape": "workers"` runs an Effect client's calls in as many fibers as the concurrency, the shape of the
 * promise clients' pool, instead of one fiber per call).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Clients from "../Clients.js"
import * as child from "../internal/child.js"
import { quantile } from "../Load.js"

const Config = Schema.Struct({
  baseUrl: Schema.String,
  total: Schema.Number,
  concurrency: Schema.Number,
  warmup: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  retries: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  limit: Schema.optional(Schema.Struct({ requestsPerSecond: Schema.Number, burst: Schema.Number })),
  redisUrl: Schema.optional(Schema.String),
  limitKey: Schema.optional(Schema.String),
  barrier: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** The load shape of an Effect client (Clients.LoadShape); a promise client has only `"workers"`. */
  shape: Clients.loadShapeSetting
})

child.main(
  Config,
  (c) => ({ baseUrl: c.baseUrl, retries: c.retries, limit: c.limit, redisUrl: c.redisUrl, limitKey: c.limitKey }),
  (c) => c.barrier,
  async (client, c) => {
    if (c.warmup > 0) await client.chatLoad(c.warmup, c.concurrency, c.shape)
    const cpu0 = process.cpuUsage()
    const monoStartUs = Number(process.hrtime.bigint() / 1000n)
    const startedAt = Date.now()
    const t0 = performance.now()
    const outcome = await client.chatLoad(c.total, c.concurrency, c.shape)
    const wallMs = performance.now() - t0
    const endedAt = Date.now()
    const monoEndUs = Number(process.hrtime.bigint() / 1000n)
    const cpu = process.cpuUsage(cpu0)
    const latencies = outcome.latencies.subarray(0, outcome.successes)
    return {
      kind: "chat",
      client: client.id,
      total: c.total,
      concurrency: c.concurrency,
      successes: outcome.successes,
      failures: outcome.failures,
      errors: outcome.errors,
      startedAt,
      endedAt,
      wallMs,
      reqPerSec: outcome.successes / (wallMs / 1000),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      cpuUsPerRequest: (cpu.user + cpu.system) / c.total,
      monoStartUs,
      monoEndUs
    }
  }
)
