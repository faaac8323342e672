/**
 * The error model: one `Schema.TaggedError` class per code of the seed's table,
 * plus typed errors for everything else the real world sends (other statuses,
 * transport failures, undecodable bodies) and for requests rejected locally.
 *
 * Every failure of this library arrives in the error channel as one of these;
 * none is a defect.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as ErrorCode from "./ErrorCode.js"

const fixed = <const A extends string | number>(value: A) =>
  Schema.Literal(value).pipe(Schema.propertySignature, Schema.withConstructorDefault(() => value))

const apiFields = {
  /** The server's message (or one derived from the table when it sent none). */
  message: Schema.String,
  /** The `type` field of the error envelope, when the server sent a non-empty one. */
  type: Schema.optional(Schema.String),
  /** The `param` field: Xiaomi hosts put the detail there. */
  param: Schema.optional(Schema.String),
  /** The request id when known (a response header, or the body `id`). */
  requestId: Schema.optional(Schema.String),
  /** How many attempts the call made: set on the error a call of `MimoClient` fails with. */
  attempts: Schema.optional(Schema.Number),
  /** The id the client generated for the call and sent as `x-client-request-id` on every attempt. */
  clientRequestId: Schema.optional(Schema.String)
}

/**
 * 400 `invalid_request`: malformed body or missing field. Never retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * const e = new MimoError.InvalidRequest({ message: "Param Incorrect" })
 * e.status // 400
 * e.code // "invalid_request"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  status: fixed(400),
  code: fixed("invalid_request"),
  ...apiFields
}) {}

/**
 * 401 `authentication_failed`: missing or invalid key. Never retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.AuthenticationFailed({ message: "Invalid API Key" }).status // 401
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>()("AuthenticationFailed", {
  status: fixed(401),
  code: fixed("authentication_failed"),
  ...apiFields
}) {}

/**
 * 403 `permission_denied`: no access to this resource. Never retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.PermissionDenied({ message: "region not served" }).code // "permission_denied"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionDenied extends Schema.TaggedError<PermissionDenied>()("PermissionDenied", {
  status: fixed(403),
  code: fixed("permission_denied"),
  ...apiFields
}) {}

/**
 * 404 `not_found`: bad endpoint or model. Never retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.NotFound({ message: "model not found" }).status // 404
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  status: fixed(404),
  code: fixed("not_found"),
  ...apiFields
}) {}

/**
 * 429 `rate_limit_exceeded`. Retried; carries the server's `Retry-After`
 * (or `retry-after-ms`) as a `Duration` when one was sent.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * const e = new MimoError.RateLimitExceeded({ message: "Too many requests", retryAfter: Duration.seconds(3) })
 * e.status // 429
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitExceeded extends Schema.TaggedError<RateLimitExceeded>()("RateLimitExceeded", {
  status: fixed(429),
  code: fixed("rate_limit_exceeded"),
  ...apiFields,
  /** How long the server asked us to wait, when it said. Encoded as milliseconds. */
  retryAfter: Schema.optional(Schema.DurationFromMillis)
}) {}

/**
 * 500 `internal_error`. Retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.InternalError({ message: "boom" }).status // 500
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", {
  status: fixed(500),
  code: fixed("internal_error"),
  ...apiFields
}) {}

/**
 * 503 `service_unavailable`: overloaded. Retried.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.ServiceUnavailable({ message: "overloaded" }).status // 503
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  status: fixed(503),
  code: fixed("service_unavailable"),
  ...apiFields
}) {}

/**
 * The union of the seed table's seven error classes, as a Schema.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * const isApiError = Schema.is(MimoError.ApiError)
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiError = Schema.Union(
  InvalidRequest,
  AuthenticationFailed,
  PermissionDenied,
  NotFound,
  RateLimitExceeded,
  InternalError,
  ServiceUnavailable
)

/**
 * One of the seed table's seven error classes.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiError = typeof ApiError.Type

/**
 * An HTTP error response outside the table: another status (402, 408, 413,
 * 421, 422, 502, 504, ...). Keeps the status, the raw code when the body had
 * one, and a bounded excerpt of the body. Retried when the status is 408 or 5xx.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * const e = new MimoError.UnknownApiError({ status: 502, message: "Bad Gateway", body: "<html>…" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownApiError extends Schema.TaggedError<UnknownApiError>()("UnknownApiError", {
  status: Schema.Number,
  /** The raw `code` of the body (string or number, as a string), when there was one. */
  code: Schema.optional(Schema.String),
  ...apiFields,
  /** A bounded excerpt of the response body, for diagnosis. */
  body: Schema.String
}) {}

