import type { Request } from "../ChatCompletion.js"

const isPlainRecord = (u: unknown): u is Record<string, unknown> => {
  if (typeof u !== "object" || u === null) return false
  const proto = Object.getPrototypeOf(u)
  return proto === Object.prototype || proto === null
}

const isNumberOrNull = (u: unknown): boolean => u === null || typeof u === "number"

/** The fields of a text request and a check of each value (`undefined` is left to the Schema). */
const fields: ReadonlyMap<string, (u: unknown) => boolean> = new Map<string, (u: unknown) => boolean>([
  ["model", (u) => typeof u === "string"],
  ["messages", (u) => Array.isArray(u) && u.every(isTextMessage)],
  ["max_completion_tokens", isNumberOrNull],
  ["temperature", (u) => typeof u === "number"],
  ["top_p", (u) => typeof u === "number"],
  ["stream", (u) => u === null || typeof u === "boolean"],
  ["stop", (u) => u === null || typeof u === "string" || (Array.isArray(u) && u.every((s) => typeof s === "string"))],
  ["frequency_penalty", isNumberOrNull],
  ["presence_penalty", isNumberOrNull]
])

const textRoles = new Set(["system", "developer", "user", "assistant"])

const isTextMessage = (u: unknown): boolean => {
  if (!isPlainRecord(u)) return false
  if (typeof u.role !== "string" || !textRoles.has(u.role) || typeof u.content !== "string") return false
  for (const key in u) {
    if (key !== "role" && key !== "content" && (key !== "name" || typeof u.name !== "string")) return false
  }
  return true
}

/**
 * A hand-written guard for the request almost every call makes: a model,
 * messages of plain text (`system`, `developer`, `user`, `assistant` with a
 * string `content`, an optional `name`), and the plain sampling options
 * (`max_completion_tokens`, `temperature`, `top_p`, `stream`, `stop`, the
 * penalties). Nothing else: no tools, parts, audio, thinking, `extra_body`,
 * no unknown field, no `undefined` value. For such an input the Schema's
 * decoding is the identity (same fields, same values, nothing to drop), so
 * the input is the decoded request; anything else goes to the Schema. A
 * property test checks both: whatever it accepts, the Schema decodes to an
 * equal value.
 *
 * Why by hand: `ParseResult.decodeUnknownEither` of `ChatCompletion.Request`
 * (a union of five message Schemas per message) was ≈ 2.7 µs of the ≈ 75 µs of
 * client CPU a buffered call cost at concurrency 64 in `apps/bench`; this guard
 * costs a fraction of that.
 *
 * @internal
 */
export const isTextRequest = (u: unknown): u is Request => {
  if (!isPlainRecord(u) || typeof u.model !== "string" || !Array.isArray(u.messages)) return false
  for (const key in u) {
    const check = fields.get(key)
    if (check === undefined || !check(u[key])) return false
  }
  return true
}
