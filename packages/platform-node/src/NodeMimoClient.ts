/**
 * `MimoClient` on Node.js, over undici.
 *
 * Why undici: on Node 20 the global `fetch` costs 3.3–4.8 × the CPU per request of
 * `undici.request` (see `apps/bench`), and `node:http`'s client as wired by
 * `NodeHttpClient.layer` runs without keep-alive. This layer uses
 * a dedicated keep-alive undici `Agent` whose lifetime is the layer's, and
 * sends everything (buffered calls and streams) through `NodeMimoTransport`
 * straight over it: one wire service.
 *
 * @since 0.1.0
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import type * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Undici from "undici"
import * as NodeMimoTransport from "./NodeMimoTransport.js"

/**
 * Connection-pool settings of the undici `Agent`.
 *
 * @since 0.1.0
 * @category models
 */
export interface AgentOptions {
  /** Connections per origin (default 128; undici's default is unlimited). */
  readonly connections?: number | undefined
  /** How long an idle connection stays open (default 30 seconds). */
  readonly keepAliveTimeout?: Duration.DurationInput | undefined
  /** Requests pipelined per connection (default 1: MiMo answers are long-lived). */
  readonly pipelining?: number | undefined
  /** TCP connect timeout (default 10 seconds). */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * A scoped undici `Agent` with keep-alive, destroyed when the scope closes.
 *
 * @example
 * ```ts
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 *
 * const DispatcherLive = NodeMimoClient.dispatcherLayer({ connections: 64 })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const dispatcherLayer = (options: AgentOptions = {}): Layer.Layer<NodeHttpClient.Dispatcher> =>
  Layer.scoped(
    NodeHttpClient.Dispatcher,
    Effect.acquireRelease(
      Effect.sync(() =>
        new Undici.Agent({
          connections: options.connections ?? 128,
          pipelining: options.pipelining ?? 1,
          keepAliveTimeout: Duration.toMillis(Duration.decode(options.keepAliveTimeout ?? "30 seconds")),
          keepAliveMaxTimeout: 10 * 60 * 1000,
          connectTimeout: Duration.toMillis(Duration.decode(options.connectTimeout ?? "10 seconds")),
          headersTimeout: 0,
          bodyTimeout: 0
        })
      ),
      (agent) => Effect.promise(() => agent.destroy())
    )
  )

/**
 * An `HttpClient` over undici with a keep-alive pool (for your own requests,
 * or `MimoTransport.layerHttpClient`; `MimoClient` itself needs only
 * {@link wireLayer}).
 *
 * @example
 * ```ts
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 *
 * const HttpLive = NodeMimoClient.httpClientLayer()
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClientLayer = (options: AgentOptions = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.provide(NodeHttpClient.layerUndiciWithoutDispatcher, dispatcherLayer(options))

/**
 * What `MimoClient` needs on Node.js: its one wire service, `NodeMimoTransport`
 * over a keep-alive undici `Agent` (buffered calls and streams).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Layer, Redacted } from "effect"
 *
 * // The same as NodeMimoClient.layer({ apiKey: Redacted.make("sk-...") })
 * const MimoLive = MimoClient.layer({ apiKey: Redacted.make("sk-...") }).pipe(
 *   Layer.provide(NodeMimoClient.wireLayer())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const wireLayer = (
  options: AgentOptions = {}
): Layer.Layer<MimoTransport.MimoTransport> => Layer.provide(NodeMimoTransport.layer, dispatcherLayer(options))

/**
 * `MimoClient` over undici, from options.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Effect, Redacted } from "effect"
 *
 * const MimoLive = NodeMimoClient.layer({ apiKey: Redacted.make("sk-...") })
 *
 * const program = Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.models())
 * program.pipe(Effect.provide(MimoLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: MimoClient.Options & { readonly agent?: AgentOptions | undefined }
): Layer.Layer<MimoClient.MimoClient> => Layer.provide(MimoClient.layer(options), wireLayer(options.agent))

/**
 * `MimoClient` over undici, from configuration: `MIMO_API_KEY`, `MIMO_BASE_URL`,
 * `MIMO_AUTH_HEADER`, `MIMO_TIMEOUT` (see `MimoClient.config`) and
 * `MIMO_MAX_CONNECTIONS`.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Effect } from "effect"
 *
 * Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.models()).pipe(
 *   Effect.provide(NodeMimoClient.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: Partial<Omit<MimoClient.Options, "apiKey">>
): Layer.Layer<MimoClient.MimoClient, ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.integer("MIMO_MAX_CONNECTIONS").pipe(Config.withDefault(128)),
      (connections) => Layer.provide(MimoClient.layerConfig(overrides), wireLayer({ connections }))
    )
  )
