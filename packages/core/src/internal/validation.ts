import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as AST from "effect/SchemaAST"
import * as ChatCompletion from "../ChatCompletion.js"
import * as MimoError from "../MimoError.js"
import * as Model from "../Model.js"
import type * as Speech from "../Speech.js"
import type { Profile, Range, ToolChoiceKind } from "../Validation.js"
import { isTextRequest } from "./requestGuard.js"
import * as SpeechInternal from "./speech.js"

type Failure = MimoError.ValidationError | undefined

const fail = (field: string, value: string, expected: string, message: string): MimoError.ValidationError =>
  new MimoError.ValidationError({ field, value, expected, message })

// -----------------------------------------------------------------------------
// rendering
// -----------------------------------------------------------------------------

const maxValueLength = 60

/** @internal a short, bounded rendering of any value (never throws, never walks a huge value whole) */
export const render = (u: unknown): string => {
  const out = preview(u, maxValueLength + 1, 0)
  return out.length > maxValueLength ? out.slice(0, maxValueLength - 1) + "…" : out
}

const preview = (u: unknown, budget: number, depth: number): string => {
  switch (typeof u) {
    case "undefined":
      return "undefined"
    case "number":
    case "boolean":
    case "bigint":
      return String(u)
    case "string":
      return JSON.stringify(u.length > budget ? u.slice(0, budget) : u)
    case "symbol":
      return u.toString()
    case "function":
      return "<function>"
  }
  if (u === null) return "null"
  if (depth > 3) return Array.isArray(u) ? "[…]" : "{…}"
  const parts: Array<string> = []
  let used = 2
  if (Array.isArray(u)) {
    for (let i = 0; i < u.length && used < budget; i++) {
      const p = preview(u[i], budget - used, depth + 1)
      parts.push(p)
      used += p.length + 1
    }
    return `[${parts.join(",")}${parts.length < u.length ? ",…" : ""}]`
  }
  if (!Predicate.isRecord(u)) return Object.prototype.toString.call(u)
  const keys = Object.keys(u)
  for (let i = 0; i < keys.length && used < budget; i++) {
    const p = `${JSON.stringify(keys[i])}:${preview(u[keys[i]], budget - used, depth + 1)}`
    parts.push(p)
    used += p.length + 1
  }
  return `{${parts.join(",")}${parts.length < keys.length ? ",…" : ""}}`
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** @internal `["messages", 2, "role"]` → `messages[2].role` */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "symbol") out += `[${key.toString()}]`
    else if (identifier.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out === "" ? "request" : out
}

const fmt = (n: number): string => String(n)

const showRange = (r: Range): string => `[${fmt(r.min)}, ${fmt(r.max)}]`

// -----------------------------------------------------------------------------
// ParseError → ValidationError
// -----------------------------------------------------------------------------

const isList = <A>(x: A | ReadonlyArray<A>): x is ReadonlyArray<A> => Array.isArray(x)

const issuesOf = (issue: ParseResult.Composite): ReadonlyArray<ParseResult.ParseIssue> =>
  isList(issue.issues) ? issue.issues : [issue.issues]

const pathOf = (path: ParseResult.Path): ReadonlyArray<PropertyKey> => isList(path) ? path : [path]

/** How far into the value an issue reaches (the number of pointers on its deepest branch). */
const depthOf = (issue: ParseResult.ParseIssue): number => {
  switch (issue._tag) {
    case "Pointer":
      return 1 + depthOf(issue.issue)
    case "Composite": {
      let max = 0
      for (const i of issuesOf(issue)) max = Math.max(max, depthOf(i))
      return max
    }
    case "Refinement":
    case "Transformation":
      return depthOf(issue.issue)
    default:
      return 0
  }
}

const hasIdentifier = (ast: AST.AST): boolean => Option.isSome(AST.getIdentifierAnnotation(ast))

const flatten = (ast: AST.AST): ReadonlyArray<AST.AST> =>
  AST.isUnion(ast) && !hasIdentifier(ast) ? ast.types.flatMap(flatten) : [ast]

/** What a Schema accepts, in words (`undefined` left out: optional fields are optional anyway). */
const describe = (ast: AST.AST): string => {
  const members = flatten(ast).filter((m) => !AST.isUndefinedKeyword(m))
  return members.length === 0 ? "nothing" : members.map((m) => String(m)).join(" | ")
}

