/**
 * Values from a JSON Schema: the simulator's `json_object` answers conform
 * to a schema found in the request, and tool call arguments to the tool's
 * `parameters`. Covers what Effect's `JSONSchema.make` writes (objects with
 * `required`, arrays with `minItems`/`maxItems`, `enum`, `const`, `anyOf` /
 * `oneOf`, `$ref` into `$defs` / `definitions`, numeric and length bounds);
 * `pattern` and `format` are not generated (a fixed string is used).
 *
 * @internal
 */
import * as prng from "./prng.js"

type Json = { readonly [key: string]: unknown }

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const WORDS = ["alpha", "river", "quiet", "lantern", "orbit", "maple", "signal", "harbor", "cobalt", "meadow"]

const MAX_DEPTH = 8

const resolveRef = (root: Json, ref: string): Json | undefined => {
  const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref)
  if (m === null) return undefined
  const defs = root[m[1]]
  const name = m[2].replace(/~1/g, "/").replace(/~0/g, "~")
  return isObject(defs) && isObject(defs[name]) ? defs[name] : undefined
}

const typeOf = (schema: Json): string | undefined => {
  const t = schema.type
  if (typeof t === "string") return t
  if (Array.isArray(t)) return t.find((x): x is string => typeof x === "string" && x !== "null")
  if (isObject(schema.properties)) return "object"
  if (schema.items !== undefined) return "array"
  return undefined
}

const num = (u: unknown): number | undefined => typeof u === "number" && Number.isFinite(u) ? u : undefined

const numberIn = (schema: Json, rng: prng.Prng, integer: boolean): number => {
  const min = num(schema.minimum) ??
    (num(schema.exclusiveMinimum) !== undefined ? num(schema.exclusiveMinimum)! + 1 : 0)
  const max = num(schema.maximum) ??
    (num(schema.exclusiveMaximum) !== undefined ? num(schema.exclusiveMaximum)! - 1 : Math.max(min, 0) + 100)
  const lo = Math.min(min, max)
  const hi = Math.max(min, max)
  if (integer) return prng.int(rng, Math.ceil(lo), Math.max(Math.ceil(lo), Math.floor(hi)))
  return Math.round((lo + rng() * (hi - lo)) * 100) / 100
}

const stringIn = (schema: Json, rng: prng.Prng): string => {
  const minLength = num(schema.minLength) ?? 0
  const maxLength = num(schema.maxLength)
  let s = WORDS[prng.int(rng, 0, WORDS.length - 1)]
  while (s.length < minLength) s += ` ${WORDS[prng.int(rng, 0, WORDS.length - 1)]}`
  return maxLength !== undefined ? s.slice(0, Math.max(minLength, maxLength)) : s
}

/** A value that conforms to `schema` (as far as the keywords above go). */
export const valueFor = (schema: unknown, rng: prng.Prng, root: unknown = schema, depth = 0): unknown => {
  if (!isObject(schema) || depth > MAX_DEPTH) return null
  const top = isObject(root) ? root : schema
  if (typeof schema.$ref === "string") {
    return valueFor(resolveRef(top, schema.$ref), rng, top, depth + 1)
  }
  if ("const" in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return schema.enum[prng.int(rng, 0, schema.enum.length - 1)]
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key]
    if (Array.isArray(options) && options.length > 0) {
      // The first branch that is not `null`: answers are more useful with a value.
      const pick = options.find((o) => !(isObject(o) && o.type === "null")) ?? options[0]
      return valueFor(pick, rng, top, depth + 1)
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    let merged: Record<string, unknown> = {}
    for (const part of schema.allOf) {
      const v = valueFor(part, rng, top, depth + 1)
      if (isObject(v)) merged = { ...merged, ...v }
    }
    return merged
  }
  switch (typeOf(schema)) {
    case "object":
      return objectFor(schema, rng, top, depth)
    case "array": {
      const min = num(schema.minItems) ?? 1
      const max = num(schema.maxItems) ?? Math.max(min, 2)
      const n = Math.min(Math.max(min, 1), max)
      const out: Array<unknown> = []
      for (let i = 0; i < n; i++) out.push(valueFor(schema.items ?? {}, rng, top, depth + 1))
      return out
    }
    case "string":
      return stringIn(schema, rng)
    case "integer":
      return numberIn(schema, rng, true)
    case "number":
      return numberIn(schema, rng, false)
    case "boolean":
      return rng() < 0.5
    case "null":
      return null
    default:
      return stringIn(schema, rng)
  }
}

const objectFor = (schema: Json, rng: prng.Prng, root: Json, depth: number): Json => {
  const out: Record<string, unknown> = {}
  const properties = isObject(schema.properties) ? schema.properties : {}
  for (const key of Object.keys(properties)) out[key] = valueFor(properties[key], rng, root, depth + 1)
  return out
}

/** A JSON value that does not conform to `schema`: a required property left out, or one of the wrong type. */
export const nonConforming = (schema: unknown, rng: prng.Prng): unknown => {
  const value = valueFor(schema, rng)
  if (isObject(value)) {
    const target = isObject(schema) && typeof schema.$ref === "string" ? resolveRef(schema, schema.$ref) : schema
    const required = isObject(target) && Array.isArray(target.required) ? target.required : []
    const copy: Record<string, unknown> = { ...value }
    const first = required.find((k): k is string => typeof k === "string")
    if (first !== undefined) {
      delete copy[first]
      return copy
    }
    const key = Object.keys(copy)[0]
    if (key !== undefined) {
      copy[key] = typeof copy[key] === "string" ? 42 : "not the right type"
      return copy
    }
    return []
  }
  return { unexpected: value }
}

const looksLikeSchema = (u: unknown): u is Json =>
  isObject(u) &&
  (typeof u.$schema === "string" || isObject(u.properties) || typeof u.$ref === "string" ||
    Array.isArray(u.anyOf) || u.type === "object")

/**
 * The first JSON Schema written in the text: each `{` starts a candidate,
 * parsed up to its matching `}` (strings and escapes respected). Bounded:
 * at most 64 candidates and 256 KiB of text are looked at.
 */
export const findSchema = (text: string): Json | undefined => {
  const limit = Math.min(text.length, 256 * 1024)
  let candidates = 0
  for (let start = text.indexOf("{"); start !== -1 && start < limit; start = text.indexOf("{", start + 1)) {
    if (++candidates > 64) return undefined
    let depth = 0
    let inString = false
    for (let i = start; i < limit; i++) {
      const c = text[i]
      if (inString) {
        if (c === "\\") i++
        else if (c === "\"") inString = false
      } else if (c === "\"") inString = true
      else if (c === "{") depth++
      else if (c === "}" && --depth === 0) {
        try {
          const parsed: unknown = JSON.parse(text.slice(start, i + 1))
          if (looksLikeSchema(parsed)) return parsed
        } catch {
          // not JSON: try the next `{`
        }
        break
      }
    }
  }
  return undefined
}
