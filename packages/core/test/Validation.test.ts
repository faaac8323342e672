import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Logger, Redacted, Stream } from "effect"
import * as Http from "node:http"
import { ChatCompletion, MimoClient, MimoError, MimoTransport, Validation } from "../src/index.js"

const base = { model: "mimo-v2.5-pro", messages: [{ role: "user", content: "hi" }] }
const tts = { model: "mimo-v2.5-tts", messages: [{ role: "assistant", content: "Hello" }] }

const rejection = (input: unknown, profile?: Validation.Profile) =>
  Effect.flip(Validation.validateChatRequest(input, profile))

interface Case {
  readonly name: string
  readonly input: unknown
  readonly profile?: Validation.Profile
  readonly field: string
  readonly value?: string
  readonly expected?: string
  readonly message: string
}

const cases: ReadonlyArray<Case> = [
  {
    name: "a request that is not an object",
    input: [1, 2],
    field: "request",
    value: "[1,2]",
    message: "request: expected an object with model and messages, got [1,2]"
  },
  {
    name: "a missing model",
    input: { messages: base.messages },
    field: "model",
    value: "(missing)",
    message: "model: missing; expected a model id, e.g. mimo-v2.5-pro"
  },
  {
    name: "an unknown model",
    input: { ...base, model: "gpt-4o" },
    field: "model",
    value: "\"gpt-4o\"",
    message: "model: \"gpt-4o\" is not a known model (profile xiaomi); expected one of mimo-v2.5-pro, mimo-v2-pro, " +
      "mimo-v2.5, mimo-v2-omni, mimo-v2-flash, mimo-v2.5-tts, mimo-v2.5-tts-voicedesign, mimo-v2.5-tts-voiceclone, " +
      "mimo-v2-tts, mimo-v2.5-asr, an id shaped like MiMo's (mimo-v<version>[-<variant>][[<suffix>]], sent with " +
      "a warning), or allowUnknownModels: true to send it anyway"
  },
  {
    name: "a model not shaped like MiMo's, on the mimo-v2.com host",
    input: { ...base, model: "MiMo-V2-Pro" },
    profile: Validation.mimoV2,
    field: "model",
    value: "\"MiMo-V2-Pro\"",
    message: "model: \"MiMo-V2-Pro\" is not a known model (profile mimo-v2); expected one of mimo-v2-pro, " +
      "mimo-v2-omni, mimo-v2-flash, mimo-v2.5-tts, mimo-v2.5-tts-voicedesign, mimo-v2.5-tts-voiceclone, " +
      "an id shaped like MiMo's (mimo-v<version>[-<variant>][[<suffix>]], sent with a warning), " +
      "or allowUnknownModels: true to send it anyway"
  },
  {
    name: "missing messages",
    input: { model: "mimo-v2.5-pro" },
    field: "messages",
    value: "(missing)",
    expected: "a non-empty array of messages",
    message: "messages: missing; expected a non-empty array of messages"
  },
  {
    name: "empty messages",
    input: { ...base, messages: [] },
    field: "messages",
    value: "[]",
    message: "messages: [] is empty; expected at least one message"
  },
  {
    name: "a message without a role",
    input: { ...base, messages: [{ content: "x" }] },
    field: "messages[0].role",
    value: "(missing)",
    expected: "one of developer, system, user, assistant, tool",
    message: "messages[0].role: missing; expected one of developer, system, user, assistant, tool"
  },
  {
    name: "a message with an unknown role",
    input: {
      ...base,
      messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "robot", content: "c" }]
    },
    field: "messages[2].role",
    value: "\"robot\"",
    message: "messages[2].role: \"robot\" is not one of developer, system, user, assistant, tool"
  },
  {
    name: "a tool message without tool_call_id",
    input: { ...base, messages: [{ role: "user", content: "x" }, { role: "tool", content: "42" }] },
    field: "messages[1].tool_call_id",
    value: "(missing)",
    message: "messages[1].tool_call_id: missing; a tool message needs the id of the tool call it answers"
  },
  {
    name: "a tool message with an empty tool_call_id",
    input: { ...base, messages: [{ role: "tool", content: "42", tool_call_id: "" }] },
    field: "messages[0].tool_call_id",
    value: "\"\"",
    message: "messages[0].tool_call_id: \"\" is empty; a tool message needs the id of the tool call it answers"
  },
  {
    name: "an assistant message with neither content nor tool_calls",
    input: { ...base, messages: [{ role: "user", content: "x" }, { role: "assistant", content: null }] },
    field: "messages[1].content",
    value: "null",
    message: "messages[1]: an assistant message needs content or tool_calls"
  },
  {
    name: "temperature above the range",
    input: { ...base, temperature: 3 },
    field: "temperature",
    value: "3",
    expected: "a number in [0, 1.5]",
    message: "temperature: 3 is outside the allowed range [0, 1.5] (profile xiaomi)"
  },
  {
    name: "temperature NaN",
    input: { ...base, temperature: NaN },
    field: "temperature",
    value: "NaN",
    message: "temperature: NaN is not a number in the allowed range [0, 1.5] (profile xiaomi)"
  },
  {
    name: "temperature above mimo-v2.com's range",
    input: { ...base, model: "mimo-v2-pro", temperature: 2.5 },
    profile: Validation.mimoV2,
    field: "temperature",
    message: "temperature: 2.5 is outside the allowed range [0, 2] (profile mimo-v2)"
  },
  {
    name: "top_p 0 on Xiaomi",
    input: { ...base, top_p: 0 },
    field: "top_p",
    expected: "a number in [0.01, 1]",
    message: "top_p: 0 is outside the allowed range [0.01, 1] (profile xiaomi)"
  },
  {
    name: "a frequency penalty below -2",
    input: { ...base, frequency_penalty: -2.5 },
    field: "frequency_penalty",
    message: "frequency_penalty: -2.5 is outside the allowed range [-2, 2] (profile xiaomi)"
  },
  {
    name: "an infinite presence penalty",
    input: { ...base, presence_penalty: Infinity },
    field: "presence_penalty",
    value: "Infinity",
    message: "presence_penalty: Infinity is not a number in the allowed range [-2, 2] (profile xiaomi)"
  },
  {
    name: "a fractional max_completion_tokens",
    input: { ...base, max_completion_tokens: 10.5 },
    field: "max_completion_tokens",
    expected: "an integer in [1, 131072]",
    message:
      "max_completion_tokens: 10.5 is not an integer; expected an integer in [1, 131072] for mimo-v2.5-pro (profile xiaomi)"
  },
  {
    name: "max_completion_tokens 0",
    input: { ...base, max_completion_tokens: 0 },
    field: "max_completion_tokens",
    message: "max_completion_tokens: 0 is outside the allowed range [1, 131072] for mimo-v2.5-pro (profile xiaomi)"
  },
  {
    name: "max_completion_tokens over mimo-v2-flash's max output",
    input: { ...base, model: "mimo-v2-flash", max_completion_tokens: 100000 },
    field: "max_completion_tokens",
    expected: "an integer in [1, 65536]",
    message: "max_completion_tokens: 100000 is outside the allowed range [1, 65536] for mimo-v2-flash (profile xiaomi)"
  },
  {
    name: "max_completion_tokens under mimo-v2.com's minimum",
    input: { ...base, model: "mimo-v2-flash", max_completion_tokens: 512 },
    profile: Validation.mimoV2,
    field: "max_completion_tokens",
    message: "max_completion_tokens: 512 is outside the allowed range [1024, 64000] for mimo-v2-flash (profile mimo-v2)"
  },
  {
    name: "more than 4 stop sequences",
    input: { ...base, stop: ["a", "b", "c", "d", "e"] },
    field: "stop",
    value: "[\"a\",\"b\",\"c\",\"d\",\"e\"]",
    expected: "at most 4 stop sequences",
    message: "stop: 5 sequences are more than the allowed 4 (profile xiaomi)"
  },
  {
    name: "a tool name with a space",
    input: { ...base, tools: [{ type: "function", function: { name: "get weather" } }] },
    field: "tools[0].function.name",
    value: "\"get weather\"",
    message: "tools[0].function.name: \"get weather\" is not a valid tool name; " +
      "expected 1–64 characters of A-Z, a-z, 0-9, _ and -"
  },
  {
    name: "a tool name over 64 characters",
    input: { ...base, tools: [{ type: "function", function: { name: "f".repeat(65) } }] },
    field: "tools[0].function.name",
    message: `tools[0].function.name: "${"f".repeat(58)}… is not a valid tool name; ` +
      "expected 1–64 characters of A-Z, a-z, 0-9, _ and -"
  },
  {
    name: "a web search limit over 50",
    input: { ...base, tools: [{ type: "web_search", limit: 51 }] },
    field: "tools[0].limit",
    message: "tools[0].limit: 51 is outside the allowed range [1, 50]"
  },
  {
    name: "a fractional web search max_keyword",
    input: { ...base, tools: [{ type: "web_search", max_keyword: 2.5 }] },
    field: "tools[0].max_keyword",
    message: "tools[0].max_keyword: 2.5 is not an integer; expected an integer in [1, 50]"
  },
  {
    name: "an image sent to a text-only model",
    input: {
      ...base,
      model: "mimo-v2-flash",
      messages: [{
        role: "user",
        content: [{ type: "text", text: "x" }, { type: "image_url", image_url: { url: "https://a/b.png" } }]
      }]
    },
    field: "messages[0].content[1]",
    value: "image_url part",
    expected: "a model that takes image input: mimo-v2.5, mimo-v2-omni",
    message: "messages[0].content[1]: mimo-v2-flash does not take image input (image_url part); " +
      "use a multimodal model: mimo-v2.5, mimo-v2-omni"
  },
  {
    name: "a video fps over 10",
    input: {
      ...base,
      model: "mimo-v2.5",
      messages: [{ role: "user", content: [{ type: "video_url", video_url: { url: "https://a/v.mp4" }, fps: 20 }] }]
    },
    field: "messages[0].content[0].fps",
    message: "messages[0].content[0].fps: 20 is outside the allowed range [0.1, 10]"
  },
  {
    name: "TTS without an assistant message",
    input: { ...tts, messages: [{ role: "user", content: "Warm." }] },
    field: "messages",
    message: "messages: mimo-v2.5-tts needs an assistant message holding the text to speak"
  },
  {
    name: "tools sent to a TTS model",
    input: { ...tts, tools: [] },
    field: "tools",
    message: "tools: not supported by the TTS model mimo-v2.5-tts; leave it out"
  },
  {
    name: "thinking sent to a TTS model",
    input: { ...tts, thinking: { type: "disabled" } },
    field: "thinking",
    message: "thinking: not supported by the TTS model mimo-v2.5-tts; leave it out"
  },
  {
    name: "response_format sent to a TTS model",
    input: { ...tts, response_format: { type: "text" } },
    field: "response_format",
    message: "response_format: not supported by the TTS model mimo-v2.5-tts; leave it out"
  },
  {
    name: "stop sent to a TTS model",
    input: { ...tts, stop: "x" },
    field: "stop",
    message: "stop: not supported by the TTS model mimo-v2.5-tts; leave it out"
  },
  {
    name: "tool_choice sent to a TTS model",
    input: { ...tts, tool_choice: "auto" },
    field: "tool_choice",
    message: "tool_choice: not supported by the TTS model mimo-v2.5-tts; leave it out"
  },
  {
    name: "max_completion_tokens over TTS's 8192",
    input: { ...tts, max_completion_tokens: 9000 },
    field: "max_completion_tokens",
    message: "max_completion_tokens: 9000 is outside the allowed range [1, 8192] for mimo-v2.5-tts (profile xiaomi)"
  },
  {
    name: "voiceclone without a voice",
    input: { ...tts, model: "mimo-v2.5-tts-voiceclone", audio: { format: "mp3" } },
    field: "audio.voice",
    value: "(missing)",
    message: "audio.voice: mimo-v2.5-tts-voiceclone needs a voice sample: base64 of an mp3 or wav recording"
  },
  {
    name: "voicedesign without a user message",
    input: { ...tts, model: "mimo-v2.5-tts-voicedesign" },
    field: "messages",
    message: "messages: mimo-v2.5-tts-voicedesign needs a user message describing the voice"
  },
  {
    name: "voicedesign with a voice",
    input: {
      model: "mimo-v2.5-tts-voicedesign",
      messages: [{ role: "user", content: "A calm voice." }, { role: "assistant", content: "Hi" }],
      audio: { voice: "Mia" }
    },
    field: "audio.voice",
    message: "audio.voice: not allowed for mimo-v2.5-tts-voicedesign; describe the voice in a user message instead"
  },
  {
    name: "a response_format outside text and json_object",
    input: { ...base, response_format: { type: "json_schema" } },
    field: "response_format.type",
    value: "\"json_schema\"",
    expected: "\"text\" | \"json_object\"",
    message: "response_format.type: expected \"text\" | \"json_object\", got \"json_schema\""
  },
  {
    name: "content of the wrong type",
    input: { ...base, messages: [{ role: "user", content: 42 }] },
    field: "messages[0].content",
    value: "42",
    message: "messages[0].content: expected string | ReadonlyArray<TextPart | ImageUrlPart | InputAudioPart | " +
      "VideoUrlPart>, got 42"
  },
  {
    name: "an unknown content part type",
    input: { ...base, messages: [{ role: "user", content: [{ type: "image", url: "x" }] }] },
    field: "messages[0].content[0].type",
    message: "messages[0].content[0].type: expected \"text\" | \"image_url\" | \"input_audio\" | \"video_url\", " +
      "got \"image\""
  },
  {
    name: "image content in a tool message",
    input: {
      ...base,
      model: "mimo-v2.5",
      messages: [{ role: "tool", tool_call_id: "c", content: [{ type: "image_url", image_url: { url: "u" } }] }]
    },
    field: "messages[0].content[0].type",
    message: "messages[0].content[0].type: expected \"text\", got \"image_url\""
  },
  {
    name: "a stop sequence that is not a string",
    input: { ...base, stop: [1] },
    field: "stop[0]",
    value: "1",
    expected: "string",
    message: "stop[0]: expected string, got 1"
  },
  {
    name: "a missing required field inside a tool call",
    input: {
      ...base,
      messages: [{
        role: "assistant",
        content: "",
        tool_calls: [{ id: "c", type: "function", function: { name: "f" } }]
      }]
    },
    field: "messages[0].tool_calls[0].function.arguments",
    value: "(missing)",
    message: "messages[0].tool_calls[0].function.arguments: missing; expected string"
  }
]

