/**
 * Deterministic answers: from a seed and the request, what the "model" says,
 * how many tokens it costs, and how it is rendered as JSON or SSE.
 *
 * Works on the raw (already validated) JSON body in its wire form, so it reads
 * snake_case fields with guards and never throws on odd shapes.
 *
 * @internal
 */
import * as audio from "./audio.js"
import * as conversation from "./conversation.js"
import * as prng from "./prng.js"

/** A JSON object (the parsed request body). */
export type Json = { readonly [key: string]: unknown }

export const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const WORDS = [
  "the",
  "model",
  "answers",
  "quietly",
  "with",
  "seeded",
  "words",
  "from",
  "a",
  "small",
  "list",
  "and",
  "every",
  "reply",
  "is",
  "the",
  "same",
  "for",
  "one",
  "prompt",
  "simulated",
  "tokens",
  "flow",
  "through",
  "local",
  "sockets",
  "while",
  "effects",
  "compose",
  "schedules",
  "retry",
  "gently",
  "streams",
  "arrive",
  "in",
  "order",
  "errors",
  "are",
  "typed",
  "values",
  "latency",
  "stays",
  "low",
  "under",
  "load",
  "MiMo",
  "speaks",
  "clearly",
  "about",
  "weather",
  "code",
  "music",
  "rivers",
  "mountains",
  "light",
  "data",
  "careful",
  "bright",
  "steady",
  "simple",
  "tests",
  "pass",
  "today",
  "again"
]

const REASONING = [
  "The",
  "user",
  "asks",
  "something",
  "simple",
  "so",
  "I",
  "will",
  "think",
  "briefly",
  "then",
  "answer",
  "plainly",
  "and",
  "check",
  "the",
  "facts",
  "first"
]

/** The text of a message `content` (a string or an array of parts). */
export const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (Array.isArray(content)) {
    let out = ""
    for (const part of content) {
      if (isObject(part) && typeof part.text === "string") out += part.text
    }
    return out
  }
  return ""
}

/** The bytes of audio in a message `content` (base64 `input_audio` parts), for ASR's `seconds`. */
const audioBytesIn = (content: unknown): number => {
  let bytes = 0
  if (Array.isArray(content)) {
    for (const part of content) {
      if (isObject(part) && part.type === "input_audio" && isObject(part.input_audio)) {
        const data = part.input_audio.data
        if (typeof data === "string") bytes += Math.floor(((data.length - Math.max(0, data.indexOf(",") + 1)) * 3) / 4)
      }
    }
  }
  return bytes
}

/** What kind of answer the model gives. */
export type ModelKind = "text" | "tts" | "asr"

/** The settings the generator needs, resolved by the server. */
export interface Context {
  readonly seed: number
  readonly kind: ModelKind
  readonly thinkingDefault: boolean
  readonly defaultMaxTokens: number
  readonly id: string
  readonly toolCallId: string
  readonly created: number
  /** A directive of the request (tool calls, malformed arguments, non-conforming JSON). */
  readonly directive?: conversation.Directive | undefined
}

/** The audio part of a TTS answer. */
export interface AudioAnswer {
  readonly format: "wav" | "mp3" | "pcm16" | "pcm"
  readonly seconds: number
  readonly frequency: number
  readonly finalTextPreview: string | undefined
}

/** Everything an answer is made of, before rendering. */
export interface Answer {
  readonly id: string
  readonly created: number
  readonly model: string
  readonly stream: boolean
  /** Reasoning deltas (one token each). */
  readonly reasoning: ReadonlyArray<string>
  /** Content deltas. */
  readonly content: ReadonlyArray<string>
  /** Tool calls (several: in parallel), or empty. */
  readonly toolCalls: ReadonlyArray<
    { readonly id: string; readonly name: string; readonly fragments: ReadonlyArray<string> }
  >
  readonly audio: AudioAnswer | undefined
  readonly finishReason: "stop" | "length" | "tool_calls"
  readonly promptTokens: number
  readonly completionTokens: number
  readonly reasoningTokens: number
  /** ASR: the length of the audio in seconds. */
  readonly seconds: number | undefined
}

const fragments = (text: string, size: number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size))
  return out
}

const audioFormat = (body: Json, stream: boolean): AudioAnswer["format"] => {
  const a = body.audio
  const f = isObject(a) ? a.format : undefined
  return f === "mp3" || f === "pcm16" || f === "pcm" || f === "wav" ? f : stream ? "pcm16" : "wav"
}

