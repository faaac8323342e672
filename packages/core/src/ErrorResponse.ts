/**
 * HTTP error responses, both ways: from a status, headers and body to the
 * typed error union (`decode`, `fromResponse`, `decodeChunkError`), and from a
 * typed error back to a response (`encode`, used by the simulator and servers).
 *
 * Decoding follows `mimo-api.md` §7:
 *
 * 1. Classify by HTTP status first: a status of the seed table gives its class
 *    whatever the body says (a 400 with code `"421"` / type `content_filter`
 *    is still `InvalidRequest`).
 * 2. Otherwise classify by code: a seed code (`"rate_limit_exceeded"`) or a
 *    table status written as a code (`"429"` or `429`) gives its class. This is
 *    how an error chunk of a stream (status 200, or no status) is classified.
 * 3. Anything else is an `UnknownApiError` that keeps the status, the raw code
 *    (numbers as strings), message, type, param and a bounded excerpt of the body.
 *
 * Bodies accepted: the seed envelope `{"error":{"code","message","type"}}`,
 * Xiaomi's real bodies (`code` = the status as a string, detail in `param`,
 * `type` often `""`), a bare `{type, message}`, Anthropic's
 * `{"type":"error","error":{"type","message"}}`, `{"error":"text"}`, any of
 * these SSE-framed (`data:{...}`, several events, `data: [DONE]`), HTML from a
 * proxy (its `<title>` becomes the message), plain text, empty bodies and
 * JSON cut short (`code` / `message` are salvaged when readable). Only the
 * first {@link maxScan} characters of a body are ever looked at.
 *
 * Normalizations (what decoding never produces, so that `decode(encode(e))`
 * is `e` for every error decoding can produce):
 * - `type` `""`, `null` and `"error"` become absent: `"error"` is the seed
 *   envelope's placeholder (the seed sends it on every error, Anthropic puts it
 *   at the top level), and it is what `encode` writes when there is no type.
 * - `param` `""` / `null` and an empty request id become absent.
 * - An empty or missing message becomes the table row's description (or
 *   `HTTP <status>` / the HTML title outside the table).
 * - In an `UnknownApiError`, a code equal to the status (`"402"` on a 402, as
 *   Xiaomi sends) is dropped: it says nothing the status does not, and it is
 *   what `encode` writes when there is no code.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as internal from "./internal/errorResponse.js"
import type * as MimoError from "./MimoError.js"

/**
 * The largest body excerpt kept in an `UnknownApiError`, in UTF-8 bytes
 * (after collapsing whitespace).
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 *
 * ErrorResponse.maxExcerpt // 2048
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const maxExcerpt: number = internal.maxExcerpt

/**
 * How many characters of a body `decode` looks at (64 Ki); also the default
 * number of bytes `fromResponse` reads.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 *
 * ErrorResponse.maxScan // 65536
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const maxScan: number = internal.maxScan

/**
 * The `error` object of the seed envelope, decoded.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 *
 * const error: ErrorResponse.EnvelopeError = { code: "400", message: "Param Incorrect", param: "`text` is not set" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EnvelopeError {
  readonly code: string
  readonly message: string
  readonly type?: string | undefined
  readonly param?: string | undefined
}

/**
 * The seed envelope `{"error":{"code","message","type","param"?}}`, decoded.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 *
 * const envelope: ErrorResponse.Envelope = { error: { code: "not_found", message: "no such model" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Envelope {
  readonly error: EnvelopeError
}

/**
 * The types that go with the {@link Envelope} schema.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 *
 * type Wire = ErrorResponse.Envelope.Encoded
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export declare namespace Envelope {
  /**
   * The envelope on the wire: what decoding accepts (`code` a string or a
   * number, `type` / `param` missing, `null` or `""`; unknown fields are
   * ignored) and what encoding writes (`code` a string, `type` `"error"` when
   * absent).
   *
   * @example
   * ```ts
   * import type { ErrorResponse } from "@effect-mimo/core"
   *
   * const wire: ErrorResponse.Envelope.Encoded = { error: { code: 429, message: "Too many requests", type: null } }
   * ```
   *
   * @since 0.1.0
   * @category models
   */
  export interface Encoded {
    readonly error: {
      readonly code: string | number
      readonly message: string
      readonly type?: string | null | undefined
      readonly param?: string | null | undefined
    }
  }
}

/**
 * The seed's error envelope as a Schema. Decoding is lenient and normalizes
 * (`code` to a string; `type` `""` / `null` / `"error"` and `param` `""` /
 * `null` to absent); encoding writes `type: "error"` when there is none.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * Schema.decodeUnknownSync(ErrorResponse.Envelope)({
 *   error: { code: 429, message: "Too many requests", type: "", extra: true }
 * })
 * // { error: { code: "429", message: "Too many requests" } }
 *
 * Schema.encodeSync(ErrorResponse.Envelope)({ error: { code: "not_found", message: "no such model" } })
 * // { error: { code: "not_found", message: "no such model", type: "error" } }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope: Schema.Schema<Envelope, Envelope.Encoded> = internal.Envelope

/**
 * What `decode` needs from a response.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 * import * as Headers from "@effect/platform/Headers"
 *
 * const input: ErrorResponse.DecodeInput = { status: 503, headers: Headers.empty, body: "", nowMillis: Date.now() }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeInput {
  readonly status: number
  readonly headers: Headers.Headers
  /** The body as text; only its first {@link maxScan} characters are looked at. */
  readonly body: string
  /** The current time (ms since the epoch), for a `Retry-After` HTTP-date. */
  readonly nowMillis: number
  /** Wins over the `x-request-id`, `request-id` and `x-mimo-request-id` headers. */
  readonly requestId?: string | undefined
}

