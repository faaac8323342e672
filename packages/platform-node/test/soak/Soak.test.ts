/**
 * The soak (issue 11): many calls, streamed and buffered, at concurrency 64
 * through the Node adapter (`NodeMimoClient.layer`, undici) against the
 * simulator on a random loopback port, with seeded random faults on about a
 * third of the requests: error statuses (retryable and not), an HTML 502,
 * resets, hangs, truncated bodies and mid-stream cuts and error events.
 *
 * Asserted: no defect and no call left hanging; every failure a typed
 * `MimoError`; RSS and the heap (after a GC) flat between the warm-up and the
 * end; sockets and other handles back to their starting count once the client
 * and the simulator are closed; the simulator with nothing in flight.
 *
 * Size: `MIMO_SOAK_CALLS` (default 2 000, 15–30 s on the shared 2-core
 * machine); the full run is `MIMO_SOAK_CALLS=20000`. Backoffs are 2 ms (no real
 * backoff waits); the per-attempt timeout is 2 s (the machine is shared), so a hang costs that.
 */
import { MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import type { ChatCompletion } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Context, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, Stream } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"

const calls = Number(process.env.MIMO_SOAK_CALLS ?? "2000")
const concurrency = 64
const warmup = Math.min(1000, Math.floor(calls / 5))

/** A GC on demand (`--expose-gc` set at run time, so the test needs no special flags). */
const gc = (): void => {
  v8.setFlagsFromString("--expose-gc")
  const collect: unknown = vm.runInNewContext("gc")
  if (typeof collect === "function") collect()
}

const memory = () => {
  gc()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed, external: m.external }
}

const mib = (bytes: number) => Math.round(bytes / 2 ** 20)

/** Active handles by kind (sockets, servers, timers, ...). */
const handles = (): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) out[kind] = (out[kind] ?? 0) + 1
  return out
}

const mix: ReadonlyArray<{ readonly fault: Fault.Fault; readonly probability: number }> = [
  ["error:503", 0.05],
  ["error:500", 0.03],
  ["error:rate_limit_exceeded;retry-after-ms=3", 0.03],
  ["error:400", 0.02],
  ["error:401", 0.01],
  ["status:502;html", 0.03],
  ["status:200;truncated", 0.02],
  ["reset", 0.04],
  ["hang", 0.005],
  ["latency:20", 0.03],
  ["cut:0", 0.02],
  ["cut:3", 0.04],
  ["stream-error:2:internal_error", 0.02]
].map(([text, probability]) => {
  const fault = Fault.parse(String(text))
  if (fault._tag === "Left") throw new Error(`bad fault ${text}: ${fault.left}`)
  return { fault: fault.right, probability: Number(probability) }
})

const request = (i: number): ChatCompletion.Request => ({
  model: "mimo-v2-flash",
  messages: [{ role: "user", content: `soak call ${i}: say something` }]
})

interface Tally {
  ok: number
  failed: number
  byTag: Record<string, number>
  untyped: number
  defects: number
  hung: number
}