interface Leaf {
  readonly path: ReadonlyArray<PropertyKey>
  readonly expected: string
  readonly actual: unknown
  readonly missing: boolean
}

const leafOf = (issue: ParseResult.ParseIssue, path: ReadonlyArray<PropertyKey>): Leaf => {
  switch (issue._tag) {
    case "Pointer":
      return leafOf(issue.issue, [...path, ...pathOf(issue.path)])
    case "Composite": {
      const issues = issuesOf(issue)
      if (AST.isUnion(issue.ast)) {
        // a union failed: follow the member that got furthest into the value, or stop here
        let best = issues[0]
        let bestDepth = depthOf(best)
        for (const i of issues) {
          const d = depthOf(i)
          if (d > bestDepth) {
            best = i
            bestDepth = d
          }
        }
        if (bestDepth === 0) return { path, expected: describe(issue.ast), actual: issue.actual, missing: false }
        return leafOf(best, path)
      }
      return leafOf(issues[0], path)
    }
    case "Refinement":
    case "Transformation":
      return leafOf(issue.issue, path)
    case "Missing":
      return { path, expected: describe(issue.ast.type), actual: undefined, missing: true }
    case "Unexpected":
      return { path, expected: "no such field", actual: issue.actual, missing: false }
    case "Type":
    case "Forbidden":
      return { path, expected: describe(issue.ast), actual: issue.actual, missing: false }
  }
}

/** @internal */
export const fromParseIssue = (issue: ParseResult.ParseIssue): MimoError.ValidationError => {
  const leaf = leafOf(issue, [])
  const field = formatPath(leaf.path)
  if (leaf.missing) return fail(field, "(missing)", leaf.expected, `${field}: missing; expected ${leaf.expected}`)
  const value = render(leaf.actual)
  return fail(field, value, leaf.expected, `${field}: expected ${leaf.expected}, got ${value}`)
}

// -----------------------------------------------------------------------------
// rules
// -----------------------------------------------------------------------------

const checkRange = (
  field: string,
  value: number,
  range: Range,
  options: { readonly integer?: boolean; readonly profile?: Profile; readonly note?: string }
): Failure => {
  const kind = options.integer ? "an integer" : "a number"
  const expected = `${kind} in ${showRange(range)}`
  const note = options.note ?? ""
  const suffix = options.profile ? ` (profile ${options.profile.name})` : ""
  const shown = render(value)
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return fail(
      field,
      shown,
      expected,
      `${field}: ${shown} is not ${kind} in the allowed range ${showRange(range)}${note}${suffix}`
    )
  }
  if (options.integer && !Number.isInteger(value)) {
    return fail(field, shown, expected, `${field}: ${shown} is not an integer; expected ${expected}${note}${suffix}`)
  }
  if (value < range.min || value > range.max) {
    return fail(
      field,
      shown,
      expected,
      `${field}: ${shown} is outside the allowed range ${showRange(range)}${note}${suffix}`
    )
  }
  return undefined
}

/** @internal */
export const toolNamePattern = /^[A-Za-z0-9_-]{1,64}$/

const webSearchRange: Range = { min: 1, max: 50 }
const fpsRange: Range = { min: 0.1, max: 10 }

const partInput: Readonly<Record<string, Model.Input>> = {
  text: "text",
  image_url: "image",
  input_audio: "audio",
  video_url: "video"
}

const modelsTaking = (input: Model.Input): string =>
  Model.known.filter((m) => m.kind === "text" && m.inputs.includes(input)).map((m) => m.id).join(", ")

const roleList = ChatCompletion.roles.join(", ")

