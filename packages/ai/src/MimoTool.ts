/**
 * MiMo's built-in tools, as `@effect/ai` provider-defined tools.
 *
 * @since 0.1.0
 */
import { ChatCompletion } from "@effect-mimo/core"
import * as Tool from "@effect/ai/Tool"
import * as Schema from "effect/Schema"
import { webSearchId } from "./internal/prompt.js"

/**
 * Where the user is, to localize web search results: core's
 * `ChatCompletion.UserLocation`, the field as it is sent.
 *
 * @example
 * ```ts
 * import { MimoTool } from "@effect-mimo/ai"
 *
 * const here: typeof MimoTool.UserLocation.Type = { type: "approximate", country: "China", city: "Wuhan" }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const UserLocation: typeof ChatCompletion.UserLocation = ChatCompletion.UserLocation

/**
 * MiMo's web search (the Web Search plugin must be enabled in the MiMo
 * console). MiMo runs the search itself: there is no tool call to handle;
 * the pages it read come back as URL `source` parts of the response.
 * `maxKeyword` and `limit` are 1–50 (default 5), checked before sending.
 *
 * @example
 * ```ts
 * import { MimoTool } from "@effect-mimo/ai"
 * import * as LanguageModel from "@effect/ai/LanguageModel"
 * import * as Toolkit from "@effect/ai/Toolkit"
 * import { Effect } from "effect"
 *
 * const Search = Toolkit.make(MimoTool.WebSearch({ limit: 3 }))
 *
 * const program = Effect.gen(function*() {
 *   const toolkit = yield* Search
 *   const response = yield* LanguageModel.generateText({ prompt: "What happened in Wuhan today?", toolkit })
 *   return response.content.filter((part) => part.type === "source")
 * })
 * ```
 *
 * @since 0.1.0
 * @category tools
 */
export const WebSearch = Tool.providerDefined({
  id: webSearchId,
  toolkitName: "MimoWebSearch",
  providerName: "web_search",
  args: {
    forceSearch: Schema.optional(Schema.Boolean),
    maxKeyword: Schema.optional(Schema.Int),
    limit: Schema.optional(Schema.Int),
    userLocation: Schema.optional(UserLocation)
  }
})
