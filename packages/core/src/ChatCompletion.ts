/**
 * `POST /chat/completions`: the request, the response and the streaming chunk,
 * as Schemas (`mimo-api.md` §3, §4, §5), and the pure helpers around them.
 *
 * - Requests are written in the wire format: snake_case, exactly the JSON MiMo
 *   takes, so `Request`'s Type and Encoded are the same plain object. Fields
 *   the API does not document are only sent when the caller puts them in
 *   `extra_body` (merged on send by `toBody`).
 * - Responses and chunks decode leniently: unknown fields are kept, every
 *   optional field may be absent or `null`, and unknown `finish_reason`,
 *   `object` or `type` values are plain strings, not failures.
 * - `decodeChunkFast` is the hot path for streams: it checks the chunk against
 *   the Schema without rebuilding it and hands the parsed JSON object back.
 * - `text` reads the answer. Building the TTS request of §5 is `Speech`'s
 *   (`SpeechInput` / `speechRequest` here are the same), and folding a stream
 *   of chunks into a `Response` is `StreamAccumulator`'s (`emptyAccumulator` /
 *   `accumulateChunk` / `toResponse` here are the same).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { AudioFormat as AudioFormatSchema } from "./internal/audioFormat.js"
import { isTextChunk } from "./internal/chunkGuard.js"
import { isTextResponse } from "./internal/responseGuard.js"
import * as Speech from "./internal/speech.js"
import * as StreamAccumulator from "./StreamAccumulator.js"

// -----------------------------------------------------------------------------
// request: content parts
// -----------------------------------------------------------------------------

/**
 * `{"type":"text","text":"…"}`
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const part: ChatCompletion.TextPart = { type: "text", text: "Describe this" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const TextPart = Schema.Struct({
  type: Schema.Literal("text"),
  text: Schema.String
}).annotations({ identifier: "TextPart" })

/**
 * @since 0.1.0
 * @category request
 */
export type TextPart = typeof TextPart.Type

/**
 * `{"type":"image_url","image_url":{"url":"https://…"}}`: a public URL or a
 * base64 data URL (`data:image/png;base64,…`). Multimodal models only.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const part: ChatCompletion.ImageUrlPart = { type: "image_url", image_url: { url: "https://example.com/a.png" } }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const ImageUrlPart = Schema.Struct({
  type: Schema.Literal("image_url"),
  image_url: Schema.Struct({ url: Schema.String })
}).annotations({ identifier: "ImageUrlPart" })

/**
 * @since 0.1.0
 * @category request
 */
export type ImageUrlPart = typeof ImageUrlPart.Type

/**
 * `{"type":"input_audio","input_audio":{"data":"data:audio/wav;base64,…"}}`.
 * Unlike OpenAI's, it has no `format` field.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const part: ChatCompletion.InputAudioPart = {
 *   type: "input_audio",
 *   input_audio: { data: "data:audio/wav;base64,UklGR" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const InputAudioPart = Schema.Struct({
  type: Schema.Literal("input_audio"),
  input_audio: Schema.Struct({ data: Schema.String })
}).annotations({ identifier: "InputAudioPart" })

/**
 * @since 0.1.0
 * @category request
 */
export type InputAudioPart = typeof InputAudioPart.Type

/**
 * `{"type":"video_url","video_url":{"url":"…"},"fps":2,"media_resolution":"default"}`:
 * `fps` (0.1–10, default 2) and `media_resolution` sit beside `video_url`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const part: ChatCompletion.VideoUrlPart = {
 *   type: "video_url",
 *   video_url: { url: "https://example.com/v.mp4" },
 *   fps: 2,
 *   media_resolution: "default"
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const VideoUrlPart = Schema.Struct({
  type: Schema.Literal("video_url"),
  video_url: Schema.Struct({ url: Schema.String }),
  fps: Schema.optional(Schema.Number),
  media_resolution: Schema.optional(Schema.Literal("default", "max"))
}).annotations({ identifier: "VideoUrlPart" })

/**
 * @since 0.1.0
 * @category request
 */
export type VideoUrlPart = typeof VideoUrlPart.Type

/**
 * A part of a user message's content.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const parts: ReadonlyArray<ChatCompletion.UserContentPart> = [
 *   { type: "text", text: "What is in this image?" },
 *   { type: "image_url", image_url: { url: "https://example.com/a.png" } }
 * ]
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const UserContentPart = Schema.Union(TextPart, ImageUrlPart, InputAudioPart, VideoUrlPart)

/**
 * @since 0.1.0
 * @category request
 */