describe("Validation.validateChatRequest", () => {
  for (const c of cases) {
    it.effect(`rejects ${c.name}`, () =>
      Effect.gen(function*() {
        const error = yield* rejection(c.input, c.profile)
        expect(error).toBeInstanceOf(MimoError.ValidationError)
        expect(error.code).toBe("invalid_request")
        expect(error.field).toBe(c.field)
        expect(error.message).toBe(c.message)
        if (c.value !== undefined) expect(error.value).toBe(c.value)
        if (c.expected !== undefined) expect(error.expected).toBe(c.expected)
        expect(error.value.length).toBeLessThanOrEqual(60)
      }))
  }

  it.effect("accepts the documented requests and returns them decoded", () =>
    Effect.gen(function*() {
      const valid: ReadonlyArray<unknown> = [
        {
          model: "mimo-v2.5-pro",
          messages: [{ role: "user", content: "please introduce yourself" }],
          max_completion_tokens: 1024,
          stream: false,
          thinking: { type: "disabled" }
        },
        {
          model: "mimo-v2.5-tts",
          messages: [{ role: "user", content: "Warm, slightly slow." }, {
            role: "assistant",
            content: "Hello! Welcome to MiMo."
          }],
          audio: { format: "wav", voice: "Mia" }
        },
        {
          model: "mimo-v2.5",
          messages: [{
            role: "user",
            content: [
              { type: "text", text: "Describe this" },
              { type: "image_url", image_url: { url: "https://a/b.png" } },
              { type: "video_url", video_url: { url: "https://a/v.mp4" }, fps: 0.1, media_resolution: "max" }
            ]
          }],
          temperature: 1.5,
          top_p: 0.01,
          stop: ["a", "b", "c", "d"],
          frequency_penalty: -2,
          presence_penalty: 2,
          max_completion_tokens: 131072
        },
        {
          model: "mimo-v2.5-pro",
          messages: [{ role: "user", content: "Weather?" }, {
            role: "assistant",
            content: "",
            reasoning_content: "call it",
            tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }]
          }, { role: "tool", tool_call_id: "call_1", content: "sunny" }],
          tools: [
            { type: "function", function: { name: "get_weather", parameters: { type: "object" } } },
            { type: "web_search", force_search: true, max_keyword: 50, limit: 1 }
          ],
          tool_choice: "auto"
        },
        {
          model: "mimo-v2.5-tts-voicedesign",
          messages: [{ role: "user", content: "A calm, deep voice." }],
          audio: { optimize_text_preview: true }
        },
        {
          model: "mimo-v2.5-tts-voiceclone",
          messages: [{ role: "assistant", content: "Hi" }],
          audio: { voice: "SUQzBAAAAAAA" },
          stop: null
        },
        {
          model: "mimo-v2.5-asr",
          messages: [{
            role: "user",
            content: [{ type: "input_audio", input_audio: { data: "data:audio/wav;base64,UklGR" } }]
          }],
          asr_options: { language: "auto" }
        }
      ]
      for (const request of valid) {
        const decoded = yield* Validation.validateChatRequest(request)
        expect(decoded).toEqual(request)
      }
    }))

  it.effect("drops fields it does not know and keeps extra_body", () =>
    Effect.gen(function*() {
      const decoded = yield* Validation.validateChatRequest({ ...base, n: 3, extra_body: { seed: 1 } })
      expect(decoded).toEqual({ ...base, extra_body: { seed: 1 } })
    }))

  it.effect("lets unknown models through when the profile allows them, as text models", () =>
    Effect.gen(function*() {
      const lenient: Validation.Profile = { ...Validation.xiaomi, allowUnknownModels: true }
      const request = {
        model: "mimo-v2.5-pro[1m]",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "u" } }] }],
        max_completion_tokens: 131072
      }
      expect(yield* Validation.validateChatRequest(request, lenient)).toEqual(request)
      const error = yield* rejection({ ...request, max_completion_tokens: 131073 }, lenient)
      expect(error.field).toBe("max_completion_tokens")
    }))
})

