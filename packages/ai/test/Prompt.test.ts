/**
 * What the provider sends: the prompt, tools and settings as a MiMo request
 * (read from a recording MimoClient), and the GenAI span attributes.
 */
import { MimoAiError, MimoLanguageModel } from "@effect-mimo/ai"
import { type ChatCompletion, MimoClient } from "@effect-mimo/core"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Layer, Option, Schema, Stream, Tracer } from "effect"

const answer = (message: Partial<ChatCompletion.ResponseMessage>, finish = "stop"): ChatCompletion.Response => ({
  id: "0123456789abcdef0123456789abcdef",
  object: "chat.completion",
  created: 1776848906,
  model: "mimo-v2-flash",
  choices: [{ index: 0, finish_reason: finish, message: { role: "assistant", ...message } }],
  usage: {
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    completion_tokens_details: { reasoning_tokens: 2 },
    prompt_tokens_details: { cached_tokens: 4 }
  }
})

/** A MimoClient that records the requests and answers with `reply`. */
const recording = (reply: ChatCompletion.Response = answer({ content: "ok" })) => {
  const requests: Array<ChatCompletion.Request> = []
  const client: MimoClient.Service = {
    baseUrl: "https://api.xiaomimimo.com/v1",
    profile: { name: "xiaomi" } as MimoClient.Service["profile"],
    chat: (request) => Effect.sync(() => (requests.push(request), reply)),
    stream: (request) => Stream.suspend(() => (requests.push(request), Stream.empty)),
    speech: () => Effect.die("unused"),
    models: () => Effect.die("unused")
  }
  const layer = MimoLanguageModel.layer({ model: "mimo-v2.5" }).pipe(
    Layer.provide(Layer.succeed(MimoClient.MimoClient, client))
  )
  return { requests, layer }
}

const Echo = Tool.make("echo", {
  description: "Echoes its text",
  parameters: { text: Schema.String, times: Schema.optional(Schema.Int) },
  success: Schema.String
})

