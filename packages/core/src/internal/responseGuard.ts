import type { Response } from "../ChatCompletion.js"

const isOptString = (u: unknown): boolean => u === undefined || u === null || typeof u === "string"
const isOptNumber = (u: unknown): boolean => u === undefined || u === null || typeof u === "number"
const isAbsent = (u: unknown): boolean => u === undefined || u === null
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** `undefined`, `null`, or a record whose listed fields are absent or numbers. */
const isNumbers = (u: unknown, fields: ReadonlyArray<string>): boolean => {
  if (isAbsent(u)) return true
  if (!isRecord(u)) return false
  for (const field of fields) if (!isOptNumber(u[field])) return false
  return true
}

const usageNumbers = ["prompt_tokens", "completion_tokens", "total_tokens", "seconds"]
const completionDetails = ["reasoning_tokens"]
const promptDetails = ["cached_tokens", "audio_tokens", "image_tokens", "video_tokens"]

const isPlainUsage = (u: unknown): boolean =>
  isAbsent(u) ||
  (isRecord(u) && isNumbers(u, usageNumbers) && isNumbers(u.completion_tokens_details, completionDetails) &&
    isNumbers(u.prompt_tokens_details, promptDetails) && isAbsent(u.web_search_usage))

/**
 * A hand-written guard for the response almost every non-streaming call gets:
 * text messages (`role`, `content`, `reasoning_content`, …) with plain token
 * usage; no tool calls, audio or annotations. Like the Schema's `is`, it
 * ignores fields it does not know. It accepts a strict subset of what
 * `ChatCompletion.Response` accepts (a property test checks it); anything
 * else falls through to the Schema. Why by hand: the Schema's `is` was the
 * largest share of the client's own CPU per call in `apps/bench` once the
 * transport was lean.
 *
 * @internal
 */
export const isTextResponse = (u: unknown): u is Response => {
  if (!isRecord(u)) return false
  if (typeof u.id !== "string" || typeof u.object !== "string") return false
  if (!isOptNumber(u.created) || !isOptString(u.model) || !isPlainUsage(u.usage)) return false
  const choices = u.choices
  if (!Array.isArray(choices)) return false
  for (const choice of choices) {
    if (!isRecord(choice) || typeof choice.index !== "number" || !isOptString(choice.finish_reason)) return false
    const message = choice.message
    if (!isRecord(message)) return false
    if (
      !isOptString(message.role) || !isOptString(message.content) || !isOptString(message.reasoning_content) ||
      !isOptString(message.error_message) || !isOptString(message.final_text_preview)
    ) return false
    if (!isAbsent(message.tool_calls) || !isAbsent(message.audio) || !isAbsent(message.annotations)) return false
  }
  return true
}
