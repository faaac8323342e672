import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as MimoError from "../MimoError.js"
import type * as Scrub from "../Scrub.js"

/** @internal */
export const placeholder = "[REDACTED]"

/** Parts of a secret shorter than this are not scrubbed alone (they would blot out ordinary text). */
const minLength = 4

const add = (out: Set<string>, value: string | undefined) => {
  if (value === undefined || value.length < minLength) return
  out.add(value)
  const encoded = encodeURIComponent(value)
  if (encoded !== value) out.add(encoded)
  const json = JSON.stringify(value).slice(1, -1)
  if (json !== value) out.add(json)
}

/** The secrets a base URL holds: its user info and its query (and each query value). */
const urlSecrets = (out: Set<string>, baseUrl: string) => {
  let url: URL
  try {
    url = new URL(baseUrl, "http://relative.invalid")
  } catch {
    return
  }
  if (url.username !== "" || url.password !== "") {
    add(out, `${url.username}:${url.password}@`)
    add(out, decodeURIComponent(url.password))
    add(out, url.password)
    add(out, decodeURIComponent(url.username))
  }
  if (url.search.length > 1) {
    add(out, url.search.slice(1))
    for (const [, value] of url.searchParams) add(out, value)
  }
}

/** @internal */
export const make = (options: Scrub.Options): Scrub.Scrubber => {
  const secrets = new Set<string>()
  for (const secret of options.secrets ?? []) {
    add(secrets, Redacted.isRedacted(secret) ? Redacted.value(secret) : secret)
  }
  if (options.baseUrl !== undefined) urlSecrets(secrets, options.baseUrl)
  // Longest first, so that a secret containing another is replaced whole.
  const list = [...secrets].sort((a, b) => b.length - a.length)
  if (list.length === 0) return (text) => text
  return (text) => {
    let out = text
    for (const secret of list) {
      if (out.indexOf(secret) !== -1) out = out.split(secret).join(placeholder)
    }
    return out
  }
}

const encodeError = Schema.encodeSync(MimoError.MimoError)
const decodeError = Schema.decodeUnknownSync(MimoError.MimoError)

/** @internal */
export const error = <E extends MimoError.MimoError>(
  scrubber: Scrub.Scrubber,
  e: E,
  extra?: { readonly attempts: number; readonly clientRequestId: string | undefined }
): E => {
  let changed = false
  const encoded: Record<string, unknown> = { ...encodeError(e) }
  if (extra !== undefined) {
    encoded.attempts = extra.attempts
    if (extra.clientRequestId !== undefined) encoded.clientRequestId = extra.clientRequestId
    changed = true
  }
  for (const key in encoded) {
    const value = encoded[key]
    if (typeof value === "string") {
      const scrubbed = scrubber(value)
      if (scrubbed !== value) {
        encoded[key] = scrubbed
        changed = true
      }
    }
  }
  if (!changed) return e
  const decoded = decodeError(encoded)
  // The same class as `e` (the tag is kept), so the same type.
  return decoded._tag === e._tag ? decoded as E : e
}