describe("Validation properties", () => {
  const inside = (profile: Validation.Profile) =>
    fc.double({ min: profile.temperature.min, max: profile.temperature.max, noNaN: true })
  const outside = (profile: Validation.Profile) =>
    fc.oneof(
      fc.double({ noNaN: true }).filter((t) => t < profile.temperature.min || t > profile.temperature.max),
      fc.constantFrom(NaN, Infinity, -Infinity)
    )

  for (const [profile, model] of [[Validation.xiaomi, "mimo-v2.5-pro"], [Validation.mimoV2, "mimo-v2-pro"]] as const) {
    it.effect.prop(
      `any temperature inside ${profile.name}'s range passes`,
      { t: inside(profile) },
      ({ t }) =>
        Effect.gen(function*() {
          const decoded = yield* Validation.validateChatRequest({ ...base, model, temperature: t }, profile)
          expect(decoded.temperature).toBe(t)
        })
    )

    it.effect.prop(
      `any temperature outside ${profile.name}'s range fails`,
      { t: outside(profile) },
      ({ t }) =>
        Effect.gen(function*() {
          const error = yield* rejection({ ...base, model, temperature: t }, profile)
          expect(error.field).toBe("temperature")
          expect(error.expected).toBe(`a number in [${profile.temperature.min}, ${profile.temperature.max}]`)
          expect(error.message).toContain(`(profile ${profile.name})`)
        })
    )
  }

  const neverDies = (input: unknown) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Validation.validateChatRequest(input))
      if (Exit.isFailure(exit)) {
        expect(Cause.isFailType(exit.cause)).toBe(true)
        const failure = Cause.failureOption(exit.cause)
        expect(failure._tag).toBe("Some")
        if (failure._tag === "Some") expect(failure.value).toBeInstanceOf(MimoError.ValidationError)
      }
    })

  it.effect.prop("never dies on arbitrary JSON", { input: fc.jsonValue() }, ({ input }) => neverDies(input))

  it.effect.prop(
    "never dies on arbitrary values",
    { input: fc.anything({ withNullPrototype: true }) },
    ({ input }) => neverDies(input)
  )

  // near-misses: the right keys with random values, so the checks past the first few are reached
  const nearRequest = fc.record({
    model: fc.oneof(
      fc.constantFrom("mimo-v2.5-pro", "mimo-v2.5", "mimo-v2.5-tts", "mimo-v2.5-tts-voicedesign"),
      fc.jsonValue()
    ),
    messages: fc.array(
      fc.record({
        role: fc.oneof(fc.constantFrom(...ChatCompletion.roles), fc.jsonValue()),
        content: fc.oneof(
          fc.string(),
          fc.array(fc.record({ type: fc.constantFrom("text", "image_url"), text: fc.jsonValue() })),
          fc.jsonValue()
        ),
        tool_call_id: fc.jsonValue(),
        tool_calls: fc.jsonValue()
      }, { requiredKeys: ["role"] }),
      { maxLength: 3 }
    ),
    temperature: fc.oneof(fc.double(), fc.jsonValue()),
    max_completion_tokens: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
    stop: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
    tools: fc.jsonValue(),
    audio: fc.jsonValue()
  }, { requiredKeys: ["model", "messages"] })

  it.effect.prop("never dies on near-valid requests", { input: nearRequest }, ({ input }) => neverDies(input), {
    fastCheck: { numRuns: 300 }
  })
})

