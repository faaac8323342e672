/**
 * End to end: @effect/ai's LanguageModel on MimoLanguageModel ↔ MimoClient
 * (undici) ↔ the simulator on a random loopback port, over real sockets.
 */
import { MimoAiError, MimoLanguageModel, MimoTool } from "@effect-mimo/ai"
import { type MimoClient, MimoError } from "@effect-mimo/core"
import { Fault } from "@effect-mimo/simulator"
import * as AiError from "@effect/ai/AiError"
import * as Chat from "@effect/ai/Chat"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Exit, Fiber, Option, Ref, Schedule, Schema, Stream, TestClock } from "effect"
import { noRetry, setup, statsUntil } from "./support.js"

const Clock = Tool.make("clock", {
  description: "The current time in a time zone",
  parameters: { zone: Schema.String },
  success: Schema.String
})

const Add = Tool.make("add", {
  description: "Adds two numbers",
  parameters: { a: Schema.Number, b: Schema.Number },
  success: Schema.Number
})

const Tools = Toolkit.make(Clock, Add)

const ToolsLive = Tools.toLayer({
  clock: ({ zone }) => Effect.succeed(`12:00 in ${zone}`),
  add: ({ a, b }) => Effect.succeed(a + b)
})

const Bad = Toolkit.make(Tool.make("what time?", { success: Schema.String }))

const Person = Schema.Struct({
  name: Schema.String,
  age: Schema.Int.pipe(Schema.between(0, 150)),
  email: Schema.optional(Schema.String)
}).annotations({ identifier: "Person", description: "A person mentioned in the text" })

const failure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const option = Chunk.head(Chunk.filter(
    Chunk.fromIterable(exit.cause._tag === "Fail" ? [exit.cause.error] : []),
    () => true
  ))
  if (Option.isNone(option)) throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return option.value
}

