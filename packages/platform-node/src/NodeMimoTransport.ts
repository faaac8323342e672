/**
 * `NodeMimoTransport`: the `MimoTransport` of Node.js, straight over an undici
 * dispatcher. `NodeMimoClient.layer` provides it: every call (`chat`,
 * `speech`, `models` and `stream`) takes this path.
 *
 * Per request it dispatches to undici with a handler (no `Readable` body
 * stream, no `AbortController`, no `URL` parsing, no response wrapper) and
 * keeps the time limits with native timers when the `Clock` in context is the
 * real one; under a `TestClock` (or any other `Clock`) the limits run on that
 * `Clock`, as they do over `HttpClient`. Interrupting a call aborts its
 * request, even one still queued for a socket (it is then never sent).
 *
 * - `send` gathers the body: a non-2xx body up to `MimoTransport.maxErrorBody`
 *   bytes, a 2xx body up to `maxBodySize` (then `truncated`); the connection
 *   is dropped past either cap.
 * - `open` answers at the head; the body's pieces are queued as undici hands
 *   them over (pausing the socket past 1 MiB unread) and `read` takes them in
 *   batches. When the stream's scope closes before the body ended, a normal
 *   end drains the rest for at most 500 ms / 64 KiB (so the connection can be
 *   reused) and a failure or interruption aborts at once: a server that holds
 *   the connection open after `[DONE]` costs nothing.
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