describe("soak", () => {
  it.live(
    `${calls} calls (half streamed) at concurrency ${concurrency} with random faults: no defect, all typed, nothing leaked`,
    () =>
      Effect.gen(function*() {
        const startHandles = handles()
        const tally: Tally = { ok: 0, failed: 0, byTag: {}, untyped: 0, defects: 0, hung: 0 }
        const started = Date.now()
        let warm = { rss: 0, heap: 0, external: 0 }
        const samples: Array<number> = []

        const inner = Effect.scoped(Effect.gen(function*() {
          const sim = yield* Simulator.make({
            seed: 11,
            rateLimit: { enabled: false },
            faults: { seed: 20261130, mix }
          }).pipe(Effect.orDie)
          const context = yield* Layer.build(NodeMimoClient.layer({
            apiKey: Redacted.make("sk-soak"),
            baseUrl: sim.url,
            timeout: "2 seconds",
            retry: RetryPolicy.make({ base: "2 millis", cap: "20 millis", jitter: "none", maxAttempts: 3 })
          }))
          const mimo = Context.get(context, MimoClient.MimoClient)

          const one = (i: number) => {
            const call = i % 2 === 0
              ? Effect.asVoid(mimo.chat(request(i)))
              : Effect.asVoid(Stream.runDrain(mimo.stream(request(i))))
            return call.pipe(
              // far above the worst case (3 attempts × 2 s + backoffs): a call still running is a hang
              Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "hung" as const }),
              Effect.exit,
              Effect.map((exit) => {
                if (Exit.isSuccess(exit)) return void tally.ok++
                tally.failed++
                const failure = Cause.failureOption(exit.cause)
                if (Option.isNone(failure)) return void tally.defects++
                const error = failure.value
                if (error === "hung") return void tally.hung++
                if (!MimoError.isMimoError(error)) return void tally.untyped++
                const key = error._tag === "TransportError" ? `TransportError(${error.reason})` : error._tag
                tally.byTag[key] = (tally.byTag[key] ?? 0) + 1
              })
            )
          }

          yield* Effect.forEach(Chunk.range(0, warmup - 1), one, { concurrency, discard: true })
          warm = memory()
          // the rest in ten slices, RSS sampled after each (the trend shows a leak, one sample may not)
          const slice = Math.ceil((calls - warmup) / 10)
          for (let from = warmup; from < calls; from += slice) {
            const to = Math.min(calls, from + slice) - 1
            yield* Effect.forEach(Chunk.range(from, to), one, { concurrency, discard: true })
            samples.push(mib(memory().rss))
          }
          const stats = yield* sim.stats
          return stats
        }))
        const stats = yield* inner.pipe(Logger.withMinimumLogLevel(LogLevel.None))
        const end = memory()
        const seconds = (Date.now() - started) / 1000

        // handles: give closed sockets a moment to be released
        let endHandles = handles()
        for (let i = 0; i < 50 && Object.entries(endHandles).some(([k, n]) => n > (startHandles[k] ?? 0)); i++) {
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
          endHandles = handles()
        }

        const report = {
          calls,
          concurrency,
          seconds: Number(seconds.toFixed(1)),
          ok: tally.ok,
          failed: tally.failed,
          byTag: tally.byTag,
          defects: tally.defects,
          untyped: tally.untyped,
          hung: tally.hung,
          simulator: { requests: stats.requests, byFault: stats.byFault, active: stats.active },
          rssMiB: { warm: mib(warm.rss), samples, end: mib(end.rss) },
          heapMiB: { warm: Number((warm.heap / 2 ** 20).toFixed(1)), end: Number((end.heap / 2 ** 20).toFixed(1)) },
          externalMiB: { warm: mib(warm.external), end: mib(end.external) },
          handles: { start: startHandles, end: endHandles }
        }
        console.log(`soak: ${JSON.stringify(report)}`)

        expect(tally.defects).toBe(0)
        expect(tally.untyped).toBe(0)
        expect(tally.hung).toBe(0)
        expect(tally.ok + tally.failed).toBe(calls)
        expect(tally.ok).toBeGreaterThan(calls / 2)
        expect(stats.active).toBe(0)
        // flat after the warm-up: the heap after a GC grows by less than 16 MiB, and RSS (which the
        // allocator moves by ±15 MiB from one sample to the next) by less than 48 MiB from the first
        // three samples to the last three (medians), whatever the size
        expect(end.heap - warm.heap).toBeLessThan(16 * 2 ** 20)
        const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
        expect(median(samples.slice(-3)) - median(samples.slice(0, 3))).toBeLessThan(48)
        for (const [kind, n] of Object.entries(endHandles)) {
          expect({ kind, n }).toEqual({ kind, n: Math.min(n, startHandles[kind] ?? 0) })
        }
      }),
    { timeout: Math.max(60_000, calls * 20) }
  )
})
