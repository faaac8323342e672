import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import { ChatCompletion, Model } from "../src/index.js"

const roundTrip = (request: unknown) => {
  const decoded = Schema.decodeUnknownSync(ChatCompletion.Request)(request)
  expect(decoded).toEqual(request)
  expect(Schema.encodeSync(ChatCompletion.Request)(decoded)).toEqual(request)
  return decoded
}

// §3.5 request, §5 request, and the other documented shapes
const docRequest = {
  model: "mimo-v2.5-pro",
  messages: [{ role: "user", content: "please introduce yourself" }],
  max_completion_tokens: 1024,
  stream: false,
  thinking: { type: "disabled" }
}

const ttsRequest = {
  model: "mimo-v2.5-tts",
  messages: [
    { role: "user", content: "Warm, slightly slow." },
    { role: "assistant", content: "Hello! Welcome to MiMo." }
  ],
  audio: { format: "wav", voice: "Mia" }
}

const multimodalRequest = {
  model: "mimo-v2.5",
  messages: [
    { role: "developer", content: [{ type: "text", text: "Answer in one line." }], name: "dev" },
    {
      role: "user",
      content: [
        { type: "text", text: "Describe this" },
        { type: "image_url", image_url: { url: "https://example.com/a.png" } },
        { type: "input_audio", input_audio: { data: "data:audio/wav;base64,UklGR" } },
        { type: "video_url", video_url: { url: "https://example.com/v.mp4" }, fps: 2, media_resolution: "default" }
      ]
    }
  ],
  temperature: 1,
  top_p: 0.95,
  stop: ["\n\n", "END"],
  frequency_penalty: null,
  presence_penalty: 0
}

const toolRequest = {
  model: "mimo-v2.5-pro",
  messages: [
    { role: "system", content: "You are MiMo." },
    { role: "user", content: "Weather in Wuhan?" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "I should call the tool.",
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "get_weather", arguments: "{\"city\":\"Wuhan\"}" }
      }]
    },
    { role: "tool", tool_call_id: "call_1", content: "sunny, 25°C" }
  ],
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Current weather",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        strict: false
      }
    },
    {
      type: "web_search",
      force_search: false,
      max_keyword: 5,
      limit: 5,
      user_location: { type: "approximate", country: "China", region: "Hubei", city: "Wuhan" }
    }
  ],
  tool_choice: "auto",
  response_format: { type: "text" },
  max_completion_tokens: null,
  stream: true
}

const asrRequest = {
  model: "mimo-v2.5-asr",
  messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "data:audio/mp3;base64,SUQz" } }] }],
  asr_options: { language: "zh" }
}

describe("ChatCompletion.Request", () => {
  it("is written in the wire format: Type and Encoded are the same", () => {
    expectTypeOf<ChatCompletion.Request>().toEqualTypeOf<typeof ChatCompletion.Request.Encoded>()
  })

  it("decodes and round-trips the documented requests", () => {
    for (const request of [docRequest, ttsRequest, multimodalRequest, toolRequest, asrRequest]) roundTrip(request)
  })

  it("drops unknown fields, keeps extra_body, and toBody merges extra_body on top", () => {
    const decoded = Schema.decodeUnknownSync(ChatCompletion.Request)({
      ...docRequest,
      n: 2,
      extra_body: { stream_options: { include_usage: true }, stream: true }
    })
    expect("n" in decoded).toBe(false)
    expect(decoded.extra_body).toEqual({ stream_options: { include_usage: true }, stream: true })
    const body = ChatCompletion.toBody(decoded)
    expect(body).toEqual({
      model: "mimo-v2.5-pro",
      messages: [{ role: "user", content: "please introduce yourself" }],
      max_completion_tokens: 1024,
      stream: true,
      thinking: { type: "disabled" },
      stream_options: { include_usage: true }
    })
    expect("extra_body" in body).toBe(false)
    const plain = Schema.decodeUnknownSync(ChatCompletion.Request)(docRequest)
    expect(ChatCompletion.toBody(plain)).toEqual(docRequest)
  })

  it("rejects a structurally wrong request", () => {
    const bad = [
      { ...docRequest, response_format: { type: "json_schema" } },
      { ...docRequest, messages: [{ role: "user", content: [{ type: "image", url: "x" }] }] },
      { ...docRequest, messages: [{ role: "tool", content: "x" }] },
      { ...docRequest, thinking: { type: "auto" } },
      { ...docRequest, audio: { format: "ogg" } }
    ]
    for (const request of bad) {
      expect(Either.isLeft(Schema.decodeUnknownEither(ChatCompletion.Request)(request))).toBe(true)
    }
  })
})

