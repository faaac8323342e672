import { MimoAiError, MimoLanguageModel } from "@effect-mimo/ai"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Layer, Option, Schema } from "effect"

// 1. Tools: a Schema for the parameters and the result, a handler for each.
const Add = Tool.make("add", {
  description: "Adds two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
})
const Clock = Tool.make("clock", {
  description: "The current time (ISO 8601) in UTC",
  success: Schema.String
})
const Tools = Toolkit.make(Add, Clock)
const ToolsLive = Tools.toLayer({
  add: ({ a, b }) => Effect.succeed(a + b),
  clock: () => Effect.sync(() => new Date().toISOString())
})

// 2. A tool loop: ask, run the tools MiMo calls (in parallel), send the results back, until it answers.
//    Reasoning goes back with every turn, so thinking models keep MiMo's replay rule without a thought.
const agent = (task: string) =>
  Effect.gen(function*() {
    const toolkit = yield* Tools
    let history = Prompt.make(task)
    for (let turn = 1; turn <= 5; turn++) {
      const step = yield* LanguageModel.generateText({ prompt: history, toolkit }).pipe(
        Effect.map(Option.some),
        // Tool arguments that are not JSON are a typed error: tell the model, and let it try again.
        Effect.catchTag("MalformedOutput", (error) =>
          Option.match(MimoAiError.malformedToolCall(error), {
            onNone: () => Effect.fail(error),
            onSome: (bad) =>
              Effect.as(
                Effect.sync(() => (history = Prompt.merge(history, MimoAiError.toolCallFeedback(bad)))),
                Option.none()
              )
          }))
      )
      if (Option.isNone(step)) continue
      const response = step.value
      for (const result of response.toolResults) {
        yield* Console.log(`tool ${result.name} → ${JSON.stringify(result.result)}`)
      }
      if (response.toolCalls.length === 0) return response.text
      history = Prompt.merge(history, Prompt.fromResponseParts(response.content))
    }
    return "(no answer after 5 turns)"
  })

// 3. Structured output: MiMo answers in JSON mode and the Schema decodes it.
const Contact = Schema.Struct({ name: Schema.String, email: Schema.String, company: Schema.optional(Schema.String) })

export const program = Effect.gen(function*() {
  const answer = yield* agent("What is 17 + 25, and what time is it?")
  yield* Console.log("answer:", answer)
  const contact = yield* LanguageModel.generateObject({
    prompt: "Ada Lovelace (ada@example.com) works at Analytical Engines Ltd.",
    schema: Contact,
    objectName: "contact"
  })
  yield* Console.log("contact:", contact.value)
  return { answer, contact: contact.value }
}).pipe(
  // 4. Errors below the AiError boundary are still MiMo's, by tag.
  MimoAiError.withMimoErrors,
  Effect.catchTag("RateLimitExceeded", (e) => Effect.fail(`rate limited; retry after ${e.retryAfter}`))
)

// 5. The model runs on MimoClient: validation, retries with Retry-After and any decorator apply unchanged.
export const MainLive = Layer.mergeAll(
  MimoLanguageModel.layer({ model: "mimo-v2.5-pro", config: { max_completion_tokens: 2048 } }),
  ToolsLive
).pipe(Layer.provideMerge(NodeMimoClient.layerConfig()))

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.provide(MainLive), NodeRuntime.runMain)
}
