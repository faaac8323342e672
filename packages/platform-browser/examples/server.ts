/**
 * A backend for `BrowserMimoClient`, complete: it holds the MiMo key, answers
 * `POST /v1/chat/completions` (JSON, or SSE with retry notices), renders every
 * failure with the core's server adapter (`ServerError`), and answers CORS for
 * the page's origin. The browser tests serve it against the simulator.
 *
 *   MIMO_API_KEY=sk-... npx tsx examples/server.ts
 *   # or against the simulator: MIMO_BASE_URL=$(pnpm --silent mimo simulator) in another shell, any key
 */
import { ChatCompletion, MimoClient, MimoError, ServerError } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { HttpMiddleware, HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import { pathToFileURL } from "node:url"

const chat = Effect.gen(function*() {
  const mimo = yield* MimoClient.MimoClient
  const request = yield* HttpServerRequest.schemaBodyJson(ChatCompletion.Request).pipe(
    Effect.mapError((e) => new MimoError.InvalidRequest({ message: `request body: ${e.message}` }))
  )
  return request.stream === true
    // Each upstream retry reaches the page (as `event: mimo.retry`) while this server waits.
    ? ServerError.sseStreamWithRetries((onRetry) => mimo.stream(request, { onRetry }))
    : HttpServerResponse.unsafeJson(yield* mimo.chat(request))
})

/** The app: one route; `MimoError`s rendered as the seed envelope with their status; CORS for `origins`. */
export const app = (origins: ReadonlyArray<string>) =>
  HttpRouter.empty.pipe(
    HttpRouter.post("/v1/chat/completions", chat),
    ServerError.middleware,
    HttpMiddleware.cors({ allowedOrigins: (origin) => origins.includes(origin) })
  )

/** The server on 127.0.0.1:`port` (0: a free one), over the `MimoClient` it is given; it provides `HttpServer`. */
export const ServerLive = (options: { readonly port: number; readonly origins: ReadonlyArray<string> }) =>
  HttpServer.serve(app(options.origins)).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: options.port }))
  )

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ServerLive({ port: 8788, origins: ["http://localhost:5173"] }).pipe(
    HttpServer.withLogAddress,
    Layer.provide(NodeMimoClient.layerConfig()), // MIMO_API_KEY, MIMO_BASE_URL
    Layer.launch,
    NodeRuntime.runMain
  )
}
