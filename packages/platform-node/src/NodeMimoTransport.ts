/**
 * `NodeMimoTransport`: the `MimoTransport` of Node.js, straight over an undici
 * dispatcher. `NodeMimoClient.layer` provides it, so `chat`, `speech` and
 * `models` take this path; streams use the `HttpClient` over the same
 * connection pool.
 *
 * Per request it dispatches to undici with a handler that gathers the body
 * (no `Readable` body stream, no `AbortController`, no `URL` parsing, no
 * response wrapper) and keeps the attempt's time limit with one native timer
 * when the `Clock` in context is the real one; under a `TestClock` (or any
 * other `Clock`) the limit runs on that `Clock`, as it does over `HttpClient`.
 * Interrupting a call aborts its request, even one still queued for a socket
 * (it is then never sent). A non-2xx body is read up to
 * `MimoTransport.maxErrorBody` bytes and the connection dropped after that.
 *
 * @since 0.1.0
 */
import * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Undici from "undici"
import * as internal from "./internal/undiciTransport.js"

/**
 * A transport over an undici dispatcher (an `Agent`, a `Pool`, …).
 *
 * @example
 * ```ts
 * import { NodeMimoTransport } from "@effect-mimo/platform-node"
 * import { Duration, Effect } from "effect"
 * import { Agent } from "undici"
 *
 * const transport = NodeMimoTransport.make(new Agent({ connections: 16 }))
 * const status = Effect.map(
 *   transport.send({
 *     method: "GET",
 *     url: "http://127.0.0.1:8080/v1/models",
 *     headers: { accept: "application/json" },
 *     body: undefined,
 *     timeout: Duration.seconds(5)
 *   }),
 *   (response) => response.status
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (dispatcher: Undici.Dispatcher) => MimoTransport.Service = internal.make

/**
 * The transport over the undici dispatcher in context (the one
 * `NodeMimoClient.dispatcherLayer` provides, shared with the `HttpClient`).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { NodeMimoClient, NodeMimoTransport } from "@effect-mimo/platform-node"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 *
 * // Buffered calls over undici, streams over fetch.
 * const MimoLive = MimoClient.layer({ apiKey: Redacted.make("sk-...") }).pipe(
 *   Layer.provide(NodeMimoTransport.layer),
 *   Layer.provide(FetchHttpClient.layer),
 *   Layer.provide(NodeMimoClient.dispatcherLayer())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<MimoTransport.MimoTransport, never, NodeHttpClient.Dispatcher> = Layer.effect(
  MimoTransport.MimoTransport,
  Effect.map(NodeHttpClient.Dispatcher, internal.make)
)
