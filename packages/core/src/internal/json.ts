/**
 * JSON from the wire, read without trusting it.
 *
 * - `JSON.parse` itself is safe at any depth (V8 parses iteratively) and makes
 *   `"__proto__"` an own property, but a Schema that copies the object
 *   (`onExcessProperty: "preserve"`) assigns it, which sets the copy's
 *   prototype. Keys named `__proto__` are dropped while parsing, whenever the
 *   text could hold one (written plainly or with `\u` escapes).
 * - Schema decoding and its error formatting recurse: a body nested thousands
 *   of levels deep would end in a `RangeError`. {@link tooDeep} checks the
 *   depth without recursion before anything recursive sees the value.
 */

/**
 * The deepest nesting a decoded response may have (a chat answer needs about 8; a recursive decoder or
 * formatter is safe far deeper than this).
 */
export const maxDepth = 512

/**
 * Whether a JSON text of `size` characters can nest deeper than {@link maxDepth} (each level takes at least
 * two characters): when not, {@link tooDeep} need not walk it.
 *
 * @internal
 */
export const mayBeTooDeep = (size: number): boolean => size > 2 * maxDepth

function dropProto(this: unknown, key: string, value: unknown): unknown {
  return key === "__proto__" ? undefined : value
}

/**
 * `JSON.parse`, with any `__proto__` key dropped.
 *
 * @internal
 */
export const parse = (text: string): unknown => mayHoldProto(text) ? JSON.parse(text, dropProto) : JSON.parse(text)

/** `\u` escapes of the letters of `__proto__` (`_` 5f, `o` 6f, `p` 70, `r` 72, `t` 74). */
const escapedProtoLetter = /\\u00(?:5[fF]|6[fF]|7[024])/

/** Whether a JSON text may spell a `__proto__` key, plainly or with escapes (CJK escapes do not count). */
const mayHoldProto = (text: string): boolean =>
  text.indexOf("proto") !== -1 || (text.indexOf("\\u00") !== -1 && escapedProtoLetter.test(text))

/**
 * Whether a parsed value nests deeper than `max` (arrays and objects), checked with an explicit stack.
 *
 * @internal
 */
export const tooDeep = (value: unknown, max: number = maxDepth): boolean => {
  if (typeof value !== "object" || value === null) return false
  const values: Array<unknown> = [value]
  const depths: Array<number> = [1]
  while (values.length > 0) {
    const current = values.pop()
    const depth = depths.pop()!
    if (depth > max) return true
    if (Array.isArray(current)) {
      for (const item of current) {
        if (typeof item === "object" && item !== null) {
          values.push(item)
          depths.push(depth + 1)
        }
      }
    } else {
      const record = current as Record<string, unknown>
      for (const key in record) {
        const item = record[key]
        if (typeof item === "object" && item !== null) {
          values.push(item)
          depths.push(depth + 1)
        }
      }
    }
  }
  return false
}

/**
 * Runs a recursive step (a Schema decode, an error formatter) and turns a stack overflow into a message.
 *
 * @internal
 */
export const guarded = <A>(f: () => A, onOverflow: (message: string) => A): A => {
  try {
    return f()
  } catch (e) {
    if (e instanceof RangeError) return onOverflow(`the value is too deeply nested to decode (${e.message})`)
    throw e
  }
}