describe("the request", () => {
  it.effect("files become MiMo content parts with data URLs; system, user and text as MiMo messages", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording()
      yield* LanguageModel.generateText({
        prompt: [
          { role: "system", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "What is in these?" },
              { type: "file", mediaType: "image/png", data: new Uint8Array([1, 2, 3]) },
              { type: "file", mediaType: "audio/wav", data: "UklGRg==" },
              { type: "file", mediaType: "video/mp4", data: new URL("https://example.com/v.mp4") }
            ]
          }
        ]
      }).pipe(Effect.provide(layer))
      expect(requests[0].messages).toEqual([
        { role: "system", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is in these?" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AQID" } },
            { type: "input_audio", input_audio: { data: "data:audio/wav;base64,UklGRg==" } },
            { type: "video_url", video_url: { url: "https://example.com/v.mp4" } }
          ]
        }
      ])
      expect(requests[0].model).toBe("mimo-v2.5")
      expect(requests[0].tools).toBeUndefined()
    }))

  it.effect("a file MiMo cannot take (a PDF) is MalformedInput, nothing sent", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording()
      const exit = yield* LanguageModel.generateText({
        prompt: [{ role: "user", content: [{ type: "file", mediaType: "application/pdf", data: "JVBERi0=" }] }]
      }).pipe(Effect.provide(layer), Effect.exit)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error._tag).toBe("MalformedInput")
      expect(requests).toEqual([])
    }))

  it.effect("assistant turns: text as a string, reasoning as reasoning_content, tool calls; tool results as strings", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording()
      yield* LanguageModel.generateText({
        prompt: [
          { role: "user", content: "echo hi twice" },
          {
            role: "assistant",
            content: [
              { type: "reasoning", text: "They want echo." },
              { type: "tool-call", id: "c1", name: "echo", params: { text: "hi", times: 2 }, providerExecuted: false },
              {
                type: "tool-call",
                id: "c2",
                name: "echo",
                params: {},
                providerExecuted: false,
                options: { mimo: { rawArguments: "{bad" } }
              }
            ]
          },
          {
            role: "tool",
            content: [
              {
                type: "tool-result",
                id: "c1",
                name: "echo",
                result: "hi hi",
                isFailure: false,
                providerExecuted: false
              },
              {
                type: "tool-result",
                id: "c2",
                name: "echo",
                result: { error: "bad" },
                isFailure: true,
                providerExecuted: false
              }
            ]
          }
        ]
      }).pipe(Effect.provide(layer))
      expect(requests[0].messages.slice(1)).toEqual([
        {
          role: "assistant",
          content: "",
          reasoning_content: "They want echo.",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "echo", arguments: "{\"text\":\"hi\",\"times\":2}" } },
            { id: "c2", type: "function", function: { name: "echo", arguments: "{bad" } }
          ]
        },
        { role: "tool", tool_call_id: "c1", content: "hi hi" },
        { role: "tool", tool_call_id: "c2", content: "{\"error\":\"bad\"}" }
      ])
    }))

  it.effect("toolkit tools as function tools with their JSON Schema; tool_choice auto", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording()
      const toolkit = yield* Toolkit.make(Echo)
      yield* LanguageModel.generateText({ prompt: "hi", toolkit }).pipe(Effect.provide(layer))
      expect(requests[0].tool_choice).toBe("auto")
      expect(requests[0].tools).toEqual([{
        type: "function",
        function: {
          name: "echo",
          description: "Echoes its text",
          parameters: {
            type: "object",
            properties: {
              text: { type: "string" },
              times: { type: "integer", description: "an integer", title: "int" }
            },
            required: ["text"],
            additionalProperties: false
          }
        }
      }])
    }).pipe(Effect.provide(Toolkit.make(Echo).toLayer({ echo: ({ text }) => Effect.succeed(text) }))))

  it.effect("generateObject: response_format json_object and the schema as the first system message", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording(answer({ content: "{\"city\":\"Wuhan\"}" }))
      const City = Schema.Struct({ city: Schema.String })
      const result = yield* LanguageModel.generateObject({ prompt: "Where?", schema: City, objectName: "place" }).pipe(
        Effect.provide(layer)
      )
      expect(result.value).toEqual({ city: "Wuhan" })
      expect(requests[0].response_format).toEqual({ type: "json_object" })
      const system = requests[0].messages[0]
      expect(system.role).toBe("system")
      expect(typeof system.content === "string" && system.content).toContain("\"place\"")
      expect(typeof system.content === "string" && system.content).toContain("\"required\":[\"city\"]")
    }))

  it.effect("config and overrides reach the request; callOptions do not", () =>
    Effect.gen(function*() {
      const { layer, requests } = recording()
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        MimoLanguageModel.withConfigOverride({
          temperature: 0.3,
          thinking: { type: "disabled" },
          stop: ["END"],
          callOptions: { timeout: "5 seconds" }
        }),
        Effect.provide(layer)
      )
      expect(requests[0]).toMatchObject({ temperature: 0.3, thinking: { type: "disabled" }, stop: ["END"] })
      expect("callOptions" in requests[0]).toBe(false)
    }))
})

