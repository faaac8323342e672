import * as Headers from "@effect/platform/Headers"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as ErrorCode from "../ErrorCode.js"
import type * as ErrorResponse from "../ErrorResponse.js"
import * as MimoError from "../MimoError.js"
import * as RetryAfter from "./retryAfter.js"

type Decoded = MimoError.ApiError | MimoError.UnknownApiError

/** @internal */
export const maxExcerpt = 2048

/** @internal */
export const maxScan = 65536

/** The longest message taken from an HTML `<title>` or a plain-text body (UTF-8 bytes). */
const maxText = 512

// -----------------------------------------------------------------------------
// The envelope as a Schema
// -----------------------------------------------------------------------------

/**
 * `type` values that carry no information: absent, `null`, `""`, and the
 * seed's placeholder `"error"` (which `encode` writes when there is no type).
 */
const normalizeType = (type: string | null | undefined): string | undefined =>
  type === undefined || type === null || type === "" || type === "error" ? undefined : type

const normalizeParam = (param: string | null | undefined): string | undefined =>
  param === undefined || param === null || param === "" ? undefined : param

const EnvelopeErrorEncoded = Schema.Struct({
  code: Schema.Union(Schema.String, Schema.Number),
  message: Schema.String,
  type: Schema.optional(Schema.NullOr(Schema.String)),
  param: Schema.optional(Schema.NullOr(Schema.String))
})

const EnvelopeErrorType = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  type: Schema.optional(Schema.String),
  param: Schema.optional(Schema.String)
})

/** The seed envelope's `error` object as written on the wire: `type` defaults to the placeholder `"error"`. */
const seedError = (e: {
  readonly code: string
  readonly message: string
  readonly type?: string | undefined
  readonly param?: string | undefined
}) => ({
  code: e.code,
  message: e.message,
  type: e.type ?? "error",
  ...(e.param === undefined ? {} : { param: e.param })
})

/** @internal */
export const EnvelopeError = Schema.transform(EnvelopeErrorEncoded, EnvelopeErrorType, {
  strict: true,
  decode: (e) => {
    const type = normalizeType(e.type)
    const param = normalizeParam(e.param)
    return {
      code: String(e.code),
      message: e.message,
      ...(type === undefined ? {} : { type }),
      ...(param === undefined ? {} : { param })
    }
  },
  encode: (e) => seedError(e)
})

/** @internal */
export const Envelope = Schema.Struct({ error: EnvelopeError })

// -----------------------------------------------------------------------------
// Bounded text helpers
// -----------------------------------------------------------------------------

/** Cuts a string to at most `max` UTF-8 bytes, at a code point boundary. */
const truncateUtf8 = (text: string, max: number): string => {
  if (text.length * 3 <= max) return text
  let bytes = 0
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    let size = 3
    let width = 1
    if (c < 0x80) size = 1
    else if (c < 0x800) size = 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        size = 4
        width = 2
      }
    }
    if (bytes + size > max) return text.slice(0, i).trimEnd()
    bytes += size
    i += width
  }
  return text
}

const collapse = (text: string): string => text.replace(/\s+/g, " ").trim()

/**
 * @internal
 * `truncateUtf8(collapse(body.slice(0, maxScan)), maxExcerpt)`, computed on a growing window of the body so that a
 * huge body costs little: once the collapsed window holds more than `maxExcerpt + 1` characters, a larger window
 * cannot change the first `maxExcerpt` bytes.
 */
export const excerpt = (body: string): string => {
  const limit = Math.min(body.length, maxScan)
  let window = Math.min(limit, 4 * maxExcerpt)
  for (;;) {
    const collapsed = collapse(body.slice(0, window))
    if (window >= limit || collapsed.length > maxExcerpt + 1) return truncateUtf8(collapsed, maxExcerpt)
    window = Math.min(limit, window * 4)
  }
}

// -----------------------------------------------------------------------------
// Reading a body
// -----------------------------------------------------------------------------

interface Fields {
  readonly code?: string
  readonly message?: string
  readonly type?: string
  readonly param?: string
}

const nonEmpty = (u: unknown): string | undefined => typeof u === "string" && u !== "" ? u : undefined

const codeField = (u: unknown): string | undefined =>
  typeof u === "number" ? (Number.isFinite(u) ? String(u) : undefined) : nonEmpty(u)

const typeField = (u: unknown): string | undefined => normalizeType(nonEmpty(u))

