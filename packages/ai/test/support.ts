import { MimoLanguageModel } from "@effect-mimo/ai"
import type { MimoClient } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Simulator } from "@effect-mimo/simulator"
import type * as LanguageModel from "@effect/ai/LanguageModel"
import { Clock, Effect, Layer, Logger, LogLevel, Redacted, Schedule, type Scope } from "effect"

export const apiKey = "sk-ai-test-KEY-0a1b2c3d-DO-NOT-LEAK"

/** A simulator on a random loopback port, and a MiMo language model (over undici) pointed at it. */
export const setup = (
  options: {
    readonly model?: string
    readonly sim?: Simulator.Options
    readonly client?: Partial<MimoClient.Options>
    readonly config?: Omit<MimoLanguageModel.Config.Service, "model">
  } = {}
): Effect.Effect<
  {
    readonly sim: Simulator.SimulatorService
    readonly layer: Layer.Layer<LanguageModel.LanguageModel | MimoClient.MimoClient>
  },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    // The simulator is a real server: it keeps real time even under a TestClock.
    const sim = yield* Simulator.make({ rateLimit: { enabled: false }, ...options.sim }).pipe(
      Effect.withClock(Clock.make()),
      Effect.orDie
    )
    const client = NodeMimoClient.layer({
      apiKey: Redacted.make(apiKey),
      baseUrl: sim.url,
      timeout: "1 hour",
      ...options.client
    })
    const model = MimoLanguageModel.layer({ model: options.model ?? "mimo-v2-flash", config: options.config })
    // The client logs each failure it returns; the error tests make many on purpose.
    return { sim, layer: Layer.merge(Layer.provideMerge(model, client), Logger.minimumLogLevel(LogLevel.None)) }
  })

/** No retries: the first failure is the answer. */
export const noRetry = Schedule.stop

/** Waits (in real time) until the stats match. */
export const statsUntil = (
  sim: Simulator.SimulatorService,
  predicate: (s: Simulator.Stats) => boolean
): Effect.Effect<Simulator.Stats, string> =>
  sim.stats.pipe(
    Effect.filterOrFail(predicate, (s) => `stats never matched: ${JSON.stringify(s)}`),
    Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(300)))),
    Effect.withClock(Clock.make())
  )
