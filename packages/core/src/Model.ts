/**
 * The MiMo models: the known ids, what each one takes and returns, its limits
 * and defaults (`mimo-api.md` §2, Xiaomi's figures), as data; and the Schema of
 * the `GET /models` list.
 *
 * Unknown ids are not errors here: new models and aliases appear before any
 * client knows them (`mimo-v2.6-pro`, `mimo-v2.5-pro[1m]` were seen in use),
 * so `info` returns `Option.none()` for them and the caller decides.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * What a model does: `text` chat models (some of them multimodal), `tts`
 * speech synthesis (text in an assistant message, audio out), `asr` speech
 * recognition (audio in, text out).
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "text" | "tts" | "asr"

/**
 * The model line a known id belongs to: `pro` (long-context text), `omni`
 * (text, image, audio and video input), `flash` (fast text), `tts`, `asr`.
 *
 * @since 0.1.0
 * @category models
 */
export type Family = "pro" | "omni" | "flash" | "tts" | "asr"

/**
 * A kind of input a model takes. A user content part maps to one:
 * `text` → text, `image_url` → image, `input_audio` → audio, `video_url` → video.
 *
 * @since 0.1.0
 * @category models
 */
export type Input = "text" | "image" | "audio" | "video"

/**
 * The ids of the models this client knows (Xiaomi's list, §2).
 *
 * @since 0.1.0
 * @category models
 */
export type KnownId =
  | "mimo-v2.5-pro"
  | "mimo-v2-pro"
  | "mimo-v2.5"
  | "mimo-v2-omni"
  | "mimo-v2-flash"
  | "mimo-v2.5-tts"
  | "mimo-v2.5-tts-voicedesign"
  | "mimo-v2.5-tts-voiceclone"
  | "mimo-v2-tts"
  | "mimo-v2.5-asr"

/**
 * A model id: one of the known ids, or any other string (ids not known to this
 * client are passed through; see `Validation.Profile.allowUnknownModels`).
 *
 * @since 0.1.0
 * @category models
 */
export type Id = KnownId | (string & {})

/**
 * How a TTS model takes its `audio.voice`: from a fixed list (`preset`), as a
 * base64 audio sample that is required (`clone`), or not at all (`none`:
 * voicedesign describes the voice in a user message instead).
 *
 * @since 0.1.0
 * @category models
 */
export type VoiceMode = "preset" | "clone" | "none"

/**
 * The facts about one model, as data. Token figures use K = 1024, M = 1024 K
 * (the documented default of 131072 for a "128K" output makes that explicit).
 * `undefined` means "not applicable" or "not documented".
 *
 * @since 0.1.0
 * @category models
 */
export interface Info {
  readonly id: KnownId
  readonly kind: Kind
  readonly family: Family
  /** The model generation: `v2` or `v2.5`. */
  readonly generation: "v2" | "v2.5"
  /** What the model accepts in messages. */
  readonly inputs: ReadonlyArray<Input>
  /** What the model returns: `text` (with reasoning for text models) or `audio` (TTS). */
  readonly output: "text" | "audio"
  /** Whether it accepts image, audio or video parts (only mimo-v2.5 and mimo-v2-omni among chat models). */
  readonly multimodal: boolean
  /** Context window in tokens. */
  readonly contextTokens: number | undefined
  /** Largest output in tokens (reasoning plus answer). */
  readonly maxOutputTokens: number | undefined
  /** What the server uses when `max_completion_tokens` is left out. */
  readonly defaultMaxCompletionTokens: number | undefined
  /** Whether thinking is on when `thinking` is left out; `undefined` for TTS and ASR. */
  readonly thinkingDefault: "enabled" | "disabled" | undefined
  /** The server's temperature when none is sent. */
  readonly defaultTemperature: number | undefined
  /**
   * With thinking on, the server ignores `temperature` and `top_p` for this
   * model (it uses 1.0 and 0.95).
   */
  readonly thinkingOverridesSampling: boolean
  /** Streaming, function tools, JSON mode and web search (all text models). */
  readonly supportsTools: boolean
  /** Whether `thinking` may be sent. */
  readonly supportsThinking: boolean
  /** How `audio.voice` is given (TTS only; `undefined` otherwise). */
  readonly voiceMode: VoiceMode | undefined
  /** The preset voices of a TTS model; the first is the default. Empty when not applicable. */
  readonly voices: ReadonlyArray<string>
}