const parseJson = (text: string): Option.Option<unknown> => {
  try {
    const value: unknown = JSON.parse(text)
    return Option.some(value)
  } catch {
    return Option.none()
  }
}

const fields = (code: unknown, message: unknown, type: unknown, param: unknown): Fields => {
  const out: { code?: string; message?: string; type?: string; param?: string } = {}
  const c = codeField(code)
  const m = nonEmpty(message)
  const t = typeField(type)
  const p = nonEmpty(param)
  if (c !== undefined) out.code = c
  if (m !== undefined) out.message = m
  if (t !== undefined) out.type = t
  if (p !== undefined) out.param = p
  return out
}

/**
 * The error fields of a parsed body, whatever its shape: `{"error":{...}}`
 * (seed, Xiaomi, OpenAI), `{"type":"error","error":{...}}` (Anthropic),
 * `{"error":"text"}`, a bare `{type, message}` (or `{detail}`), or an array
 * holding one of those.
 */
const fieldsOf = (u: unknown, depth = 0): Fields | undefined => {
  if (Array.isArray(u)) return depth < 2 && u.length > 0 ? fieldsOf(u[0], depth + 1) : undefined
  if (typeof u === "string") return fields(undefined, u, undefined, undefined)
  if (!Predicate.isRecord(u)) return undefined
  const error = u.error
  const topMessage = nonEmpty(u.message) ?? nonEmpty(u.detail)
  if (Predicate.isRecord(error)) {
    return fields(
      error.code ?? u.code,
      nonEmpty(error.message) ?? topMessage,
      nonEmpty(error.type) ?? u.type,
      error.param ?? u.param
    )
  }
  return fields(u.code, nonEmpty(error) ?? topMessage, u.type, u.param)
}

const hasAny = (f: Fields): boolean => f.code !== undefined || f.message !== undefined

