/**
 * The demo's `@effect/ai` steps: a tool loop and structured output, with
 * `@effect-mimo/ai` over the demo's `MimoClient` (so the demo's retry policy
 * applies below the provider). The simulator's directives make MiMo call the
 * tools on cue.
 */
import * as MimoLanguageModel from "@effect-mimo/ai/MimoLanguageModel"
import type * as MimoClient from "@effect-mimo/core/MimoClient"
import * as Fault from "@effect-mimo/simulator/Fault"
import type * as Simulator from "@effect-mimo/simulator/Simulator"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Agent from "./Agent.js"
import * as Extract from "./Extract.js"

/** Steps `first` and `first + 1` of the tour. */
export const run = (options: {
  readonly simulator: Simulator.SimulatorService
  readonly client: Layer.Layer<MimoClient.MimoClient>
  readonly callOptions: MimoClient.CallOptions
  readonly first: number
  readonly step: (n: number, title: string) => Effect.Effect<void>
}) =>
  Effect.gen(function*() {
    const model = MimoLanguageModel.layer({
      model: "mimo-v2-flash",
      config: { callOptions: options.callOptions }
    }).pipe(Layer.provide(options.client))

    yield* options.step(
      options.first,
      "Tool calling with @effect/ai: two local tools called in parallel, then the answer"
    )
    yield* options.simulator.script([
      Fault.toolCalls({ name: "calculator", arguments: { expression: "(17 + 25) * 2" } }, { name: "clock" })
    ])
    yield* Agent.demoStep("What is (17 + 25) * 2, and what time is it?").pipe(Effect.provide(model))

    yield* options.step(
      options.first + 1,
      "Structured output: an object decoded with a Schema (json_object + JSON Schema)"
    )
    yield* Extract.demoStep("contact", "Ada Lovelace (ada@example.com) works at Analytical Engines Ltd.").pipe(
      Effect.provide(model)
    )
  })