/**
 * Why a request never got an HTTP response.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * Schema.is(MimoError.TransportReason)("Timeout") // true
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const TransportReason = Schema.Literal(
  "ConnectionRefused",
  "ConnectionReset",
  "Dns",
  "Timeout",
  "StreamCut",
  "Other"
)

/**
 * @since 0.1.0
 * @category models
 */
export type TransportReason = typeof TransportReason.Type

/**
 * The request never got a (complete) HTTP response: the connection was
 * refused or reset, DNS failed, the per-attempt timeout fired, or a stream was
 * cut. Retried (a stream only before its first chunk).
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.TransportError({ reason: "Timeout", message: "no response within 10 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>()("TransportError", {
  reason: TransportReason,
  message: Schema.String,
  requestId: Schema.optional(Schema.String),
  /** For a stream that failed after its first chunk: the text (`content` deltas) it delivered before. */
  received: Schema.optional(Schema.String),
  /** How many attempts the call made: set on the error a call of `MimoClient` fails with. */
  attempts: Schema.optional(Schema.Number),
  /** The id the client generated for the call and sent as `x-client-request-id` on every attempt. */
  clientRequestId: Schema.optional(Schema.String)
}) {}

/**
 * A 2xx response (or a stream chunk) whose body could not be decoded.
 * Not retried: the server answered, and asking again would cost again.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * new MimoError.ResponseDecodeError({ status: 200, message: "Expected object", body: "{tru" })
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  status: Schema.Number,
  message: Schema.String,
  /** A bounded excerpt of the body that failed to decode. */
  body: Schema.String,
  requestId: Schema.optional(Schema.String),
  /** How many attempts the call made: set on the error a call of `MimoClient` fails with. */
  attempts: Schema.optional(Schema.Number),
  /** The id the client generated for the call and sent as `x-client-request-id` on every attempt. */
  clientRequestId: Schema.optional(Schema.String)
}) {}

/**
 * A request rejected by local validation, before anything was sent.
 * It belongs to the `invalid_request` class and names the field, the value
 * and what is allowed.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * const e = new MimoError.ValidationError({
 *   field: "temperature",
 *   value: "3",
 *   expected: "a number in [0, 1.5]",
 *   message: "temperature: 3 is outside [0, 1.5]"
 * })
 * e.code // "invalid_request"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ValidationError extends Schema.TaggedError<ValidationError>()("ValidationError", {
  code: fixed("invalid_request"),
  /** The path of the offending field, e.g. `messages[1].role` or `temperature`. */
  field: Schema.String,
  /** The rejected value, rendered as a short string (never the API key). */
  value: Schema.String,
  /** What is allowed, e.g. `a number in [0, 1.5]`. */
  expected: Schema.String,
  message: Schema.String,
  /** How many attempts the call made: set on the error a call of `MimoClient` fails with. */
  attempts: Schema.optional(Schema.Number),
  /** The id the client generated for the call and sent as `x-client-request-id` on every attempt. */
  clientRequestId: Schema.optional(Schema.String)
}) {}

/**
 * A call refused locally by an open circuit breaker (`@effect-mimo/resilience`'s `CircuitBreaker`):
 * recent attempts failed too often, so nothing was sent. Never retried: it
 * says when the breaker will let a probe through (`retryAfter`).
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * const e = new MimoError.CircuitOpen({
 *   breaker: "mimo-v2-flash",
 *   message: "circuit mimo-v2-flash is open after 5 failures",
 *   retryAfter: Duration.seconds(20)
 * })
 * MimoError.isRetryable(e) // false
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  /** The breaker's name (by default, the model). */
  breaker: Schema.String,
  message: Schema.String,
  /** How long until the breaker lets a probe through, when known. Encoded as milliseconds. */
  retryAfter: Schema.optional(Schema.DurationFromMillis),
  /** How many attempts the call made: set on the error a call of `MimoClient` fails with. */
  attempts: Schema.optional(Schema.Number),
  /** The id the client generated for the call and sent as `x-client-request-id` on every attempt. */
  clientRequestId: Schema.optional(Schema.String)
}) {}

/**
 * Every error this library fails with, as a Schema.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * const decode = Schema.decodeUnknownEither(MimoError.MimoError)
 * decode({ _tag: "TransportError", reason: "Timeout", message: "no response" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const MimoError = Schema.Union(
  ApiError,
  UnknownApiError,
  TransportError,
  ResponseDecodeError,
  ValidationError,
  CircuitOpen
)

/**
 * Every error this library fails with.
 *
 * @since 0.1.0
 * @category models
 */
export type MimoError = typeof MimoError.Type

