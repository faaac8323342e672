/**
 * Local validation: a request is checked **before** anything is sent, and a
 * bad one fails with a `MimoError.ValidationError` that names the field, the
 * value and what is allowed, e.g.
 * `temperature: 3 is outside the allowed range [0, 1.5] (profile xiaomi)`.
 *
 * The ranges differ between hosts (`mimo-api.md` §8), so they are data: a
 * `Profile`. `xiaomi` holds Xiaomi's documented ranges ([X]) and is the
 * default; `mimoV2` holds mimo-v2.com's ([V2]); `profileFor(baseUrl)` picks
 * one by host. The two disagree:
 *
 * | | xiaomi [X] | mimoV2 [V2] |
 * |---|---|---|
 * | temperature | [0, 1.5] | [0, 2] |
 * | top_p | [0.01, 1] | [0, 1] |
 * | max_completion_tokens, Pro/Omni | [1, 131072] | [1024, 128000] |
 * | max_completion_tokens, Flash | [1, 65536] | [1024, 64000] |
 * | max_completion_tokens, TTS | [1, 8192] | [1, 8192] |
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as ChatCompletion from "./ChatCompletion.js"
import * as internal from "./internal/validation.js"
import type * as MimoError from "./MimoError.js"
import * as Model from "./Model.js"

/**
 * An inclusive numeric range `[min, max]`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Range {
  readonly min: number
  readonly max: number
}

/**
 * The limits a request is checked against, as data. Make your own by
 * spreading a built-in one, e.g. `{ ...Validation.xiaomi, allowUnknownModels: true }`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Profile {
  /** Shown in messages: `(profile xiaomi)`. */
  readonly name: string
  readonly temperature: Range
  readonly topP: Range
  /** For `frequency_penalty` and `presence_penalty`. */
  readonly penalty: Range
  /** The `max_completion_tokens` range per model kind (unknown models count as `text`). */
  readonly maxCompletionTokens: { readonly [K in Model.Kind]: Range }
  /** Per-model `max_completion_tokens` ranges; they take precedence over the kind's range. */
  readonly maxCompletionTokensByModel: Readonly<Record<string, Range>>
  /** The most `stop` sequences allowed. */
  readonly stopMax: number
  /** The model ids this host serves. */
  readonly knownModels: ReadonlyArray<string>
  /**
   * Whether a model id outside `knownModels` is sent anyway (as a text model,
   * with the kind's ranges and no multimodal check). New ids and aliases
   * (`mimo-v2.6-pro`, `mimo-v2.5-pro[1m]`) appear before clients know them.
   */
  readonly allowUnknownModels: boolean
  /**
   * The `tool_choice` values this host honours (default `["auto"]`); any other
   * is refused locally, since the server would silently treat it as `auto`.
   */
  readonly toolChoices?: ReadonlyArray<ToolChoiceKind> | undefined
}

/**
 * A kind of `tool_choice`: `"auto"`, `"none"`, `"required"`, or
 * `"function"` for a named function (`{type: "function", function: {name}}`).
 *
 * @example
 * ```ts
 * import type { Validation } from "@effect-mimo/core"
 *
 * const kinds: ReadonlyArray<Validation.ToolChoiceKind> = ["auto", "none", "function"]
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type ToolChoiceKind = "auto" | "none" | "required" | "function"

const range = (min: number, max: number): Range => ({ min, max })

/**
 * Xiaomi's documented ranges ([X], `api.xiaomimimo.com` and the Token Plan
 * hosts): temperature [0, 1.5], top_p [0.01, 1], penalties [-2, 2],
 * max_completion_tokens [1, 131072] capped per model by its max output
 * (mimo-v2-flash 65536), TTS [1, 8192]; up to 4 stop sequences; the ten known
 * models; `tool_choice` `"auto"` only (Xiaomi silently treats any other value
 * as `auto`). Unknown ids shaped like MiMo's are sent with a warning, others
 * are rejected (set `allowUnknownModels` to send them).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.xiaomi.temperature // { min: 0, max: 1.5 }
 * Validation.xiaomi.maxCompletionTokensByModel["mimo-v2-flash"] // { min: 1, max: 65536 }
 * ```
 *
 * @since 0.1.0
 * @category profiles
 */
