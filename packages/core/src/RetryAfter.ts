/**
 * How long a server asked us to wait: reading and writing `Retry-After` and
 * `retry-after-ms`.
 *
 * - `retry-after-ms` (milliseconds, decimals allowed) wins over `Retry-After`
 *   when it is valid; an invalid `retry-after-ms` falls back to `Retry-After`.
 * - `Retry-After` is delta-seconds (an integer, or a decimal as some servers
 *   send) or an HTTP-date (IMF-fixdate, RFC 850 or asctime); a date gives the
 *   delay `date - now`, floored at zero (a date in the past means "now").
 * - Anything else (negative numbers, garbage, impossible dates) is ignored.
 *
 * `toHeaders` writes both headers so that `parse(toHeaders(d))` gives back `d`
 * exactly, while clients that only read `Retry-After` wait at least as long.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as internal from "./internal/retryAfter.js"

/**
 * Reads the delay a response asked for, given the current time in
 * milliseconds since the epoch (used only for an HTTP-date). Pure.
 *
 * @example
 * ```ts
 * import { RetryAfter } from "@effect-mimo/core"
 * import * as Headers from "@effect/platform/Headers"
 *
 * RetryAfter.parse(Headers.fromInput({ "retry-after": "2" }), Date.now()) // Some(2 seconds)
 * RetryAfter.parse(Headers.fromInput({ "retry-after-ms": "1500.5", "retry-after": "2" }), 0) // Some(1500.5 millis)
 * RetryAfter.parse(Headers.fromInput({ "retry-after": "soon" }), 0) // None
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse: (headers: Headers.Headers, nowMillis: number) => Option.Option<Duration.Duration> = internal.parse

/**
 * Like {@link parse}, reading the current time from Effect's `Clock` (so
 * `TestClock` controls what an HTTP-date means in tests).
 *
 * @example
 * ```ts
 * import { RetryAfter } from "@effect-mimo/core"
 * import * as Headers from "@effect/platform/Headers"
 * import { Effect } from "effect"
 *
 * const delay = RetryAfter.fromHeaders(Headers.fromInput({ "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" }))
 * Effect.runSync(delay) // Some(zero): a date in the past means "retry now"
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const fromHeaders: (headers: Headers.Headers) => Effect.Effect<Option.Option<Duration.Duration>> =
  internal.fromHeaders

/**
 * Renders a delay as response headers: `retry-after` in whole seconds
 * (rounded up, so a client that reads only it never retries too early) and
 * `retry-after-ms` with the exact milliseconds. An infinite duration gives no
 * headers.
 *
 * @example
 * ```ts
 * import { RetryAfter } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * RetryAfter.toHeaders(Duration.millis(1500)) // { "retry-after": "2", "retry-after-ms": "1500" }
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toHeaders: (duration: Duration.Duration) => Record<string, string> = internal.toHeaders

/**
 * Parses an HTTP-date (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
 * `Sunday, 06-Nov-94 08:49:37 GMT` or asctime `Sun Nov  6 08:49:37 1994`)
 * into milliseconds since the epoch, or `undefined`.
 *
 * @example
 * ```ts
 * import { RetryAfter } from "@effect-mimo/core"
 *
 * RetryAfter.parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT") // 784111777000
 * RetryAfter.parseHttpDate("tomorrow") // undefined
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseHttpDate: (value: string) => number | undefined = internal.parseHttpDate