/** Checks on the raw input, where a Schema error would be vague (roles, required fields). */
const precheck = (input: unknown, profile: Profile): Failure => {
  if (!Predicate.isRecord(input) || Array.isArray(input)) {
    const value = render(input)
    return fail(
      "request",
      value,
      "an object with model and messages",
      `request: expected an object with model and messages, got ${value}`
    )
  }
  const model = input.model
  if (model === undefined) {
    return fail("model", "(missing)", "a model id", "model: missing; expected a model id, e.g. mimo-v2.5-pro")
  }
  if (typeof model !== "string") {
    const value = render(model)
    return fail("model", value, "a model id (string)", `model: expected a model id (string), got ${value}`)
  }
  if (model.trim() === "") {
    return fail("model", render(model), "a model id", `model: ${render(model)} is empty; expected a model id`)
  }
  if (!profile.allowUnknownModels && !profile.knownModels.includes(model) && !looksLikeMimoModel(model)) {
    const expected = `one of ${profile.knownModels.join(", ")}`
    return fail(
      "model",
      render(model),
      expected,
      `model: ${render(model)} is not a known model (profile ${profile.name}); expected ${expected}, ` +
        `an id shaped like MiMo's (mimo-v<version>[-<variant>][[<suffix>]], sent with a warning), ` +
        `or allowUnknownModels: true to send it anyway`
    )
  }
  const messages = input.messages
  if (messages === undefined) {
    return fail(
      "messages",
      "(missing)",
      "a non-empty array of messages",
      "messages: missing; expected a non-empty array of messages"
    )
  }
  if (!Array.isArray(messages)) {
    const value = render(messages)
    return fail(
      "messages",
      value,
      "a non-empty array of messages",
      `messages: expected a non-empty array of messages, got ${value}`
    )
  }
  if (messages.length === 0) {
    return fail(
      "messages",
      "[]",
      "a non-empty array of messages",
      "messages: [] is empty; expected at least one message"
    )
  }
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i]
    const at = `messages[${i}]`
    if (!Predicate.isRecord(message) || Array.isArray(message)) {
      const value = render(message)
      return fail(
        at,
        value,
        "a message object with a role",
        `${at}: expected a message object with a role, got ${value}`
      )
    }
    const role = message.role
    if (role === undefined) {
      return fail(
        `${at}.role`,
        "(missing)",
        `one of ${roleList}`,
        `${at}.role: missing; expected one of ${roleList}`
      )
    }
    if (!ChatCompletion.roles.some((r) => r === role)) {
      const value = render(role)
      return fail(`${at}.role`, value, `one of ${roleList}`, `${at}.role: ${value} is not one of ${roleList}`)
    }
    if (role === "tool") {
      const id = message.tool_call_id
      if (id === undefined || id === null || id === "") {
        const value = id === undefined ? "(missing)" : render(id)
        return fail(
          `${at}.tool_call_id`,
          value,
          "the id of the tool call this message answers",
          `${at}.tool_call_id: ${id === undefined ? "missing" : `${value} is empty`}; ` +
            "a tool message needs the id of the tool call it answers"
        )
      }
    }
  }
  return undefined
}

const ttsForbidden = ["tools", "tool_choice", "thinking", "response_format", "stop"] as const

const checkTts = (request: ChatCompletion.Request, info: Model.Info): Failure => {
  for (const key of ttsForbidden) {
    const value = request[key]
    if (value !== undefined && value !== null) {
      const shown = render(value)
      return fail(
        key,
        shown,
        "absent (TTS models take no tools, tool_choice, thinking, response_format or stop)",
        `${key}: not supported by the TTS model ${info.id}; leave it out`
      )
    }
  }
  const hasRole = (role: string) => request.messages.some((m) => m.role === role)
  const voice = request.audio?.voice
  if (info.voiceMode === "none") {
    if (!hasRole("user")) {
      return fail(
        "messages",
        render(request.messages.map((m) => m.role)),
        "a user message describing the voice",
        `messages: ${info.id} needs a user message describing the voice`
      )
    }
    if (voice !== undefined) {
      return fail(
        "audio.voice",
        render(voice),
        "absent (voicedesign takes no voice)",
        `audio.voice: not allowed for ${info.id}; describe the voice in a user message instead`
      )
    }
  }
  if (info.voiceMode === "clone" && (voice === undefined || voice.trim() === "")) {
    return fail(
      "audio.voice",
      voice === undefined ? "(missing)" : render(voice),
      "a base64 voice sample (mp3 or wav)",
      `audio.voice: ${info.id} needs a voice sample: base64 of an mp3 or wav recording`
    )
  }
  const optimize = info.voiceMode === "none" && request.audio?.optimize_text_preview === true
  if (!hasRole("assistant") && !optimize) {
    return fail(
      "messages",
      render(request.messages.map((m) => m.role)),
      "an assistant message holding the text to speak",
      `messages: ${info.id} needs an assistant message holding the text to speak`
    )
  }
  return undefined
}

