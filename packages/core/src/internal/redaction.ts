import * as Either from "effect/Either"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as MimoError from "../MimoError.js"
import type * as Redaction from "../Redaction.js"

/** @internal */
export const placeholder = "<redacted>"

/** Shorter secrets are not scrubbed: they would blank out ordinary words (no real key is this short). */
const minSecretLength = 4

const forms = (secret: string): ReadonlyArray<string> => {
  const out = new Set<string>([secret])
  // as a server may echo it: URL-encoded, JSON-escaped
  try {
    out.add(encodeURIComponent(secret))
  } catch {
    // a lone surrogate: no URL-encoded form
  }
  out.add(JSON.stringify(secret).slice(1, -1))
  return [...out].filter((s) => s.length >= minSecretLength)
}

const decoded = (part: string): ReadonlyArray<string> => {
  try {
    return [part, decodeURIComponent(part)]
  } catch {
    // not percent-encoded
    return [part]
  }
}

const urlNeedles = (baseUrl: string | URL): ReadonlyArray<string> => {
  let url: URL
  try {
    // a relative base URL (`/v1?token=…`, as a browser client has) is read against a placeholder origin
    url = baseUrl instanceof URL ? baseUrl : new URL(baseUrl, "http://relative.invalid")
  } catch {
    return []
  }
  const out: Array<string> = []
  if (url.username !== "" || url.password !== "") {
    // the user info whole, so that two short parts (`a:b@`) still go
    out.push(`${url.username}:${url.password}@`)
    for (const part of [url.username, url.password]) if (part !== "") out.push(...decoded(part))
  }
  if (url.search !== "") {
    out.push(url.search.slice(1))
    for (const [name, value] of url.searchParams) {
      out.push(value)
      out.push(encodeURIComponent(value))
      if (name.length >= minSecretLength) out.push(`${name}=${value}`)
    }
  }
  if (url.hash.length > 1) out.push(url.hash.slice(1))
  return out.flatMap(forms)
}

/** @internal */
export const make = (options: Redaction.Options): Redaction.Redactor => {
  const needles = new Set<string>()
  for (const secret of options.secrets ?? []) {
    const value: unknown = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    if (typeof value === "string") { for (const form of forms(value)) needles.add(form) }
  }
  for (const url of options.baseUrls ?? []) for (const needle of urlNeedles(url)) needles.add(needle)
  // longest first, so that a form containing another is replaced whole
  const sorted = [...needles].filter((n) => n.length >= minSecretLength).sort((a, b) => b.length - a.length)
  if (sorted.length === 0) return none
  return (text: string): string => {
    if (typeof text !== "string" || text === "") return text
    let out = text
    for (const needle of sorted) if (out.includes(needle)) out = out.split(needle).join(placeholder)
    return out
  }
}

/** @internal */
export const none: Redaction.Redactor = (text) => text

/** @internal */
export const combine = (...redactors: ReadonlyArray<Redaction.Redactor>): Redaction.Redactor => {
  const active = redactors.filter((r) => r !== none)
  if (active.length === 0) return none
  if (active.length === 1) return active[0]
  return (text) => active.reduce((acc, r) => r(acc), text)
}

const maxDepth = 64

/** @internal */
export const deep = <A>(value: A, redact: Redaction.Redactor): A => {
  if (redact === none) return value
  return walk(value, redact, 0) as A
}

const walk = (u: unknown, redact: Redaction.Redactor, depth: number): unknown => {
  if (typeof u === "string") return redact(u)
  if (u === null || typeof u !== "object" || depth >= maxDepth) return u
  if (Array.isArray(u)) return u.map((x) => walk(x, redact, depth + 1))
  if (!Predicate.isRecord(u)) return u
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(u)) {
    // own data properties only, defined (not assigned): a "__proto__" key stays a key
    Object.defineProperty(out, redact(key), {
      value: walk(u[key], redact, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

const encodeError = Schema.encodeSync(MimoError.MimoError)
const decodeError = Schema.decodeUnknownEither(MimoError.MimoError)

/** @internal */
export const error = <E extends MimoError.MimoError>(
  redact: Redaction.Redactor,
  e: E,
  extra?: { readonly attempts: number; readonly clientRequestId: string | undefined }
): E => {
  // `base`: the error as it is (with the attempts and client request id when given); `encoded`: scrubbed
  const base: Record<string, unknown> = { ...encodeError(e) }
  if (extra !== undefined) {
    base.attempts = extra.attempts
    if (extra.clientRequestId !== undefined) base.clientRequestId = extra.clientRequestId
  }
  const encoded: Record<string, unknown> = { ...base }
  const scrubbed: Array<string> = []
  if (redact !== none) {
    for (const key in encoded) {
      const value = encoded[key]
      if (key === "_tag" || typeof value !== "string") continue
      const clean = redact(value)
      if (clean !== value) {
        encoded[key] = clean
        scrubbed.push(key)
      }
    }
  }
  if (extra === undefined && scrubbed.length === 0) return e
  let result = decodeError(encoded)
  if (Either.isLeft(result)) {
    // A secret inside one of our own constants (a `reason` literal such as "Timeout"): that field is no
    // server text and keeps its value; every other field stays scrubbed. Never a defect.
    for (const key of scrubbed) {
      if (Either.isLeft(decodeError({ ...base, [key]: encoded[key] }))) encoded[key] = base[key]
    }
    result = decodeError(encoded)
  }
  // The same class as `e` (the tag is kept), so the same type.
  return Either.isRight(result) && result.right._tag === e._tag ? result.right as E : e
}