describe("MimoLanguageModel", () => {
  it.scopedLive("generateText: text, finish reason, usage and response metadata", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      const response = yield* LanguageModel.generateText({ prompt: "Say hello" }).pipe(Effect.provide(layer))
      expect(response.text.length).toBeGreaterThan(0)
      expect(response.finishReason).toBe("stop")
      expect(response.usage.inputTokens).toBeGreaterThan(0)
      expect(response.usage.outputTokens).toBeGreaterThan(0)
      expect(response.usage.totalTokens).toBe(response.usage.inputTokens! + response.usage.outputTokens!)
      expect(response.usage.reasoningTokens).toBe(0)
      const meta = response.content.find((p) => p.type === "response-metadata")
      expect(meta?.type === "response-metadata" && Option.getOrUndefined(meta.id)).toMatch(/^[0-9a-f]{32}$/)
      expect((yield* sim.stats).requests).toBe(1)
    }))

  it.scopedLive("streamText: parts in order (reasoning, then text), usage in the finish part at the end", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup({ model: "mimo-v2.5-pro" })
      const parts = yield* LanguageModel.streamText({ prompt: "Say hello" }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(layer)
      )
      const types = parts.map((p) => p.type)
      expect(types[0]).toBe("response-metadata")
      expect(types[1]).toBe("reasoning-start")
      const reasoningEnd = types.indexOf("reasoning-end")
      const textStart = types.indexOf("text-start")
      expect(reasoningEnd).toBeGreaterThan(1)
      expect(textStart).toBe(reasoningEnd + 1)
      expect(types.slice(2, reasoningEnd).every((t) => t === "reasoning-delta")).toBe(true)
      expect(types.at(-2)).toBe("text-end")
      expect(types.at(-1)).toBe("finish")
      const finish = parts.at(-1)!
      expect(finish.type === "finish" && finish.reason).toBe("stop")
      expect(finish.type === "finish" && finish.usage.reasoningTokens).toBeGreaterThan(0)
      expect(finish.type === "finish" && finish.usage.cachedInputTokens).toBe(0)
      // The same prompt buffered: the same text and reasoning.
      const buffered = yield* LanguageModel.generateText({ prompt: "Say hello" }).pipe(Effect.provide(layer))
      const deltas = (type: string) => parts.flatMap((p) => p.type === type && "delta" in p ? [p.delta] : []).join("")
      expect(deltas("text-delta")).toBe(buffered.text)
      expect(deltas("reasoning-delta")).toBe(buffered.reasoningText)
    }))

  it.scopedLive("generateObject: a conforming answer is decoded with the Schema", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup()
      const response = yield* LanguageModel.generateObject({
        prompt: "Ada Lovelace, 36, wrote the first program",
        schema: Person
      }).pipe(Effect.provide(layer))
      expect(typeof response.value.name).toBe("string")
      expect(Number.isInteger(response.value.age)).toBe(true)
    }))

  it.scopedLive("generateObject: a non-conforming answer is a MalformedOutput carrying the text", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      yield* sim.script([Fault.nonConformingJson])
      const exit = yield* LanguageModel.generateObject({ prompt: "Ada", schema: Person, objectName: "Person" }).pipe(
        Effect.provide(layer),
        Effect.exit
      )
      const error = failure(exit)
      expect(error._tag).toBe("MalformedOutput")
      const bad = MimoAiError.structuredOutput(error)
      expect(Option.isSome(bad)).toBe(true)
      const text = Option.getOrThrow(bad).text
      expect(typeof JSON.parse(text)).toBe("object")
      expect(Option.getOrThrow(bad).objectName).toBe("Person")
    }))

  it.scopedLive("a two-round tool loop with parallel calls: results go back as tool messages", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      yield* sim.script([Fault.toolCalls({ name: "clock", arguments: { zone: "UTC" } }, {
        name: "add",
        arguments: { a: 2, b: 3 }
      })])
      const toolkit = yield* Tools
      const first = yield* LanguageModel.generateText({ prompt: "What time is it, and 2 + 3?", toolkit }).pipe(
        Effect.provide(layer)
      )
      expect(first.finishReason).toBe("tool-calls")
      expect(first.toolCalls.map((c) => [c.name, c.params])).toEqual([["clock", { zone: "UTC" }], ["add", {
        a: 2,
        b: 3
      }]])
      expect(first.toolResults.map((r) => r.result)).toEqual(["12:00 in UTC", 5])
      const history = Prompt.merge(Prompt.make("What time is it, and 2 + 3?"), Prompt.fromResponseParts(first.content))
      const second = yield* LanguageModel.generateText({ prompt: history, toolkit }).pipe(Effect.provide(layer))
      expect(second.finishReason).toBe("stop")
      expect(second.text).toBe("The clock tool returned 12:00 in UTC. The add tool returned 5.")
      expect((yield* sim.stats).requests).toBe(2)
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("malformed tool arguments: a typed MalformedOutput whose feedback lets the model try again", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      yield* sim.script([
        Fault.malformedToolArguments("add"),
        Fault.toolCalls({ name: "add", arguments: { a: 1, b: 2 } })
      ])
      const toolkit = yield* Tools
      const prompt = Prompt.make("1 + 2?")
      const exit = yield* LanguageModel.generateText({ prompt, toolkit }).pipe(Effect.provide(layer), Effect.exit)
      const error = failure(exit)
      expect(AiError.isAiError(error) && error._tag).toBe("MalformedOutput")
      const bad = Option.getOrThrow(MimoAiError.malformedToolCall(error))
      expect(bad.toolCalls[0].name).toBe("add")
      expect(bad.toolCalls[0].error).toBeDefined()
      const history = Prompt.merge(prompt, MimoAiError.toolCallFeedback(bad))
      const retried = yield* LanguageModel.generateText({ prompt: history, toolkit }).pipe(Effect.provide(layer))
      expect(retried.toolResults.map((r) => r.result)).toEqual([3])
      const final = yield* LanguageModel.generateText({
        prompt: Prompt.merge(history, Prompt.fromResponseParts(retried.content)),
        toolkit
      }).pipe(Effect.provide(layer))
      expect(final.text).toContain("The add tool returned 3.")
      expect((yield* sim.stats).byStatus["400"]).toBeUndefined()
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("streamText: parallel tool calls as params start/delta/end and tool-call parts, with results", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      yield* sim.script([Fault.toolCalls({ name: "clock" }, { name: "add", arguments: { a: 20, b: 22 } })])
      const toolkit = yield* Tools
      const parts = yield* LanguageModel.streamText({ prompt: "now, and 20 + 22", toolkit }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(layer)
      )
      const calls = parts.filter((p) => p.type === "tool-call")
      expect(calls.map((c) => c.type === "tool-call" && c.name)).toEqual(["clock", "add"])
      const results = parts.filter((p) => p.type === "tool-result")
      expect(results.map((r) => r.type === "tool-result" && r.result)).toContain(42)
      const starts = parts.filter((p) => p.type === "tool-params-start").length
      const ends = parts.filter((p) => p.type === "tool-params-end").length
      expect([starts, ends]).toEqual([2, 2])
      const finish = parts.find((p) => p.type === "finish")
      expect(finish?.type === "finish" && finish.reason).toBe("tool-calls")
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("thinking + tools across turns: reasoning_content is replayed, MiMo's 400 never fires", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup({ model: "mimo-v2.5-pro" })
      yield* sim.script([
        Fault.toolCalls({ name: "clock", arguments: { zone: "UTC" } }),
        Fault.toolCalls({ name: "add", arguments: { a: 1, b: 1 } })
      ])
      const toolkit = yield* Tools
      let history = Prompt.make("Time, then 1 + 1")
      const first = yield* LanguageModel.generateText({ prompt: history, toolkit }).pipe(Effect.provide(layer))
      expect(first.reasoningText?.length).toBeGreaterThan(0)
      history = Prompt.merge(history, Prompt.fromResponseParts(first.content))
      // Second turn streamed: its reasoning arrives as deltas and is replayed just the same.
      const second = yield* LanguageModel.streamText({ prompt: history, toolkit }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(layer)
      )
      expect(second.some((p) => p.type === "reasoning-delta")).toBe(true)
      history = Prompt.merge(history, Prompt.fromResponseParts(second))
      const third = yield* LanguageModel.generateText({ prompt: history, toolkit }).pipe(Effect.provide(layer))
      expect(third.text).toBe("The add tool returned 2.")
      const stats = yield* sim.stats
      expect(stats.requests).toBe(3)
      expect(stats.byStatus["400"]).toBeUndefined()
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("Chat keeps the conversation: tool calls, results and reasoning replayed across turns", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup({ model: "mimo-v2.5-pro" })
      yield* sim.script([Fault.toolCalls({ name: "add", arguments: { a: 40, b: 2 } })])
      const toolkit = yield* Tools
      const chat = yield* Chat.empty
      const first = yield* chat.generateText({ prompt: "40 + 2?", toolkit }).pipe(Effect.provide(layer))
      expect(first.toolResults.map((r) => r.result)).toEqual([42])
      const second = yield* chat.generateText({ prompt: [], toolkit }).pipe(Effect.provide(layer))
      expect(second.text).toBe("The add tool returned 42.")
      const history = yield* Ref.get(chat.history)
      expect(history.content.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"])
      expect((yield* sim.stats).byStatus).toEqual({ "200": 2 })
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("thinking on and a hand-made history without reasoning: MalformedInput, nothing sent", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup({ model: "mimo-v2.5-pro" })
      const exit = yield* LanguageModel.generateText({
        prompt: [
          { role: "user", content: "time?" },
          {
            role: "assistant",
            content: [{ type: "tool-call", id: "c1", name: "clock", params: {}, providerExecuted: false }]
          },
          {
            role: "tool",
            content: [{
              type: "tool-result",
              id: "c1",
              name: "clock",
              result: "12:00",
              isFailure: false,
              providerExecuted: false
            }]
          }
        ]
      }).pipe(Effect.provide(layer), Effect.exit)
      const error = failure(exit)
      expect(error._tag).toBe("MalformedInput")
      expect(error.message).toContain("reasoning")
      expect((yield* sim.stats).requests).toBe(0)
    }))

  it.scopedLive("toolChoice: none sends no tools; required and a named tool are MalformedInput, nothing sent", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      const toolkit = yield* Tools
      const none = yield* LanguageModel.generateText({ prompt: "call clock", toolkit, toolChoice: "none" }).pipe(
        Effect.provide(layer)
      )
      expect(none.toolCalls).toEqual([])
      expect(none.finishReason).toBe("stop")
      for (const toolChoice of ["required", { tool: "clock" }, { mode: "required", oneOf: ["clock"] }] as const) {
        const exit = yield* LanguageModel.generateText({ prompt: "hi", toolkit, toolChoice }).pipe(
          Effect.provide(layer),
          Effect.exit
        )
        const error = failure(exit)
        expect(error._tag).toBe("MalformedInput")
        expect(error._tag === "MalformedInput" && error.description).toContain("MiMo honours only \"auto\"")
      }
      expect((yield* sim.stats).requests).toBe(1)
    }).pipe(Effect.provide(ToolsLive)))

  it.scopedLive("a tool name MiMo refuses is MalformedInput before sending; web search goes as MiMo's tool", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      const bad = yield* Bad
      const exit = yield* LanguageModel.generateText({ prompt: "hi", toolkit: bad }).pipe(
        Effect.provide(layer),
        Effect.exit
      )
      expect(failure(exit)._tag).toBe("MalformedInput")
      expect((yield* sim.stats).requests).toBe(0)
      const search = yield* Toolkit.make(MimoTool.WebSearch({ limit: 3 }))
      const answer = yield* LanguageModel.generateText({ prompt: "news?", toolkit: search }).pipe(
        Effect.provide(layer)
      )
      expect(answer.text.length).toBeGreaterThan(0)
      const tooMany = yield* Toolkit.make(MimoTool.WebSearch({ limit: 99 }))
      const rejected = yield* LanguageModel.generateText({ prompt: "news?", toolkit: tooMany }).pipe(
        Effect.provide(layer),
        Effect.exit
      )
      expect(failure(rejected)._tag).toBe("MalformedInput")
      expect((yield* sim.stats).requests).toBe(1)
    }).pipe(Effect.provide(Bad.toLayer({ "what time?": () => Effect.succeed("now") }))))

  describe("errors", () => {
    const cases = [
      ["error:invalid_request", 400, "InvalidRequest"],
      ["error:authentication_failed", 401, "AuthenticationFailed"],
      ["error:permission_denied", 403, "PermissionDenied"],
      ["error:not_found", 404, "NotFound"],
      ["error:rate_limit_exceeded;retry-after=7", 429, "RateLimitExceeded"],
      ["error:internal_error", 500, "InternalError"],
      ["error:service_unavailable", 503, "ServiceUnavailable"],
      ["status:402;json", 402, "UnknownApiError"],
      ["status:502;html", 502, "UnknownApiError"]
    ] as const

    for (const [fault, status, tag] of cases) {
      it.scopedLive(`${fault} → HttpResponseError ${status} → ${tag}`, () =>
        Effect.gen(function*() {
          const { layer } = yield* setup({
            config: { callOptions: { retry: noRetry, headers: { "x-mimo-sim-fault": fault } } }
          })
          const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), Effect.exit)
          const error = failure(exit)
          expect(error._tag).toBe("HttpResponseError")
          if (error._tag !== "HttpResponseError") return
          expect(error.response.status).toBe(status)
          expect(error.request.headers).toEqual({})
          expect(JSON.stringify(error)).not.toContain("DO-NOT-LEAK")
          const back = Option.getOrThrow(MimoAiError.toMimoError(error))
          expect(back._tag).toBe(tag)
          if (back._tag === "RateLimitExceeded") {
            expect(back.retryAfter && Duration.toMillis(back.retryAfter)).toBe(7000)
          }
          // ...and in the error channel, by tag.
          const caught = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
            MimoAiError.withMimoErrors,
            Effect.catchIf(MimoError.isMimoError, (e) => Effect.succeed(e._tag)),
            Effect.provide(layer)
          )
          expect(caught).toBe(tag)
        }))
    }

    it.scopedLive("a 429's Retry-After comes back as RateLimitExceeded.retryAfter", () =>
      Effect.gen(function*() {
        const { layer } = yield* setup({
          config: { callOptions: { retry: noRetry, headers: { "x-mimo-sim-fault": "error:429;retry-after=7" } } }
        })
        const result = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
          MimoAiError.withMimoErrors,
          Effect.map(() => "answered"),
          Effect.catchTag("RateLimitExceeded", (e) => Effect.succeed(e.retryAfter && Duration.toMillis(e.retryAfter))),
          Effect.provide(layer)
        )
        expect(result).toBe(7000)
      }))

    it.scopedLive("transport: a reset connection → HttpRequestError → TransportError", () =>
      Effect.gen(function*() {
        const { layer } = yield* setup({
          config: { callOptions: { retry: noRetry, headers: { "x-mimo-sim-fault": "reset" } } }
        })
        const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), Effect.exit)
        const error = failure(exit)
        expect(error._tag).toBe("HttpRequestError")
        expect(error._tag === "HttpRequestError" && error.reason).toBe("Transport")
        expect(Option.getOrThrow(MimoAiError.toMimoError(error))._tag).toBe("TransportError")
      }))

    it.scopedLive("an undecodable 200 body → MalformedOutput → ResponseDecodeError", () =>
      Effect.gen(function*() {
        const { layer } = yield* setup({
          config: {
            callOptions: {
              retry: noRetry,
              headers: { "x-mimo-sim-fault": "status:200;body={\"nope\":1};content-type=application/json" }
            }
          }
        })
        const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), Effect.exit)
        const error = failure(exit)
        expect(error._tag).toBe("MalformedOutput")
        expect(Option.getOrThrow(MimoAiError.toMimoError(error))._tag).toBe("ResponseDecodeError")
      }))

    it.scopedLive("validation → MalformedInput → ValidationError, and nothing is sent", () =>
      Effect.gen(function*() {
        const { layer, sim } = yield* setup({ config: { temperature: 9 } })
        const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), Effect.exit)
        const error = failure(exit)
        expect(error._tag).toBe("MalformedInput")
        const back = Option.getOrThrow(MimoAiError.toMimoError(error))
        expect(back._tag === "ValidationError" && back.field).toBe("temperature")
        expect((yield* sim.stats).requests).toBe(0)
      }))

    it.scopedLive("a stream's error event → HttpResponseError; what came before stays delivered", () =>
      Effect.gen(function*() {
        const { layer } = yield* setup({
          config: { callOptions: { retry: noRetry, headers: { "x-mimo-sim-fault": "stream-error:3:internal_error" } } }
        })
        const seen: Array<string> = []
        const exit = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
          Stream.runForEach((p) => Effect.sync(() => seen.push(p.type))),
          Effect.provide(layer),
          Effect.exit
        )
        const error = failure(exit)
        expect(error._tag).toBe("HttpResponseError")
        expect(Option.getOrThrow(MimoAiError.toMimoError(error))._tag).toBe("InternalError")
        expect(seen[0]).toBe("response-metadata")
        expect(seen).toContain("text-delta")
      }))
  })

  it.scoped("a 429 with Retry-After is retried below the provider: one generateText, two requests", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup()
      yield* sim.script([Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 1 } })])
      const retries: Array<MimoClient.RetryEvent> = []
      const fiber = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        MimoLanguageModel.withConfigOverride({
          callOptions: { onRetry: (e) => Effect.sync(() => void retries.push(e)) }
        }),
        Effect.provide(layer),
        Effect.fork
      )
      // The 429 arrives over a real socket; then the retry waits on the TestClock.
      yield* statsUntil(sim, (s) => s.requests === 1 && s.active === 0)
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
      yield* TestClock.adjust("2 seconds")
      const response = yield* Fiber.join(fiber)
      expect(response.text.length).toBeGreaterThan(0)
      expect(retries.map((e) => e.error._tag)).toEqual(["RateLimitExceeded"])
      expect(Duration.toMillis(retries[0].delay)).toBeGreaterThanOrEqual(1000)
      const stats = yield* sim.stats
      expect(stats.requests).toBe(2)
      expect(stats.byStatus).toEqual({ "200": 1, "429": 1 })
    }))

  it.scopedLive("the client's decorators run below the provider: every attempt passes the client's aroundAttempt", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const { layer, sim } = yield* setup({
        client: {
          // The hook RateLimit, RetryBudget and CircuitBreaker use: here it records, then lets the attempt run.
          aroundAttempt: (attempt, info) =>
            Effect.zipRight(Effect.sync(() => seen.push(`${info.operation}#${info.attempt}`)), attempt)
        },
        config: { callOptions: { retry: Schedule.recurs(1) } }
      })
      yield* sim.script([Fault.error("internal_error")])
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer))
      yield* LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runDrain, Effect.provide(layer))
      expect(seen).toEqual(["chat#1", "chat#2", "stream#1"])
      expect((yield* sim.stats).requests).toBe(3)
    }))

  it.scopedLive("interrupting a stream mid-way closes the connection", () =>
    Effect.gen(function*() {
      const { layer, sim } = yield* setup({ sim: { chunkDelay: "30 millis" } })
      const parts = yield* LanguageModel.streamText({ prompt: "Tell me a long story" }).pipe(
        Stream.filter((p) => p.type === "text-delta"),
        Stream.take(2),
        Stream.runCollect,
        Effect.provide(layer)
      )
      expect(Chunk.size(parts)).toBe(2)
      const stats = yield* statsUntil(sim, (s) => s.streams.aborted === 1)
      expect(stats.streams.closed).toBe(0)
      expect(stats.active).toBe(0)
    }))

  it.scopedLive("withConfigOverride merges over the model's settings (max_completion_tokens cuts the answer)", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup({ config: { max_completion_tokens: 1000 } })
      const response = yield* LanguageModel.generateText({ prompt: "Say hello" }).pipe(
        MimoLanguageModel.withConfigOverride({ max_completion_tokens: 2 }),
        Effect.provide(layer)
      )
      expect(response.finishReason).toBe("length")
      expect(response.usage.outputTokens).toBe(2)
      const config = yield* MimoLanguageModel.Config.getOrUndefined.pipe(
        MimoLanguageModel.withConfigOverride({ temperature: 0.5 }),
        MimoLanguageModel.withConfigOverride({ top_p: 0.5 })
      )
      expect(config).toEqual({ top_p: 0.5, temperature: 0.5 })
    }))
})
