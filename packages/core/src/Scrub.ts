/**
 * `Scrub`: removes a client's own secrets from text that came from a server.
 *
 * A server (or a proxy in front of it) may echo what it was sent: the API key
 * in an error message, an `Authorization: Bearer …` header in a debug page,
 * the base URL with its credentials or query. `MimoClient` passes every error
 * it reports (the message, the body excerpt, the request id), every retry log
 * line and span attribute through a scrubber made from its key and base URL.
 * Use the same for text you pass on (a gateway's responses, a CLI's output).
 *
 * A secret is replaced wherever it occurs, raw, URL-encoded or JSON-escaped,
 * by `[REDACTED]`. Pieces shorter than 4 characters (a user name such as `a`)
 * are not replaced on their own.
 *
 * @since 0.1.0
 */
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/scrub.js"
import type * as MimoError from "./MimoError.js"

/**
 * A function from text to the same text without the secrets.
 *
 * @since 0.1.0
 * @category models
 */
export type Scrubber = (text: string) => string

/**
 * What to scrub.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Secrets (an API key, a token), plain or `Redacted`. */
  readonly secrets?: ReadonlyArray<string | Redacted.Redacted<string>> | undefined
  /** A base URL: its user name, password and query (each value too) are secrets. */
  readonly baseUrl?: string | undefined
}

/**
 * What a secret is replaced with.
 *
 * @example
 * ```ts
 * import { Scrub } from "@effect-mimo/core"
 *
 * Scrub.placeholder // "[REDACTED]"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const placeholder: string = internal.placeholder

/**
 * A scrubber for the given secrets.
 *
 * @example
 * ```ts
 * import { Scrub } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * const scrub = Scrub.make({ secrets: [Redacted.make("sk-secret-123")], baseUrl: "https://u:pw-42@example.com/v1" })
 * scrub("invalid key: Bearer sk-secret-123") // "invalid key: Bearer [REDACTED]"
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Scrubber = internal.make

/**
 * A `MimoError` with every text field (message, body excerpt, request id, …)
 * scrubbed; the error itself when there was nothing to scrub.
 *
 * @example
 * ```ts
 * import { MimoError, Scrub } from "@effect-mimo/core"
 *
 * const scrub = Scrub.make({ secrets: ["sk-secret-123"] })
 * Scrub.error(scrub, new MimoError.AuthenticationFailed({ message: "bad key sk-secret-123" })).message
 * // "bad key [REDACTED]"
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const error: <E extends MimoError.MimoError>(scrubber: Scrubber, error: E) => E = internal.error