describe("Validation.validateApiKey", () => {
  it.effect("accepts a key and rejects an empty or blank one without showing it", () =>
    Effect.gen(function*() {
      const key = Redacted.make("sk-secret")
      expect(yield* Validation.validateApiKey(key)).toBe(key)
      for (const blank of ["", "   \t\n"]) {
        const error = yield* Effect.flip(Validation.validateApiKey(Redacted.make(blank)))
        expect(error.field).toBe("apiKey")
        expect(error.value).toBe("<redacted>")
        expect(error.message).toBe("apiKey: the API key is empty or blank; expected a non-empty key (set MIMO_API_KEY)")
      }
    }))
})

describe("Validation.profileFor", () => {
  it("picks mimoV2 for api.mimo-v2.com and xiaomi otherwise", () => {
    expect(Validation.profileFor("https://api.mimo-v2.com/v1")).toBe(Validation.mimoV2)
    expect(Validation.profileFor(new URL("https://API.MIMO-V2.COM/v1"))).toBe(Validation.mimoV2)
    expect(Validation.profileFor("api.mimo-v2.com/v1")).toBe(Validation.mimoV2)
    expect(Validation.profileFor("https://api.xiaomimimo.com/v1")).toBe(Validation.xiaomi)
    expect(Validation.profileFor("https://token-plan-ams.xiaomimimo.com/v1")).toBe(Validation.xiaomi)
    expect(Validation.profileFor("http://127.0.0.1:4010/v1")).toBe(Validation.xiaomi)
    expect(Validation.profileFor("https://evil-mimo-v2.com.example/v1")).toBe(Validation.xiaomi)
    expect(Validation.profileFor("not a url")).toBe(Validation.xiaomi)
  })

  it("holds the documented ranges", () => {
    expect(Validation.xiaomi).toMatchObject({
      temperature: { min: 0, max: 1.5 },
      topP: { min: 0.01, max: 1 },
      penalty: { min: -2, max: 2 },
      maxCompletionTokens: { text: { min: 1, max: 131072 }, tts: { min: 1, max: 8192 } },
      stopMax: 4,
      allowUnknownModels: false
    })
    expect(Validation.xiaomi.maxCompletionTokensByModel["mimo-v2-flash"]).toEqual({ min: 1, max: 65536 })
    expect(Validation.mimoV2).toMatchObject({
      temperature: { min: 0, max: 2 },
      topP: { min: 0, max: 1 },
      maxCompletionTokensByModel: {
        "mimo-v2-pro": { min: 1024, max: 128000 },
        "mimo-v2-omni": { min: 1024, max: 128000 },
        "mimo-v2-flash": { min: 1024, max: 64000 }
      }
    })
  })
})

