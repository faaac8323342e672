/**
 * MiMo as an `@effect/ai` `LanguageModel`.
 *
 * The model runs on `@effect-mimo/core`'s `MimoClient`: `generateText` and
 * `generateObject` call `MimoClient.chat`, `streamText` calls
 * `MimoClient.stream`. Everything below the `AiError` boundary stays the
 * client's: local validation (nothing invalid is sent), the retry Schedule
 * with `Retry-After`, and any decorator layered onto the client (rate limit,
 * retry budget, circuit breaker). Every `MimoError` arrives as the matching
 * `AiError`; `MimoAiError.toMimoError` turns it back.
 *
 * What the provider does for MiMo:
 * - the prompt becomes MiMo messages: text, image, audio and video files as
 *   MiMo content parts (bytes as data URLs); assistant reasoning always goes
 *   back as `reasoning_content` (MiMo's replay rule in thinking mode); tool
 *   results as string `tool` messages;
 * - toolkit tools become function tools (names checked before sending), and
 *   `MimoTool.WebSearch` MiMo's built-in web search; `toolChoice` `"auto"`,
 *   `"none"` (no tools are sent) and `{ oneOf }` are honoured, anything MiMo
 *   would silently ignore (`"required"`, a named tool) is a `MalformedInput`;
 * - `generateObject` sends `response_format: json_object` plus the JSON Schema
 *   as an instruction, and decodes the answer with the Schema: an answer that
 *   does not conform is a `MalformedOutput` carrying the text
 *   (`MimoAiError.structuredOutput`);
 * - tool call arguments that are not valid JSON are a `MalformedOutput`
 *   carrying the whole turn (`MimoAiError.malformedToolCall`), which
 *   `MimoAiError.toolCallFeedback` turns into messages a tool loop sends back;
 * - response parts: text, reasoning, tool calls, URL sources from web search
 *   annotations, the finish reason (`repetition_truncation` is `"other"`, the
 *   raw value in `metadata.mimo.finishReason`) and usage (input, output,
 *   reasoning and cached tokens);
 * - spans carry the OpenTelemetry GenAI attributes (`gen_ai.system` `"mimo"`,
 *   `gen_ai.request.model`, `gen_ai.usage.input_tokens`, …).
 *
 * @since 0.1.0
 */
import type { ChatCompletion, MimoClient } from "@effect-mimo/core"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as AiModel from "@effect/ai/Model"
import * as Config_ from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import type { Simplify } from "effect/Types"
import * as internal from "./internal/languageModel.js"

// -----------------------------------------------------------------------------
// provider options and metadata
// -----------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category provider options
 */
declare module "@effect/ai/Prompt" {
  export interface ToolCallPartOptions extends ProviderOptions {
    readonly mimo?: {
      /**
       * The arguments exactly as MiMo sent them, sent back instead of the
       * JSON of `params` (set by `MimoAiError.toolCallFeedback` for arguments
       * that were not valid JSON).
       */
      readonly rawArguments?: string | undefined
    } | undefined
  }
}

/**
 * @since 0.1.0
 * @category provider metadata
 */
declare module "@effect/ai/Response" {
  export interface FinishPartMetadata extends ProviderMetadata {
    readonly mimo?: {
      /** MiMo's own `finish_reason` (e.g. `repetition_truncation`, reported as `"other"`). */
      readonly finishReason?: string | undefined
      /** `message.error_message`, sent with web search failures. */
      readonly errorMessage?: string | undefined
      /** `usage.web_search_usage`. */
      readonly webSearchUsage?: unknown
    } | undefined
  }

  export interface UrlSourcePartMetadata extends ProviderMetadata {
    readonly mimo?: {
      readonly summary?: string | undefined
      readonly siteName?: string | undefined
      readonly publishTime?: string | undefined
    } | undefined
  }
}

/**
 * Request settings for every call of a model (given to {@link model} /
 * {@link layer}) or for a part of a program ({@link withConfigOverride}).
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 *
 * const answer = LanguageModel.generateText({ prompt: "Hello" }).pipe(
 *   MimoLanguageModel.withConfigOverride({ temperature: 0.2, thinking: { type: "disabled" } })
 * )
 * ```
 *
 * @since 0.1.0
 * @category context
 */