const checkMessages = (request: ChatCompletion.Request, info: Option.Option<Model.Info>): Failure => {
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i]
    const at = `messages[${i}]`
    if (message.role === "assistant") {
      const content = message.content
      const calls = message.tool_calls
      if (
        (content === undefined || content === null) && (calls === undefined || calls === null || calls.length === 0)
      ) {
        return fail(
          `${at}.content`,
          content === undefined ? "(missing)" : "null",
          "content (string or text parts) or tool_calls",
          `${at}: an assistant message needs content or tool_calls`
        )
      }
    }
    if (message.role === "user" && typeof message.content !== "string") {
      for (let j = 0; j < message.content.length; j++) {
        const part = message.content[j]
        const field = `${at}.content[${j}]`
        const needed = partInput[part.type]
        if (Option.isSome(info) && needed !== undefined && !info.value.inputs.includes(needed)) {
          const takers = modelsTaking(needed)
          return fail(
            field,
            `${part.type} part`,
            `a model that takes ${needed} input: ${takers}`,
            `${field}: ${info.value.id} does not take ${needed} input (${part.type} part); ` +
              `use a multimodal model: ${takers}`
          )
        }
        if (part.type === "video_url" && part.fps !== undefined) {
          const failure = checkRange(`${field}.fps`, part.fps, fpsRange, {})
          if (failure) return failure
        }
      }
    }
  }
  return undefined
}

const checkTools = (request: ChatCompletion.Request): Failure => {
  const tools = request.tools ?? []
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i]
    if (tool.type === "function") {
      const name = tool.function.name
      if (!toolNamePattern.test(name)) {
        const field = `tools[${i}].function.name`
        const value = render(name)
        return fail(
          field,
          value,
          "1–64 characters of A-Z, a-z, 0-9, _ and -",
          `${field}: ${value} is not a valid tool name; expected 1–64 characters of A-Z, a-z, 0-9, _ and -`
        )
      }
    } else {
      for (const key of ["max_keyword", "limit"] as const) {
        const value = tool[key]
        if (value !== undefined) {
          const failure = checkRange(`tools[${i}].${key}`, value, webSearchRange, { integer: true })
          if (failure) return failure
        }
      }
    }
  }
  return undefined
}

const checkRequest = (
  request: ChatCompletion.Request,
  raw: Record<PropertyKey, unknown>,
  profile: Profile,
  warnings: Array<Warning>
): Failure => {
  const info = Model.info(request.model)
  const kind = Option.match(info, { onNone: (): Model.Kind => "text", onSome: (m) => m.kind })
  const extra = checkExtraBody(request, raw)
  if (extra) return extra
  const parameters = checkToolParameters(request)
  if (parameters) return parameters
  if (!profile.knownModels.includes(request.model)) {
    const alias = Option.getOrUndefined(baseModel(request.model))
    warnings.push({
      key: `model:${profile.name}:${request.model}`,
      message: Option.isSome(info)
        ? `model ${JSON.stringify(request.model)} is not listed by profile ${profile.name}; sent anyway`
        : `model ${JSON.stringify(request.model)} is not a known MiMo model; sent as a text model` +
          (alias === undefined || alias.id === request.model ? "" : ` (thinking default as ${alias.id})`) +
          ` with the ${kind} ranges of profile ${profile.name}`
    })
  }
  const messages = checkMessages(request, info)
  if (messages) return messages
  if (Option.isSome(info) && info.value.kind === "tts") {
    const tts = checkTts(request, info.value)
    if (tts) return tts
  }
  const thinking = checkThinking(request, warnings)
  if (thinking) return thinking
  const toolChoice = checkToolChoice(request, profile)
  if (toolChoice) return toolChoice
  if (request.temperature !== undefined) {
    const failure = checkRange("temperature", request.temperature, profile.temperature, { profile })
    if (failure) return failure
  }
  if (request.top_p !== undefined) {
    const failure = checkRange("top_p", request.top_p, profile.topP, { profile })
    if (failure) return failure
  }
  for (const key of ["frequency_penalty", "presence_penalty"] as const) {
    const value = request[key]
    if (value !== undefined && value !== null) {
      const failure = checkRange(key, value, profile.penalty, { profile })
      if (failure) return failure
    }
  }
  const maxTokens = request.max_completion_tokens
  if (maxTokens !== undefined && maxTokens !== null) {
    const range = profile.maxCompletionTokensByModel[request.model] ?? profile.maxCompletionTokens[kind]
    const failure = checkRange("max_completion_tokens", maxTokens, range, {
      integer: true,
      profile,
      note: ` for ${request.model}`
    })
    if (failure) return failure
  }
  const stop = request.stop
  if (Array.isArray(stop) && stop.length > profile.stopMax) {
    return fail(
      "stop",
      render(stop),
      `at most ${profile.stopMax} stop sequences`,
      `stop: ${stop.length} sequences are more than the allowed ${profile.stopMax} (profile ${profile.name})`
    )
  }
  return checkTools(request)
}

