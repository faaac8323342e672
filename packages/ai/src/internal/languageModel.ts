/**
 * The language model: requests from `@effect/ai`'s provider options, parts
 * from MiMo's responses and chunks, telemetry.
 *
 * @internal
 */
import { type ChatCompletion, MimoClient } from "@effect-mimo/core"
import * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Response from "@effect/ai/Response"
import { addGenAIAnnotations } from "@effect/ai/Telemetry"
import * as Tool from "@effect/ai/Tool"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Span } from "effect/Tracer"
import type * as MimoLanguageModel from "../MimoLanguageModel.js"
import { MalformedToolCall, moduleName, StructuredOutputError, toAiError } from "./errors.js"
import * as Prompts from "./prompt.js"

/** @internal */
export const configKey = "@effect-mimo/ai/MimoLanguageModel/Config"

type Part = Response.PartEncoded
type StreamPart = Response.StreamPartEncoded

const finishReason = (reason: string | null | undefined): Response.FinishReason => {
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    case null:
    case undefined:
      return "unknown"
    default:
      // repetition_truncation (MiMo's own) and anything new: the raw value is in the metadata.
      return "other"
  }
}

const usage = (u: ChatCompletion.Usage | null | undefined): typeof Response.Usage.Encoded => ({
  inputTokens: u?.prompt_tokens ?? undefined,
  outputTokens: u?.completion_tokens ?? undefined,
  totalTokens: u?.total_tokens ?? undefined,
  reasoningTokens: u?.completion_tokens_details?.reasoning_tokens ?? undefined,
  cachedInputTokens: u?.prompt_tokens_details?.cached_tokens ?? undefined
})

const finishPart = (
  reason: string | null | undefined,
  u: ChatCompletion.Usage | null | undefined,
  errorMessage: string | undefined
): StreamPart & Part => ({
  type: "finish",
  reason: finishReason(reason),
  usage: usage(u),
  metadata: {
    mimo: {
      finishReason: reason ?? undefined,
      ...(errorMessage !== undefined ? { errorMessage } : {}),
      ...(u?.web_search_usage != null ? { webSearchUsage: u.web_search_usage } : {})
    }
  }
})

const timestamp = (created: number | null | undefined): string | undefined =>
  typeof created === "number" && Number.isFinite(created) ? new Date(created * 1000).toISOString() : undefined

const sourceParts = (
  annotations: ReadonlyArray<ChatCompletion.Annotation> | null | undefined,
  seen: Set<string>
): Array<StreamPart & Part> => {
  const out: Array<StreamPart & Part> = []
  for (const a of annotations ?? []) {
    const url = a.url
    if (typeof url !== "string" || url === "" || seen.has(url)) continue
    seen.add(url)
    out.push({
      type: "source",
      sourceType: "url",
      id: url,
      url,
      title: a.title ?? url,
      metadata: {
        mimo: {
          ...(a.summary != null ? { summary: a.summary } : {}),
          ...(a.site_name != null ? { siteName: a.site_name } : {}),
          ...(a.publish_time != null ? { publishTime: String(a.publish_time) } : {})
        }
      }
    })
  }
  return out
}

interface RawCall {
  readonly id: string
  readonly name: string
  readonly arguments: string
}

/** Parses the arguments of every call, or fails with the whole turn (a loop can feed it back). */
const parseCalls = (
  calls: ReadonlyArray<RawCall>,
  turn: { readonly text: string; readonly reasoning: string },
  method: string
): Effect.Effect<Array<{ readonly call: RawCall; readonly params: unknown }>, AiError.MalformedOutput> => {
  const parsed: Array<{ readonly call: RawCall; readonly params: unknown }> = []
  const errors = new Map<string, string>()
  for (const call of calls) {
    try {
      // An empty string is MiMo's way of saying "no arguments".
      parsed.push({ call, params: call.arguments.trim() === "" ? {} : Tool.unsafeSecureJsonParse(call.arguments) })
    } catch (e) {
      errors.set(call.id, e instanceof Error ? e.message : String(e))
    }
  }
  if (errors.size === 0) return Effect.succeed(parsed)
  const names = calls.filter((c) => errors.has(c.id)).map((c) => c.name).join(", ")
  const cause = new MalformedToolCall({
    message: `The model sent tool call arguments that are not valid JSON (${names})`,
    toolCalls: calls.map((c) => ({
      id: c.id,
      name: c.name,
      arguments: c.arguments,
      ...(errors.has(c.id) ? { error: errors.get(c.id)! } : {})
    })),
    ...(turn.text !== "" ? { text: turn.text } : {}),
    ...(turn.reasoning !== "" ? { reasoning: turn.reasoning } : {})
  })
  return Effect.fail(
    new AiError.MalformedOutput({ module: moduleName, method, description: cause.message, cause })
  )
}

