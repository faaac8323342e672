/**
 * The MiMo error table, as data.
 *
 * This is the seed's table (`mimo-api.md` §7): one row per documented error
 * code, with its HTTP status, what it means, what to do about it, and whether
 * a client should retry it. Error classes, messages, docs and tests are all
 * derived from these rows.
 *
 * @since 0.1.0
 */

/**
 * The documented MiMo error codes.
 *
 * @since 0.1.0
 * @category models
 */
export type Code =
  | "invalid_request"
  | "authentication_failed"
  | "permission_denied"
  | "not_found"
  | "rate_limit_exceeded"
  | "internal_error"
  | "service_unavailable"

/**
 * The tag of the error class that represents each code.
 *
 * @since 0.1.0
 * @category models
 */
export type Tag =
  | "InvalidRequest"
  | "AuthenticationFailed"
  | "PermissionDenied"
  | "NotFound"
  | "RateLimitExceeded"
  | "InternalError"
  | "ServiceUnavailable"

/**
 * One row of the error table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row<C extends Code = Code, S extends number = number, T extends Tag = Tag> {
  readonly code: C
  readonly status: S
  readonly tag: T
  readonly description: string
  readonly solution: string
  readonly retryable: boolean
}

const row = <const C extends Code, const S extends number, const T extends Tag>(
  r: Row<C, S, T>
): Row<C, S, T> => r

/**
 * The seed's error table.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.table.rate_limit_exceeded.status // 429
 * ErrorCode.table.rate_limit_exceeded.retryable // true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const table = {
  invalid_request: row({
    code: "invalid_request",
    status: 400,
    tag: "InvalidRequest",
    description: "The request body is malformed or a required field is missing.",
    solution: "Check the request against the API reference: field names, types and allowed ranges.",
    retryable: false
  }),
  authentication_failed: row({
    code: "authentication_failed",
    status: 401,
    tag: "AuthenticationFailed",
    description: "The API key is missing or invalid.",
    solution: "Check MIMO_API_KEY, and that the key belongs to the host in MIMO_BASE_URL.",
    retryable: false
  }),
  permission_denied: row({
    code: "permission_denied",
    status: 403,
    tag: "PermissionDenied",
    description: "The key has no access to this resource.",
    solution: "Check the account's permissions and region, or contact support.",
    retryable: false
  }),
  not_found: row({
    code: "not_found",
    status: 404,
    tag: "NotFound",
    description: "The endpoint or the model does not exist.",
    solution: "Check the base URL, the path and the model id (GET /models lists them).",
    retryable: false
  }),
  rate_limit_exceeded: row({
    code: "rate_limit_exceeded",
    status: 429,
    tag: "RateLimitExceeded",
    description: "Too many requests or tokens for the account's rate limit.",
    solution: "Reduce concurrency, queue requests and respect Retry-After; the client retries with backoff.",
    retryable: true
  }),
  internal_error: row({
    code: "internal_error",
    status: 500,
    tag: "InternalError",
    description: "The server failed while handling the request.",
    solution: "Retry later with exponential backoff; the client does so automatically.",
    retryable: true
  }),
  service_unavailable: row({
    code: "service_unavailable",
    status: 503,
    tag: "ServiceUnavailable",
    description: "The service is overloaded.",
    solution: "Retry later with exponential backoff; the client does so automatically.",
    retryable: true
  })
} as const

/**
 * The table's rows in order of status.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.rows.filter((row) => row.retryable).map((row) => row.status) // [429, 500, 503]
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const rows: ReadonlyArray<Row> = Object.values(table)

/**
 * All documented codes.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.codes.includes("not_found") // true
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const codes: ReadonlyArray<Code> = rows.map((r) => r.code)

const byStatus = new Map<number, Row>(rows.map((r) => [r.status, r]))
const byCode = new Map<string, Row>(rows.map((r) => [r.code, r]))

/**
 * The row for an HTTP status, if the table has one.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.fromStatus(503)?.code // "service_unavailable"
 * ErrorCode.fromStatus(502) // undefined
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const fromStatus = (status: number): Row | undefined => byStatus.get(status)

/**
 * The row for a code string, if it is one of the table's codes.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.fromCode("not_found")?.status // 404
 * ```
 *
 * @since 0.1.0
 * @category lookups
 */
export const fromCode = (code: string): Row | undefined => byCode.get(code)

/**
 * Whether a string is one of the table's codes.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@effect-mimo/core"
 *
 * ErrorCode.isCode("rate_limit_exceeded") // true
 * ErrorCode.isCode("429") // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCode = (u: unknown): u is Code => typeof u === "string" && byCode.has(u)
