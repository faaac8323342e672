/**
 * Scrubbing our own secrets out of text that came from a server before it
 * goes anywhere else (an error, a log line, a span, an SSE event, a page).
 *
 * A server (or a proxy in front of it) may echo what it was sent: the key
 * (raw, as `Bearer <key>`, URL-encoded, JSON-escaped), or the base URL's
 * credentials, query and fragment. A {@link Redactor} replaces every such
 * form with `<redacted>`.
 *
 * `MimoClient` passes every error it reports (the message, the body excerpt,
 * the request id, …), every retry event, log line and span attribute through
 * a redactor made from its key and base URL ({@link error} for a
 * `MimoError`). The server side of the error model (`ServerError`) takes one
 * in its options; a gateway builds it from the key and base URL it holds:
 *
 * ```ts
 * const redact = Redaction.make({ secrets: [apiKey], baseUrls: [baseUrl] })
 * ServerError.toResponse(error, { redact })
 * ```
 *
 * Secrets (and each part of a base URL: a user name such as `a`) shorter than
 * 4 characters are not scrubbed on their own (they would blank out ordinary
 * words; no real key is that short).
 *
 * @since 0.2.0
 */
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/redaction.js"
import type * as MimoError from "./MimoError.js"

/**
 * A function from text to the same text with the secrets replaced by
 * {@link placeholder}. It never throws.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 *
 * const redact: Redaction.Redactor = Redaction.make({ secrets: ["sk-abc123"] })
 * redact("bad key Bearer sk-abc123") // "bad key Bearer <redacted>"
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export type Redactor = (text: string) => string

/**
 * What {@link make} scrubs.
 *
 * @example
 * ```ts
 * import type { Redaction } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * const options: Redaction.Options = {
 *   secrets: [Redacted.make("sk-abc123")],
 *   baseUrls: ["https://user:pass@proxy.example/v1?token=t0k3n"]
 * }
 * ```
 *
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Keys and other secrets: each in its raw, URL-encoded and JSON-escaped forms. */
  readonly secrets?: Iterable<Redacted.Redacted<string> | string> | undefined
  /**
   * Base URLs (absolute, or relative such as `/v1?token=…`) whose user info (whole, user name and password),
   * query (whole, each value and each `name=value`) and fragment are secrets.
   */
  readonly baseUrls?: Iterable<string | URL> | undefined
}

/**
 * What a secret becomes: `<redacted>`.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 *
 * Redaction.placeholder // "<redacted>"
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const placeholder: string = internal.placeholder

/**
 * A redactor for these secrets and base URLs.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * const redact = Redaction.make({
 *   secrets: [Redacted.make("sk-abc123")],
 *   baseUrls: ["https://proxy.example/v1?token=t0k3n"]
 * })
 * redact("401: sk-abc123 is not valid for https://proxy.example/v1?token=t0k3n")
 * // "401: <redacted> is not valid for https://proxy.example/v1?<redacted>"
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: (options: Options) => Redactor = internal.make

/**
 * The redactor that changes nothing.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 *
 * Redaction.none("sk-abc123") // "sk-abc123"
 * ```
 *
 * @since 0.2.0
 * @category constructors
 */
export const none: Redactor = internal.none

/**
 * Several redactors, applied in order.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 *
 * const redact = Redaction.combine(Redaction.make({ secrets: ["sk-one1"] }), Redaction.make({ secrets: ["sk-two2"] }))
 * redact("sk-one1 sk-two2") // "<redacted> <redacted>"
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const combine: (...redactors: ReadonlyArray<Redactor>) => Redactor = internal.combine

/**
 * A JSON-like value with every string in it (keys included) redacted, down
 * to 64 levels; a new value, the input is not changed.
 *
 * @example
 * ```ts
 * import { Redaction } from "@effect-mimo/core"
 *
 * const redact = Redaction.make({ secrets: ["sk-abc123"] })
 * Redaction.deep({ choices: [{ delta: { content: "key: sk-abc123" } }] }, redact)
 * // { choices: [{ delta: { content: "key: <redacted>" } }] }
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const deep: <A>(value: A, redact: Redactor) => A = internal.deep

/**
 * A `MimoError` with every text field (message, body excerpt, request id, …)
 * redacted, of the same class; the error itself when there was nothing to
 * redact. It never throws.
 *
 * @example
 * ```ts
 * import { MimoError, Redaction } from "@effect-mimo/core"
 *
 * const redact = Redaction.make({ secrets: ["sk-abc123"] })
 * Redaction.error(redact, new MimoError.AuthenticationFailed({ message: "bad key sk-abc123" })).message
 * // "bad key <redacted>"
 * ```
 *
 * @since 0.2.0
 * @category combinators
 */
export const error: <E extends MimoError.MimoError>(redact: Redactor, error: E) => E = internal.error