export class Config extends Context.Tag(internal.configKey)<Config, Config.Service>() {
  /**
   * The settings in context, if any.
   *
   * @since 0.1.0
   */
  static readonly getOrUndefined: Effect.Effect<Config.Service | undefined> = internal.getConfig
}

/**
 * @since 0.1.0
 * @category context
 */
export declare namespace Config {
  /**
   * The fields of a MiMo chat request that are not built from the prompt
   * (`max_completion_tokens`, `temperature`, `top_p`, `stop`, penalties,
   * `thinking`, `extra_body`), plus `callOptions`: the `MimoClient` call
   * options (retry Schedule, timeout, deadline, headers, `onRetry`).
   *
   * @example
   * ```ts
   * import type { MimoLanguageModel } from "@effect-mimo/ai"
   *
   * const config: MimoLanguageModel.Config.Service = {
   *   max_completion_tokens: 2048,
   *   thinking: { type: "enabled" },
   *   callOptions: { timeout: "30 seconds" }
   * }
   * ```
   *
   * @since 0.1.0
   * @category context
   */
  export interface Service extends
    Simplify<
      Partial<
        Omit<
          ChatCompletion.Request,
          "messages" | "tools" | "tool_choice" | "stream" | "response_format" | "audio" | "asr_options"
        >
      > & {
        readonly callOptions?: MimoClient.CallOptions | undefined
      }
    >
  {}
}

/**
 * A MiMo model as an `@effect/ai` `Model`: provide it to a program that uses
 * `LanguageModel`, with a `MimoClient` layer below.
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import { Effect } from "effect"
 *
 * const Flash = MimoLanguageModel.model("mimo-v2-flash", { max_completion_tokens: 1024 })
 *
 * const program = LanguageModel.generateText({ prompt: "Say hello" }).pipe(
 *   Effect.provide(Flash),
 *   Effect.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const model = (
  model: string,
  config?: Omit<Config.Service, "model">
): AiModel.Model<"mimo", LanguageModel.LanguageModel, MimoClient.MimoClient> =>
  AiModel.make("mimo", layer({ model, config }))

/**
 * Builds the `LanguageModel` service over the `MimoClient` in context.
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import { Layer } from "effect"
 *
 * const service = MimoLanguageModel.make({ model: "mimo-v2-flash" })
 * const layer = Layer.effect(LanguageModel.LanguageModel, service)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: {
  readonly model: string
  readonly config?: Omit<Config.Service, "model"> | undefined
}) => Effect.Effect<LanguageModel.Service, never, MimoClient.MimoClient> = internal.make

/**
 * The `LanguageModel` as a layer over the `MimoClient`.
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer } from "effect"
 *
 * const MimoLive = MimoLanguageModel.layer({ model: "mimo-v2.5-pro" }).pipe(
 *   Layer.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: {
  readonly model: string
  readonly config?: Omit<Config.Service, "model"> | undefined
}): Layer.Layer<LanguageModel.LanguageModel, never, MimoClient.MimoClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/**
 * The `LanguageModel` with its model read from configuration: `MIMO_MODEL`
 * (default `mimo-v2-flash`).
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 *
 * const MimoLive = MimoLanguageModel.layerConfig({ max_completion_tokens: 1024 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config?: Omit<Config.Service, "model">
): Layer.Layer<LanguageModel.LanguageModel, ConfigError.ConfigError, MimoClient.MimoClient> =>
  Layer.unwrapEffect(
    Effect.map(
      Config_.string("MIMO_MODEL").pipe(Config_.withDefault("mimo-v2-flash")),
      (model) => layer({ model, config })
    )
  )

/**
 * Overrides the request settings for the effects it wraps (merged over the
 * settings in context, which win over the model's own).
 *
 * @example
 * ```ts
 * import { MimoLanguageModel } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 *
 * const precise = LanguageModel.generateText({ prompt: "2 + 2 = ?" }).pipe(
 *   MimoLanguageModel.withConfigOverride({ temperature: 0 })
 * )
 * ```
 *
 * @since 0.1.0
 * @category configuration
 */
export const withConfigOverride: {
  (config: Config.Service): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, config: Config.Service): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, config: Config.Service): Effect.Effect<A, E, R> =>
    internal.withConfigOverride(self, config, Config)
)