// -----------------------------------------------------------------------------
// telemetry
// -----------------------------------------------------------------------------

const annotateRequest = (span: Span, request: ChatCompletion.Request): void => {
  addGenAIAnnotations(span, {
    system: "mimo",
    operation: { name: "chat" },
    request: {
      model: request.model,
      temperature: request.temperature,
      topP: request.top_p,
      maxTokens: request.max_completion_tokens,
      frequencyPenalty: request.frequency_penalty,
      presencePenalty: request.presence_penalty,
      stopSequences: request.stop == null ? undefined : typeof request.stop === "string" ? [request.stop] : request.stop
    }
  })
}

const annotateResponse = (span: Span, response: ChatCompletion.Response): void => {
  addGenAIAnnotations(span, {
    response: {
      id: response.id,
      model: response.model,
      finishReasons: response.choices.map((c) => c.finish_reason).filter(Predicate.isNotNullable)
    },
    usage: { inputTokens: response.usage?.prompt_tokens, outputTokens: response.usage?.completion_tokens }
  })
}

const annotateStreamPart = (span: Span, part: StreamPart): void => {
  if (part.type === "response-metadata") {
    addGenAIAnnotations(span, { response: { id: part.id, model: part.modelId } })
  } else if (part.type === "finish") {
    addGenAIAnnotations(span, {
      response: { finishReasons: [part.metadata?.mimo?.finishReason ?? part.reason] },
      usage: { inputTokens: part.usage.inputTokens, outputTokens: part.usage.outputTokens }
    })
  }
}

// -----------------------------------------------------------------------------
// responses
// -----------------------------------------------------------------------------

const responseParts = (
  response: ChatCompletion.Response,
  method: string
): Effect.Effect<Array<Part>, AiError.MalformedOutput> =>
  Effect.gen(function*() {
    const choice = response.choices[0]
    if (choice === undefined) {
      return yield* new AiError.MalformedOutput({
        module: moduleName,
        method,
        description: "The response has no choices"
      })
    }
    const message = choice.message
    const parts: Array<Part> = [{
      type: "response-metadata",
      id: response.id,
      modelId: response.model ?? undefined,
      timestamp: timestamp(response.created)
    }]
    const reasoning = message.reasoning_content ?? ""
    const text = message.content ?? ""
    if (reasoning !== "") parts.push({ type: "reasoning", text: reasoning })
    if (text !== "") parts.push({ type: "text", text })
    const calls = (message.tool_calls ?? []).map((c) => ({
      id: c.id,
      name: c.function.name,
      arguments: c.function.arguments
    }))
    for (const { call, params } of yield* parseCalls(calls, { text, reasoning }, method)) {
      parts.push({ type: "tool-call", id: call.id, name: call.name, params })
    }
    parts.push(...sourceParts(message.annotations, new Set()))
    parts.push(finishPart(choice.finish_reason, response.usage, message.error_message ?? undefined))
    return parts
  })

interface OpenCall {
  readonly index: number
  id: string | undefined
  name: string | undefined
  arguments: string
  started: boolean
}