// §3.5 response, with nulls and fields this client does not know
const docResponse = {
  id: "8b51f9e0515949cb8207fbd35ea6ea5c",
  object: "chat.completion",
  created: 1776848906,
  model: "mimo-v2.5-pro",
  choices: [{
    index: 0,
    finish_reason: "stop",
    message: { role: "assistant", content: "Hello! I'm MiMo…", tool_calls: null, reasoning_content: null },
    logprobs: null
  }],
  usage: {
    prompt_tokens: 57,
    completion_tokens: 72,
    total_tokens: 129,
    completion_tokens_details: { reasoning_tokens: 0 },
    prompt_tokens_details: null
  },
  system_fingerprint: "fp_mimo"
}

describe("ChatCompletion.Response", () => {
  it.effect("decodes the §3.5 example with its nulls and keeps unknown fields", () =>
    Effect.gen(function*() {
      const response = yield* ChatCompletion.decodeResponse(docResponse)
      expect(response.id).toBe("8b51f9e0515949cb8207fbd35ea6ea5c")
      expect(response.choices[0].message.tool_calls).toBeNull()
      expect(response.usage?.prompt_tokens_details).toBeNull()
      expect(response.usage?.completion_tokens_details?.reasoning_tokens).toBe(0)
      expect(Reflect.get(response, "system_fingerprint")).toBe("fp_mimo")
      expect(Reflect.get(response.choices[0], "logprobs")).toBeNull()
      expect(ChatCompletion.text(response)).toBe("Hello! I'm MiMo…")
      // a plain Schema decode keeps them too: the Schema carries the parse option
      const plain = Schema.decodeUnknownSync(ChatCompletion.Response)(docResponse)
      expect(plain).toEqual(docResponse)
    }))

  it("takes unknown finish_reason, object and type values as data, and every optional field absent", () => {
    const response = Schema.decodeUnknownSync(ChatCompletion.Response)({
      id: "chatcmpl-1",
      object: "chat.completion.v9",
      choices: [{
        index: 0,
        finish_reason: "repetition_truncation",
        message: {
          content: null,
          tool_calls: [{ id: "call_9", type: "mcp", function: { name: "f", arguments: "{}" } }],
          seen_only_here: [1, 2]
        }
      }, { index: 1, finish_reason: "brand_new_reason", message: {} }]
    })
    expect(response.object).toBe("chat.completion.v9")
    expect(response.choices.map((c) => c.finish_reason)).toEqual(["repetition_truncation", "brand_new_reason"])
    expect(response.choices[0].message.tool_calls?.[0].type).toBe("mcp")
    expect(Reflect.get(response.choices[0].message, "seen_only_here")).toEqual([1, 2])
    expect(response.usage).toBeUndefined()
  })

  it("decodes web search, TTS audio, ASR and cache usage fields", () => {
    const response = Schema.decodeUnknownSync(ChatCompletion.Response)({
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "mimo-v2.5-tts",
      choices: [{
        index: 0,
        finish_reason: "stop",
        message: {
          role: "assistant",
          content: "",
          audio: { id: "a1", data: "UklGR", expires_at: null, transcript: null },
          annotations: [{
            type: "url_citation",
            url: "https://example.com",
            title: "T",
            summary: "S",
            site_name: "Ex",
            logo_url: null,
            publish_time: "2026-05-01"
          }],
          error_message: null,
          final_text_preview: "Hello there",
          audio_tokens: []
        }
      }],
      usage: {
        prompt_tokens: 70,
        completion_tokens: 0,
        total_tokens: 70,
        prompt_tokens_details: { audio_tokens: 25, cached_tokens: 45 },
        web_search_usage: { tool_usage: 1, page_usage: 5 },
        seconds: 3.5
      }
    })
    const message = response.choices[0].message
    expect(message.audio?.data).toBe("UklGR")
    expect(message.annotations?.[0].publish_time).toBe("2026-05-01")
    expect(message.final_text_preview).toBe("Hello there")
    expect(Reflect.get(message, "audio_tokens")).toEqual([])
    expect(response.usage?.prompt_tokens_details?.cached_tokens).toBe(45)
    expect(response.usage?.web_search_usage?.tool_usage).toBe(1)
    expect(response.usage?.seconds).toBe(3.5)
  })

  it.effect("fails with a ParseError on a broken body", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ChatCompletion.decodeResponse({ id: 1, choices: "no" }))
      expect(ParseResult.isParseError(error)).toBe(true)
      expect(Either.isLeft(ChatCompletion.decodeResponseFast({ id: "x", object: "chat.completion" }))).toBe(true)
    }))
})