const K = 1024
const M = 1024 * K

const text = (
  id: KnownId,
  family: "pro" | "omni" | "flash",
  generation: "v2" | "v2.5",
  contextTokens: number,
  maxOutputTokens: number,
  defaultMaxCompletionTokens: number,
  thinkingDefault: "enabled" | "disabled",
  defaultTemperature: number
): Info => {
  const multimodal = family === "omni"
  return {
    id,
    kind: "text",
    family,
    generation,
    inputs: multimodal ? ["text", "image", "audio", "video"] : ["text"],
    output: "text",
    multimodal,
    contextTokens,
    maxOutputTokens,
    defaultMaxCompletionTokens,
    thinkingDefault,
    defaultTemperature,
    thinkingOverridesSampling: family !== "flash",
    supportsTools: true,
    supportsThinking: true,
    voiceMode: undefined,
    voices: []
  }
}

const tts = (
  id: KnownId,
  generation: "v2" | "v2.5",
  voiceMode: VoiceMode,
  voices: ReadonlyArray<string>
): Info => ({
  id,
  kind: "tts",
  family: "tts",
  generation,
  inputs: ["text"],
  output: "audio",
  multimodal: false,
  contextTokens: 8 * K,
  maxOutputTokens: 8 * K,
  defaultMaxCompletionTokens: 8192,
  thinkingDefault: undefined,
  defaultTemperature: 0.6,
  thinkingOverridesSampling: false,
  supportsTools: false,
  supportsThinking: false,
  voiceMode,
  voices
})