describe("Validation.validateSpeechRequest", () => {
  it.effect("builds and checks the §5 request", () =>
    Effect.gen(function*() {
      const request = yield* Validation.validateSpeechRequest({
        text: "Hello! Welcome to MiMo.",
        instructions: "Warm, slightly slow.",
        voice: "Mia",
        format: "wav"
      })
      expect(request).toEqual({
        model: "mimo-v2.5-tts",
        messages: [
          { role: "user", content: "Warm, slightly slow." },
          { role: "assistant", content: "Hello! Welcome to MiMo." }
        ],
        audio: { format: "wav", voice: "Mia" }
      })
      const designed = yield* Validation.validateSpeechRequest({
        model: "mimo-v2.5-tts-voicedesign",
        text: "",
        instructions: "A calm voice.",
        optimizeTextPreview: true
      })
      expect(designed.messages).toEqual([{ role: "user", content: "A calm voice." }])
    }))

  const speechCases: ReadonlyArray<readonly [unknown, string, string]> = [
    [{ text: "" }, "text", "text: \"\" is empty; expected the text to speak"],
    [
      { model: "mimo-v2.5-pro", text: "x" },
      "model",
      "model: \"mimo-v2.5-pro\" is not a TTS model; expected one of mimo-v2.5-tts, mimo-v2.5-tts-voicedesign, " +
      "mimo-v2.5-tts-voiceclone, mimo-v2-tts"
    ],
    [
      { model: "mimo-v2.5-tts-voicedesign", text: "x" },
      "instructions",
      "instructions: mimo-v2.5-tts-voicedesign needs a description of the voice"
    ],
    [
      { model: "mimo-v2.5-tts-voicedesign", text: "x", instructions: "calm", style: "sing" },
      "style",
      "style: mimo-v2.5-tts-voicedesign does not support style tags; describe the delivery in instructions"
    ],
    [
      { model: "mimo-v2.5-tts-voiceclone", text: "x" },
      "voice",
      "voice: mimo-v2.5-tts-voiceclone needs a voice sample: base64 of an mp3 or wav recording"
    ],
    [{ text: 1 }, "text", "text: expected string, got 1"],
    [{ text: "x", format: "ogg" }, "format", "format: expected \"wav\" | \"mp3\" | \"pcm\" | \"pcm16\", got \"ogg\""],
    ["x", "request", "request: expected a speech input object with text, got \"x\""],
    [
      { text: "x", maxCompletionTokens: 9000 },
      "max_completion_tokens",
      "max_completion_tokens: 9000 is outside the allowed range [1, 8192] for mimo-v2.5-tts (profile xiaomi)"
    ]
  ]
  for (const [input, field, message] of speechCases) {
    it.effect(`rejects ${JSON.stringify(input)} on ${field}`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Validation.validateSpeechRequest(input))
        expect(error.field).toBe(field)
        expect(error.message).toBe(message)
      }))
  }
})