/** Builds the answer to a validated chat request (its raw JSON body). */
export const answer = (body: Json, ctx: Context): Answer => {
  const model = typeof body.model === "string" ? body.model : ""
  const stream = body.stream === true
  const messages = Array.isArray(body.messages) ? body.messages : []
  let chars = 0
  let hash = prng.hashString(model, prng.hashNumber(0x811c9dc5, ctx.seed))
  let lastUser = ""
  let lastAssistant = ""
  let lastRole: string | undefined
  let audioBytes = 0
  for (const m of messages) {
    if (!isObject(m)) continue
    if (ctx.kind === "asr") audioBytes += audioBytesIn(m.content)
    const text = contentText(m.content)
    chars += text.length
    hash = prng.hashString(text, hash)
    if (m.role === "user") lastUser = text
    else if (m.role === "assistant") lastAssistant = text
    if (typeof m.role === "string") lastRole = m.role
  }
  const promptTokens = Math.max(1, Math.ceil(chars / 4))
  const rng = prng.make(audioBytes > 0 ? prng.hashNumber(hash, audioBytes) : hash)
  const budget = typeof body.max_completion_tokens === "number" && body.max_completion_tokens > 0
    ? body.max_completion_tokens
    : ctx.defaultMaxTokens
  const make = (
    parts: Pick<
      Answer,
      "reasoning" | "content" | "toolCalls" | "audio" | "finishReason" | "completionTokens" | "reasoningTokens"
    >,
    seconds?: number
  ): Answer => ({
    id: ctx.id,
    created: ctx.created,
    model,
    stream,
    promptTokens,
    seconds,
    reasoning: parts.reasoning,
    content: parts.content,
    toolCalls: parts.toolCalls,
    audio: parts.audio,
    finishReason: parts.finishReason,
    completionTokens: parts.completionTokens,
    reasoningTokens: parts.reasoningTokens
  })

  if (ctx.kind === "tts") {
    const a = body.audio
    const voice = isObject(a) && typeof a.voice === "string" ? a.voice : "mimo_default"
    const optimize = isObject(a) && a.optimize_text_preview === true
    const spoken = lastAssistant !== "" ? lastAssistant : lastUser
    const seconds = audio.durationSecondsForText(spoken)
    const tokens = Math.min(budget, Math.max(1, Math.ceil(seconds * 25)))
    return make({
      reasoning: [],
      content: [],
      toolCalls: [],
      audio: {
        format: audioFormat(body, stream),
        seconds,
        frequency: 220 + (prng.hashString(voice) % 440),
        finalTextPreview: optimize ? spoken : undefined
      },
      finishReason: "stop",
      completionTokens: tokens,
      reasoningTokens: 0
    })
  }

  const calls = ctx.kind === "text"
    ? conversation.plannedCalls(body, lastUser, lastRole, ctx.directive, rng)
    : undefined
  const thinking = ctx.kind === "text" &&
    (isObject(body.thinking) ? body.thinking.type === "enabled" : ctx.thinkingDefault)
  const reasoning: Array<string> = []
  if (thinking) {
    const n = Math.min(budget, prng.int(rng, 4, 12))
    for (let i = 0; i < n; i++) reasoning.push((i === 0 ? "" : " ") + REASONING[i % REASONING.length])
  }
  let left = budget - reasoning.length

  if (calls !== undefined && left > 0) {
    const tokens = calls.reduce((n, c) => n + Math.max(1, Math.ceil(c.arguments.length / 4)), 0)
    return make({
      reasoning,
      content: [],
      toolCalls: calls.map((c, i) => ({
        id: i === 0 ? ctx.toolCallId : `${ctx.toolCallId}_${i}`,
        name: c.name,
        fragments: c.arguments === "" ? [""] : fragments(c.arguments, 8)
      })),
      audio: undefined,
      finishReason: "tool_calls",
      completionTokens: reasoning.length + tokens,
      reasoningTokens: reasoning.length
    })
  }

  const followUp = ctx.kind === "text" ? conversation.followUp(messages) : undefined
  if (followUp !== undefined && left > 0) {
    const words = followUp.split(" ")
    const used = Math.min(words.length, left)
    return make({
      reasoning,
      content: words.slice(0, used).map((w, i) => i === 0 ? w : " " + w),
      toolCalls: [],
      audio: undefined,
      finishReason: used < words.length ? "length" : "stop",
      completionTokens: reasoning.length + used,
      reasoningTokens: reasoning.length
    })
  }

  const wanted = prng.int(rng, 8, 32)
  const words = Math.max(0, Math.min(wanted, left))
  const content: Array<string> = []
  const json = isObject(body.response_format) && body.response_format.type === "json_object"
  if (json) {
    const picked: Array<string> = []
    for (let i = 0; i < words; i++) picked.push(WORDS[(rng() * WORDS.length) | 0])
    const text = conversation.jsonAnswer(messages, ctx.directive, rng, () => ({ answer: picked.join(" ") }))
    for (const f of fragments(text, 16)) content.push(f)
  } else {
    for (let i = 0; i < words; i++) {
      const w = WORDS[(rng() * WORDS.length) | 0]
      content.push(i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : " " + w)
    }
    if (words === wanted && words > 0) content[content.length - 1] += "."
  }
  left -= words
  return make({
    reasoning,
    content,
    toolCalls: [],
    audio: undefined,
    finishReason: words < wanted ? "length" : "stop",
    completionTokens: reasoning.length + words,
    reasoningTokens: reasoning.length
  }, ctx.kind === "asr" ? Math.max(1, Math.round(audioBytes / 16_000)) : undefined)
}