// -----------------------------------------------------------------------------
// escape hatches, aliases, thinking, tool_choice
// -----------------------------------------------------------------------------

/** A note for the log: allowed, but worth a look (logged once per `key` per process). */
interface Warning {
  readonly key: string
  readonly message: string
}

/**
 * The fields `extra_body` may not carry: every field the request types (so
 * its checks cannot be bypassed), `n` (one choice per call) and `max_tokens`
 * (an undocumented alias of `max_completion_tokens` that would skip its
 * range), and `__proto__`.
 */
const reservedExtraBodyKeys: ReadonlySet<string> = new Set([
  ...Object.keys(ChatCompletion.Request.fields),
  "n",
  "max_tokens",
  "__proto__"
])

/** @internal */
export const reservedExtraBodyFields: ReadonlyArray<string> = [...reservedExtraBodyKeys]

const maxJsonDepth = 64

/** The path to the first part of `u` that `JSON.stringify` cannot send as it is, if any. */
const notJson = (u: unknown, depth: number): string | undefined => {
  switch (typeof u) {
    case "string":
    case "boolean":
    case "undefined": // left out of objects, null in arrays: JSON.stringify sends it fine
      return undefined
    case "number":
      return Number.isFinite(u) ? undefined : ""
    case "object": {
      if (u === null) return undefined
      if (depth >= maxJsonDepth) return ""
      if (Array.isArray(u)) {
        for (let i = 0; i < u.length; i++) {
          const at = notJson(u[i], depth + 1)
          if (at !== undefined) return `[${i}]${at}`
        }
        return undefined
      }
      if (!Predicate.isRecord(u)) return ""
      const proto: unknown = Object.getPrototypeOf(u)
      if (proto !== null && proto !== Object.prototype) return ""
      for (const key of Object.keys(u)) {
        const at = notJson(u[key], depth + 1)
        if (at !== undefined) return `${formatPath([key]).replace(/^(?!\[)/, ".")}${at}`
      }
      return undefined
    }
    default:
      return ""
  }
}

const checkJson = (field: string, value: unknown): Failure => {
  const at = notJson(value, 0)
  if (at === undefined) return undefined
  const path = `${field}${at}`
  const shown = render(at === "" ? value : undefined)
  return fail(
    path,
    shown,
    `a JSON value (finite numbers, plain objects, nested at most ${maxJsonDepth} deep)`,
    `${path}: cannot be sent as JSON; expected a JSON value (finite numbers, plain objects, ` +
      `nested at most ${maxJsonDepth} deep, no cycles)`
  )
}

const checkExtraBody = (request: ChatCompletion.Request, raw: Record<PropertyKey, unknown>): Failure => {
  const extra = request.extra_body
  if (extra === undefined) return undefined
  const rawExtra = raw.extra_body
  const keys = Object.keys(extra)
  if (Predicate.isRecord(rawExtra) && Object.prototype.hasOwnProperty.call(rawExtra, "__proto__")) {
    keys.unshift("__proto__")
  }
  for (const key of keys) {
    if (reservedExtraBodyKeys.has(key)) {
      const field = `extra_body${formatPath([key]).replace(/^(?!\[)/, ".")}`
      return fail(
        field,
        render(key === "__proto__" ? undefined : extra[key]),
        "a field the request does not type (set typed fields directly, where they are checked)",
        `${field}: ${JSON.stringify(key)} may not be set through extra_body` +
          (key in ChatCompletion.Request.fields ? `; set the request's own ${key} field, where it is checked` : "") +
          " (extra_body is for fields the request does not type, e.g. stream_options)"
      )
    }
  }
  return checkJson("extra_body", extra)
}