/** The stream parts of MiMo's chunks; the tool calls and the finish part come at the end. */
const streamParts = (
  chunks: Stream.Stream<ChatCompletion.Chunk, AiError.AiError>,
  method: string
): Stream.Stream<StreamPart, AiError.AiError> =>
  Stream.suspend(() => {
    let started = false
    let nextId = 0
    let textId: string | undefined
    let reasoningId: string | undefined
    let text = ""
    let reasoning = ""
    let finish: string | null | undefined
    let lastUsage: ChatCompletion.Usage | undefined
    let errorMessage: string | undefined
    const calls = new Map<number, OpenCall>()
    const seen = new Set<string>()

    const closeText = (out: Array<StreamPart>) => {
      if (textId !== undefined) out.push({ type: "text-end", id: textId })
      textId = undefined
    }
    const closeReasoning = (out: Array<StreamPart>) => {
      if (reasoningId !== undefined) out.push({ type: "reasoning-end", id: reasoningId })
      reasoningId = undefined
    }

    const onChunk = (chunk: ChatCompletion.Chunk): Array<StreamPart> => {
      const out: Array<StreamPart> = []
      if (!started) {
        started = true
        out.push({
          type: "response-metadata",
          id: chunk.id,
          modelId: chunk.model ?? undefined,
          timestamp: timestamp(chunk.created)
        })
      }
      if (chunk.usage != null) lastUsage = chunk.usage
      const choice = chunk.choices[0]
      if (choice === undefined) return out
      const delta = choice.delta
      if (delta != null) {
        const r = delta.reasoning_content
        if (typeof r === "string" && r !== "") {
          closeText(out)
          if (reasoningId === undefined) {
            reasoningId = String(nextId++)
            out.push({ type: "reasoning-start", id: reasoningId })
          }
          reasoning += r
          out.push({ type: "reasoning-delta", id: reasoningId, delta: r })
        }
        const c = delta.content
        if (typeof c === "string" && c !== "") {
          closeReasoning(out)
          if (textId === undefined) {
            textId = String(nextId++)
            out.push({ type: "text-start", id: textId })
          }
          text += c
          out.push({ type: "text-delta", id: textId, delta: c })
        }
        out.push(...sourceParts(delta.annotations, seen))
        if (typeof delta.error_message === "string" && delta.error_message !== "") errorMessage = delta.error_message
        for (const d of delta.tool_calls ?? []) {
          const index = d.index ?? 0
          let open = calls.get(index)
          if (open === undefined) {
            closeReasoning(out)
            closeText(out)
            open = { index, id: d.id ?? undefined, name: d.function?.name ?? undefined, arguments: "", started: false }
            calls.set(index, open)
          } else {
            if (open.id === undefined && d.id != null) open.id = d.id
            if (open.name === undefined && d.function?.name != null) open.name = d.function.name
          }
          const fragment = d.function?.arguments ?? ""
          open.arguments += fragment
          // The first fragment usually carries the id and the name; the part starts once both are known (the id
          // is the one MiMo expects back in the tool message), with any arguments that came before.
          if (!open.started && open.name !== undefined && open.id !== undefined) {
            open.started = true
            out.push({ type: "tool-params-start", id: open.id, name: open.name })
            if (open.arguments !== "") out.push({ type: "tool-params-delta", id: open.id, delta: open.arguments })
          } else if (open.started && open.id !== undefined && fragment !== "") {
            out.push({ type: "tool-params-delta", id: open.id, delta: fragment })
          }
        }
      }
      if (choice.finish_reason != null) finish = choice.finish_reason
      return out
    }

    const onEnd: Effect.Effect<Array<StreamPart>, AiError.MalformedOutput> = Effect.suspend(() => {
      const out: Array<StreamPart> = []
      closeReasoning(out)
      closeText(out)
      const ordered = [...calls.values()].sort((a, b) => a.index - b.index)
      for (const c of ordered) {
        if (c.name === undefined || c.name === "") {
          return Effect.fail(
            new AiError.MalformedOutput({
              module: moduleName,
              method,
              description: `The tool call at index ${c.index} has no function name`
            })
          )
        }
      }
      const raw = ordered.map((c) => ({ id: c.id ?? `mimo_call_${c.index}`, name: c.name!, arguments: c.arguments }))
      return Effect.map(parseCalls(raw, { text, reasoning }, method), (parsed) => {
        for (const { call, params } of parsed) {
          const open = ordered.find((c) => (c.id ?? `mimo_call_${c.index}`) === call.id)
          if (open !== undefined && !open.started) {
            // A call whose id never came: its parts start here, under the id made for it.
            out.push({ type: "tool-params-start", id: call.id, name: call.name })
            if (call.arguments !== "") out.push({ type: "tool-params-delta", id: call.id, delta: call.arguments })
          }
          out.push({ type: "tool-params-end", id: call.id })
          out.push({ type: "tool-call", id: call.id, name: call.name, params })
        }
        out.push(finishPart(finish, lastUsage, errorMessage))
        return out
      })
    })

    return chunks.pipe(
      Stream.mapConcat(onChunk),
      Stream.concat(Stream.flatMap(Stream.fromEffect(onEnd), Stream.fromIterable))
    )
  })