const usage = (a: Answer, stream: boolean): string =>
  `{"prompt_tokens":${a.promptTokens},"completion_tokens":${a.completionTokens},"total_tokens":${
    a.promptTokens + a.completionTokens
  },"completion_tokens_details":{"reasoning_tokens":${a.reasoningTokens}},"prompt_tokens_details":${
    stream ? "{\"cached_tokens\":0}" : "null"
  }${a.seconds === undefined ? "" : `,"seconds":${a.seconds}`}}`

/** The audio bytes of a non-streaming TTS answer, in its format. */
export const audioBytes = (a: AudioAnswer): Uint8Array =>
  a.format === "mp3"
    ? audio.mp3(a.seconds)
    : a.format === "wav"
    ? audio.wav(audio.tone(a.seconds, a.frequency))
    : audio.tone(a.seconds, a.frequency)

/** The JSON body of a non-streaming answer (written by hand: it is the hot path). */
export const toJson = (a: Answer): string => {
  let message = a.toolCalls.length > 0
    ? `{"role":"assistant","content":null`
    : `{"role":"assistant","content":${JSON.stringify(a.content.join(""))}`
  if (a.reasoning.length > 0) message += `,"reasoning_content":${JSON.stringify(a.reasoning.join(""))}`
  message += a.toolCalls.length === 0 ?
    `,"tool_calls":null` :
    `,"tool_calls":${
      JSON.stringify(a.toolCalls.map((tc) => ({
        id: tc.id,
        type: "function",
        function: { name: tc.name, arguments: tc.fragments.join("") }
      })))
    }`
  if (a.audio !== undefined) {
    message += `,"audio":{"id":"audio_${a.id}","data":"${
      audio.base64(audioBytes(a.audio))
    }","expires_at":null,"transcript":null}`
    if (a.audio.finalTextPreview !== undefined) {
      message += `,"final_text_preview":${JSON.stringify(a.audio.finalTextPreview)}`
    }
  }
  return `{"id":"${a.id}","object":"chat.completion","created":${a.created},"model":${
    JSON.stringify(a.model)
  },"choices":[{"index":0,"finish_reason":"${a.finishReason}","message":${message}}}],"usage":${usage(a, false)}}`
}

/** PCM16 fragments of 200 ms (base64) for a streaming TTS answer. */
const audioFragments = (a: AudioAnswer): Array<string> => {
  const pcm = audio.tone(a.seconds, a.frequency)
  const size = audio.sampleRate * 2 / 5
  const out: Array<string> = []
  for (let i = 0; i < pcm.length; i += size) out.push(audio.base64(pcm.subarray(i, i + size)))
  return out
}

/**
 * The SSE data payloads of a streaming answer, in order: the role chunk,
 * reasoning deltas, content / tool-call / audio deltas, the finish chunk
 * (`usage: null`), the usage-only chunk (`choices: []`). `[DONE]` is not
 * included.
 */
export const toChunks = (a: Answer): Array<string> => {
  const head = `{"id":${JSON.stringify(a.id)},"object":"chat.completion.chunk","created":${a.created},"model":${
    JSON.stringify(a.model)
  },"choices":`
  const delta = (d: unknown) => `${head}[{"index":0,"delta":${JSON.stringify(d)},"finish_reason":null}]}`
  const out: Array<string> = [delta({ role: "assistant", content: "" })]
  for (const r of a.reasoning) out.push(delta({ reasoning_content: r }))
  if (a.toolCalls.length > 0) {
    a.toolCalls.forEach((tc, index) =>
      tc.fragments.forEach((f, i) =>
        out.push(delta({
          tool_calls: [
            i === 0
              ? { index, id: tc.id, type: "function", function: { name: tc.name, arguments: f } }
              : { index, function: { arguments: f } }
          ]
        }))
      )
    )
  } else if (a.audio !== undefined) {
    const id = `audio_${a.id}`
    if (a.audio.finalTextPreview !== undefined) out.push(delta({ final_text_preview: a.audio.finalTextPreview }))
    for (const data of audioFragments(a.audio)) out.push(delta({ audio: { id, data } }))
  } else {
    for (const c of a.content) out.push(delta({ content: c }))
  }
  out.push(`${head}[{"index":0,"delta":{},"finish_reason":${JSON.stringify(a.finishReason)}}],"usage":null}`)
  out.push(`${head}[],"usage":${usage(a, true)}}`)
  return out
}