const tags: ReadonlySet<string> = new Set([
  ...ErrorCode.rows.map((r) => r.tag),
  "UnknownApiError",
  "TransportError",
  "ResponseDecodeError",
  "ValidationError",
  "CircuitOpen"
])

/**
 * Whether a value is one of this library's errors.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.isMimoError(new MimoError.NotFound({ message: "no such model" })) // true
 * MimoError.isMimoError(new Error("boom")) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isMimoError = (u: unknown): u is MimoError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

const apiTags: ReadonlySet<string> = new Set(ErrorCode.rows.map((r) => r.tag))

/**
 * Whether a value is one of the seed table's seven error classes.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.isApiError(new MimoError.InternalError({ message: "x" })) // true
 * MimoError.isApiError(new MimoError.TransportError({ reason: "Dns", message: "x" })) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && apiTags.has(u._tag)

/**
 * Whether an error is worth retrying: 429, 500, 503, any other 5xx, 408,
 * transport failures and timeouts. Never 400, 401, 403, 404 or another 4xx,
 * never a local validation failure, never an undecodable 2xx body, never an
 * open circuit breaker.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.isRetryable(new MimoError.ServiceUnavailable({ message: "busy" })) // true
 * MimoError.isRetryable(new MimoError.NotFound({ message: "no such model" })) // false
 * ```
 *
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (error: MimoError): boolean => {
  switch (error._tag) {
    case "TransportError":
      return true
    case "UnknownApiError":
      return error.status === 408 || error.status >= 500
    case "ResponseDecodeError":
    case "ValidationError":
    case "CircuitOpen":
      return false
    default:
      return ErrorCode.table[error.code].retryable
  }
}

/**
 * The seed table's row for an error, when it maps to one (the seven classes,
 * and local validation failures as `invalid_request`).
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.row(new MimoError.RateLimitExceeded({ message: "slow down" }))?.solution
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const row = (error: MimoError): ErrorCode.Row | undefined => {
  switch (error._tag) {
    case "TransportError":
    case "UnknownApiError":
    case "ResponseDecodeError":
    case "CircuitOpen":
      return undefined
    default:
      return ErrorCode.table[error.code]
  }
}

/**
 * What to do about an error: the seed table's solution, or advice for the
 * errors outside the table.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.solution(new MimoError.AuthenticationFailed({ message: "Invalid API Key" }))
 * // "Check MIMO_API_KEY, and that the key belongs to the host in MIMO_BASE_URL."
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const solution = (error: MimoError): string => {
  switch (error._tag) {
    case "TransportError":
      return "Check the network and MIMO_BASE_URL; the client retries transport failures with backoff."
    case "ResponseDecodeError":
      return "The server answered with a body this client could not read; report it with the request id."
    case "CircuitOpen":
      return "Recent attempts failed too often and the circuit breaker is open; retry after its cool-down."
    case "UnknownApiError":
      return error.status === 402
        ? "Top up the account balance."
        : error.status === 408 || error.status >= 500
        ? "Retry later with exponential backoff; the client does so automatically."
        : "Check the request and the response body excerpt."
    default:
      return ErrorCode.table[error.code].solution
  }
}

/**
 * The status of an error when it came from an HTTP response.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.statusOf(new MimoError.ServiceUnavailable({ message: "busy" })) // 503
 * MimoError.statusOf(new MimoError.TransportError({ reason: "Timeout", message: "t" })) // undefined
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const statusOf = (error: MimoError): number | undefined =>
  error._tag === "TransportError" || error._tag === "ValidationError" || error._tag === "CircuitOpen"
    ? undefined
    : error.status

/**
 * The code of an error: the seed code when it maps to the table, else the raw
 * code the server sent, else `undefined`.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.codeOf(new MimoError.RateLimitExceeded({ message: "slow down" })) // "rate_limit_exceeded"
 * MimoError.codeOf(new MimoError.UnknownApiError({ status: 402, code: "402", message: "m", body: "" })) // "402"
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const codeOf = (error: MimoError): string | undefined =>
  error._tag === "TransportError" || error._tag === "ResponseDecodeError" || error._tag === "CircuitOpen"
    ? undefined
    : error.code

/**
 * The request id of an error, when known.
 *
 * @example
 * ```ts
 * import { MimoError } from "@effect-mimo/core"
 *
 * MimoError.requestIdOf(new MimoError.InternalError({ message: "x", requestId: "req-1" })) // "req-1"
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const requestIdOf = (error: MimoError): string | undefined =>
  error._tag === "ValidationError" || error._tag === "CircuitOpen" ? undefined : error.requestId
