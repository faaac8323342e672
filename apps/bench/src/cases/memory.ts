/**
 * One client with `inFlight` calls outstanding: RSS and V8 heap after a full
 * GC, against an idle baseline taken after warm-up (run with `--expose-gc`).
 *
 * The mock server holds every request after `POST /_mock/hold` until
 * `POST /_mock/release`; memory is sampled once the number it holds stops
 * growing (a pooled client has fewer on the wire than it has in flight: the
 * rest wait in its queue, which is part of what is measured).
 *
 * Usage: `node --expose-gc dist/cases/memory.js <client> '{"baseUrl":"…/v1","origin":"http://…","inFlight":1000}'`
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as child from "../internal/child.js"
import { sleep } from "../Load.js"

const Config = Schema.Struct({
  baseUrl: Schema.String,
  origin: Schema.String,
  inFlight: Schema.Number,
  warmup: Schema.optionalWith(Schema.Number, { default: () => 200 })
})

const Stats = Schema.Struct({ held: Schema.Number })

const gc = () => {
  if (globalThis.gc !== undefined) {
    globalThis.gc()
    globalThis.gc()
  }
}

const sample = () => {
  gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed }
}

child.main(
  Config,
  (c) => ({ baseUrl: c.baseUrl }),
  () => false,
  async (client, c) => {
    await client.chatLoad(c.warmup, 50)
    await sleep(200)
    const baseline = sample()
    await child.control(c.origin, "/_mock/hold")
    const load = client.chatLoad(c.inFlight, c.inFlight)
    // Wait until the server holds as many as it will get (stable for 500 ms), at most 10 s.
    let held = 0
    let stableSince = performance.now()
    const deadline = performance.now() + 10_000
    while (performance.now() < deadline) {
      await sleep(100)
      const stats = Schema.decodeUnknownSync(Stats)(await child.control(c.origin, "/_mock/stats", "GET"))
      if (stats.held !== held) {
        held = stats.held
        stableSince = performance.now()
      } else if (held > 0 && performance.now() - stableSince >= 500) break
    }
    const loaded = sample()
    await child.control(c.origin, "/_mock/release")
    const outcome = await load
    return {
      kind: "memory",
      client: client.id,
      inFlight: c.inFlight,
      serverHeld: held,
      baseline,
      loaded,
      successes: outcome.successes,
      failures: outcome.failures
    }
  }
)