// §4, one line per event
const streamLines = [
  `{"id":"c1","object":"chat.completion.chunk","created":1776848906,"model":"mimo-v2.5-pro","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"The user"},"finish_reason":null}]}`,
  `{"id":"c1","object":"chat.completion.chunk","created":1776848906,"model":"mimo-v2.5-pro","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}`,
  `{"id":"c1","object":"chat.completion.chunk","created":1776848906,"model":"mimo-v2.5-pro","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\\"city\\":"}}]},"finish_reason":null}]}`,
  `{"id":"c1","object":"chat.completion.chunk","created":1776848906,"model":"mimo-v2.5-pro","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null}`,
  `{"id":"c1","object":"chat.completion.chunk","created":1776848906,"model":"mimo-v2.5-pro","choices":[],"usage":{"prompt_tokens":57,"completion_tokens":40,"total_tokens":97,"completion_tokens_details":{"reasoning_tokens":12},"prompt_tokens_details":{"cached_tokens":0}}}`
]

const chunk = (choices: ReadonlyArray<ChatCompletion.ChunkChoice>, extra: Partial<ChatCompletion.Chunk> = {}) => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1776848906,
  model: "mimo-v2.5-pro",
  choices,
  ...extra
})

describe("ChatCompletion.Chunk", () => {
  it.effect("decodes every §4 example chunk, with both decoders agreeing", () =>
    Effect.gen(function*() {
      for (const line of streamLines) {
        const json: unknown = JSON.parse(line)
        const slow = yield* ChatCompletion.decodeChunk(json)
        const fast = ChatCompletion.decodeChunkFast(json)
        expect(Either.getOrThrow(fast)).toEqual(slow)
        // the fast path hands back the parsed object itself: nothing copied, nothing dropped
        expect(Either.getOrThrow(fast)).toBe(json)
      }
    }))

  it("decodes a usage-only chunk with choices: []", () => {
    const usageOnly = Either.getOrThrow(ChatCompletion.decodeChunkFast(JSON.parse(streamLines[4])))
    expect(usageOnly.choices).toEqual([])
    expect(usageOnly.usage?.total_tokens).toBe(97)
    expect(usageOnly.usage?.completion_tokens_details?.reasoning_tokens).toBe(12)
  })

  it.effect("keeps unknown fields of a chunk and of its delta", () =>
    Effect.gen(function*() {
      const json = {
        ...chunk([{ index: 0, delta: { content: "x" }, finish_reason: null }]),
        system_fingerprint: "fp"
      }
      const inner = { index: 0, delta: { content: "x", weird: { a: 1 } }, logprobs: null, finish_reason: null }
      const decoded = yield* ChatCompletion.decodeChunk({ ...json, choices: [inner] })
      expect(Reflect.get(decoded, "system_fingerprint")).toBe("fp")
      expect(Reflect.get(decoded.choices[0], "logprobs")).toBeNull()
      expect(Reflect.get(decoded.choices[0].delta ?? {}, "weird")).toEqual({ a: 1 })
    }))

  it.effect("checks the envelope: id, object and a choices array are required", () =>
    Effect.gen(function*() {
      for (
        const bad of [
          { object: "chat.completion.chunk", choices: [] },
          { id: "c1", choices: [] },
          { id: "c1", object: "chat.completion.chunk", choices: {} },
          { id: "c1", object: "chat.completion.chunk", choices: [{ delta: {} }] },
          { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: 42 } }] },
          "data: [DONE]",
          null
        ]
      ) {
        const fast = ChatCompletion.decodeChunkFast(bad)
        expect(Either.isLeft(fast)).toBe(true)
        const error = yield* Effect.flip(ChatCompletion.decodeChunk(bad))
        expect(ParseResult.isParseError(error)).toBe(true)
      }
    }))
})

