/**
 * The server side of the error model: MiMo errors rendered by any
 * `@effect/platform` HTTP server (Node, Bun, Deno, a web handler), for a
 * gateway that holds the key and serves browsers.
 *
 * - {@link toResponse}: any `MimoError` as an `HttpServerResponse` with the
 *   seed envelope `{"error":{"code","message","type","param"?}}`, its status,
 *   `x-request-id` when known, and `Retry-After` on every 429.
 * - {@link middleware}: an `HttpApp` middleware that does it for handlers
 *   failing with a `MimoError`.
 * - {@link sseStream}: a chunk `Stream` forwarded as SSE; a failure becomes a
 *   `data: {"error":{...}}` event (the same envelope) that ends the response.
 * - {@link sseStreamWithRetries}: the same, plus a named event
 *   `event: mimo.retry` for each upstream retry, so that a browser can show
 *   "attempt 1 failed, retrying in 1.2 s" while the gateway waits. Clients that
 *   read chunks (the core's `MimoClient`, openai-node, `EventSource.onmessage`)
 *   ignore named events.
 *
 * What each error becomes (API errors are written by `ErrorResponse.encode`,
 * so `ErrorResponse.decode` gives them back unchanged):
 *
 * | error | status | envelope `code` | `type` | `param` |
 * |---|---|---|---|---|
 * | the seven table classes | the table's | the seed code | the error's, else `"error"` | the error's |
 * | `UnknownApiError` | its status | its code, else the status | the error's, else `"error"` | the error's |
 * | `ValidationError` | 400 | `invalid_request` | `"error"` | the field |
 * | `TransportError` (`Timeout`) | 504 | `upstream_timeout` | `transport_error` | — |
 * | `TransportError` (other) | 502 | `upstream_unavailable` | `transport_error` | — |
 * | `ResponseDecodeError` | 502 | `upstream_bad_response` | `response_decode_error` | — |
 * | `CircuitOpen` | 503 | `service_unavailable` | `circuit_open` | — |
 *
 * So a browser decodes a `ValidationError` as `InvalidRequest` (same message,
 * `param` = the field), and the upstream's transport and decode failures as
 * `UnknownApiError`s with status 502 / 504, which are retryable; an open
 * circuit breaker is a `ServiceUnavailable` (with `Retry-After` when the
 * breaker knows when it will let a probe through). The body
 * excerpt of a `ResponseDecodeError` or `UnknownApiError` is never sent. A 429
 * always carries `Retry-After` (and `retry-after-ms`): the error's own
 * `retryAfter`, else {@link RenderOptions.retryAfter} (1 second).
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as ChatCompletion from "./ChatCompletion.js"
import type * as ErrorResponse from "./ErrorResponse.js"
import * as internal from "./internal/serverError.js"
import type * as MimoClient from "./MimoClient.js"
import type * as MimoError from "./MimoError.js"
import type * as Redaction from "./Redaction.js"

/**
 * Options of {@link render} and {@link toResponse}.
 *
 * @example
 * ```ts
 * import type { ServerError } from "@effect-mimo/core"
 *
 * const options: ServerError.RenderOptions = { retryAfter: "5 seconds" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RenderOptions {
  /** The `Retry-After` of a 429 whose error carries none. Default: 1 second. */
  readonly retryAfter?: Duration.DurationInput | undefined
  /**
   * Scrubs the server's own secrets out of every string of the envelope and
   * its header values (`Redaction.make({ secrets: [apiKey], baseUrls: [baseUrl] })`):
   * an upstream that echoes the key cannot make a gateway pass it on.
   * Default: nothing scrubbed.
   */
  readonly redact?: Redaction.Redactor | undefined
}

