import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Redaction from "../Redaction.js"

/** @internal */
export const placeholder = "<redacted>"

/** Shorter secrets are not scrubbed: they would blank out ordinary words (no real key is this short). */
const minSecretLength = 4

const forms = (secret: string): ReadonlyArray<string> => {
  const out = new Set<string>([secret])
  // as a server may echo it: URL-encoded, JSON-escaped, base64 (a Basic header)
  try {
    out.add(encodeURIComponent(secret))
  } catch {
    // a lone surrogate: no URL-encoded form
  }
  out.add(JSON.stringify(secret).slice(1, -1))
  return [...out].filter((s) => s.length >= minSecretLength)
}

const urlNeedles = (baseUrl: string | URL): ReadonlyArray<string> => {
  let url: URL
  try {
    url = baseUrl instanceof URL ? baseUrl : new URL(baseUrl)
  } catch {
    return []
  }
  const out: Array<string> = []
  for (const part of [url.username, url.password]) {
    if (part !== "") {
      out.push(part)
      try {
        out.push(decodeURIComponent(part))
      } catch {
        // not percent-encoded
      }
    }
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