describe("replaying a response message", () => {
  it.effect("an assistant message with `tool_calls: null` (as responses carry it) is accepted", () =>
    Effect.gen(function*() {
      const request = yield* Validation.validateChatRequest({
        model: "mimo-v2-flash",
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "Hello!", tool_calls: null },
          { role: "user", content: "and again" }
        ]
      })
      expect(request.messages).toHaveLength(3)
    }))

  it.effect("but with neither content nor tool calls it is still rejected", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Validation.validateChatRequest({
        model: "mimo-v2-flash",
        messages: [{ role: "user", content: "hi" }, { role: "assistant", content: null, tool_calls: null }]
      }))
      expect(error.field).toBe("messages[1].content")
    }))
})

// -----------------------------------------------------------------------------
// issue 11: validation cannot be bypassed
// -----------------------------------------------------------------------------

/** Runs `effect` with every log line captured (level and message). */
const captureLogs = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const lines: Array<{ level: string; message: string }> = []
    const logger = Logger.make(({ logLevel, message }) => {
      lines.push({ level: logLevel.label, message: Array.isArray(message) ? message.join(" ") : String(message) })
    })
    const exit = yield* Effect.exit(effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger))))
    return { exit, lines }
  })

const toolCall = { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } } as const
const replay = (model: string, assistant: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [
    { role: "user", content: "Weather?" },
    { role: "assistant", content: "", tool_calls: [toolCall], ...assistant },
    { role: "tool", tool_call_id: "call_1", content: "sunny" }
  ],
  ...extra
})