/**
 * The `Retry-After` a 429 gets when its error carries none: 1 second.
 *
 * @example
 * ```ts
 * import { ServerError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * Duration.toMillis(ServerError.defaultRetryAfter) // 1000
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetryAfter: Duration.Duration = internal.defaultRetryAfter

/**
 * The error as it goes on the wire: an API error (one of the seven classes,
 * or an `UnknownApiError`) as it is; a `ValidationError`, `TransportError` or
 * `ResponseDecodeError` mapped as the module notes say.
 *
 * @example
 * ```ts
 * import { MimoError, ServerError } from "@effect-mimo/core"
 *
 * const wire = ServerError.toWireError(new MimoError.TransportError({ reason: "Timeout", message: "no answer" }))
 * wire.status // 504
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toWireError: (error: MimoError.MimoError) => MimoError.ApiError | MimoError.UnknownApiError =
  internal.toWireError

/**
 * Renders any error as status, headers and body (the seed envelope), without
 * choosing an HTTP server: for a `Response`, an Express handler, a test.
 *
 * @example
 * ```ts
 * import { MimoError, ServerError } from "@effect-mimo/core"
 *
 * const { body, headers, status } = ServerError.render(new MimoError.RateLimitExceeded({ message: "slow down" }))
 * status // 429
 * headers["retry-after"] // "1"
 * body // {"error":{"code":"rate_limit_exceeded","message":"slow down","type":"error"}}
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const render: (error: MimoError.MimoError, options?: RenderOptions) => ErrorResponse.Rendered = internal.render

/**
 * Any error of the core's union as an `HttpServerResponse`: the seed
 * envelope as JSON, the status, `x-request-id` when known, and `Retry-After`
 * plus `retry-after-ms` on a 429.
 *
 * @example
 * ```ts
 * import { ChatCompletion, MimoClient, ServerError } from "@effect-mimo/core"
 * import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const handler = Effect.gen(function*() {
 *   const mimo = yield* MimoClient.MimoClient
 *   const request = yield* HttpServerRequest.schemaBodyJson(ChatCompletion.Request).pipe(Effect.orDie)
 *   return yield* mimo.chat(request).pipe(
 *     Effect.map((response) => HttpServerResponse.unsafeJson(response)),
 *     Effect.catchAll((error) => Effect.succeed(ServerError.toResponse(error)))
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category rendering
 */
export const toResponse: (
  error: MimoError.MimoError,
  options?: RenderOptions
) => HttpServerResponse.HttpServerResponse = internal.toResponse

/**
 * A middleware for an `HttpApp` (an `HttpRouter`, a handler): a failure that
 * is a `MimoError` becomes its response ({@link toResponse}); other failures
 * and defects pass through untouched.
 *
 * @example
 * ```ts
 * import { ChatCompletion, MimoClient, ServerError } from "@effect-mimo/core"
 * import { HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const router = HttpRouter.empty.pipe(
 *   HttpRouter.post(
 *     "/v1/chat/completions",
 *     Effect.gen(function*() {
 *       const mimo = yield* MimoClient.MimoClient
 *       const request = yield* HttpServerRequest.schemaBodyJson(ChatCompletion.Request).pipe(Effect.orDie)
 *       return HttpServerResponse.unsafeJson(yield* mimo.chat(request))
 *     })
 *   )
 * )
 *
 * const app = ServerError.middleware(router)
 * ```
 *
 * @since 0.1.0
 * @category middleware
 */
export const middleware: <E, R>(
  app: HttpApp.Default<E | MimoError.MimoError, R>,
  options?: RenderOptions
) => HttpApp.Default<E, R> = internal.middleware

/**
 * Options of {@link sseStream} and {@link sseStreamWithRetries}.
 *
 * @example
 * ```ts
 * import type { ServerError } from "@effect-mimo/core"
 *
 * const options: ServerError.SseOptions = { headers: { "x-request-id": "req_1" } }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SseOptions {
  /** More response headers (besides `content-type: text/event-stream` and `cache-control: no-cache`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Scrubs the server's own secrets out of every string sent: chunks, the
   * error event and retry notices (see {@link RenderOptions.redact}).
   */
  readonly redact?: Redaction.Redactor | undefined
}

/**
 * A chunk stream as an SSE response (status 200, `text/event-stream`):
 * `data: <chunk JSON>` per chunk, then `data: [DONE]`. When the stream fails
 * (before or after its first chunk) the last event is `data: {"error":{...}}`
 * (the {@link render}ed envelope) and no `[DONE]` follows; the core's client
 * decodes it back to the typed error. When the client goes away, the stream
 * is interrupted (and with it the upstream request).
 *
 * @example
 * ```ts
 * import { ChatCompletion, MimoClient, ServerError } from "@effect-mimo/core"
 * import { HttpServerRequest } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const streamHandler = Effect.gen(function*() {
 *   const mimo = yield* MimoClient.MimoClient
 *   const request = yield* HttpServerRequest.schemaBodyJson(ChatCompletion.Request).pipe(Effect.orDie)
 *   return ServerError.sseStream(mimo.stream(request))
 * })
 * ```
 *
 * @since 0.1.0
 * @category streaming
 */
export const sseStream: (
  stream: Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>,
  options?: SseOptions
) => HttpServerResponse.HttpServerResponse = internal.sseStream

/**
 * Like {@link sseStream}, and each retry of the upstream call is announced
 * to the client as it happens, before the wait: `f` receives an `onRetry`
 * hook to pass to `MimoClient`, and every event it gets is written as
 * `event: mimo.retry` + `data: <RetryNotice JSON>`. The response is sent at
 * once (status 200), so a failure before the first chunk is an error event,
 * not an error status.
 *
 * @example
 * ```ts
 * import { ChatCompletion, MimoClient, ServerError } from "@effect-mimo/core"
 * import { HttpServerRequest } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const streamHandler = Effect.gen(function*() {
 *   const mimo = yield* MimoClient.MimoClient
 *   const request = yield* HttpServerRequest.schemaBodyJson(ChatCompletion.Request).pipe(Effect.orDie)
 *   return ServerError.sseStreamWithRetries((onRetry) => mimo.stream(request, { onRetry }))
 * })
 * ```
 *
 * @since 0.1.0
 * @category streaming
 */