const checkToolParameters = (request: ChatCompletion.Request): Failure => {
  const tools = request.tools ?? []
  for (let i = 0; i < tools.length; i++) {
    const tool = tools[i]
    if (tool.type === "function" && tool.function.parameters !== undefined) {
      const failure = checkJson(`tools[${i}].function.parameters`, tool.function.parameters)
      if (failure) return failure
    }
  }
  return undefined
}

/**
 * An id shaped like MiMo's: `mimo-v<major>[.<minor>]`, then `-<variant>`
 * parts, then one `[<suffix>]` (`mimo-v2.6-pro`, `mimo-v2.5-pro-ultraspeed`,
 * `mimo-v2.5-pro[1m]`); lower case, at most 64 characters.
 *
 * @internal
 */
export const looksLikeMimoModel = (id: string): boolean =>
  id.length <= 64 && /^mimo-v\d+(?:\.\d+)?(?:-[a-z0-9]+(?:\.\d+)?)*(?:\[[a-z0-9]+\])?$/.test(id)

/**
 * The known model an alias is a variant of: the id with its `[<suffix>]`
 * and then trailing `-<variant>` parts dropped, one at a time, until a known
 * id is left (`mimo-v2.5-pro[1m]` → `mimo-v2.5-pro`).
 *
 * @internal
 */
export const baseModel = (id: string): Option.Option<Model.Info> => {
  let candidate = id.replace(/\[[^\]]*\]$/, "")
  for (;;) {
    const found = Model.info(candidate)
    if (Option.isSome(found)) return found
    const dash = candidate.lastIndexOf("-")
    if (dash <= "mimo-v".length) return Option.none()
    candidate = candidate.slice(0, dash)
  }
}

const hasReasoning = (message: ChatCompletion.AssistantMessage): boolean =>
  typeof message.reasoning_content === "string"

const checkThinking = (request: ChatCompletion.Request, warnings: Array<Warning>): Failure => {
  const info = Option.orElse(Model.info(request.model), () => baseModel(request.model))
  const model = Option.getOrUndefined(info)
  if (model === undefined || model.kind !== "text") {
    if (request.thinking?.type !== "enabled") return undefined
  }
  const explicit = request.thinking !== undefined
  const on = explicit ? request.thinking?.type === "enabled" : model?.thinkingDefault === "enabled"
  if (!on) return undefined
  const why = explicit ? "thinking: {type: \"enabled\"}" : `thinking on by default for ${model?.id ?? request.model}`
  for (let i = 0; i < request.messages.length; i++) {
    const message = request.messages[i]
    if (
      message.role === "assistant" && message.tool_calls !== undefined && message.tool_calls !== null &&
      message.tool_calls.length > 0 && !hasReasoning(message)
    ) {
      const field = `messages[${i}].reasoning_content`
      return fail(
        field,
        message.reasoning_content === null ? "null" : "(missing)",
        "the reasoning_content the assistant message came with",
        `${field}: missing; with thinking mode on (${why}), an earlier assistant message with tool_calls ` +
          `(messages[${i}]) must carry its original reasoning_content, or the server answers 400; ` +
          `pass it back, or send thinking: {type: "disabled"}`
      )
    }
  }
  if (model !== undefined && model.thinkingOverridesSampling) {
    for (const [key, used] of [["temperature", "1.0"], ["top_p", "0.95"]] as const) {
      if (request[key] !== undefined) {
        warnings.push({
          key: `${key}:${model.id}`,
          message: `${key}: ignored by ${model.id} with thinking on (the server uses ${used}); ` +
            `send thinking: {type: "disabled"} for it to apply`
        })
      }
    }
  }
  return undefined
}

/** @internal */
export const toolChoiceKind = (choice: ChatCompletion.ToolChoice): ToolChoiceKind =>
  typeof choice === "string" ? choice : "function"

const showChoices = (kinds: ReadonlyArray<ToolChoiceKind>): string =>
  kinds.map((k) => k === "function" ? "a named function" : JSON.stringify(k)).join(", ")

/** @internal */
export const defaultToolChoices: ReadonlyArray<ToolChoiceKind> = ["auto"]