export type UserContentPart = typeof UserContentPart.Type

const TextContent = Schema.Union(Schema.String, Schema.Array(TextPart))

// -----------------------------------------------------------------------------
// request: messages
// -----------------------------------------------------------------------------

/**
 * `{"role":"system","content":"…"}`: content is a string or text parts.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const message: ChatCompletion.SystemMessage = { role: "system", content: "You are MiMo." }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const SystemMessage = Schema.Struct({
  role: Schema.Literal("system"),
  content: TextContent,
  name: Schema.optional(Schema.String)
}).annotations({ identifier: "SystemMessage" })

/**
 * @since 0.1.0
 * @category request
 */
export type SystemMessage = typeof SystemMessage.Type

/**
 * `{"role":"developer","content":"…"}`: as `system`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const message: ChatCompletion.DeveloperMessage = {
 *   role: "developer",
 *   content: [{ type: "text", text: "Be brief." }]
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const DeveloperMessage = Schema.Struct({
  role: Schema.Literal("developer"),
  content: TextContent,
  name: Schema.optional(Schema.String)
}).annotations({ identifier: "DeveloperMessage" })

/**
 * @since 0.1.0
 * @category request
 */
export type DeveloperMessage = typeof DeveloperMessage.Type

/**
 * `{"role":"user","content":"…"}`: a string, or parts (text, image, audio,
 * video). For TTS models a user message holds style instructions.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const message: ChatCompletion.UserMessage = { role: "user", content: "please introduce yourself" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const UserMessage = Schema.Struct({
  role: Schema.Literal("user"),
  content: Schema.Union(Schema.String, Schema.Array(UserContentPart)),
  name: Schema.optional(Schema.String)
}).annotations({ identifier: "UserMessage" })

/**
 * @since 0.1.0
 * @category request
 */
export type UserMessage = typeof UserMessage.Type

/**
 * A tool call the assistant made, as sent back in a later request:
 * `{"id","type":"function","function":{"name","arguments"}}` (`arguments` is a JSON string).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const call: ChatCompletion.ToolCall = {
 *   id: "call_1",
 *   type: "function",
 *   function: { name: "get_weather", arguments: "{\"city\":\"Wuhan\"}" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("function"),
  function: Schema.Struct({ name: Schema.String, arguments: Schema.String })
}).annotations({ identifier: "ToolCall" })

/**
 * @since 0.1.0
 * @category request
 */
export type ToolCall = typeof ToolCall.Type

/**
 * `{"role":"assistant",…}`: `content` (string or text parts) is required
 * unless `tool_calls` is present. With thinking on, an earlier assistant
 * message that has `tool_calls` must carry its original `reasoning_content`
 * (§3.4). Prefer `""` to `null` for the content of a replayed tool-call message
 * (older deployments rejected `null`). For TTS models the assistant message
 * holds the text to speak.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const message: ChatCompletion.AssistantMessage = {
 *   role: "assistant",
 *   content: "",
 *   reasoning_content: "I should look up the weather.",
 *   tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }]
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const AssistantMessage = Schema.Struct({
  role: Schema.Literal("assistant"),
  content: Schema.optional(Schema.NullOr(TextContent)),
  /** `null` is accepted so that a response message can be replayed as it came (`"tool_calls": null`). */
  tool_calls: Schema.optional(Schema.NullOr(Schema.Array(ToolCall))),
  reasoning_content: Schema.optional(Schema.NullOr(Schema.String)),
  name: Schema.optional(Schema.String)
}).annotations({ identifier: "AssistantMessage" })

/**
 * @since 0.1.0
 * @category request
 */
export type AssistantMessage = typeof AssistantMessage.Type

/**
 * `{"role":"tool","tool_call_id":"…","content":"…"}`: the result of a tool
 * call; content is a string or text parts (no images).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const message: ChatCompletion.ToolMessage = { role: "tool", tool_call_id: "call_1", content: "sunny, 25°C" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const ToolMessage = Schema.Struct({
  role: Schema.Literal("tool"),
  content: TextContent,
  tool_call_id: Schema.String
}).annotations({ identifier: "ToolMessage" })

/**
 * @since 0.1.0
 * @category request
 */
export type ToolMessage = typeof ToolMessage.Type

