/**
 * Conversations with tools: which tools the "model" calls and with what
 * arguments, how it answers the results sent back in `tool` messages, and
 * MiMo's rule that thinking-mode requests replay the reasoning of every
 * assistant message with tool calls.
 *
 * @internal
 */
import type * as Fault from "../Fault.js"
import * as jsonSchema from "./jsonSchema.js"
import type * as prng from "./prng.js"

type Json = { readonly [key: string]: unknown }

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** The directives of `Fault` that choose the answer. */
export type Directive =
  | typeof Fault.ToolCalls.Type
  | typeof Fault.MalformedToolArguments.Type
  | typeof Fault.NonConformingJson.Type

/** Whether a fault is a directive (it is applied by the generator, not the server). */
export const isDirective = (fault: { readonly _tag: string } | undefined): fault is Directive =>
  fault !== undefined &&
  (fault._tag === "ToolCalls" || fault._tag === "MalformedToolArguments" || fault._tag === "NonConformingJson")

/** A tool call before it is rendered: its name and its arguments as text. */
export interface PlannedCall {
  readonly name: string
  readonly arguments: string
}

const functionTools = (tools: unknown): Array<Json> =>
  Array.isArray(tools)
    ? tools.flatMap((t) => isObject(t) && t.type === "function" && isObject(t.function) ? [t.function] : [])
    : []

const nameOf = (tool: Json): string => typeof tool.name === "string" ? tool.name : "tool"

/** `key=value` / `key="value"` pairs written in the text, for string parameters. */
const pairs = (text: string): Map<string, string> => {
  const out = new Map<string, string>()
  const re = /([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|'([^']*)'|([^\s,;]+))/g
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.set(m[1], m[2] ?? m[3] ?? m[4] ?? "")
  return out
}

const argumentsFor = (tool: Json | undefined, rng: prng.Prng, given: Map<string, string>): Json => {
  const parameters = tool?.parameters
  const generated = jsonSchema.valueFor(isObject(parameters) ? parameters : { type: "object" }, rng)
  const out: Record<string, unknown> = isObject(generated) ? { ...generated } : {}
  const properties = isObject(parameters) && isObject(parameters.properties) ? parameters.properties : {}
  for (const [key, value] of given) {
    if (!(key in properties)) continue
    const p = properties[key]
    const type = isObject(p) ? p.type : undefined
    const n = Number(value)
    out[key] = (type === "number" || type === "integer") && Number.isFinite(n)
      ? n
      : type === "boolean"
      ? value === "true"
      : value
  }
  return out
}

/**
 * The calls the answer makes, if any: a directive's, else one per function
 * tool that the last message (a user message) asks for with `call <name>` or
 * names as a word of its own (names of 4 characters or more),
 * with `key=value` pairs of that message as arguments where they match a
 * parameter. Results already sent back (`tool` last) get a text answer instead.
 */
export const plannedCalls = (
  body: Json,
  lastUser: string,
  lastRole: string | undefined,
  directive: Directive | undefined,
  rng: prng.Prng
): Array<PlannedCall> | undefined => {
  const tools = functionTools(body.tools)
  if (directive?._tag === "ToolCalls") {
    return directive.calls.map((call) => ({
      name: call.name,
      arguments: JSON.stringify(
        call.arguments !== undefined
          ? call.arguments
          : argumentsFor(tools.find((t) => nameOf(t) === call.name), rng, new Map())
      )
    }))
  }
  if (directive?._tag === "MalformedToolArguments") {
    const name = directive.name ?? (tools[0] !== undefined ? nameOf(tools[0]) : "tool")
    return [{ name, arguments: "{\"value\": \"unterminated" }]
  }
  if (lastRole !== "user" || tools.length === 0) return undefined
  const wanted = lastUser.toLowerCase()
  const given = pairs(lastUser)
  const mentioned = (name: string) => {
    const n = name.toLowerCase()
    if (wanted.includes(`call ${n}`)) return true
    // The name as a word of its own ("check the clock", "use file_size"): a tool whose name is plain enough.
    const escaped = n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    return n.length >= 4 && new RegExp(`(^|[^a-z0-9_-])${escaped}($|[^a-z0-9_-])`).test(wanted)
  }
  const calls = tools
    .filter((tool) => mentioned(nameOf(tool)))
    .map((tool) => ({ name: nameOf(tool), arguments: JSON.stringify(argumentsFor(tool, rng, given)) }))
  return calls.length > 0 ? calls : undefined
}

/**
 * The answer to tool results (the request ends with `tool` messages): one
 * sentence per result, naming the tool of the call it answers.
 */
export const followUp = (messages: ReadonlyArray<unknown>): string | undefined => {
  const isTool = (m: unknown) => isObject(m) && m.role === "tool"
  let end = messages.length
  while (end > 0 && isTool(messages[end - 1])) end--
  if (end === messages.length) return undefined
  const names = new Map<string, string>()
  for (const m of messages.slice(0, end)) {
    if (isObject(m) && m.role === "assistant" && Array.isArray(m.tool_calls)) {
      for (const c of m.tool_calls) {
        if (isObject(c) && typeof c.id === "string" && isObject(c.function) && typeof c.function.name === "string") {
          names.set(c.id, c.function.name)
        }
      }
    }
  }
  const sentences: Array<string> = []
  for (const m of messages.slice(end)) {
    if (!isObject(m)) continue
    const id = typeof m.tool_call_id === "string" ? m.tool_call_id : ""
    const content = typeof m.content === "string"
      ? m.content
      : Array.isArray(m.content)
      ? m.content.map((p) => isObject(p) && typeof p.text === "string" ? p.text : "").join("")
      : ""
    const shown = content.length > 200 ? `${content.slice(0, 200)}…` : content
    sentences.push(`The ${names.get(id) ?? "tool"} tool returned ${shown}.`)
  }
  return sentences.join(" ")
}

/** MiMo's message when a thinking-mode request drops the reasoning of a tool-call turn. */
export const replayMessage = "The reasoning_content in the thinking mode must be passed back to the API."

/**
 * With thinking on, the index of the first assistant message that has tool
 * calls and no `reasoning_content` (MiMo answers such a request 400).
 */
export const replayViolation = (body: Json, thinkingDefault: boolean): number | undefined => {
  const thinking = isObject(body.thinking) ? body.thinking.type === "enabled" : thinkingDefault
  if (!thinking || !Array.isArray(body.messages)) return undefined
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i]
    if (
      isObject(m) && m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0 &&
      (typeof m.reasoning_content !== "string" || m.reasoning_content === "")
    ) return i
  }
  return undefined
}

/** The JSON of a `json_object` answer: conforming to the schema in the request, or not (the directive). */
export const jsonAnswer = (
  messages: ReadonlyArray<unknown>,
  directive: Directive | undefined,
  rng: prng.Prng,
  fallback: () => unknown
): string => {
  let schema: Json | undefined
  for (const m of messages) {
    if (!isObject(m) || (m.role !== "system" && m.role !== "user" && m.role !== "developer")) continue
    const text = typeof m.content === "string"
      ? m.content
      : Array.isArray(m.content)
      ? m.content.map((p) => isObject(p) && typeof p.text === "string" ? p.text : "").join("")
      : ""
    schema = jsonSchema.findSchema(text)
    if (schema !== undefined) break
  }
  if (schema === undefined) {
    return JSON.stringify(directive?._tag === "NonConformingJson" ? ["not", "an", "object"] : fallback())
  }
  return JSON.stringify(
    directive?._tag === "NonConformingJson" ? jsonSchema.nonConforming(schema, rng) : jsonSchema.valueFor(schema, rng)
  )
}
