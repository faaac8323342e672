/**
 * One client, `streams` streaming calls at `concurrency`, counting chunks on
 * the client side: chunks/s and the client's CPU per chunk. The mock server
 * (another process) serves a pre-built SSE body of `chunksPerStream` chunks.
 *
 * Usage: `node dist/cases/stream.js <client> '{"baseUrl":"…/v1","streams":50,"concurrency":50,"chunksPerStream":2000}'`
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Clients from "../Clients.js"
import * as child from "../internal/child.js"

const Config = Schema.Struct({
  baseUrl: Schema.String,
  streams: Schema.Number,
  concurrency: Schema.Number,
  chunksPerStream: Schema.Number,
  warmup: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** The load shape of an Effect client (Clients.LoadShape); a promise client has only `"workers"`. */
  shape: Clients.loadShapeSetting
})

child.main(
  Config,
  (c) => ({ baseUrl: c.baseUrl }),
  () => false,
  async (client, c) => {
    if (c.warmup > 0) await client.streamLoad(c.warmup, Math.min(c.warmup, c.concurrency), c.shape)
    const cpu0 = process.cpuUsage()
    const monoStartUs = Number(process.hrtime.bigint() / 1000n)
    const t0 = performance.now()
    const outcome = await client.streamLoad(c.streams, c.concurrency, c.shape)
    const wallMs = performance.now() - t0
    const monoEndUs = Number(process.hrtime.bigint() / 1000n)
    const cpu = process.cpuUsage(cpu0)
    return {
      kind: "stream",
      client: client.id,
      streams: c.streams,
      concurrency: c.concurrency,
      chunksPerStream: c.chunksPerStream,
      chunks: outcome.chunks,
      failures: outcome.failures,
      errors: outcome.errors,
      wallMs,
      chunksPerSec: outcome.chunks / (wallMs / 1000),
      cpuUsPerChunk: outcome.chunks === 0 ? 0 : (cpu.user + cpu.system) / outcome.chunks,
      monoStartUs,
      monoEndUs
    }
  }
)