/**
 * A request message, by `role`: `developer`, `system`, `user`, `assistant`, `tool`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const messages: ReadonlyArray<ChatCompletion.Message> = [
 *   { role: "system", content: "Be brief." },
 *   { role: "user", content: [{ type: "text", text: "What is in this image?" }, {
 *     type: "image_url",
 *     image_url: { url: "https://example.com/a.png" }
 *   }] }
 * ]
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const Message = Schema.Union(DeveloperMessage, SystemMessage, UserMessage, AssistantMessage, ToolMessage)

/**
 * @since 0.1.0
 * @category request
 */
export type Message = typeof Message.Type

/**
 * The roles a request message may have.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.roles.includes("tool") // true
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const roles: ReadonlyArray<Message["role"]> = ["developer", "system", "user", "assistant", "tool"]

// -----------------------------------------------------------------------------
// request: tools and options
// -----------------------------------------------------------------------------

/**
 * A function tool: `name` is 1–64 characters of `[A-Za-z0-9_-]` (checked by
 * `Validation`), `parameters` a JSON Schema (omit for none), `strict` default false.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const tool: ChatCompletion.FunctionTool = {
 *   type: "function",
 *   function: {
 *     name: "get_weather",
 *     description: "Current weather for a city",
 *     parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] }
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const FunctionTool = Schema.Struct({
  type: Schema.Literal("function"),
  function: Schema.Struct({
    name: Schema.String,
    description: Schema.optional(Schema.String),
    parameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
    strict: Schema.optional(Schema.Boolean)
  })
}).annotations({ identifier: "FunctionTool" })

/**
 * @since 0.1.0
 * @category request
 */
export type FunctionTool = typeof FunctionTool.Type

/**
 * The approximate location given to web search.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const where: ChatCompletion.UserLocation = { type: "approximate", country: "China", region: "Hubei", city: "Wuhan" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const UserLocation = Schema.Struct({
  type: Schema.optional(Schema.String),
  country: Schema.optional(Schema.String),
  region: Schema.optional(Schema.String),
  city: Schema.optional(Schema.String),
  district: Schema.optional(Schema.String),
  longitude: Schema.optional(Schema.Union(Schema.Number, Schema.String)),
  latitude: Schema.optional(Schema.Union(Schema.Number, Schema.String))
}).annotations({ identifier: "UserLocation" })

/**
 * @since 0.1.0
 * @category request
 */
export type UserLocation = typeof UserLocation.Type

/**
 * Xiaomi's built-in web search (the Web Search plugin must be enabled in the
 * console): `max_keyword` and `limit` are integers in 1–50 (default 5).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const search: ChatCompletion.WebSearchTool = {
 *   type: "web_search",
 *   force_search: false,
 *   max_keyword: 5,
 *   limit: 5,
 *   user_location: { type: "approximate", country: "China", city: "Wuhan" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const WebSearchTool = Schema.Struct({
  type: Schema.Literal("web_search"),
  force_search: Schema.optional(Schema.Boolean),
  max_keyword: Schema.optional(Schema.Number),
  limit: Schema.optional(Schema.Number),
  user_location: Schema.optional(UserLocation)
}).annotations({ identifier: "WebSearchTool" })

/**
 * @since 0.1.0
 * @category request
 */
export type WebSearchTool = typeof WebSearchTool.Type

/**
 * A tool: a function tool or the web-search tool.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const tools: ReadonlyArray<ChatCompletion.Tool> = [
 *   { type: "web_search", limit: 3 },
 *   { type: "function", function: { name: "get_time" } }
 * ]
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const Tool = Schema.Union(FunctionTool, WebSearchTool)

/**
 * @since 0.1.0
 * @category request
 */
export type Tool = typeof Tool.Type

/**
 * `tool_choice`: Xiaomi honours only `"auto"` (other values are silently
 * treated as `auto`); [V2] also lists `"none"` and a named function.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const choice: ChatCompletion.ToolChoice = "auto"
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const ToolChoice = Schema.Union(
  Schema.Literal("auto", "none", "required"),
  Schema.Struct({
    type: Schema.Literal("function"),
    function: Schema.Struct({ name: Schema.String })
  })
)

/**
 * @since 0.1.0
 * @category request
 */
export type ToolChoice = typeof ToolChoice.Type