const checkToolChoice = (request: ChatCompletion.Request, profile: Profile): Failure => {
  const choice = request.tool_choice
  if (choice === undefined) return undefined
  const allowed = profile.toolChoices ?? defaultToolChoices
  const kind = toolChoiceKind(choice)
  if (allowed.includes(kind)) return undefined
  const shown = render(choice)
  return fail(
    "tool_choice",
    shown,
    `one of ${showChoices(allowed)}`,
    `tool_choice: ${shown} is not honoured by this host (profile ${profile.name}): the server would silently ` +
      `treat it as "auto"; expected ${showChoices(allowed)}, or leave it out`
  )
}

/** Keys already warned about: a busy process logs each kind of warning once, not once per call. */
const warned = new Set<string>()
const maxWarned = 1024

const logWarnings = (warnings: ReadonlyArray<Warning>): Effect.Effect<void> =>
  Effect.suspend(() => {
    const fresh = warnings.filter((w) => !warned.has(w.key))
    if (fresh.length === 0) return Effect.void
    for (const w of fresh) if (warned.size < maxWarned) warned.add(w.key)
    return Effect.forEach(fresh, (w) => Effect.logWarning(`MiMo request: ${w.message}`), { discard: true }).pipe(
      Effect.annotateLogs("module", "Validation")
    )
  })

const decodeRequestSchema = ParseResult.decodeUnknownEither(ChatCompletion.Request, { errors: "first" })

/** A plain text request is its own decoding (`isTextRequest`); anything else goes through the Schema. */
const decodeRequest = (input: unknown): Either.Either<ChatCompletion.Request, ParseResult.ParseIssue> =>
  isTextRequest(input) ? Either.right(input) : decodeRequestSchema(input)

const unreadable = (): MimoError.ValidationError =>
  fail(
    "request",
    "(unreadable)",
    "a plain JSON-like object",
    "request: could not be read (a property access threw); expected a plain JSON-like object"
  )

/** `f`'s outcome; a property access that throws (a hostile getter or proxy) is `unreadable`. */
const attempt = <A>(
  f: () => Either.Either<A, MimoError.ValidationError>
): Either.Either<A, MimoError.ValidationError> =>
  Either.flatMap(Either.try({ try: f, catch: unreadable }), (result) => result)

/**
 * Runs a check that may add warnings: its failure, or its value once the warnings (if any) are logged. One step
 * when nothing is warned (every chat call and stream runs it: apps/bench's `steps` case counts them).
 */
const checked = <A>(
  f: (warnings: Array<Warning>) => Either.Either<A, MimoError.ValidationError>
): Effect.Effect<A, MimoError.ValidationError> =>
  Effect.suspend(() => {
    const warnings: Array<Warning> = []
    const result = attempt(() => f(warnings))
    if (Either.isLeft(result)) return Effect.fail(result.left)
    return warnings.length === 0 ? Effect.succeed(result.right) : Effect.as(logWarnings(warnings), result.right)
  })

const checkChat = (
  input: unknown,
  profile: Profile,
  warnings: Array<Warning>
): Either.Either<ChatCompletion.Request, MimoError.ValidationError> => {
  const pre = precheck(input, profile)
  if (pre) return Either.left(pre)
  const decoded = decodeRequest(input)
  if (Either.isLeft(decoded)) return Either.left(fromParseIssue(decoded.left))
  const raw = Predicate.isRecord(input) ? input : {}
  const failure = checkRequest(decoded.right, raw, profile, warnings)
  return failure ? Either.left(failure) : Either.right(decoded.right)
}

/** @internal */
export const validateChatRequest = (
  input: unknown,
  profile: Profile
): Effect.Effect<ChatCompletion.Request, MimoError.ValidationError> =>
  checked((warnings) => checkChat(input, profile, warnings))

/** @internal */
export const validateApiKey = (
  key: Redacted.Redacted<string>
): Effect.Effect<Redacted.Redacted<string>, MimoError.ValidationError> =>
  Effect.suspend(() => {
    const value: unknown = Redacted.isRedacted(key) ? Redacted.value(key) : undefined
    return typeof value === "string" && value.trim() !== "" ?
      Effect.succeed(key) :
      Effect.fail(
        fail(
          "apiKey",
          "<redacted>",
          "a non-empty API key",
          "apiKey: the API key is empty or blank; expected a non-empty key (set MIMO_API_KEY)"
        )
      )
  })

const decodeSpeech = ParseResult.decodeUnknownEither(ChatCompletion.SpeechInput, { errors: "first" })

