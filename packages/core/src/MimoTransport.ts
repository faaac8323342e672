/**
 * `MimoTransport`: how `MimoClient` sends a request whose answer it reads
 * whole (`chat`, `speech`, `models`): one buffered HTTP exchange, with the
 * attempt's time limit.
 *
 * By default `MimoClient` sends these through the `HttpClient` in context
 * ({@link fromHttpClient}). An adapter may provide a leaner transport for the
 * hot path: `@effect-mimo/platform-node`'s `NodeMimoClient.layer` provides one
 * over undici's dispatcher (no `AbortController`, URL parsing or response
 * wrapper per request, and a native timer for the time limit), measured in
 * `apps/bench`. Streams always go through the `HttpClient`.
 *
 * A transport does only the exchange: `MimoClient` builds the headers (auth
 * included), decodes the body and the typed errors, and retries.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
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
   * ({@link timeoutError}). It runs on the `Clock` in context.
   */
  readonly timeout: Duration.Duration
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
}

/**
 * A transport.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** One exchange; every failure is a `TransportError` (an HTTP error status is a `Response`, not a failure). */
  readonly send: (request: Request) => Effect.Effect<Response, MimoError.TransportError>
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
 * A transport over an `HttpClient` (the default of `MimoClient`): the time
 * limit is `Effect.timeoutFail` on the `Clock` in context, so it follows a
 * `TestClock`.
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