/**
 * `{"type":"enabled"|"disabled"}`: turns reasoning on or off (not for TTS).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const thinking: ChatCompletion.Thinking = { type: "disabled" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const Thinking = Schema.Struct({ type: Schema.Literal("enabled", "disabled") }).annotations({
  identifier: "Thinking"
})

/**
 * @since 0.1.0
 * @category request
 */
export type Thinking = typeof Thinking.Type

/**
 * `{"type":"text"|"json_object"}`: JSON mode (there is no `json_schema`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const format: ChatCompletion.ResponseFormat = { type: "json_object" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const ResponseFormat = Schema.Struct({ type: Schema.Literal("text", "json_object") }).annotations({
  identifier: "ResponseFormat"
})

/**
 * @since 0.1.0
 * @category request
 */
export type ResponseFormat = typeof ResponseFormat.Type

/**
 * The audio formats of TTS output: `wav` (default), `mp3`, `pcm` / `pcm16`
 * (the same thing; the default when streaming).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const format: ChatCompletion.AudioFormat = "mp3"
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const AudioFormat: typeof AudioFormatSchema = AudioFormatSchema

/**
 * @since 0.1.0
 * @category request
 */
export type AudioFormat = typeof AudioFormat.Type

/**
 * TTS output options: `format`, `voice` (a preset name; for voiceclone the
 * base64 voice sample, required; for voicedesign not allowed) and
 * `optimize_text_preview` (voicedesign only).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const audio: ChatCompletion.AudioOptions = { format: "wav", voice: "Mia" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const AudioOptions = Schema.Struct({
  format: Schema.optional(AudioFormat),
  voice: Schema.optional(Schema.String),
  optimize_text_preview: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "AudioOptions" })

/**
 * @since 0.1.0
 * @category request
 */
export type AudioOptions = typeof AudioOptions.Type

/**
 * `mimo-v2.5-asr` options: `{"language":"auto"|"zh"|"en"}`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const asr: ChatCompletion.AsrOptions = { language: "zh" }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const AsrOptions = Schema.Struct({
  language: Schema.optional(Schema.Literal("auto", "zh", "en"))
}).annotations({ identifier: "AsrOptions" })

/**
 * @since 0.1.0
 * @category request
 */
export type AsrOptions = typeof AsrOptions.Type

/**
 * The body of `POST /chat/completions`, in the wire format (§3.1). Its Type
 * and Encoded are the same plain object.
 *
 * Ranges (temperature, top_p, penalties, max_completion_tokens, stop count,
 * tool names) depend on the host and are checked by
 * `Validation.validateChatRequest`, not by this Schema. Fields this Schema
 * does not know are dropped when decoding; to send one anyway, put it in
 * `extra_body` (e.g. `{ extra_body: { stream_options: { include_usage: true } } }`),
 * which `toBody` merges into the top level on send.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const request: ChatCompletion.Request = {
 *   model: "mimo-v2.5-pro",
 *   messages: [{ role: "user", content: "please introduce yourself" }],
 *   max_completion_tokens: 1024,
 *   stream: false,
 *   thinking: { type: "disabled" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const Request = Schema.Struct({
  model: Schema.String,
  messages: Schema.Array(Message),
  max_completion_tokens: Schema.optional(Schema.NullOr(Schema.Number)),
  temperature: Schema.optional(Schema.Number),
  top_p: Schema.optional(Schema.Number),
  stream: Schema.optional(Schema.NullOr(Schema.Boolean)),
  stop: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Array(Schema.String)))),
  frequency_penalty: Schema.optional(Schema.NullOr(Schema.Number)),
  presence_penalty: Schema.optional(Schema.NullOr(Schema.Number)),
  tools: Schema.optional(Schema.Array(Tool)),
  tool_choice: Schema.optional(ToolChoice),
  thinking: Schema.optional(Thinking),
  response_format: Schema.optional(ResponseFormat),
  audio: Schema.optional(AudioOptions),
  asr_options: Schema.optional(AsrOptions),
  /** Extra top-level fields, sent as they are (merged last, so they win). */
  extra_body: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}).annotations({ identifier: "ChatCompletionRequest" })

/**
 * @since 0.1.0
 * @category request
 */
export type Request = typeof Request.Type

/**
 * The JSON body to send for a request: the request without `extra_body`, with
 * `extra_body`'s fields merged into the top level (they win over the typed
 * fields, as in openai-node).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.toBody({
 *   model: "mimo-v2-flash",
 *   messages: [{ role: "user", content: "hi" }],
 *   extra_body: { stream_options: { include_usage: true } }
 * })
 * // { model: "mimo-v2-flash", messages: [...], stream_options: { include_usage: true } }
 * ```
 *
 * @since 0.1.0
 * @category request
 */