describe("the response", () => {
  it.effect("reasoning, text, tool calls, URL sources, finish reason and usage", () =>
    Effect.gen(function*() {
      const { layer } = recording(answer({
        reasoning_content: "thinking",
        content: "Here.",
        tool_calls: [{ id: "c1", type: "function", function: { name: "echo", arguments: "{\"text\":\"x\"}" } }],
        annotations: [
          { type: "url", url: "https://a.example/1", title: "One", site_name: "A" },
          { type: "url", url: "https://a.example/1", title: "One again" },
          { type: "url", url: "https://b.example/2" }
        ]
      }, "repetition_truncation"))
      const toolkit = yield* Toolkit.make(Echo)
      const response = yield* LanguageModel.generateText({ prompt: "hi", toolkit, disableToolCallResolution: true })
        .pipe(
          Effect.provide(layer)
        )
      expect(response.toolCalls.map((c) => [c.id, c.params])).toEqual([["c1", { text: "x" }]])
      expect(response.reasoningText).toBe("thinking")
      expect(response.text).toBe("Here.")
      const sources = response.content.filter((p) => p.type === "source")
      expect(sources.map((s) => s.type === "source" && s.sourceType === "url" && [s.url.toString(), s.title])).toEqual([
        ["https://a.example/1", "One"],
        ["https://b.example/2", "https://b.example/2"]
      ])
      expect(response.finishReason).toBe("other")
      const finish = response.content.find((p) => p.type === "finish")
      expect(finish?.type === "finish" && finish.metadata.mimo?.finishReason).toBe("repetition_truncation")
      expect(response.usage).toMatchObject({
        inputTokens: 10,
        outputTokens: 5,
        totalTokens: 15,
        reasoningTokens: 2,
        cachedInputTokens: 4
      })
    }).pipe(Effect.provide(Toolkit.make(Echo).toLayer({ echo: ({ text }) => Effect.succeed(text) }))))

  it.effect("the span carries the GenAI attributes", () =>
    Effect.gen(function*() {
      const attributes = new Map<string, unknown>()
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => ({
          _tag: "Span",
          name,
          spanId: "s",
          traceId: "t",
          parent,
          context,
          status: { _tag: "Started", startTime },
          attributes,
          links: [...links],
          sampled: true,
          kind,
          end: () => {},
          attribute: (key, value) => void attributes.set(key, value),
          event: () => {},
          addLinks: () => {}
        }),
        context: (f) => f()
      })
      const { layer } = recording()
      yield* LanguageModel.generateText({ prompt: "hi" }).pipe(
        MimoLanguageModel.withConfigOverride({ temperature: 0.7, max_completion_tokens: 99 }),
        Effect.provide(layer),
        Effect.withTracer(tracer)
      )
      expect(Object.fromEntries([...attributes].filter(([k]) => k.startsWith("gen_ai.")))).toMatchObject({
        "gen_ai.system": "mimo",
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "mimo-v2.5",
        "gen_ai.request.temperature": 0.7,
        "gen_ai.request.max_tokens": 99,
        "gen_ai.response.id": "0123456789abcdef0123456789abcdef",
        "gen_ai.response.model": "mimo-v2-flash",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5
      })
    }))

  it.effect("streamText: the span gets the response id, model, finish reason and usage from the parts", () =>
    Effect.gen(function*() {
      const attributes = new Map<string, unknown>()
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => ({
          _tag: "Span",
          name,
          spanId: "s",
          traceId: "t",
          parent,
          context,
          status: { _tag: "Started", startTime },
          attributes,
          links: [...links],
          sampled: true,
          kind,
          end: () => {},
          attribute: (key, value) => void attributes.set(key, value),
          event: () => {},
          addLinks: () => {}
        }),
        context: (f) => f()
      })
      const base = { id: "stream-1", object: "chat.completion.chunk", created: 1, model: "mimo-v2.5" }
      const client: MimoClient.Service = {
        baseUrl: "https://api.xiaomimimo.com/v1",
        profile: { name: "xiaomi" } as MimoClient.Service["profile"],
        chat: () => Effect.die("unused"),
        stream: () =>
          Stream.make(
            { ...base, choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] },
            { ...base, choices: [{ index: 0, delta: {}, finish_reason: "length" }], usage: null },
            { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 } }
          ),
        speech: () => Effect.die("unused"),
        models: () => Effect.die("unused")
      }
      const parts = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runCollect,
        Effect.map(Chunk.toArray),
        Effect.provide(MimoLanguageModel.layer({ model: "mimo-v2.5" })),
        Effect.provideService(MimoClient.MimoClient, client),
        Effect.withTracer(tracer)
      )
      const finish = parts.at(-1)
      expect(finish?.type === "finish" && [finish.reason, finish.usage.inputTokens, finish.usage.outputTokens]).toEqual(
        [
          "length",
          7,
          1
        ]
      )
      expect(Object.fromEntries([...attributes].filter(([k]) => k.startsWith("gen_ai.")))).toMatchObject({
        "gen_ai.system": "mimo",
        "gen_ai.request.model": "mimo-v2.5",
        "gen_ai.response.id": "stream-1",
        "gen_ai.response.model": "mimo-v2.5",
        "gen_ai.response.finish_reasons": ["length"],
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 1
      })
    }))

  it.effect("streamed tool call fragments are assembled by index; malformed ones fail at the end, typed", () =>
    Effect.gen(function*() {
      const chunk = (delta: ChatCompletion.Delta, finish: string | null = null): ChatCompletion.Chunk => ({
        id: "c",
        object: "chat.completion.chunk",
        created: 1,
        model: "mimo-v2-flash",
        choices: [{ index: 0, delta, finish_reason: finish }]
      })
      const run = (chunks: ReadonlyArray<ChatCompletion.Chunk>) => {
        const client: MimoClient.Service = {
          baseUrl: "https://api.xiaomimimo.com/v1",
          profile: { name: "xiaomi" } as MimoClient.Service["profile"],
          chat: () => Effect.die("unused"),
          stream: () => Stream.fromIterable(chunks),
          speech: () => Effect.die("unused"),
          models: () => Effect.die("unused")
        }
        return LanguageModel.streamText({ prompt: "hi", toolkit: Toolkit.make(Echo), disableToolCallResolution: true })
          .pipe(
            Stream.runCollect,
            Effect.map(Chunk.toArray),
            Effect.provide(MimoLanguageModel.layer({ model: "mimo-v2-flash" })),
            Effect.provideService(MimoClient.MimoClient, client),
            Effect.exit
          )
      }
      const ok = yield* run([
        chunk({ tool_calls: [{ index: 1, id: "b", function: { name: "echo", arguments: "{\"text\"" } }] }),
        chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "echo", arguments: "" } }] }),
        chunk({ tool_calls: [{ index: 1, function: { arguments: ":\"2\"}" } }] }),
        chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"text\":\"1\"}" } }] }),
        chunk({}, "tool_calls")
      ])
      expect(Exit.isSuccess(ok)).toBe(true)
      const parts = Exit.isSuccess(ok) ? ok.value : []
      expect(parts.flatMap((p) => p.type === "tool-call" ? [[p.id, p.params]] : [])).toEqual([
        ["a", { text: "1" }],
        ["b", { text: "2" }]
      ])
      // The id in a later fragment than the name: the parts wait for it, so that every part has MiMo's id.
      const late = yield* run([
        chunk({ tool_calls: [{ index: 0, function: { name: "echo", arguments: "{\"text\":" } }] }),
        chunk({ tool_calls: [{ index: 0, id: "late", function: { arguments: "\"3\"}" } }] }),
        chunk({}, "tool_calls")
      ])
      const lateParts = Exit.isSuccess(late) ? late.value : []
      expect(lateParts.flatMap((p) => "id" in p && p.type.startsWith("tool-") ? [[p.type, p.id]] : [])).toEqual([
        ["tool-params-start", "late"],
        ["tool-params-delta", "late"],
        ["tool-params-end", "late"],
        ["tool-call", "late"]
      ])
      const bad = yield* run([
        chunk({ content: "Let me echo." }),
        chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "echo", arguments: "{\"text\":" } }] }),
        chunk({}, "tool_calls")
      ])
      const error = Exit.isFailure(bad) && bad.cause._tag === "Fail" ? bad.cause.error : undefined
      expect(error?._tag).toBe("MalformedOutput")
      const call = Option.getOrThrow(MimoAiError.malformedToolCall(error))
      expect(call.text).toBe("Let me echo.")
      expect(call.toolCalls).toEqual([{ id: "a", name: "echo", arguments: "{\"text\":", error: expect.any(String) }])
    }).pipe(Effect.provide(Toolkit.make(Echo).toLayer({ echo: ({ text }) => Effect.succeed(text) }))))
})