describe("extra_body cannot change what was checked", () => {
  for (const key of ["model", "messages", "stream", "n", "temperature", "max_completion_tokens", "max_tokens"]) {
    it.effect(`rejects extra_body.${key}`, () =>
      Effect.gen(function*() {
        const error = yield* rejection({ ...base, extra_body: { stream_options: { include_usage: true }, [key]: 9 } })
        expect(error.field).toBe(`extra_body.${key}`)
        expect(error.message).toContain(`"${key}" may not be set through extra_body`)
      }))
  }

  it.effect("rejects a __proto__ key, however it got there", () =>
    Effect.gen(function*() {
      const input: unknown = JSON.parse(`{"model":"mimo-v2-flash","messages":[{"role":"user","content":"hi"}],
        "extra_body":{"__proto__":{"stream":true}}}`)
      const error = yield* rejection(input)
      expect(error.field).toBe("extra_body.__proto__")
    }))

  it.effect("rejects what JSON cannot carry, naming the path, and never dies", () =>
    Effect.gen(function*() {
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      const bad: ReadonlyArray<[unknown, string]> = [
        [{ seed: 1n }, "extra_body.seed"],
        [{ seed: Number.NaN }, "extra_body.seed"],
        [{ a: [1, () => 1] }, "extra_body.a[1]"],
        [{ cyclic }, "extra_body.cyclic"],
        [{ when: new Date(0) }, "extra_body.when"]
      ]
      for (const [extra_body, field] of bad) {
        const error = yield* rejection({ ...base, extra_body })
        expect(error.field.startsWith(field)).toBe(true)
        expect(error.message).toContain("cannot be sent as JSON")
      }
      yield* Validation.validateChatRequest({ ...base, extra_body: { seed: undefined, list: [undefined, 1] } })
      const tools = [{ type: "function", function: { name: "f", parameters: { big: 1n } } }]
      expect((yield* rejection({ ...base, tools })).field).toBe("tools[0].function.parameters.big")
    }))

  it.effect("keeps the fields the request does not type", () =>
    Effect.gen(function*() {
      const request = { ...base, extra_body: { stream_options: { include_usage: true }, parallel_tool_calls: false } }
      const decoded = yield* Validation.validateChatRequest(request)
      expect(ChatCompletion.toBody(decoded)).toEqual({
        ...base,
        stream_options: { include_usage: true },
        parallel_tool_calls: false
      })
    }))

  it("lists the reserved fields", () => {
    expect([...Validation.reservedExtraBodyFields].sort()).toEqual(
      [...Object.keys(ChatCompletion.Request.fields), "n", "max_tokens", "__proto__"].sort()
    )
  })
})

describe("model ids shaped like MiMo's", () => {
  it("are recognised by their shape", () => {
    for (const id of [...Validation.xiaomi.knownModels, "mimo-v2.6-pro", "mimo-v2.5-pro[1m]", "mimo-v3"]) {
      expect(Validation.looksLikeMimoModel(id)).toBe(true)
    }
    expect(Validation.looksLikeMimoModel("mimo-v2.5-pro-ultraspeed")).toBe(true)
    for (const id of ["gpt-4o", "MiMo-V2-Pro", "mimo-v2.5-pro ", "mimo-2", "mimo-v2.5-pro[1m][2]", "x".repeat(65)]) {
      expect(Validation.looksLikeMimoModel(id)).toBe(false)
    }
  })

  it.effect("are sent as text models with one warning per id, not refused", () =>
    Effect.gen(function*() {
      const request = { ...base, model: "mimo-v2.6-pro-ultraspeed", max_completion_tokens: 131072 }
      const first = yield* captureLogs(Validation.validateChatRequest(request))
      expect(Exit.isSuccess(first.exit)).toBe(true)
      expect(first.lines).toEqual([{
        level: "WARN",
        message: "MiMo request: model \"mimo-v2.6-pro-ultraspeed\" is not a known MiMo model; sent as a text model " +
          "with the text ranges of profile xiaomi"
      }])
      const second = yield* captureLogs(Validation.validateChatRequest(request))
      expect(Exit.isSuccess(second.exit)).toBe(true)
      expect(second.lines).toEqual([])
      // the kind's ranges still apply
      const error = yield* rejection({ ...request, max_completion_tokens: 131073 })
      expect(error.field).toBe("max_completion_tokens")
    }))

  it.effect("the same rule for speech: a MiMo-shaped TTS id is sent with a warning", () =>
    Effect.gen(function*() {
      const { exit, lines } = yield* captureLogs(
        Validation.validateSpeechRequest({ model: "mimo-v2.6-tts", text: "Hello", voice: "Mia" })
      )
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(lines.map((l) => l.level)).toEqual(["WARN"])
      expect(lines[0].message).toContain("\"mimo-v2.6-tts\" is not a known MiMo model")
    }))

  it.effect("a known id the host does not list is sent with a warning too", () =>
    Effect.gen(function*() {
      const { exit, lines } = yield* captureLogs(Validation.validateChatRequest(base, Validation.mimoV2))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(lines.map((l) => l.message)).toEqual([
        "MiMo request: model \"mimo-v2.5-pro\" is not listed by profile mimo-v2; sent anyway"
      ])
    }))
})

