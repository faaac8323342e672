/**
 * `MimoTransport`: the one wire service of `MimoClient`. Every request goes
 * through it: a buffered exchange (`send`: `chat`, `speech`, `models`) or an
 * opened stream (`open`: `stream`), each with the attempt's time limit.
 *
 * An adapter provides exactly this service: `@effect-mimo/platform-node`'s
 * `NodeMimoTransport` over undici's dispatcher (no `AbortController`, URL
 * parsing or response wrapper per request, a native timer for the time
 * limits, stream bytes handed over in batches without a `Readable`), and
 * {@link fromHttpClient} over any `@effect/platform` `HttpClient` (the browser
 * adapter's `fetch`, a custom client, a test double).
 *
 * A transport does only the exchange and keeps its time limits and its body
 * cap: `MimoClient` builds the request (headers, auth, request id) in one
 * place, decodes every body and error status in one place (buffered calls and
 * streams alike), frames SSE, and retries.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/mimoTransport.js"
import type * as MimoError from "./MimoError.js"

/**
 * One buffered exchange.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly method: "GET" | "POST"
  /** The absolute URL. */
  readonly url: string
  /** Lower-case header names. They hold the API key: a transport never logs, traces or echoes them. */
  readonly headers: Readonly<Record<string, string>>
  /** The body (JSON text), if any; its `content-type` is in `headers`. */
  readonly body: string | undefined
  /**
   * The attempt's time limit, from sending to the last byte of the body:
   * past it the exchange is aborted and fails with `TransportError` `"Timeout"`
   * ({@link timeoutError}). It runs on the `Clock` in context. For {@link Service.open}, the limit runs
   * until the response's status and headers (the body is then read with {@link StreamBody.read}'s own limits).
   */
  readonly timeout: Duration.Duration
  /**
   * The most bytes of a 2xx body read (default {@link defaultMaxBodySize}). Past it the exchange
   * stops reading (the connection is dropped) and the `Response` is `truncated`: the client turns that
   * into a `ResponseDecodeError`, never buffering more. Ignored by `open` (a stream is read piece by piece).
   */
  readonly maxBodySize?: number | undefined
}

/**
 * The answer, read whole.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response {
  readonly status: number
  readonly headers: Headers.Headers
  /**
   * The body as text. For a status outside 2xx, at most {@link maxErrorBody}
   * bytes of it (the rest is not read): error bodies are only scanned for an
   * error envelope, and a proxy's 5 MiB page must not be buffered.
   */
  readonly body: string
  /**
   * The body was longer than the cap (`maxBodySize` for a 2xx, {@link maxErrorBody} otherwise):
   * `body` holds only its start and the rest was not read.
   */
  readonly truncated?: boolean | undefined
}

/**
 * The body of an opened stream, read in pieces.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamBody {
  /**
   * Waits at most `timeout` for more of the body, and returns every piece that arrived since the last
   * read (one or more, in order), or `undefined` at the end of the body. When pieces are already waiting
   * it returns them at once, without waiting. Past the time limit it fails with `TransportError`
   * `"Timeout"`; a body cut by the peer fails with `"StreamCut"`.
   */
  readonly read: (
    timeout: Duration.Duration
  ) => Effect.Effect<ReadonlyArray<Uint8Array> | undefined, MimoError.TransportError>
}

/**
 * An opened stream: its status and headers, and either the start of an error
 * body (a status outside 2xx, read as `send` reads it) or a {@link StreamBody}.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamResponse extends Response, StreamBody {}

/**
 * A transport.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** One exchange; every failure is a `TransportError` (an HTTP error status is a `Response`, not a failure). */
  readonly send: (request: Request) => Effect.Effect<Response, MimoError.TransportError>
  /**
   * Sends a request and returns once the status and headers are in, within `request.timeout`.
   * A 2xx body is read with `read`; any other status comes with the start of its body in `body` (at most
   * {@link maxErrorBody} bytes) and `read` returns `undefined`. The connection belongs to the `Scope`:
   * closing it before the body ended releases the connection at once. With a success `Exit` (the caller
   * read what it wanted, e.g. up to `data: [DONE]`) a transport may drain a little of the rest within a
   * bound, so that the connection can be reused; with any other `Exit` it aborts the request. It never
   * waits for a server that holds the connection open.
   */
  readonly open: (request: Request) => Effect.Effect<StreamResponse, MimoError.TransportError, Scope.Scope>
}

