/**
 * The `@effect/ai` prompt and tools as MiMo request fields.
 *
 * @internal
 */
import { ChatCompletion, Model, Validation } from "@effect-mimo/core"
import * as AiError from "@effect/ai/AiError"
import type * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Prompt from "@effect/ai/Prompt"
import * as Tool from "@effect/ai/Tool"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { moduleName } from "./errors.js"

/** The id of MiMo's web search as a provider-defined tool. */
export const webSearchId = "mimo.web_search"

const malformedInput = (method: string, description: string) =>
  new AiError.MalformedInput({ module: moduleName, method, description })

const dataUrl = (mediaType: string, data: string | Uint8Array | URL): string =>
  data instanceof URL
    ? data.toString()
    : data instanceof Uint8Array
    ? `data:${mediaType};base64,${Encoding.encodeBase64(data)}`
    : /^(data:|https?:\/\/)/i.test(data)
    ? data
    : `data:${mediaType};base64,${data}`

const filePart = (
  part: Prompt.FilePart,
  at: string
): Effect.Effect<ChatCompletion.UserContentPart, AiError.MalformedInput> => {
  const mediaType = part.mediaType.toLowerCase()
  if (mediaType.startsWith("image/")) {
    const type = mediaType === "image/*" ? "image/jpeg" : mediaType
    return Effect.succeed({ type: "image_url", image_url: { url: dataUrl(type, part.data) } })
  }
  if (mediaType.startsWith("audio/")) {
    const type = mediaType === "audio/*" ? "audio/wav" : mediaType
    return Effect.succeed({ type: "input_audio", input_audio: { data: dataUrl(type, part.data) } })
  }
  if (mediaType.startsWith("video/")) {
    const type = mediaType === "video/*" ? "video/mp4" : mediaType
    return Effect.succeed({ type: "video_url", video_url: { url: dataUrl(type, part.data) } })
  }
  return Effect.fail(
    malformedInput(
      "prepareMessages",
      `${at}: MiMo takes image, audio and video files only, not ${part.mediaType}`
    )
  )
}

const stringify = (value: unknown, at: string): Effect.Effect<string, AiError.MalformedInput> =>
  typeof value === "string"
    ? Effect.succeed(value)
    : Effect.try({
      try: () => JSON.stringify(value) ?? "null",
      catch: (cause) =>
        new AiError.MalformedInput({
          module: moduleName,
          method: "prepareMessages",
          description: `${at}: the tool result cannot be written as JSON`,
          cause
        })
    })

/** Whether a request with these settings runs with thinking on. */
export const thinkingOn = (model: string, thinking: ChatCompletion.Thinking | undefined): boolean =>
  thinking !== undefined
    ? thinking.type === "enabled"
    : Option.exists(Model.info(model), (info) => info.thinkingDefault === "enabled")

/**
 * The prompt as MiMo messages. Reasoning parts of assistant messages are
 * always sent back as `reasoning_content`; with thinking on, an assistant
 * message with tool calls and no reasoning is refused here (MiMo would answer
 * 400 for it).
 */
export const messages = (
  prompt: Prompt.Prompt,
  thinking: boolean
): Effect.Effect<Array<ChatCompletion.Message>, AiError.MalformedInput> =>
  Effect.gen(function*() {
    const out: Array<ChatCompletion.Message> = []
    for (let i = 0; i < prompt.content.length; i++) {
      const message = prompt.content[i]
      const at = `prompt.content[${i}]`
      switch (message.role) {
        case "system": {
          out.push({ role: "system", content: message.content })
          break
        }
        case "user": {
          const parts: Array<ChatCompletion.UserContentPart> = []
          for (let j = 0; j < message.content.length; j++) {
            const part = message.content[j]
            parts.push(
              part.type === "text"
                ? { type: "text", text: part.text }
                : yield* filePart(part, `${at}.content[${j}]`)
            )
          }
          const onlyText = parts.every((p) => p.type === "text")
          out.push({
            role: "user",
            content: onlyText ? parts.map((p) => p.type === "text" ? p.text : "").join("") : parts
          })
          break
        }
        case "assistant": {
          let text = ""
          let reasoning = ""
          const toolCalls: Array<ChatCompletion.ToolCall> = []
          for (const part of message.content) {
            switch (part.type) {
              case "text":
                text += part.text
                break
              case "reasoning":
                reasoning += part.text
                break
              case "tool-call": {
                if (part.providerExecuted) break
                const raw = part.options.mimo?.rawArguments
                toolCalls.push({
                  id: part.id,
                  type: "function",
                  function: {
                    name: part.name,
                    arguments: raw ?? (yield* stringify(part.params, `${at} (tool call ${part.id})`))
                  }
                })
                break
              }
              case "tool-result":
                // Results of tools MiMo ran itself (web search) are not sent back.
                break
              case "file":
                return yield* malformedInput("prepareMessages", `${at}: MiMo takes no files in assistant messages`)
            }
          }
          if (thinking && toolCalls.length > 0 && reasoning === "") {
            return yield* malformedInput(
              "prepareMessages",
              `${at}: with thinking on, MiMo needs the reasoning of every assistant message with tool calls ` +
                "(send the reasoning parts of the response back, or turn thinking off)"
            )
          }
          out.push({
            role: "assistant",
            // A string even when empty: some deployments reject a null content.
            content: text,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            ...(reasoning !== "" ? { reasoning_content: reasoning } : {})
          })
          break
        }
        case "tool": {
          for (const part of message.content) {
            if (part.providerExecuted) continue
            out.push({
              role: "tool",
              tool_call_id: part.id,
              content: yield* stringify(part.result, `${at} (result of ${part.id})`)
            })
          }
          break
        }
      }
    }
    return out
  })