export const toBody = (request: Request): Record<string, unknown> => {
  const { extra_body, ...body } = request
  return extra_body === undefined ? body : { ...body, ...extra_body }
}

// -----------------------------------------------------------------------------
// response (lenient)
// -----------------------------------------------------------------------------

const preserve = { onExcessProperty: "preserve" } as const

const open = <Fields extends Schema.Struct.Fields>(identifier: string, fields: Fields) =>
  Schema.Struct(fields).annotations({ identifier })

const opt = <S extends Schema.Schema.All>(schema: S) => Schema.optional(Schema.NullOr(schema))

/**
 * The values of `finish_reason` seen so far. `repetition_truncation` is
 * MiMo's own (the model was repeating itself). Decoding accepts any string.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.knownFinishReasons.includes("repetition_truncation") // true
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const knownFinishReasons: ReadonlyArray<string> = [
  "stop",
  "length",
  "tool_calls",
  "content_filter",
  "repetition_truncation"
]

/**
 * Token usage. Every field may be absent or `null`; `seconds` is the audio
 * length of an ASR request; `web_search_usage` holds `tool_usage` and
 * `page_usage` (their shape is undocumented, so they are `unknown`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const reasoning = response.usage?.completion_tokens_details?.reasoning_tokens ?? 0
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const Usage = open("Usage", {
  prompt_tokens: opt(Schema.Number),
  completion_tokens: opt(Schema.Number),
  total_tokens: opt(Schema.Number),
  completion_tokens_details: opt(open("CompletionTokensDetails", {
    reasoning_tokens: opt(Schema.Number)
  })),
  prompt_tokens_details: opt(open("PromptTokensDetails", {
    cached_tokens: opt(Schema.Number),
    audio_tokens: opt(Schema.Number),
    image_tokens: opt(Schema.Number),
    video_tokens: opt(Schema.Number)
  })),
  web_search_usage: opt(open("WebSearchUsage", {
    tool_usage: Schema.optional(Schema.Unknown),
    page_usage: Schema.optional(Schema.Unknown)
  })),
  seconds: opt(Schema.Number)
})

/**
 * @since 0.1.0
 * @category response
 */
export type Usage = typeof Usage.Type

/**
 * A web-search source: `{type, url, title, summary, site_name, logo_url, publish_time}`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const sources = (response.choices[0]?.message.annotations ?? []).map((a) => a.url)
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const Annotation = open("Annotation", {
  type: opt(Schema.String),
  url: opt(Schema.String),
  title: opt(Schema.String),
  summary: opt(Schema.String),
  site_name: opt(Schema.String),
  logo_url: opt(Schema.String),
  publish_time: opt(Schema.Union(Schema.String, Schema.Number))
})

/**
 * @since 0.1.0
 * @category response
 */
export type Annotation = typeof Annotation.Type

/**
 * TTS output: `{id, data /* base64 *\/, expires_at, transcript}`; in a chunk,
 * `data` is one base64 fragment (PCM16 when streaming).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const base64 = response.choices[0]?.message.audio?.data
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const MessageAudio = open("MessageAudio", {
  id: opt(Schema.String),
  data: opt(Schema.String),
  expires_at: opt(Schema.Number),
  transcript: opt(Schema.String)
})

/**
 * @since 0.1.0
 * @category response
 */
export type MessageAudio = typeof MessageAudio.Type

/**
 * A tool call in a response message. `type` is any string (`function` today).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const calls = (response.choices[0]?.message.tool_calls ?? []).map((c) => c.function.name)
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const ResponseToolCall = open("ResponseToolCall", {
  id: Schema.String,
  type: opt(Schema.String),
  function: open("ResponseToolCallFunction", { name: Schema.String, arguments: Schema.String })
})

/**
 * @since 0.1.0
 * @category response
 */
export type ResponseToolCall = typeof ResponseToolCall.Type

// The fields a whole message and a streamed delta share; only their tool calls differ.
const messageFields = {
  role: opt(Schema.String),
  content: opt(Schema.String),
  reasoning_content: opt(Schema.String),
  annotations: opt(Schema.Array(Annotation)),
  error_message: opt(Schema.String),
  audio: opt(MessageAudio),
  final_text_preview: opt(Schema.String)
}