/**
 * The transport `MimoClient` uses for buffered calls, when one is in context.
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 * import { Duration, Effect } from "effect"
 *
 * const status = Effect.flatMap(MimoTransport.MimoTransport, (transport) =>
 *   Effect.map(
 *     transport.send({
 *       method: "GET",
 *       url: "http://127.0.0.1:8080/v1/models",
 *       headers: { accept: "application/json" },
 *       body: undefined,
 *       timeout: Duration.seconds(5)
 *     }),
 *     (response) => response.status
 *   ))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MimoTransport extends Context.Tag("@effect-mimo/core/MimoTransport")<MimoTransport, Service>() {}

/**
 * How many bytes of a non-2xx body a transport reads (64 KiB, the same as
 * `ErrorResponse.maxScan`).
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 *
 * MimoTransport.maxErrorBody // 65536
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const maxErrorBody: number = internal.maxErrorBody

/**
 * The default cap on a 2xx body read whole (`send`): 32 MiB. A chat answer is
 * far smaller; an answer larger than the cap is a `ResponseDecodeError` and
 * the rest of it is never read. Set it per client with
 * `MimoClient.Options.maxBodySize` (or `MIMO_MAX_BODY_SIZE`).
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 *
 * MimoTransport.defaultMaxBodySize // 33554432
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBodySize: number = internal.defaultMaxBodySize

/**
 * A transport over an `HttpClient` (any platform, a custom client, a test
 * double): the time limits are `Effect.timeoutFail` on the `Clock` in
 * context, so they follow a `TestClock`; closing an opened stream's scope
 * aborts its request.
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 * import { FetchHttpClient, HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const transport = Effect.map(HttpClient.HttpClient, MimoTransport.fromHttpClient).pipe(
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromHttpClient: (client: HttpClient.HttpClient) => Service = internal.fromHttpClient

/**
 * {@link fromHttpClient} as a layer.
 *
 * @example
 * ```ts
 * import { MimoClient, MimoTransport } from "@effect-mimo/core"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 *
 * const MimoLive = MimoClient.layer({ apiKey: Redacted.make("sk-...") }).pipe(
 *   Layer.provide(MimoTransport.layerHttpClient),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<MimoTransport, never, HttpClient.HttpClient> = Layer.effect(
  MimoTransport,
  internal.fromHttpClientEffect
)

/**
 * The error of an exchange that outlived its time limit (reason `"Timeout"`,
 * retryable). Transports use it so that every adapter says the same.
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * MimoTransport.timeoutError(Duration.seconds(30)).message // "no response within 30s"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const timeoutError: (timeout: Duration.Duration) => MimoError.TransportError = internal.timeoutError

/**
 * Turns what an HTTP library failed with (an error and its `cause` chain,
 * as undici and `fetch` nest them) into a `TransportError`: the reason from
 * the error codes (`ECONNREFUSED`, `ECONNRESET`, `UND_ERR_SOCKET`, …) and
 * the messages, never from the request (its headers hold the key).
 * `stage` says whether the response had started (then a failure is a
 * `"ConnectionReset"` unless the codes say otherwise).
 *
 * @example
 * ```ts
 * import { MimoTransport } from "@effect-mimo/core"
 *
 * const e = MimoTransport.fromCause(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }), "request")
 * e.reason // "ConnectionRefused"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const fromCause: (cause: unknown, stage: "request" | "response") => MimoError.TransportError = internal.fromCause