export const sseStreamWithRetries: (
  f: (onRetry: (event: MimoClient.RetryEvent) => Effect.Effect<void>) => Stream.Stream<
    ChatCompletion.Chunk,
    MimoError.MimoError
  >,
  options?: SseOptions
) => HttpServerResponse.HttpServerResponse = internal.sseStreamWithRetries

/**
 * The SSE event name of retry notices: `mimo.retry`.
 *
 * @example
 * ```ts
 * import { ServerError } from "@effect-mimo/core"
 *
 * ServerError.retryNoticeEvent // "mimo.retry"
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const retryNoticeEvent: string = internal.retryNoticeEvent

/**
 * A retry notice as sent: the attempt that failed (from 1), the wait before
 * the next one, and the error as the status plus the envelope's `error`
 * object (and the server's `Retry-After` of a 429, when it gave one).
 *
 * @example
 * ```ts
 * import type { ServerError } from "@effect-mimo/core"
 *
 * const notice: ServerError.RetryNotice = {
 *   attempt: 1,
 *   delay_ms: 1240,
 *   status: 503,
 *   error: { code: "service_unavailable", message: "busy", type: "error" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export interface RetryNotice {
  readonly attempt: number
  readonly delay_ms: number
  readonly status: number
  readonly retry_after_ms?: number
  readonly error: {
    readonly code: string | number
    readonly message: string
    readonly type?: string | null
    readonly param?: string | null
  }
}

/**
 * The Schema of a {@link RetryNotice} (its JSON is the event's `data`).
 *
 * @example
 * ```ts
 * import { ServerError } from "@effect-mimo/core"
 * import { Schema } from "effect"
 *
 * Schema.decodeUnknownSync(ServerError.RetryNotice)({
 *   attempt: 1, delay_ms: 20, status: 503, error: { code: "service_unavailable", message: "busy" }
 * })
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const RetryNotice: Schema.Schema<RetryNotice> = internal.RetryNotice

/**
 * A client's retry event as a notice.
 *
 * @example
 * ```ts
 * import { MimoError, ServerError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * ServerError.toRetryNotice({
 *   attempt: 1,
 *   delay: Duration.millis(1240),
 *   error: new MimoError.ServiceUnavailable({ message: "busy" })
 * })
 * // { attempt: 1, delay_ms: 1240, status: 503, error: { code: "service_unavailable", message: "busy", type: "error" } }
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const toRetryNotice: (event: MimoClient.RetryEvent, redact?: Redaction.Redactor) => RetryNotice =
  internal.toRetryNotice

/**
 * A notice back to a retry event; its error is decoded by
 * `ErrorResponse.decode`, so it is the typed error the gateway saw (mapped as
 * the module notes say).
 *
 * @example
 * ```ts
 * import { ServerError } from "@effect-mimo/core"
 *
 * const event = ServerError.fromRetryNotice({
 *   attempt: 2, delay_ms: 2100, status: 429, retry_after_ms: 2000,
 *   error: { code: "rate_limit_exceeded", message: "Too many requests" }
 * })
 * event.error._tag // "RateLimitExceeded"
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const fromRetryNotice: (notice: RetryNotice) => MimoClient.RetryEvent = internal.fromRetryNotice

/**
 * Reads the `data` of a `mimo.retry` event: `Some(event)`, or `None` when it
 * is not a notice.
 *
 * @example
 * ```ts
 * import { ServerError } from "@effect-mimo/core"
 *
 * ServerError.decodeRetryNotice(
 *   `{"attempt":1,"delay_ms":20,"status":503,"error":{"code":"service_unavailable","message":"busy"}}`
 * ) // Some({ attempt: 1, delay: 20 millis, error: ServiceUnavailable })
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const decodeRetryNotice: (data: string) => Option.Option<MimoClient.RetryEvent> = internal.decodeRetryNotice

/**
 * A retry event as one SSE frame: `event: mimo.retry\ndata: <notice JSON>\n\n`.
 *
 * @example
 * ```ts
 * import { MimoError, ServerError } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * ServerError.retryNoticeFrame({
 *   attempt: 1, delay: Duration.millis(20), error: new MimoError.InternalError({ message: "boom" })
 * })
 * ```
 *
 * @since 0.1.0
 * @category retry notices
 */
export const retryNoticeFrame: (event: MimoClient.RetryEvent, redact?: Redaction.Redactor) => string =
  internal.retryNoticeFrame