/**
 * The assistant message of a response choice. Everything may be absent or null.
 * When the answer came only as reasoning (`content: ""`), see `text`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const message: ChatCompletion.ResponseMessage | undefined = response.choices[0]?.message
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const ResponseMessage = open("ResponseMessage", {
  ...messageFields,
  tool_calls: opt(Schema.Array(ResponseToolCall))
})

/**
 * @since 0.1.0
 * @category response
 */
export type ResponseMessage = typeof ResponseMessage.Type

/**
 * One choice of a response.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * declare const response: ChatCompletion.Response
 * const reasons = response.choices.map((c: ChatCompletion.Choice) => c.finish_reason)
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const Choice = open("Choice", {
  index: Schema.Number,
  finish_reason: opt(Schema.String),
  message: ResponseMessage
})

/**
 * @since 0.1.0
 * @category response
 */
export type Choice = typeof Choice.Type

const ResponseShape = open("ChatCompletionResponse", {
  id: Schema.String,
  object: Schema.String,
  created: opt(Schema.Number),
  model: opt(Schema.String),
  choices: Schema.Array(Choice),
  usage: opt(Usage)
})

/**
 * A non-streaming response (§3.5), decoded leniently: the Schema carries the
 * `onExcessProperty: "preserve"` parse option, so unknown fields are kept at
 * every depth by `Schema.decodeUnknown(Response)` as well as by
 * `decodeResponse`. (The nested Schemas, e.g. `Usage`, do not carry it: decode
 * them alone with `{ onExcessProperty: "preserve" }` to keep unknown fields.)
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const program = ChatCompletion.decodeResponse({
 *   id: "8b51f9e0515949cb8207fbd35ea6ea5c",
 *   object: "chat.completion",
 *   created: 1776848906,
 *   model: "mimo-v2.5-pro",
 *   choices: [{
 *     index: 0,
 *     finish_reason: "stop",
 *     message: { role: "assistant", content: "Hello!", tool_calls: null }
 *   }],
 *   usage: null
 * }).pipe(Effect.map(ChatCompletion.text))
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const Response = ResponseShape.annotations({ parseOptions: preserve })

/**
 * @since 0.1.0
 * @category response
 */
export type Response = typeof Response.Type

// -----------------------------------------------------------------------------
// streaming chunk
// -----------------------------------------------------------------------------

/**
 * A fragment of a tool call in a chunk: group by `index` and concatenate
 * `function.arguments`; `id` usually comes only with the first fragment.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const fragment: ChatCompletion.ToolCallDelta = { index: 0, function: { arguments: "\"Wuhan\"}" } }
 * ```
 *
 * @since 0.1.0
 * @category chunk
 */
export const ToolCallDelta = open("ToolCallDelta", {
  index: opt(Schema.Number),
  id: opt(Schema.String),
  type: opt(Schema.String),
  function: opt(open("ToolCallDeltaFunction", {
    name: opt(Schema.String),
    arguments: opt(Schema.String)
  }))
})

/**
 * @since 0.1.0
 * @category chunk
 */
export type ToolCallDelta = typeof ToolCallDelta.Type

/**
 * What one chunk adds to a choice. Everything may be absent or null.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const delta: ChatCompletion.Delta = { role: "assistant", reasoning_content: "The user" }
 * ```
 *
 * @since 0.1.0
 * @category chunk
 */
export const Delta = open("Delta", {
  ...messageFields,
  tool_calls: opt(Schema.Array(ToolCallDelta))
})

/**
 * @since 0.1.0
 * @category chunk
 */
export type Delta = typeof Delta.Type

/**
 * One choice of a chunk. `finish_reason` stays null until the last content chunk.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const choice: ChatCompletion.ChunkChoice = { index: 0, delta: { content: "Hello" }, finish_reason: null }
 * ```
 *
 * @since 0.1.0
 * @category chunk
 */
export const ChunkChoice = open("ChunkChoice", {
  index: Schema.Number,
  delta: opt(Delta),
  finish_reason: opt(Schema.String)
})

/**
 * @since 0.1.0
 * @category chunk
 */
export type ChunkChoice = typeof ChunkChoice.Type

const ChunkShape = open("ChatCompletionChunk", {
  id: Schema.String,
  object: Schema.String,
  created: opt(Schema.Number),
  model: opt(Schema.String),
  choices: Schema.Array(ChunkChoice),
  usage: opt(Usage)
})