const salvageString = (name: string) => new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`)
const salvageCode = /"code"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?))/
const salvageMessage = salvageString("message")
const salvageType = salvageString("type")
const salvageParam = salvageString("param")

const unescape = (raw: string): string => {
  const parsed = parseJson(`"${raw}"`)
  return Option.isSome(parsed) && typeof parsed.value === "string" ? parsed.value : raw
}

const salvaged = (re: RegExp, text: string): string | undefined => {
  const m = re.exec(text)
  return m === null ? undefined : unescape(m[1])
}

/** What can still be read from JSON that does not parse (typically: cut short). */
const salvage = (text: string): Fields => {
  const code = salvageCode.exec(text)
  return fields(
    code === null ? undefined : code[1] !== undefined ? unescape(code[1]) : code[2],
    salvaged(salvageMessage, text),
    salvaged(salvageType, text),
    salvaged(salvageParam, text)
  )
}

const readJson = (text: string): Fields => {
  const parsed = parseJson(text)
  return Option.isSome(parsed) ? fieldsOf(parsed.value) ?? {} : salvage(text)
}

/** The `data` of each event of an SSE-framed body (`data:` with or without a space; `[DONE]` skipped). */
const sseData = (text: string): Array<string> => {
  const events: Array<string> = []
  let data: Array<string> | undefined
  const dispatch = () => {
    if (data !== undefined) {
      const joined = data.join("\n").trim()
      if (joined !== "" && joined !== "[DONE]") events.push(joined)
    }
    data = undefined
  }
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") dispatch()
    else if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5)
      if (data === undefined) data = [value]
      else data.push(value)
    }
  }
  dispatch()
  return events
}

const readSse = (text: string): Fields => {
  let first: Fields | undefined
  for (const data of sseData(text)) {
    const f = readJson(data)
    if (f.code !== undefined) return f
    if (first === undefined && hasAny(f)) first = f
  }
  return first ?? {}
}

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos|nbsp);/gi, (entity, name: string) => {
    const lower = name.toLowerCase()
    if (lower.startsWith("#")) {
      const cp = lower.startsWith("#x") ? parseInt(lower.slice(2), 16) : parseInt(lower.slice(1), 10)
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : entity
    }
    switch (lower) {
      case "amp":
        return "&"
      case "lt":
        return "<"
      case "gt":
        return ">"
      case "quot":
        return "\""
      case "apos":
        return "'"
      default:
        return " "
    }
  })

const titleOpen = /<title\b/i
const titleClose = /<\/title\s*>/ig

/** The text of the first `<title>`; found with linear scans only (no backtracking over a hostile body). */
const titleOf = (markup: string): string | undefined => {
  const open = titleOpen.exec(markup)
  if (open === null) return undefined
  const start = markup.indexOf(">", open.index)
  if (start < 0) return undefined
  titleClose.lastIndex = start
  const close = titleClose.exec(markup)
  if (close === null) return undefined
  const title = truncateUtf8(
    collapse(decodeEntities(markup.slice(start + 1, close.index).slice(0, 4 * maxText))),
    maxText
  )
  return title === "" ? undefined : title
}

const sseStart = /^(?:data|event|id|retry):|^:/

interface Reading {
  /** Fields found in a JSON (or SSE-framed JSON) body. */
  readonly fields: Fields
  /** A message found outside JSON: an HTML `<title>`, or a short plain-text body. */
  readonly text?: string | undefined
}

const read = (prefix: string): Reading => {
  const text = prefix.trim()
  if (text === "") return { fields: {} }
  if (sseStart.test(text)) return { fields: readSse(text) }
  switch (text[0]) {
    case "{":
    case "[":
    case "\"":
      return { fields: readJson(text) }
    case "<":
      return { fields: {}, text: titleOf(text) }
    default:
      return { fields: {}, text: truncateUtf8(collapse(text.slice(0, 4 * maxText)), maxText) }
  }
}

// -----------------------------------------------------------------------------
// Classification
// -----------------------------------------------------------------------------

const statusLike = /^[1-5]\d\d$/

/** The table row for a code: one of the seed codes, or a table status written as a string ("429"). */
const rowOfCode = (code: string | undefined): ErrorCode.Row | undefined =>
  code === undefined
    ? undefined
    : ErrorCode.fromCode(code) ?? (statusLike.test(code) ? ErrorCode.fromStatus(Number(code)) : undefined)

interface Props {
  message: string
  type?: string
  param?: string
  requestId?: string
}

const props = (message: string, f: Fields, requestId: string | undefined): Props => {
  const out: Props = { message }
  if (f.type !== undefined) out.type = f.type
  if (f.param !== undefined) out.param = f.param
  if (requestId !== undefined) out.requestId = requestId
  return out
}

// The constructors validate their props, which also puts the fields in the canonical order: `Equal.equals` (and
// @effect/vitest's `toEqual`) on these errors hashes fields in order, so a decoded error must be built exactly as
// `new X({...})` builds one. (Skipping validation would save about 35 µs on a RateLimitExceeded with a retryAfter.)
const constructors: {
  readonly [T in ErrorCode.Tag]: (props: Props, retryAfter: Duration.Duration | undefined) => MimoError.ApiError
} = {
  InvalidRequest: (p) => new MimoError.InvalidRequest(p),
  AuthenticationFailed: (p) => new MimoError.AuthenticationFailed(p),
  PermissionDenied: (p) => new MimoError.PermissionDenied(p),
  NotFound: (p) => new MimoError.NotFound(p),
  RateLimitExceeded: (p, retryAfter) =>
    new MimoError.RateLimitExceeded(retryAfter === undefined ? p : { ...p, retryAfter }),
  InternalError: (p) => new MimoError.InternalError(p),
  ServiceUnavailable: (p) => new MimoError.ServiceUnavailable(p)
}

const unknown = (
  status: number,
  f: Fields,
  message: string,
  requestId: string | undefined,
  body: string
): MimoError.UnknownApiError => {
  const p = props(message, f, requestId)
  // A code that only repeats the status (Xiaomi's "402" on a 402) says nothing more: keep it out.
  return new MimoError.UnknownApiError(
    f.code === undefined || f.code === String(status) ? { ...p, status, body } : { ...p, status, code: f.code, body }
  )
}

const requestIdHeaders: ReadonlyArray<string> = ["x-request-id", "request-id", "x-mimo-request-id"]

const requestIdOf = (headers: Headers.Headers): string | undefined => {
  for (const name of requestIdHeaders) {
    const value = nonEmpty(Option.getOrUndefined(Headers.get(headers, name)))
    if (value !== undefined) return value
  }
  return undefined
}

/** @internal */
export const decode = (input: ErrorResponse.DecodeInput): Decoded => {
  const { body, headers, status } = input
  const reading = read(body.length > maxScan ? body.slice(0, maxScan) : body)
  const f = reading.fields
  const requestId = nonEmpty(input.requestId) ?? requestIdOf(headers)
  const message = f.message ?? reading.text
  // Status first: an HTTP error status outside the table (402, 421, 502, ...) stays an
  // UnknownApiError whatever its code says; the code decides only when there is no
  // HTTP error status to go by (0 or 2xx, e.g. an error event inside a 200 stream).
  const row = ErrorCode.fromStatus(status) ?? (status < 400 ? rowOfCode(f.code) : undefined)
  if (row !== undefined) {
    const retryAfter = row.tag === "RateLimitExceeded"
      ? Option.getOrUndefined(RetryAfter.parse(headers, input.nowMillis))
      : undefined
    return constructors[row.tag](props(message ?? row.description, f, requestId), retryAfter)
  }
  return unknown(status, f, message ?? `HTTP ${status}`, requestId, excerpt(body))
}

const stringify = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? ""
  } catch {
    return ""
  }
}

/** @internal */
export const decodeChunkError = (json: unknown, requestId?: string): Option.Option<Decoded> => {
  if (!Predicate.isRecord(json)) return Option.none()
  const error = json.error
  if (!Predicate.isRecord(error) && nonEmpty(error) === undefined) return Option.none()
  const f = fieldsOf(json) ?? {}
  const id = nonEmpty(requestId)
  const row = rowOfCode(f.code)
  if (row !== undefined) {
    return Option.some(constructors[row.tag](props(f.message ?? row.description, f, id), undefined))
  }
  const status = f.code !== undefined && statusLike.test(f.code) ? Number(f.code) : 0
  const message = f.message ?? (status > 0 ? `HTTP ${status}` : "The stream reported an error.")
  return Option.some(unknown(status, f, message, id, excerpt(stringify(json))))
}

// -----------------------------------------------------------------------------
// Reading a response
// -----------------------------------------------------------------------------

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/**
 * Reads at most `maxBytes` of a body; stops pulling once it has them; a read failure keeps what was read.
 *
 * @internal
 */
export const readPrefix = <E, R>(
  stream: Stream.Stream<Uint8Array, E, R>,
  maxBytes: number
): Effect.Effect<string, never, R> =>
  Effect.suspend(() => {
    const limit = Number.isFinite(maxBytes) ? Math.max(0, Math.floor(maxBytes)) : maxScan
    if (limit === 0) return Effect.succeed("")
    const chunks: Array<Uint8Array> = []
    let size = 0
    return stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          const room = limit - size
          const taken = chunk.length <= room ? chunk : chunk.subarray(0, room)
          if (taken.length > 0) {
            chunks.push(taken)
            size += taken.length
          }
          return size < limit
        })
      ),
      Effect.ignore,
      Effect.map(() => new TextDecoder().decode(concat(chunks, size)))
    )
  })

/** @internal */
export const fromResponse = (
  response: HttpClientResponse.HttpClientResponse,
  options?: ErrorResponse.FromResponseOptions
): Effect.Effect<never, Decoded> =>
  Effect.flatMap(
    readPrefix(response.stream, options?.maxBytes ?? maxScan),
    (body) =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
        Effect.fail(
          decode({
            status: response.status,
            headers: response.headers,
            body,
            nowMillis,
            requestId: options?.requestId
          })
        ))
  )

// -----------------------------------------------------------------------------
// Rendering
// -----------------------------------------------------------------------------

const renderBody = (error: Decoded, shape: ErrorResponse.Shape): string => {
  switch (shape) {
    case "bare":
      return JSON.stringify({ type: error.type ?? "error", message: error.message })
    case "xiaomi":
      return JSON.stringify({
        error: {
          code: String(error.status),
          message: error.message,
          ...(error.param === undefined ? {} : { param: error.param }),
          type: error.type ?? ""
        }
      })
    case "seed": {
      const code = error._tag === "UnknownApiError" ? error.code ?? String(error.status) : error.code
      return JSON.stringify({
        error: seedError({ code, message: error.message, type: error.type, param: error.param })
      })
    }
  }
}

/** @internal */
export const encode = (error: Decoded, options?: ErrorResponse.EncodeOptions): ErrorResponse.Rendered => {
  const headers: Record<string, string> = { "content-type": "application/json" }
  if (error._tag === "RateLimitExceeded" && error.retryAfter !== undefined) {
    Object.assign(headers, RetryAfter.toHeaders(error.retryAfter))
  }
  if (error.requestId !== undefined && error.requestId !== "") headers["x-request-id"] = error.requestId
  return { status: error.status, headers, body: renderBody(error, options?.shape ?? "seed") }
}