export const xiaomi: Profile = {
  name: "xiaomi",
  temperature: range(0, 1.5),
  topP: range(0.01, 1),
  penalty: range(-2, 2),
  maxCompletionTokens: { text: range(1, 131072), tts: range(1, 8192), asr: range(1, 131072) },
  maxCompletionTokensByModel: Object.fromEntries(
    Model.known.flatMap((m) => m.maxOutputTokens === undefined ? [] : [[m.id, range(1, m.maxOutputTokens)] as const])
  ),
  stopMax: 4,
  knownModels: Model.knownIds,
  allowUnknownModels: false,
  toolChoices: ["auto"]
}

/**
 * mimo-v2.com's documented ranges ([V2], `api.mimo-v2.com`): temperature
 * [0, 2], top_p [0, 1], penalties [-2, 2], max_completion_tokens
 * [1024, 128000] for Pro and Omni and [1024, 64000] for Flash (Xiaomi says
 * [1, 131072] and 65536: the hosts disagree, hence two profiles), TTS
 * [1, 8192]; the models it lists: mimo-v2-pro, mimo-v2-omni, mimo-v2-flash and
 * the v2.5 TTS models; `tool_choice` `"auto"`, `"none"` or a named function.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.mimoV2.maxCompletionTokensByModel["mimo-v2-flash"] // { min: 1024, max: 64000 }
 * ```
 *
 * @since 0.1.0
 * @category profiles
 */
export const mimoV2: Profile = {
  name: "mimo-v2",
  temperature: range(0, 2),
  topP: range(0, 1),
  penalty: range(-2, 2),
  maxCompletionTokens: { text: range(1024, 128000), tts: range(1, 8192), asr: range(1, 128000) },
  maxCompletionTokensByModel: {
    "mimo-v2-pro": range(1024, 128000),
    "mimo-v2-omni": range(1024, 128000),
    "mimo-v2-flash": range(1024, 64000)
  },
  stopMax: 4,
  knownModels: [
    "mimo-v2-pro",
    "mimo-v2-omni",
    "mimo-v2-flash",
    "mimo-v2.5-tts",
    "mimo-v2.5-tts-voicedesign",
    "mimo-v2.5-tts-voiceclone"
  ],
  allowUnknownModels: false,
  toolChoices: ["auto", "none", "function"]
}

/**
 * The profile for a base URL: `mimoV2` for `api.mimo-v2.com` (and its
 * subdomains), `xiaomi` for everything else (Xiaomi's hosts, the Token Plan
 * hosts, a simulator, an unparsable URL).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.profileFor("https://api.mimo-v2.com/v1").name // "mimo-v2"
 * Validation.profileFor("https://token-plan-sgp.xiaomimimo.com/v1").name // "xiaomi"
 * ```
 *
 * @since 0.1.0
 * @category profiles
 */
export const profileFor = (baseUrl: string | URL): Profile => internal.isMimoV2Host(baseUrl) ? mimoV2 : xiaomi

/**
 * The rule for function tool names: 1–64 characters of `[A-Za-z0-9_-]`.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.toolNamePattern.test("get_weather") // true
 * Validation.toolNamePattern.test("get weather") // false
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const toolNamePattern: RegExp = internal.toolNamePattern

/**
 * Whether a model id is shaped like MiMo's: `mimo-v<major>[.<minor>]`, then
 * `-<variant>` parts, then at most one `[<suffix>]`, lower case, at most 64
 * characters. Such ids (`mimo-v2.6-pro`, `mimo-v2.5-pro-ultraspeed`,
 * `mimo-v2.5-pro[1m]`) appear before clients know them, so
 * {@link validateChatRequest} sends them, as text models, with a warning.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.looksLikeMimoModel("mimo-v2.5-pro[1m]") // true
 * Validation.looksLikeMimoModel("gpt-4o") // false
 * ```
 *
 * @since 0.2.0
 * @category validation
 */
export const looksLikeMimoModel: (id: string) => boolean = internal.looksLikeMimoModel