// -----------------------------------------------------------------------------
// the service
// -----------------------------------------------------------------------------

/** @internal */
export const make = (options: {
  readonly model: string
  readonly config?: Omit<MimoLanguageModel.Config.Service, "model"> | undefined
}): Effect.Effect<LanguageModel.Service, never, MimoClient.MimoClient> =>
  Effect.gen(function*() {
    const client = yield* MimoClient.MimoClient

    const prepare = (provider: LanguageModel.ProviderOptions, method: string) =>
      Effect.gen(function*() {
        const context = yield* Effect.context<never>()
        const override: MimoLanguageModel.Config.Service | undefined = context.unsafeMap.get(configKey)
        const { callOptions, ...settings } = { model: options.model, ...options.config, ...override }
        const model = settings.model ?? options.model
        const thinking = Prompts.thinkingOn(model, settings.thinking)
        const messages = yield* Prompts.messages(provider.prompt, thinking)
        const tools = yield* Prompts.tools(provider)
        const format = provider.responseFormat
        if (format.type === "json") {
          const ast = format.schema.ast
          messages.unshift({
            role: "system",
            content: Prompts.jsonInstruction(
              format.objectName,
              Tool.getDescriptionFromSchemaAst(ast),
              Tool.getJsonSchemaFromSchemaAst(ast)
            )
          })
        }
        const request: ChatCompletion.Request = {
          ...settings,
          model,
          messages,
          ...tools,
          ...(format.type === "json" ? { response_format: { type: "json_object" } } : {})
        }
        annotateRequest(provider.span, request)
        return { request, callOptions, method }
      })

    const mapError = (method: string) => (error: import("@effect-mimo/core").MimoError.MimoError) =>
      toAiError(error, { method, baseUrl: client.baseUrl })

    /** In JSON mode, the answer is decoded with the Schema here, so that a failure carries the text. */
    const checkObject = (provider: LanguageModel.ProviderOptions, parts: Array<Part>) =>
      Effect.gen(function*() {
        const format = provider.responseFormat
        // A turn that calls tools carries no object yet: `LanguageModel` runs the tools and says so itself.
        if (format.type !== "json" || parts.some((p) => p.type === "tool-call")) return parts
        const text = parts.flatMap((p) => p.type === "text" ? [p.text] : []).join("")
        // The schema's requirements are in the caller's context: `LanguageModel.generateObject`
        // requires them of whoever runs it, and this runs inside that call.
        const decode = Schema.decodeUnknown(Schema.parseJson(format.schema)) as (
          u: unknown
        ) => Effect.Effect<unknown, ParseResult.ParseError>
        yield* decode(text).pipe(
          Effect.mapError((error) => {
            const message = `The answer is not a JSON object of ${format.objectName}: ${
              ParseResult.TreeFormatter.formatErrorSync(error)
            }`
            return new AiError.MalformedOutput({
              module: moduleName,
              method: "generateObject",
              description: message,
              cause: new StructuredOutputError({ message, objectName: format.objectName, text })
            })
          })
        )
        return parts
      })

    return yield* LanguageModel.make({
      generateText: (provider) =>
        Effect.gen(function*() {
          const { callOptions, request } = yield* prepare(provider, "generateText")
          const response = yield* Effect.mapError(client.chat(request, callOptions), mapError("generateText"))
          annotateResponse(provider.span, response)
          return yield* checkObject(provider, yield* responseParts(response, "generateText"))
        }),
      streamText: (provider) =>
        Stream.unwrap(Effect.map(prepare(provider, "streamText"), ({ callOptions, request }) =>
          streamParts(
            Stream.mapError(client.stream(request, callOptions), mapError("streamText")),
            "streamText"
          ))).pipe(Stream.tap((part) => Effect.sync(() => annotateStreamPart(provider.span, part))))
    })
  })

/** @internal */
export const getConfig: Effect.Effect<MimoLanguageModel.Config.Service | undefined> = Effect.map(
  Effect.context<never>(),
  (context) => context.unsafeMap.get(configKey)
)

/** @internal */
export const withConfigOverride = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  overrides: MimoLanguageModel.Config.Service,
  tag: Context.Tag<MimoLanguageModel.Config, MimoLanguageModel.Config.Service>
): Effect.Effect<A, E, R> =>
  Effect.flatMap(getConfig, (config) => Effect.provideService(self, tag, { ...config, ...overrides }))