const WebSearchArgs = Schema.Struct({
  forceSearch: Schema.optional(Schema.Boolean),
  maxKeyword: Schema.optional(Schema.Number),
  limit: Schema.optional(Schema.Number),
  userLocation: Schema.optional(ChatCompletion.UserLocation)
})

const decodeWebSearchArgs = Schema.decodeUnknownEither(WebSearchArgs)

/** The tools and `tool_choice` of a request, as far as MiMo honours them. */
export const tools = (
  options: Pick<LanguageModel.ProviderOptions, "tools" | "toolChoice">
): Effect.Effect<
  { readonly tools?: Array<ChatCompletion.Tool>; readonly tool_choice?: ChatCompletion.ToolChoice },
  AiError.MalformedInput
> =>
  Effect.gen(function*() {
    if (options.tools.length === 0 || options.toolChoice === "none") return {}
    const choice = options.toolChoice
    if (choice !== "auto" && !(typeof choice === "object" && "oneOf" in choice && choice.mode !== "required")) {
      const what = typeof choice === "string"
        ? `"${choice}"`
        : "tool" in choice
        ? `{ tool: "${choice.tool}" }`
        : `{ mode: "required", oneOf: [...] }`
      return yield* malformedInput(
        "prepareTools",
        `toolChoice ${what} cannot be honoured: MiMo honours only "auto" (other values are silently treated as ` +
          `"auto"). Use "auto", "none", or { oneOf: [...] } to narrow the tools offered.`
      )
    }
    const out: Array<ChatCompletion.Tool> = []
    for (const tool of options.tools) {
      if (Tool.isProviderDefined(tool)) {
        if (tool.id !== webSearchId) {
          return yield* malformedInput("prepareTools", `The provider-defined tool ${tool.id} is not a MiMo tool`)
        }
        // The arguments came through `MimoTool.WebSearch`'s Schema, but a tool is a plain object anyone can
        // build: decode them again rather than trust their shape.
        const decoded = decodeWebSearchArgs(tool.args)
        if (Either.isLeft(decoded)) {
          return yield* malformedInput(
            "prepareTools",
            `The arguments of ${tool.id} are not valid: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`
          )
        }
        const args = decoded.right
        out.push({
          type: "web_search",
          ...(args.forceSearch !== undefined ? { force_search: args.forceSearch } : {}),
          ...(args.maxKeyword !== undefined ? { max_keyword: args.maxKeyword } : {}),
          ...(args.limit !== undefined ? { limit: args.limit } : {}),
          ...(args.userLocation !== undefined ? { user_location: args.userLocation } : {})
        })
        continue
      }
      if (!Validation.toolNamePattern.test(tool.name)) {
        return yield* malformedInput(
          "prepareTools",
          `The tool name ${JSON.stringify(tool.name)} is not valid for MiMo: expected 1–64 characters of ` +
            "A-Z, a-z, 0-9, _ and -"
        )
      }
      const parameters: Record<string, unknown> = { ...Tool.getJsonSchemaFromSchemaAst(tool.parametersSchema.ast) }
      out.push({
        type: "function",
        function: {
          name: tool.name,
          ...(tool.description !== undefined ? { description: tool.description } : {}),
          parameters
        }
      })
    }
    return { tools: out, tool_choice: "auto" }
  })

/** The instruction that asks for a JSON object conforming to a schema (MiMo has `json_object`, no `json_schema`). */
export const jsonInstruction = (objectName: string, description: string | undefined, jsonSchema: unknown): string =>
  `Respond with a single JSON object named "${objectName}"${
    description !== undefined ? ` (${description})` : ""
  }, and nothing else: no prose, no code fences. It must conform to this JSON Schema:\n${JSON.stringify(jsonSchema)}`