/**
 * Turns an HTTP error response into a typed error. Pure and total: it never
 * throws, whatever the bytes, and takes time bounded by {@link maxScan}.
 * A `RateLimitExceeded` carries the `Retry-After` / `retry-after-ms` delay.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 * import * as Headers from "@effect/platform/Headers"
 *
 * const e = ErrorResponse.decode({
 *   status: 429,
 *   headers: Headers.fromInput({ "retry-after": "3", "x-request-id": "req_1" }),
 *   body: `{"error":{"code":"429","message":"Too many requests","type":"limitation"}}`,
 *   nowMillis: Date.now()
 * })
 * e._tag // "RateLimitExceeded"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: (input: DecodeInput) => MimoError.ApiError | MimoError.UnknownApiError = internal.decode

/**
 * Reads a parsed SSE chunk: `Some(error)` when it holds an `error` object (or
 * a non-empty `error` string), `None` otherwise. With no HTTP status, the error
 * is classified by its code; an `UnknownApiError` gets the code as its status
 * when the code is a status (`"402"`), else status 0.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 *
 * ErrorResponse.decodeChunkError({ error: { code: "429", message: "Too many requests" } })
 * // Some(RateLimitExceeded)
 * ErrorResponse.decodeChunkError({ id: "c1", choices: [] }) // None
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeChunkError: (
  json: unknown,
  requestId?: string
) => Option.Option<MimoError.ApiError | MimoError.UnknownApiError> = internal.decodeChunkError

/**
 * Options of {@link fromResponse}.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 *
 * const options: ErrorResponse.FromResponseOptions = { maxBytes: 16 * 1024, requestId: "req_1" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FromResponseOptions {
  /** Read at most this many bytes of the body (default {@link maxScan}); the rest is never pulled. */
  readonly maxBytes?: number
  /** A request id known to the caller; wins over the response headers. */
  readonly requestId?: string
}

/**
 * Fails with the typed error for an HTTP error response. Reads at most
 * `maxBytes` of the body from `response.stream` and stops there; a body that
 * fails to read gives whatever was read before. The current time for a
 * `Retry-After` HTTP-date comes from `Clock`.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 * import type { HttpClientResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const ok = (response: HttpClientResponse.HttpClientResponse) =>
 *   response.status >= 200 && response.status < 300
 *     ? Effect.succeed(response)
 *     : ErrorResponse.fromResponse(response)
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const fromResponse: (
  response: HttpClientResponse.HttpClientResponse,
  options?: FromResponseOptions
) => Effect.Effect<never, MimoError.ApiError | MimoError.UnknownApiError> = internal.fromResponse

/**
 * The excerpt of a body that an `UnknownApiError` keeps: whitespace
 * collapsed, trimmed, at most {@link maxExcerpt} UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { ErrorResponse } from "@effect-mimo/core"
 *
 * ErrorResponse.excerpt("<html>\n  <body>Bad Gateway</body>\n</html>") // "<html> <body>Bad Gateway</body> </html>"
 * ```
 *
 * @since 0.1.0
 * @category decoding
 */
export const excerpt: (body: string) => string = internal.excerpt

/**
 * The body shapes `encode` can write:
 * - `"seed"`: `{"error":{"code":"<seed code>","message","type":"<type or error>","param"?}}`
 * - `"xiaomi"`: `{"error":{"code":"<status>","message","param"?,"type":"<type or empty>"}}`
 * - `"bare"`: `{"type":"<type or error>","message"}` (drops `code` and `param`)
 *
 * @example
 * ```ts
 * import { ErrorResponse, MimoError } from "@effect-mimo/core"
 *
 * ErrorResponse.encode(new MimoError.NotFound({ message: "no such model" }), { shape: "xiaomi" }).body
 * // {"error":{"code":"404","message":"no such model","type":""}}
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Shape = "seed" | "xiaomi" | "bare"

/**
 * Options of {@link encode}.
 *
 * @example
 * ```ts
 * import type { ErrorResponse } from "@effect-mimo/core"
 *
 * const options: ErrorResponse.EncodeOptions = { shape: "bare" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface EncodeOptions {
  readonly shape?: Shape
}

/**
 * An error rendered as an HTTP response.
 *
 * @example
 * ```ts
 * import { ErrorResponse, MimoError } from "@effect-mimo/core"
 *
 * const { body, headers, status } = ErrorResponse.encode(new MimoError.InternalError({ message: "boom" }))
 * new Response(body, { status, headers })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Rendered {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/**
 * Renders a typed error as an HTTP response: its status, `content-type:
 * application/json`, `retry-after` + `retry-after-ms` on a
 * `RateLimitExceeded` with a `retryAfter`, `x-request-id` when the request id
 * is known, and the body in the chosen {@link Shape} (default `"seed"`). An
 * `UnknownApiError` keeps its status and writes its code (or the status as a
 * string).
 *
 * `decode(encode(e))` equals `e` for every error `decode` can produce (see the
 * module notes), with the `"seed"` shape; `"xiaomi"` keeps all but an
 * `UnknownApiError`'s code, `"bare"` also drops `param`.
 *
 * @example
 * ```ts
 * import { ErrorResponse, MimoError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * const response = ErrorResponse.encode(
 *   new MimoError.RateLimitExceeded({ message: "Too many requests", retryAfter: Duration.seconds(2) })
 * )
 * response.status // 429
 * response.headers["retry-after"] // "2"
 * response.body // {"error":{"code":"rate_limit_exceeded","message":"Too many requests","type":"error"}}
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode: (
  error: MimoError.ApiError | MimoError.UnknownApiError,
  options?: EncodeOptions
) => Rendered = internal.encode