const ttsModels = Model.known.filter((m) => m.kind === "tts").map((m) => m.id).join(", ")

const checkSpeech = (input: ChatCompletion.SpeechInput): Failure => {
  const model = input.model ?? ChatCompletion.defaultSpeechModel
  const info = Model.info(model)
  if (Option.isNone(info)) return undefined
  const m = info.value
  if (m.kind !== "tts") {
    return fail(
      "model",
      render(model),
      `a TTS model: ${ttsModels}`,
      `model: ${render(model)} is not a TTS model; expected one of ${ttsModels}`
    )
  }
  const blank = (s: string | undefined) => s === undefined || s.trim() === ""
  if (m.voiceMode === "none") {
    if (blank(input.instructions)) {
      return fail(
        "instructions",
        input.instructions === undefined ? "(missing)" : render(input.instructions),
        "a description of the voice",
        `instructions: ${m.id} needs a description of the voice`
      )
    }
    if (input.style !== undefined) {
      return fail(
        "style",
        render(input.style),
        "absent (voicedesign does not support style tags)",
        `style: ${m.id} does not support style tags; describe the delivery in instructions`
      )
    }
    if (input.voice !== undefined) {
      return fail(
        "voice",
        render(input.voice),
        "absent (voicedesign takes no voice)",
        `voice: not allowed for ${m.id}; describe the voice in instructions`
      )
    }
  }
  if (m.voiceMode === "clone" && blank(input.voice)) {
    return fail(
      "voice",
      input.voice === undefined ? "(missing)" : render(input.voice),
      "a base64 voice sample (mp3 or wav)",
      `voice: ${m.id} needs a voice sample: base64 of an mp3 or wav recording`
    )
  }
  if (input.text.trim() === "" && !(m.voiceMode === "none" && input.optimizeTextPreview === true)) {
    return fail(
      "text",
      render(input.text),
      "the text to speak",
      `text: ${render(input.text)} is empty; expected the text to speak`
    )
  }
  return undefined
}

/** @internal */
export const validateSpeechRequest = (
  input: unknown,
  profile: Profile
): Effect.Effect<ChatCompletion.Request, MimoError.ValidationError> =>
  checked((warnings) => checkSpeechInput(input, profile, warnings))

/** @internal */
export const prepareSpeech = (
  input: Speech.Input | Speech.Prepared,
  profile: Profile
): Effect.Effect<Speech.Prepared> =>
  Effect.suspend(() => {
    if (SpeechInternal.isPrepared(input)) {
      if (input.profile === profile) return Effect.succeed(input)
      return prepareSpeech(input.input, profile)
    }
    const warnings: Array<Warning> = []
    const checked = attempt(() => checkSpeechInput(input, profile, warnings))
    const prepared = SpeechInternal.make(input, profile, checked)
    return warnings.length === 0 ? Effect.succeed(prepared) : Effect.as(logWarnings(warnings), prepared)
  })

const checkSpeechInput = (
  input: unknown,
  profile: Profile,
  warnings: Array<Warning>
): Either.Either<ChatCompletion.Request, MimoError.ValidationError> => {
  const decoded = decodeSpeech(input)
  if (Either.isLeft(decoded)) {
    const error = Predicate.isRecord(input) && !Array.isArray(input) ?
      fromParseIssue(decoded.left) :
      fail(
        "request",
        render(input),
        "an object with text",
        `request: expected a speech input object with text, got ${render(input)}`
      )
    return Either.left(error)
  }
  const failure = checkSpeech(decoded.right)
  if (failure) return Either.left(failure)
  return checkChat(ChatCompletion.speechRequest(decoded.right), profile, warnings)
}

// -----------------------------------------------------------------------------
// hosts
// -----------------------------------------------------------------------------

const hostOf = (baseUrl: string | URL): string | undefined => {
  if (baseUrl instanceof URL) return baseUrl.hostname.toLowerCase()
  for (const candidate of [baseUrl, `https://${baseUrl}`]) {
    try {
      return new URL(candidate).hostname.toLowerCase()
    } catch {
      // try the next form
    }
  }
  return undefined
}

/** @internal */
export const isMimoV2Host = (baseUrl: string | URL): boolean => {
  const host = hostOf(baseUrl)
  return host !== undefined && (host === "mimo-v2.com" || host.endsWith(".mimo-v2.com"))
}