/**
 * The preset voices of `mimo-v2.5-tts`: `mimo_default` (the default), four
 * Chinese voices (冰糖 and 茉莉 female, 苏打 and 白桦 male) and four English ones
 * (Mia and Chloe female, Milo and Dean male).
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.voicesV25.includes("Mia") // true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const voicesV25: ReadonlyArray<string> = [
  "mimo_default",
  "冰糖",
  "茉莉",
  "苏打",
  "白桦",
  "Mia",
  "Chloe",
  "Milo",
  "Dean"
]

/**
 * The preset voices of `mimo-v2-tts`: `mimo_default` (the default), `default_zh`, `default_en`.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.voicesV2[0] // "mimo_default"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const voicesV2: ReadonlyArray<string> = ["mimo_default", "default_zh", "default_en"]

/**
 * Every known model, in the order of Xiaomi's table.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.known.filter((m) => m.multimodal).map((m) => m.id) // ["mimo-v2.5", "mimo-v2-omni"]
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const known: ReadonlyArray<Info> = [
  text("mimo-v2.5-pro", "pro", "v2.5", 1 * M, 128 * K, 131072, "enabled", 1.0),
  text("mimo-v2-pro", "pro", "v2", 1 * M, 128 * K, 131072, "enabled", 1.0),
  text("mimo-v2.5", "omni", "v2.5", 1 * M, 128 * K, 32768, "enabled", 1.0),
  text("mimo-v2-omni", "omni", "v2", 256 * K, 128 * K, 32768, "enabled", 1.0),
  text("mimo-v2-flash", "flash", "v2", 256 * K, 64 * K, 65536, "disabled", 0.3),
  tts("mimo-v2.5-tts", "v2.5", "preset", voicesV25),
  tts("mimo-v2.5-tts-voicedesign", "v2.5", "none", []),
  tts("mimo-v2.5-tts-voiceclone", "v2.5", "clone", []),
  tts("mimo-v2-tts", "v2", "preset", voicesV2),
  {
    id: "mimo-v2.5-asr",
    kind: "asr",
    family: "asr",
    generation: "v2.5",
    inputs: ["audio", "text"],
    output: "text",
    multimodal: false,
    contextTokens: undefined,
    maxOutputTokens: undefined,
    defaultMaxCompletionTokens: undefined,
    thinkingDefault: undefined,
    defaultTemperature: undefined,
    thinkingOverridesSampling: false,
    supportsTools: false,
    supportsThinking: false,
    voiceMode: undefined,
    voices: []
  }
]

/**
 * The known ids, in the order of `known`.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.knownIds.length // 10
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const knownIds: ReadonlyArray<KnownId> = known.map((m) => m.id)

const byId: ReadonlyMap<string, Info> = new Map(known.map((m) => [m.id, m]))

/**
 * The facts about a model, or `Option.none()` for an id this client does not know.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 * import { Option } from "effect"
 *
 * Model.info("mimo-v2-flash").pipe(Option.map((m) => m.maxOutputTokens)) // Option.some(65536)
 * Model.info("gpt-4o") // Option.none()
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const info = (id: string): Option.Option<Info> => Option.fromNullable(byId.get(id))

/**
 * Whether an id is one of the known ids.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.isKnown("mimo-v2.5-pro") // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isKnown = (id: string): id is KnownId => byId.has(id)

/**
 * The kind of a model; unknown ids are taken as `text` models.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * Model.kindOf("mimo-v2.5-tts") // "tts"
 * Model.kindOf("mimo-v2.6-pro") // "text"
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const kindOf = (id: string): Kind => byId.get(id)?.kind ?? "text"

const lenient = { parseOptions: { onExcessProperty: "preserve" } } as const

/**
 * One entry of `GET /models`: `{"id", "object":"model", "owned_by"}`. Decodes
 * leniently: `object` and `owned_by` may be absent or null, other fields
 * (e.g. `created`) pass through.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 *
 * declare const list: Model.ModelList
 * const owners = list.data.map((m: Model.ModelObject) => m.owned_by)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelObject = Schema.Struct({
  id: Schema.String,
  object: Schema.optional(Schema.NullOr(Schema.String)),
  created: Schema.optional(Schema.NullOr(Schema.Number)),
  owned_by: Schema.optional(Schema.NullOr(Schema.String))
}).annotations({ identifier: "ModelObject", ...lenient })

/**
 * @since 0.1.0
 * @category models
 */
export type ModelObject = typeof ModelObject.Type

/**
 * The body of `GET /models`: `{"object":"list","data":[…]}`. Lenient: unknown
 * fields are kept and `object` is any string.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * const list = Schema.decodeUnknownSync(Model.ModelList)({
 *   object: "list",
 *   data: [{ id: "mimo-v2.5-pro", object: "model", owned_by: "xiaomi" }]
 * })
 * list.data[0].id // "mimo-v2.5-pro"
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ModelList = Schema.Struct({
  object: Schema.optional(Schema.NullOr(Schema.String)),
  data: Schema.Array(ModelObject)
}).annotations({ identifier: "ModelList", ...lenient })

/**
 * @since 0.1.0
 * @category models
 */
export type ModelList = typeof ModelList.Type

/**
 * Decodes a `GET /models` body (already parsed JSON), keeping unknown fields.
 *
 * @example
 * ```ts
 * import { Model } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const ids = Model.decodeModelList({ object: "list", data: [{ id: "mimo-v2-flash" }] }).pipe(
 *   Effect.map((list) => list.data.map((m) => m.id))
 * )
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeModelList: (u: unknown) => Effect.Effect<ModelList, ParseResult.ParseError> = Schema
  .decodeUnknown(ModelList)