/**
 * The fields `extra_body` may not carry: every field `ChatCompletion.Request`
 * types (`model`, `messages`, `stream`, `temperature`, ... and `extra_body`
 * itself), plus `n`, `max_tokens` and `__proto__`. Set typed fields directly,
 * where they are checked; `extra_body` is for what the request does not type
 * (e.g. `stream_options`).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * Validation.reservedExtraBodyFields.includes("stream") // true
 * Validation.reservedExtraBodyFields.includes("stream_options") // false
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const reservedExtraBodyFields: ReadonlyArray<string> = internal.reservedExtraBodyFields

/**
 * Checks a chat request before it is sent, and returns it decoded (fields the
 * Schema does not know are dropped; `extra_body` is kept). It fails with a
 * `ValidationError` on the first of:
 *
 * - anything structurally wrong (a wrong type, a missing field, an unknown
 *   part type), named by its path, e.g. `messages[0].content[1].type`;
 * - an unknown model, unless it is shaped like MiMo's
 *   ({@link looksLikeMimoModel}: sent as a text model, with a warning logged)
 *   or `profile.allowUnknownModels`;
 * - `extra_body` setting a field the request types or another
 *   {@link reservedExtraBodyFields} one (e.g. `extra_body.stream`), so the
 *   body actually sent is the body checked; `extra_body` or a tool's
 *   `parameters` holding what is not JSON (a bigint, a function, NaN, a cycle,
 *   nesting deeper than 64);
 * - missing or empty `messages`; a message with a missing or unknown `role`;
 *   a `tool` message without `tool_call_id`; an `assistant` message with
 *   neither `content` nor `tool_calls`;
 * - `temperature`, `top_p`, `frequency_penalty`, `presence_penalty` or
 *   `max_completion_tokens` outside the profile's range (NaN and infinities
 *   included; `max_completion_tokens` must be an integer); more than
 *   `stopMax` stop sequences; a bad tool name; web search `max_keyword` or
 *   `limit` outside 1–50; a video `fps` outside 0.1–10;
 * - an image, audio or video part sent to a model that does not take it;
 * - thinking mode on (`thinking: {type: "enabled"}`, or left out for a model
 *   whose default is on: mimo-v2.5-pro, mimo-v2-pro, mimo-v2.5, mimo-v2-omni
 *   and their aliases) with an assistant message that has `tool_calls` but no
 *   `reasoning_content` (the server answers 400): the field names the
 *   message, e.g. `messages[1].reasoning_content`;
 * - a `tool_choice` the host does not honour (`profile.toolChoices`; Xiaomi:
 *   `"auto"` only; `"required"` nowhere);
 * - for TTS models: `tools`, `tool_choice`, `thinking`, `response_format` or
 *   `stop`; no assistant message (the text to speak; voicedesign with
 *   `optimize_text_preview` may leave it out); voiceclone without
 *   `audio.voice`; voicedesign without a user message, or with `audio.voice`.
 *
 * Allowed but logged once per process (`Effect.logWarning`): an unknown
 * model sent anyway, and `temperature` / `top_p` that the model ignores with
 * thinking on.
 *
 * It never dies: any input, however malformed, succeeds or fails with a
 * `ValidationError`.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const program = Validation.validateChatRequest({
 *   model: "mimo-v2.5-pro",
 *   messages: [{ role: "user", content: "hi" }],
 *   temperature: 3
 * }).pipe(Effect.catchTag("ValidationError", (e) => Effect.succeed(e.message)))
 * // "temperature: 3 is outside the allowed range [0, 1.5] (profile xiaomi)"
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validateChatRequest = (
  request: unknown,
  profile: Profile = xiaomi
): Effect.Effect<ChatCompletion.Request, MimoError.ValidationError> => internal.validateChatRequest(request, profile)

/**
 * Checks an API key: an empty or all-whitespace key fails with a
 * `ValidationError` on field `apiKey`, whose value is `<redacted>` (the key
 * itself never appears in an error).
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * Validation.validateApiKey(Redacted.make("   ")) // fails: "apiKey: the API key is empty ..."
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validateApiKey: (
  key: Redacted.Redacted<string>
) => Effect.Effect<Redacted.Redacted<string>, MimoError.ValidationError> = internal.validateApiKey

/**
 * Checks a text-to-speech input (`ChatCompletion.SpeechInput`) and returns the
 * chat request it builds (`ChatCompletion.speechRequest`), itself checked by
 * `validateChatRequest`. Fails on the speech input's own fields first: a
 * model that is not a TTS model, empty `text` (unless voicedesign with
 * `optimizeTextPreview`), voicedesign without `instructions` or with `style`
 * or `voice`, voiceclone without `voice`.
 *
 * @example
 * ```ts
 * import { Validation } from "@effect-mimo/core"
 *
 * const request = Validation.validateSpeechRequest({ text: "Hello!", voice: "Mia", format: "mp3" })
 * ```
 *
 * @since 0.1.0
 * @category validation
 */
export const validateSpeechRequest = (
  input: unknown,
  profile: Profile = xiaomi
): Effect.Effect<ChatCompletion.Request, MimoError.ValidationError> => internal.validateSpeechRequest(input, profile)
