/**
 * @since 0.1.0
 */

/**
 * MiMo as an `@effect/ai` `LanguageModel`.
 *
 * @since 0.1.0
 */
export * as MimoLanguageModel from "./MimoLanguageModel.js"

/**
 * MiMo's built-in tools (web search) as provider-defined tools.
 *
 * @since 0.1.0
 */
export * as MimoTool from "./MimoTool.js"

/**
 * MiMo's errors on both sides of the `AiError` boundary.
 *
 * @since 0.1.0
 */
export * as MimoAiError from "./MimoAiError.js"