describe("thinking mode needs reasoning_content on earlier tool calls", () => {
  it.effect("refuses by the model's default, naming the message", () =>
    Effect.gen(function*() {
      for (const model of ["mimo-v2.5-pro", "mimo-v2-omni", "mimo-v2.5-pro[1m]"]) {
        const error = yield* rejection(replay(model, {}))
        expect(error.field).toBe("messages[1].reasoning_content")
        expect(error.message).toContain("with thinking mode on (thinking on by default for")
        expect(error.message).toContain("(messages[1])")
      }
      const explicit = yield* rejection(replay("mimo-v2-flash", { reasoning_content: null }, {
        thinking: { type: "enabled" }
      }))
      expect(explicit.field).toBe("messages[1].reasoning_content")
      expect(explicit.value).toBe("null")
    }))

  it.effect("accepts it with reasoning_content, or with thinking off", () =>
    Effect.gen(function*() {
      yield* Validation.validateChatRequest(replay("mimo-v2.5-pro", { reasoning_content: "look it up" }))
      yield* Validation.validateChatRequest(replay("mimo-v2.5-pro", {}, { thinking: { type: "disabled" } }))
      yield* Validation.validateChatRequest(replay("mimo-v2-flash", {}))
      yield* Validation.validateChatRequest(replay("mimo-v9-unknown", {}))
    }))

  it.effect("warns once that temperature is ignored with thinking on", () =>
    Effect.gen(function*() {
      const { lines } = yield* captureLogs(
        Validation.validateChatRequest({ ...base, model: "mimo-v2-omni", temperature: 0.2 })
      )
      expect(lines.map((l) => l.message)).toEqual([
        "MiMo request: temperature: ignored by mimo-v2-omni with thinking on (the server uses 1.0); " +
        "send thinking: {type: \"disabled\"} for it to apply"
      ])
      const off = yield* captureLogs(
        Validation.validateChatRequest({ ...base, temperature: 0.2, thinking: { type: "disabled" } })
      )
      expect(off.lines).toEqual([])
    }))
})

describe("tool_choice values a host ignores", () => {
  it.effect("are refused on Xiaomi's hosts; mimo-v2.com takes none and a named function", () =>
    Effect.gen(function*() {
      const named = { type: "function", function: { name: "get_weather" } }
      for (const choice of ["required", "none", named]) {
        const error = yield* rejection({ ...base, tool_choice: choice })
        expect(error.field).toBe("tool_choice")
        expect(error.message).toContain("the server would silently treat it as \"auto\"")
      }
      yield* Validation.validateChatRequest({ ...base, tool_choice: "auto" })
      const v2 = { ...base, model: "mimo-v2-pro" }
      yield* Validation.validateChatRequest({ ...v2, tool_choice: "none" }, Validation.mimoV2)
      yield* Validation.validateChatRequest({ ...v2, tool_choice: named }, Validation.mimoV2)
      expect((yield* rejection({ ...v2, tool_choice: "required" }, Validation.mimoV2)).field).toBe("tool_choice")
    }))
})

describe("nothing a validation refuses reaches the wire (loopback server)", () => {
  /** A loopback server that counts what reaches it and answers a tiny completion. */
  const counting = Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly bodies: Array<string>; readonly server: Http.Server }>((resume) => {
      const bodies: Array<string> = []
      const server = Http.createServer((req, res) => {
        let body = ""
        req.on("data", (c: Buffer) => body += c.toString("utf8"))
        req.on("end", () => {
          bodies.push(body)
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({
            id: "x",
            object: "chat.completion",
            created: 0,
            model: "mimo-v2-flash",
            choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }]
          }))
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}/v1`, bodies, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

  it.scopedLive("refuses bypasses with 0 requests sent, and sends exactly the checked body", () =>
    Effect.gen(function*() {
      const { bodies, url } = yield* counting
      const mimo = yield* MimoClient.make({ apiKey: Redacted.make("sk-loopback"), baseUrl: url }).pipe(
        Effect.provide(MimoTransport.layerHttpClient),
        Effect.provide(FetchHttpClient.layer)
      )
      const refused: ReadonlyArray<[unknown, string]> = [
        [{ ...base, model: "mimo-v2-flash", extra_body: { stream: true } }, "extra_body.stream"],
        [{ ...base, model: "mimo-v2-flash", extra_body: { model: "gpt-4o" } }, "extra_body.model"],
        [{ ...base, model: "mimo-v2-flash", extra_body: { n: 8 } }, "extra_body.n"],
        [{ ...base, model: "mimo-v2-flash", extra_body: { temperature: 9 } }, "extra_body.temperature"],
        [{ ...base, model: "mimo-v2-flash", extra_body: { seed: 1n } }, "extra_body.seed"],
        [{ ...base, model: "mimo-v2-flash", tool_choice: "required" }, "tool_choice"],
        [replay("mimo-v2.5-pro", {}), "messages[1].reasoning_content"]
      ]
      for (const [request, field] of refused) {
        const chat = yield* Effect.flip(mimo.chat(request as ChatCompletion.Request))
        expect(chat._tag).toBe("ValidationError")
        expect(chat._tag === "ValidationError" && chat.field).toBe(field)
        const stream = yield* Effect.flip(Stream.runDrain(mimo.stream(request as ChatCompletion.Request)))
        expect(stream._tag === "ValidationError" && stream.field).toBe(field)
      }
      expect(bodies).toEqual([])
      const ok: ChatCompletion.Request = {
        model: "mimo-v2.6-flash[1m]",
        messages: [{ role: "user", content: "hi" }],
        extra_body: { stream_options: { include_usage: true } }
      }
      yield* mimo.chat(ok)
      expect(bodies.map((b) => JSON.parse(b))).toEqual([{
        model: "mimo-v2.6-flash[1m]",
        messages: base.messages,
        stream: false,
        stream_options: { include_usage: true }
      }])
    }))
})