describe("ChatCompletion.accumulate", () => {
  const scripted: ReadonlyArray<ChatCompletion.Chunk> = [
    chunk([{ index: 0, delta: { role: "assistant", reasoning_content: "The user " }, finish_reason: null }]),
    chunk([{ index: 0, delta: { reasoning_content: "wants weather." }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: "Let me " }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: "check." }, finish_reason: null }]),
    chunk([{
      index: 0,
      delta: {
        tool_calls: [
          { index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":" } },
          { index: 1, id: "call_2", type: "function", function: { name: "get_time", arguments: "" } }
        ]
      },
      finish_reason: null
    }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: "{\"tz\":\"UTC\"}" } }] } }]),
    chunk([{ index: 0, delta: { tool_calls: [{ index: 0, id: null, function: { arguments: "\"Wuhan\"}" } }] } }]),
    chunk([{ index: 0, delta: {}, finish_reason: "tool_calls" }], { usage: null }),
    chunk([], {
      usage: {
        prompt_tokens: 57,
        completion_tokens: 40,
        total_tokens: 97,
        completion_tokens_details: { reasoning_tokens: 12 }
      }
    })
  ]

  it("merges content, reasoning, tool-call fragments, finish_reason and usage", () => {
    const acc = scripted.reduce(ChatCompletion.accumulateChunk, ChatCompletion.emptyAccumulator)
    expect(acc.chunks).toBe(scripted.length)
    const response = ChatCompletion.toResponse(acc)
    expect(response).toEqual({
      id: "c1",
      object: "chat.completion",
      created: 1776848906,
      model: "mimo-v2.5-pro",
      choices: [{
        index: 0,
        finish_reason: "tool_calls",
        message: {
          role: "assistant",
          content: "Let me check.",
          reasoning_content: "The user wants weather.",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "get_weather", arguments: "{\"city\":\"Wuhan\"}" } },
            { id: "call_2", type: "function", function: { name: "get_time", arguments: "{\"tz\":\"UTC\"}" } }
          ]
        }
      }],
      usage: {
        prompt_tokens: 57,
        completion_tokens: 40,
        total_tokens: 97,
        completion_tokens_details: { reasoning_tokens: 12 }
      }
    })
    // the result is a valid Response
    expect(Schema.decodeUnknownSync(ChatCompletion.Response)(response)).toEqual(response)
    expect(ChatCompletion.accumulate(scripted)).toEqual(response)
  })

  it("is a pure fold: earlier accumulators are not changed", () => {
    const first = ChatCompletion.accumulateChunk(ChatCompletion.emptyAccumulator, scripted[2])
    const second = ChatCompletion.accumulateChunk(first, scripted[3])
    expect(first.choices[0].content).toBe("Let me ")
    expect(second.choices[0].content).toBe("Let me check.")
    expect(ChatCompletion.emptyAccumulator.choices).toEqual([])
  })

  it("keeps choices apart by index, in index order, and the last finish_reason of each", () => {
    const response = ChatCompletion.accumulate([
      chunk([{ index: 1, delta: { content: "B1" } }, { index: 0, delta: { content: "A1" } }]),
      chunk([{ index: 0, delta: { content: "A2" }, finish_reason: "stop" }]),
      chunk([{ index: 1, delta: { content: "B2" }, finish_reason: "length" }])
    ])
    expect(response.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, "A1A2", "stop"],
      [1, "B1B2", "length"]
    ])
  })

  it("answers from reasoning_content when no content came, and collects annotations and audio", () => {
    const response = ChatCompletion.accumulate([
      chunk([{
        index: 0,
        delta: { annotations: [{ type: "url_citation", url: "https://a.example", title: "A" }] }
      }]),
      chunk([{ index: 0, delta: { reasoning_content: "only here" } }]),
      chunk([{ index: 0, delta: { audio: { id: "aud", data: "AAEC" } } }]),
      chunk([{ index: 0, delta: { audio: { data: "AwQ=" } } }]),
      chunk([{ index: 0, delta: { audio: { data: "BQ==" } }, finish_reason: "stop" }])
    ])
    const message = response.choices[0].message
    expect(message.content).toBeNull()
    expect(ChatCompletion.text(response)).toBe("only here")
    expect(message.annotations).toEqual([{ type: "url_citation", url: "https://a.example", title: "A" }])
    expect(message.audio?.id).toBe("aud")
    // padded fragments are re-encoded into one valid base64 string: bytes 0..5
    expect(message.audio?.data).toBe("AAECAwQF")
  })

  it("toResponse of nothing is an empty response", () => {
    expect(ChatCompletion.toResponse(ChatCompletion.emptyAccumulator)).toEqual({
      id: "",
      object: "chat.completion",
      choices: []
    })
  })
})

describe("ChatCompletion.text", () => {
  const response = (message: ChatCompletion.ResponseMessage): ChatCompletion.Response => ({
    id: "x",
    object: "chat.completion",
    choices: [{ index: 0, message }]
  })
  it("reads the first choice's content, falling back to reasoning_content when content is empty", () => {
    expect(ChatCompletion.text(response({ content: "answer", reasoning_content: "thoughts" }))).toBe("answer")
    expect(ChatCompletion.text(response({ content: "", reasoning_content: "thoughts" }))).toBe("thoughts")
    expect(ChatCompletion.text(response({ content: null, reasoning_content: null }))).toBe("")
    expect(ChatCompletion.text({ id: "x", object: "chat.completion", choices: [] })).toBe("")
  })
})

