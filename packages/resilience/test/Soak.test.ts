/**
 * A bounded soak with every decorator on: `RateLimit` + `RetryBudget` +
 * `CircuitBreaker` (their defaults, the limiter at 1,000 req/s) around the
 * Node adapter, against the simulator on loopback with seeded random faults
 * (5xx, an HTML 502, stray 429s, resets, hangs, latencies, mid-stream cuts and
 * error events). Streams and buffered calls at concurrency 64, in rounds.
 *
 * It shows: every call ends; every failure is a typed `MimoError` (the
 * decorators' own refusals, `CircuitOpen`, included; no defect, no
 * interruption); the heap after the last round is within a bound of the heap
 * after the first (flat, not growing with the calls); when the layers close, no
 * socket, timer or other handle is left, and the limiter's queue and in-flight
 * counts are back to 0.
 *
 * Size: `MIMO_SOAK_CALLS` (declared in turbo.json), 1,200 by default (CI,
 * a few seconds). The full size, 20,000 calls, is in the package README.
 */
import { MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Logger, LogLevel, Redacted, Scope, Stream } from "effect"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { CircuitBreaker, RateLimit, RetryBudget } from "../src/index.js"

const parsed = Number.parseInt(process.env["MIMO_SOAK_CALLS"] ?? "", 10)
const calls = Number.isFinite(parsed) && parsed > 0 ? parsed : 1200
const rounds = 4

/** A full collection, when the flag can be turned on (it can in Node 20); else `undefined`. */
const gc = (): (() => void) | undefined => {
  V8.setFlagsFromString("--expose-gc")
  const collect: unknown = Vm.runInNewContext("gc")
  return typeof collect === "function" ? () => void collect() : undefined
}

/** Handles the event loop holds, by kind (sockets, timers, servers, ...). */
const handles = (): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
  return counts
}

const policy = RetryPolicy.make({ base: "1 millis", maxAttempts: 3 })
const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Say hello" }] }

describe("soak: RateLimit + RetryBudget + CircuitBreaker around the Node adapter, random faults", () => {
  it.scopedLive(
    `${calls} calls at concurrency 64 in ${rounds} rounds: every failure typed, heap flat, handles back`,
    () =>
      Effect.gen(function*() {
        const sim = yield* Simulator.make({
          apiKey: Redacted.make("sk-soak"),
          rateLimit: { enabled: false },
          faults: {
            seed: 13,
            mix: [
              { fault: Fault.error("service_unavailable"), probability: 0.05 },
              { fault: Fault.error("internal_error"), probability: 0.03 },
              { fault: Fault.error("rate_limit_exceeded", { retryAfter: { millis: 50 } }), probability: 0.02 },
              {
                fault: Fault.status(502, "<html><title>Bad gateway</title></html>", { contentType: "text/html" }),
                probability: 0.02
              },
              { fault: Fault.reset, probability: 0.02 },
              { fault: Fault.hang, probability: 0.01 },
              { fault: Fault.latency(20), probability: 0.05 },
              { fault: Fault.streamCut(3), probability: 0.03 },
              { fault: Fault.streamError(2), probability: 0.02 }
            ]
          }
        }).pipe(Effect.orDie)
        const collect = gc()
        const heap = () => {
          collect?.()
          return process.memoryUsage().heapUsed
        }
        const before = handles()
        const startedAt = Date.now()
        const scope = yield* Scope.make()
        // The limiter next to the client (it sees every attempt), the budget and the breaker around it.
        const limited = yield* Layer.buildWithScope(
          RateLimit.layer({ requestsPerSecond: 1000, concurrency: 64 }).pipe(
            Layer.provide(NodeMimoClient.layer({
              apiKey: Redacted.make("sk-soak"),
              baseUrl: sim.url,
              // Long enough that a loaded 2-core machine's first connections do not time out (a run of timeouts
              // is a real outage to the breaker, which would then rightly refuse calls); the hangs cost 2 s each.
              timeout: "2 seconds",
              idleTimeout: "2 seconds",
              retry: policy
            }))
          ),
          scope
        )
        const limiter = Context.get(limited, RateLimit.Limiter)
        const mimo = Context.get(
          yield* Layer.buildWithScope(
            CircuitBreaker.layer().pipe(
              // The budget is the quota the client pays from, under the client's own `retry`.
              Layer.provide(RetryBudget.layer()),
              Layer.provide(Layer.succeedContext(limited))
            ),
            scope
          ),
          MimoClient.MimoClient
        )
        yield* mimo.models() // warm the connection pool
        const perRound = Math.ceil(calls / rounds)
        const heaps: Array<number> = []
        const exits: Array<Exit.Exit<void, MimoError.MimoError>> = []
        for (let round = 0; round < rounds; round++) {
          exits.push(
            ...(yield* Effect.forEach(
              Array.from({ length: perRound }, (_, i) => round * perRound + i),
              (i) =>
                Effect.exit(
                  i % 2 === 0
                    ? Effect.asVoid(mimo.chat(hello))
                    : Effect.asVoid(Stream.runCount(mimo.stream({ ...hello, max_completion_tokens: 64 })))
                ),
              { concurrency: 64 }
            ))
          )
          heaps.push(heap())
        }
        const untyped = exits.filter((exit) =>
          Exit.isFailure(exit) &&
          !(Cause.isFailType(exit.cause) && MimoError.isMimoError(exit.cause.error))
        )
        expect(untyped.map((e) => String(e))).toEqual([])
        const failures = exits.filter(Exit.isFailure)
        const byTag: Record<string, number> = {}
        for (const exit of failures) {
          if (Cause.isFailType(exit.cause)) byTag[exit.cause.error._tag] = (byTag[exit.cause.error._tag] ?? 0) + 1
        }
        // Faults past 3 attempts, and streams cut after their first chunk (not retried): a few percent.
        expect(failures.length).toBeLessThan(calls * 0.1)
        // The defaults never open the breaker on this mix.
        expect(byTag["CircuitOpen"] ?? 0).toBe(0)
        // Nothing waits in the limiter or is counted in flight once every call ended.
        const snapshot = yield* limiter.snapshot
        expect(snapshot.map((s) => [s.queued, s.inFlight])).toEqual([[0, 0]])
        // Flat: the last round's heap within 16 MB of the first's (a leak of even 1 KB per call would show at 20,000).
        const growth = heaps[heaps.length - 1]! - heaps[0]!
        expect(growth).toBeLessThan(16 * 1024 * 1024)
        yield* Scope.close(scope, Exit.void)
        // The client's agent is destroyed with its layer, the limiter's fibers end with theirs: the handles are back.
        const leftOver = () =>
          Object.entries(handles()).filter(([kind, n]) => kind !== "TTYWrap" && n > (before[kind] ?? 0))
        for (let i = 0; i < 100 && leftOver().length > 0; i++) yield* Effect.sleep("20 millis")
        expect(leftOver()).toEqual([])
        yield* Effect.logInfo("soak").pipe(
          Effect.annotateLogs({
            calls,
            seconds: (Date.now() - startedAt) / 1000,
            failures: failures.length,
            byTag: JSON.stringify(byTag),
            heapsMB: heaps.map((h) => Math.round(h / 1048576)).join(","),
            limiter: JSON.stringify(snapshot)
          })
        )
      }).pipe(
        Logger.withMinimumLogLevel(process.env["MIMO_SOAK_CALLS"] === undefined ? LogLevel.None : LogLevel.Info)
      ),
    { timeout: 600_000 }
  )
})
