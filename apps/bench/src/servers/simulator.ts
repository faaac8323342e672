/**
 * The simulator in its own process (so that the bench process's CPU is the
 * client's alone): a fresh `Simulator.make` with the options given as JSON.
 * Prints `{"url","origin"}` once listening; its counters are read over
 * `GET /_sim/stats`. Stops on SIGTERM / SIGINT.
 *
 * Usage: `node dist/servers/simulator.js '{"rateLimit":{"requestsPerSecond":50,"burst":50}}'`
 *
 * @since 0.1.0
 */
import { Fault, Simulator } from "@effect-mimo/simulator"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Options = Schema.parseJson(Schema.Struct({
  seed: Schema.optional(Schema.Number),
  rateLimit: Schema.optional(Schema.Struct({
    enabled: Schema.optional(Schema.Boolean),
    requestsPerSecond: Schema.optional(Schema.Number),
    burst: Schema.optional(Schema.Number),
    retryAfter: Schema.optional(Schema.Literal("seconds", "millis", "none"))
  })),
  faults: Schema.optional(Schema.Struct({
    seed: Schema.Number,
    mix: Schema.Array(Schema.Struct({ fault: Fault.Fault, probability: Schema.Number }))
  }))
}))

const program = Effect.gen(function*() {
  const options = yield* Schema.decodeUnknown(Options)(process.argv[2] ?? "{}")
  const sim = yield* Simulator.make(options)
  yield* Effect.sync(() => process.stdout.write(`${JSON.stringify({ url: sim.url, origin: sim.origin })}\n`))
  return yield* Effect.never
}).pipe(Effect.scoped)

NodeRuntime.runMain(program, { disableErrorReporting: false })