describe("ChatCompletion.speechRequest", () => {
  it("builds the §5 request", () => {
    const request = ChatCompletion.speechRequest({
      text: "Hello! Welcome to MiMo.",
      instructions: "Warm, slightly slow.",
      voice: "Mia",
      format: "wav"
    })
    expect(request).toEqual(ttsRequest)
    roundTrip(request)
  })

  it("puts the style where each model expects it", () => {
    const v25 = ChatCompletion.speechRequest({ text: "Hi", style: "whispering" })
    expect(v25.messages).toEqual([{ role: "assistant", content: "(whispering)Hi" }])
    expect(v25.audio).toBeUndefined()
    const v2 = ChatCompletion.speechRequest({ model: "mimo-v2-tts", text: "Hi", style: "Happy", stream: true })
    expect(v2).toEqual({
      model: "mimo-v2-tts",
      messages: [{ role: "assistant", content: "<style>Happy</style>Hi" }],
      stream: true
    })
  })

  it("leaves the assistant message out when voicedesign writes the text", () => {
    const request = ChatCompletion.speechRequest({
      model: "mimo-v2.5-tts-voicedesign",
      text: "",
      instructions: "A calm, deep male voice.",
      optimizeTextPreview: true,
      maxCompletionTokens: 2048
    })
    expect(request).toEqual({
      model: "mimo-v2.5-tts-voicedesign",
      messages: [{ role: "user", content: "A calm, deep male voice." }],
      audio: { optimize_text_preview: true },
      max_completion_tokens: 2048
    })
  })
})

describe("Model", () => {
  it("knows the documented models and their facts", () => {
    expect(Model.knownIds).toEqual([
      "mimo-v2.5-pro",
      "mimo-v2-pro",
      "mimo-v2.5",
      "mimo-v2-omni",
      "mimo-v2-flash",
      "mimo-v2.5-tts",
      "mimo-v2.5-tts-voicedesign",
      "mimo-v2.5-tts-voiceclone",
      "mimo-v2-tts",
      "mimo-v2.5-asr"
    ])
    const flash = Option.getOrThrow(Model.info("mimo-v2-flash"))
    expect(flash).toMatchObject({
      kind: "text",
      contextTokens: 262144,
      maxOutputTokens: 65536,
      defaultMaxCompletionTokens: 65536,
      thinkingDefault: "disabled",
      defaultTemperature: 0.3,
      multimodal: false
    })
    expect(Option.getOrThrow(Model.info("mimo-v2.5-pro")).contextTokens).toBe(1048576)
    expect(Option.getOrThrow(Model.info("mimo-v2.5")).inputs).toEqual(["text", "image", "audio", "video"])
    expect(Model.known.filter((m) => m.multimodal).map((m) => m.id)).toEqual(["mimo-v2.5", "mimo-v2-omni"])
    const tts = Option.getOrThrow(Model.info("mimo-v2.5-tts"))
    expect(tts).toMatchObject({ kind: "tts", maxOutputTokens: 8192, defaultTemperature: 0.6, voiceMode: "preset" })
    expect(tts.voices).toContain("Mia")
    expect(Option.getOrThrow(Model.info("mimo-v2-tts")).voices).toEqual(["mimo_default", "default_zh", "default_en"])
    expect(Option.getOrThrow(Model.info("mimo-v2.5-tts-voiceclone")).voiceMode).toBe("clone")
    expect(Option.getOrThrow(Model.info("mimo-v2.5-asr")).kind).toBe("asr")
    expect(Model.info("mimo-v2.6-pro")).toEqual(Option.none())
    expect(Model.kindOf("mimo-v2.6-pro")).toBe("text")
    expect(Model.isKnown("mimo-v2-omni")).toBe(true)
  })

  it.effect("decodes GET /models leniently", () =>
    Effect.gen(function*() {
      const list = yield* Model.decodeModelList({
        object: "list",
        data: [
          { id: "mimo-v2.5-pro", object: "model", owned_by: "xiaomi", permission: [] },
          { id: "mimo-v2.6-pro", object: null }
        ],
        has_more: false
      })
      expect(list.data.map((m) => m.id)).toEqual(["mimo-v2.5-pro", "mimo-v2.6-pro"])
      expect(Reflect.get(list, "has_more")).toBe(false)
      expect(Reflect.get(list.data[0], "permission")).toEqual([])
      const error = yield* Effect.flip(Model.decodeModelList({ object: "list", data: [{ name: "x" }] }))
      expect(ParseResult.isParseError(error)).toBe(true)
    }))
})