/**
 * A streaming chunk (`chat.completion.chunk`, §4). The envelope is checked
 * (`id` and `object` strings, a `choices` array, each choice with a numeric
 * `index`); everything inside a delta is lenient. A usage-only chunk has
 * `choices: []`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 * import { Either } from "effect"
 *
 * const chunk = ChatCompletion.decodeChunkFast(JSON.parse(
 *   `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"mimo-v2.5-pro",` +
 *     `"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}`
 * ))
 * Either.isRight(chunk) // true
 * ```
 *
 * @since 0.1.0
 * @category chunk
 */
export const Chunk = ChunkShape.annotations({ parseOptions: preserve })

/**
 * @since 0.1.0
 * @category chunk
 */
export type Chunk = typeof Chunk.Type

// -----------------------------------------------------------------------------
// decoding
// -----------------------------------------------------------------------------

/**
 * Decodes a response body (already parsed JSON), keeping unknown fields.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const decoded = ChatCompletion.decodeResponse({ id: "x", object: "chat.completion", choices: [] })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponse: (u: unknown) => Effect.Effect<Response, ParseResult.ParseError> = Schema.decodeUnknown(
  Response,
  preserve
)

/**
 * Decodes a chunk (already parsed JSON), keeping unknown fields. For the hot
 * path of a stream prefer `decodeChunkFast`.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const decoded = ChatCompletion.decodeChunk({ id: "c1", object: "chat.completion.chunk", choices: [] })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeChunk: (u: unknown) => Effect.Effect<Chunk, ParseResult.ParseError> = Schema.decodeUnknown(
  Chunk,
  preserve
)

// `is` on the shape without the `preserve` annotation: a pure check, no key scan
const isChunkShape = ParseResult.is(ChunkShape)

const isChunk = (u: unknown): u is Chunk => isTextChunk(u) || isChunkShape(u)

const decodeChunkEither = ParseResult.decodeUnknownEither(Chunk, preserve)

/**
 * The fast path for streams: checks a parsed chunk against `Chunk` and, when
 * it conforms, returns the very object it was given (so every unknown field
 * is kept and nothing is copied). Only a non-conforming chunk pays for a full
 * decode, which builds the `ParseError`. The Schema has no transformations,
 * so the checked input is the decoded value.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 * import { Either } from "effect"
 *
 * ChatCompletion.decodeChunkFast({ id: "c1", object: "chat.completion.chunk", choices: [] }).pipe(
 *   Either.map((chunk) => chunk.choices.length)
 * ) // Either.right(0)
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeChunkFast = (u: unknown): Either.Either<Chunk, ParseResult.ParseError> =>
  isChunk(u) ? Either.right(u) : Either.mapLeft(decodeChunkEither(u), ParseResult.parseError)

/**
 * `decodeChunkFast` for a response body.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.decodeResponseFast({ id: "x", object: "chat.completion", choices: [] })
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponseFast: (u: unknown) => Either.Either<Response, ParseResult.ParseError> = (() => {
  const is = ParseResult.is(ResponseShape)
  const decode = ParseResult.decodeUnknownEither(Response, preserve)
  return (u: unknown) =>
    isTextResponse(u) || is(u) ? Either.right(u) : Either.mapLeft(decode(u), ParseResult.parseError)
})()

// -----------------------------------------------------------------------------
// reading a response
// -----------------------------------------------------------------------------

/**
 * The answer of a response: the first choice's `content`, or its
 * `reasoning_content` when the content is empty or missing (some models and
 * Token Plan hosts answer only in `reasoning_content`, §3.4). `""` when there
 * is neither.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.text({
 *   id: "x",
 *   object: "chat.completion",
 *   choices: [{ index: 0, message: { content: "", reasoning_content: "42" } }]
 * }) // "42"
 * ```
 *
 * @since 0.1.0
 * @category response
 */
export const text = (response: Response): string => {
  const message = response.choices[0]?.message
  if (message === undefined) return ""
  const content = message.content ?? ""
  return content !== "" ? content : (message.reasoning_content ?? "")
}

// -----------------------------------------------------------------------------
// accumulating a stream (in its own module, StreamAccumulator; kept here too)
// -----------------------------------------------------------------------------

/**
 * A tool call being assembled from fragments (`StreamAccumulator.AccumulatedToolCall`).
 *
 * @since 0.1.0
 * @category accumulate
 */
export type AccumulatedToolCall = StreamAccumulator.AccumulatedToolCall

