/**
 * A bounded soak through the Node adapter: streams and buffered calls at
 * concurrency 64 against the simulator with seeded random faults (error
 * statuses, an HTML 502, resets, hangs, latencies, mid-stream cuts and error
 * events). Every call ends, every failure is a typed `MimoError` (no defect,
 * no interruption), and when the client's layer closes no socket is left.
 * CI runs 1,200 calls. The full size, 20,000 calls (this file with `calls`
 * set to 20000), run on 2026-11-30 on the 2-core machine: 69 s, 706 typed
 * failures (streams cut or errored after their first chunk, which are not
 * retried, and faults past 3 attempts), 0 defects or interruptions, sockets
 * back to their starting count.
 */
import { MimoClient, MimoError, RetryPolicy } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Layer, Redacted, Scope, Stream } from "effect"

const calls = 1200

const sockets = () => process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap").length

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Say hello" }] }

describe("soak: the Node adapter under random faults", () => {
  it.scopedLive(
    `${calls} calls at concurrency 64: every failure typed, nothing hung, no socket left`,
    () =>
      Effect.gen(function*() {
        const sim = yield* Simulator.make({
          apiKey: Redacted.make("sk-soak"),
          rateLimit: { enabled: false },
          faults: {
            seed: 7,
            mix: [
              { fault: Fault.error("service_unavailable"), probability: 0.05 },
              { fault: Fault.error("internal_error"), probability: 0.03 },
              {
                fault: Fault.status(502, "<html><title>Bad gateway</title></html>", { contentType: "text/html" }),
                probability: 0.02
              },
              { fault: Fault.reset, probability: 0.03 },
              { fault: Fault.hang, probability: 0.01 },
              { fault: Fault.latency(20), probability: 0.05 },
              { fault: Fault.streamCut(3), probability: 0.03 },
              { fault: Fault.streamError(2), probability: 0.02 }
            ]
          }
        }).pipe(Effect.orDie)
        const before = sockets()
        const scope = yield* Scope.make()
        const mimo = Context.get(
          yield* Layer.buildWithScope(
            NodeMimoClient.layer({
              apiKey: Redacted.make("sk-soak"),
              baseUrl: sim.url,
              timeout: "400 millis",
              idleTimeout: "400 millis",
              retry: RetryPolicy.make({ base: "1 millis", maxAttempts: 3 })
            }),
            scope
          ),
          MimoClient.MimoClient
        )
        const exits = yield* Effect.forEach(
          Array.from({ length: calls }, (_, i) => i),
          (i) =>
            Effect.exit(
              i % 2 === 0
                ? Effect.asVoid(mimo.chat(hello))
                : Effect.asVoid(Stream.runCount(mimo.stream({ ...hello, max_completion_tokens: 64 })))
            ),
          { concurrency: 64 }
        )
        const untyped = exits.filter((exit) =>
          Exit.isFailure(exit) &&
          !(Cause.isFailType(exit.cause) && MimoError.isMimoError(exit.cause.error))
        )
        expect(untyped.map((e) => String(e))).toEqual([])
        const failures = exits.filter(Exit.isFailure).length
        expect(failures).toBeLessThan(calls * 0.1)
        expect(exits.length - failures).toBeGreaterThan(calls * 0.9)
        yield* Scope.close(scope, Exit.void)
        // The agent is destroyed with the layer: its sockets are gone.
        for (let i = 0; i < 100 && sockets() > before; i++) yield* Effect.sleep("20 millis")
        expect(sockets()).toBeLessThanOrEqual(before)
      }),
    { timeout: 120_000 }
  )
})