/**
 * A choice being assembled from deltas (`StreamAccumulator.AccumulatedChoice`).
 *
 * @since 0.1.0
 * @category accumulate
 */
export type AccumulatedChoice = StreamAccumulator.AccumulatedChoice

/**
 * The state of a fold over a stream's chunks (`StreamAccumulator.Accumulator`).
 *
 * @since 0.1.0
 * @category accumulate
 */
export type Accumulator = StreamAccumulator.Accumulator

/**
 * The starting point of a fold over a stream (`StreamAccumulator.empty`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 * import { Effect, Stream } from "effect"
 *
 * declare const chunks: Stream.Stream<ChatCompletion.Chunk>
 * const response = chunks.pipe(
 *   Stream.runFold(ChatCompletion.emptyAccumulator, ChatCompletion.accumulateChunk),
 *   Effect.map(ChatCompletion.toResponse)
 * )
 * ```
 *
 * @since 0.1.0
 * @category accumulate
 */
export const emptyAccumulator: Accumulator = StreamAccumulator.empty

/**
 * Folds one chunk into the accumulator (`StreamAccumulator.add`): O(1) per
 * chunk, whatever the indexes.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const chunks: ReadonlyArray<ChatCompletion.Chunk> = [
 *   { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hel" } }] },
 *   {
 *     id: "c1",
 *     object: "chat.completion.chunk",
 *     choices: [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }]
 *   }
 * ]
 * const acc = chunks.reduce(ChatCompletion.accumulateChunk, ChatCompletion.emptyAccumulator)
 * ChatCompletion.text(ChatCompletion.toResponse(acc)) // "Hello"
 * ```
 *
 * @since 0.1.0
 * @category accumulate
 */
export const accumulateChunk: (acc: Accumulator, chunk: Chunk) => Accumulator = StreamAccumulator.add

/**
 * The `Response` a stream amounts to (`StreamAccumulator.toResponse`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.toResponse(ChatCompletion.emptyAccumulator).choices // []
 * ```
 *
 * @since 0.1.0
 * @category accumulate
 */
export const toResponse: (acc: Accumulator) => Response = StreamAccumulator.toResponse

/**
 * Folds a whole sequence of chunks into a `Response` (`StreamAccumulator.accumulate`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.accumulate([
 *   { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hi" } }] }
 * ]).choices[0].message.content // "Hi"
 * ```
 *
 * @since 0.1.0
 * @category accumulate
 */
export const accumulate: (chunks: Iterable<Chunk>) => Response = StreamAccumulator.accumulate

// -----------------------------------------------------------------------------
// speech (TTS through chat completions)
// -----------------------------------------------------------------------------

/**
 * A text-to-speech request, in plain terms (`Speech.Input`, whose module
 * documents its fields); `speechRequest` turns it into the chat request of §5.
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * const input: ChatCompletion.SpeechInput = { text: "Hello!", style: "whispering", voice: "Mia", format: "mp3" }
 * ```
 *
 * @since 0.1.0
 * @category speech
 */
export const SpeechInput: typeof Speech.Input = Speech.Input

/**
 * @since 0.1.0
 * @category speech
 */
export type SpeechInput = typeof Speech.Input.Type

/**
 * The default TTS model of `speechRequest` (`Speech.defaultModel`).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.defaultSpeechModel // "mimo-v2.5-tts"
 * ```
 *
 * @since 0.1.0
 * @category speech
 */
export const defaultSpeechModel: string = Speech.defaultModel

/**
 * Builds the chat request for text-to-speech (§5) (`Speech.toRequest`).
 * Check the result with `Validation.validateSpeechRequest` (which validates
 * the input's own fields, then builds it with this function).
 *
 * @example
 * ```ts
 * import { ChatCompletion } from "@effect-mimo/core"
 *
 * ChatCompletion.speechRequest({ text: "Hello! Welcome to MiMo.", instructions: "Warm, slightly slow.", voice: "Mia" })
 * // {
 * //   model: "mimo-v2.5-tts",
 * //   messages: [
 * //     { role: "user", content: "Warm, slightly slow." },
 * //     { role: "assistant", content: "Hello! Welcome to MiMo." }
 * //   ],
 * //   audio: { voice: "Mia" }
 * // }
 * ```
 *
 * @since 0.1.0
 * @category speech
 */
export const speechRequest: (input: SpeechInput) => Request = Speech.toRequest
