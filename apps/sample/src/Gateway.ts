/**
 * `mimo gateway`: a loopback HTTP server that holds the MiMo key (or uses the
 * embedded simulator) and lets browsers use MiMo without ever seeing the key.
 *
 * - `POST /v1/chat/completions`: JSON, or SSE with `"stream": true`; the
 *   upstream call runs under the CLI's retry policy (`Retry.policy`). While
 *   streaming, each upstream retry is announced to the browser as an
 *   `event: mimo.retry` before the wait (`ServerError.sseStreamWithRetries`),
 *   which `@effect-mimo/platform-browser` reports to `onGatewayRetry`.
 * - `GET /v1/models`: the upstream's models.
 * - Failures are rendered by the core's server adapter
 *   (`ServerError.middleware`): the seed envelope, the right status,
 *   `Retry-After` on 429. A stream that fails ends with an error event.
 * - `GET /`: a small chat page (`web/`, built with esbuild into
 *   `web/dist/app.js`) that uses `@effect-mimo/platform-browser` against this
 *   gateway.
 *
 * Who may call it: it listens on 127.0.0.1 only; a request whose `Host` is
 * not this gateway's (DNS rebinding) or whose `Origin` is not allowed (the
 * gateway's own, plus `--allow-origin`) gets `403 permission_denied` before
 * anything is sent upstream; CORS answers the allowed origins only.
 *
 * What it takes and gives (it is not an open proxy for its key):
 * - a chat body of at most 1 MiB (a larger one is `413 request_too_large`,
 *   answered, not a dropped connection), holding only the documented fields
 *   ({@link acceptedFields}: no `extra_body`, no unknown top-level field; 400
 *   naming the field otherwise), validated by the client before it goes upstream;
 * - every response with `X-Content-Type-Options: nosniff`; the page with a
 *   strict Content-Security-Policy (scripts from the gateway only, its one
 *   inline style by hash, no framing) and `X-Frame-Options: DENY`;
 * - nothing it sends (errors, retry notices, chunks, answers) holds the key
 *   or the upstream base URL's credentials: all of it goes through a
 *   `Redaction` redactor first.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as Redaction from "@effect-mimo/core/Redaction"
import * as ServerError from "@effect-mimo/core/ServerError"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"
import * as Retry from "./Retry.js"

/** What `mimo gateway` was asked to do (parsed by `@effect/cli` in `Cli.ts`). */
export interface Options {
  readonly port: number
  readonly allowOrigin: ReadonlyArray<string>
  readonly maxAttempts: number
}

/** Settings of {@link make}. */
export interface GatewayOptions {
  /** The port on 127.0.0.1; `0` for a free one. */
  readonly port: number
  /** The retry policy of upstream calls. */
  readonly retry: Schedule.Schedule<unknown, MimoError.MimoError>
  /** Origins allowed besides the gateway's own (`http://127.0.0.1:<port>`, `http://localhost:<port>`). */
  readonly allowOrigins?: ReadonlyArray<string> | undefined
  /** Where `index.html` and `dist/app.js` are. Default: `apps/sample/web`. */
  readonly webDir?: string | undefined
  /** Called for each upstream retry (the CLI prints it on stderr). */
  readonly onRetry?: ((event: MimoClient.RetryEvent) => Effect.Effect<void>) | undefined
  /**
   * Scrubs the upstream's key and base-URL secrets from everything sent to a
   * browser (`Redaction.make({ secrets: [apiKey], baseUrls: [baseUrl] })`).
   * Default: nothing scrubbed (`mimo gateway` always sets it).
   */
  readonly redact?: Redaction.Redactor | undefined
}

/** A running gateway. */
export interface Running {
  /** The page, e.g. `http://127.0.0.1:8787/`. */
  readonly url: string
  /** The OpenAI-compatible base URL, e.g. `http://127.0.0.1:8787/v1`. */
  readonly baseUrl: string
  readonly port: number
  /** Whether the page's script was found (`web/dist/app.js`). */
  readonly pageBuilt: boolean
}

/** `apps/sample/web`, from `src/` (tests) or `dist/` (the built CLI) alike. */
export const defaultWebDir: string = NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "..", "web")

/** The largest request body accepted (1 MiB). */
export const maxBodySize = 1024 * 1024

/**
 * The top-level fields a browser may send: those of `ChatCompletion.Request`
 * except `extra_body` (which would let a page send anything upstream under
 * the gateway's key).
 */
export const acceptedFields: ReadonlyArray<string> = Object.keys(ChatCompletion.Request.fields).filter((k) =>
  k !== "extra_body"
)

/** Sent with every response: never sniff a JSON or SSE body into HTML. */
const nosniff = { "x-content-type-options": "nosniff" } as const

/** The gateway's page and script, read once at start. */
interface Page {
  readonly html: string
  readonly script: Option.Option<string>
  /** The page's Content-Security-Policy: its inline `<style>` blocks allowed by hash, nothing else inline. */
  readonly csp: string
}

const styleHashes = (html: string): ReadonlyArray<string> =>
  [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) =>
    `'sha256-${Crypto.createHash("sha256").update(m[1], "utf8").digest("base64")}'`
  )

/** @internal the page's policy: scripts and requests to this gateway only, no framing, no forms elsewhere */
export const contentSecurityPolicy = (html: string): string => {
  const styles = styleHashes(html)
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src ${styles.length === 0 ? "'none'" : styles.join(" ")}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")
}

const notBuilt = `<!doctype html><meta charset="utf-8"><title>mimo gateway</title>
<p>The page's script is not built: run <code>pnpm --filter @effect-mimo/sample build</code>
(or <code>node apps/sample/web/build.mjs</code>) and restart the gateway. The API is up at <code>/v1</code>.</p>`

const readPage = (webDir: string): Effect.Effect<Page, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const read = (file: string) => Effect.option(fs.readFileString(NodePath.join(webDir, file)))
    const html = yield* read("index.html")
    const script = yield* read(NodePath.join("dist", "app.js"))
    const page = Option.isSome(html) && Option.isSome(script) ? html.value : notBuilt
    return { html: page, script, csp: contentSecurityPolicy(page) }
  })

const tooLarge = () =>
  new MimoError.UnknownApiError({
    status: 413,
    code: "request_too_large",
    message: `request body: larger than ${maxBodySize} bytes`,
    type: "error",
    body: ""
  })

const unreadable = (message: string) => new MimoError.InvalidRequest({ message: `request body: ${message}` })

/**
 * The body as text, at most {@link maxBodySize} bytes: a declared
 * `Content-Length` over it is refused before reading, a chunked body stops
 * being read (paused, not destroyed) once it passes it. Either way the
 * answer is a 413 envelope with `Connection: close`, not a dropped connection
 * (the platform's own limit destroys the socket, which a page sees as a
 * network error and retries).
 */
const readBody = (
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<string, MimoError.UnknownApiError | MimoError.InvalidRequest> => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && Number(declared) > maxBodySize) return Effect.fail(tooLarge())
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  return Effect.async<string, MimoError.UnknownApiError | MimoError.InvalidRequest>((resume) => {
    const parts: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBodySize) {
        cleanup()
        incoming.pause()
        resume(Effect.fail(tooLarge()))
      } else parts.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(parts).toString("utf8")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(unreadable(error.message)))
    }
    incoming.on("data", onData)
    incoming.once("end", onEnd)
    incoming.once("error", onError)
    return Effect.sync(cleanup)
  })
}

const decodeRequest = ParseResult.decodeUnknown(ChatCompletion.Request)

/**
 * The JSON body as a `ChatCompletion.Request` with only the documented
 * fields; anything else is a 400 `invalid_request` naming what was wrong.
 */
const chatRequest: Effect.Effect<
  ChatCompletion.Request,
  MimoError.UnknownApiError | MimoError.InvalidRequest,
  HttpServerRequest.HttpServerRequest
> = Effect.gen(function*() {
  const text = yield* Effect.flatMap(HttpServerRequest.HttpServerRequest, readBody)
  const json = yield* Effect.try({ try: (): unknown => JSON.parse(text), catch: () => unreadable("not valid JSON") })
  if (!Predicate.isRecord(json) || Array.isArray(json)) {
    return yield* new MimoError.InvalidRequest({ message: "request body: expected a JSON object" })
  }
  for (const key of Object.keys(json)) {
    if (!acceptedFields.includes(key)) {
      return yield* new MimoError.InvalidRequest({
        message: `request body: ${JSON.stringify(key)} is not accepted by this gateway (it takes ${
          acceptedFields.join(", ")
        })`,
        param: key
      })
    }
  }
  return yield* Effect.mapError(
    decodeRequest(json),
    (issue) => unreadable(ParseResult.TreeFormatter.formatIssueSync(issue))
  )
})

/** The routes, over the upstream client; failures are still `MimoError`s here. */
const routes = (mimo: MimoClient.Service, options: GatewayOptions, page: Page) => {
  const call: MimoClient.CallOptions = {
    retry: options.retry,
    ...(options.onRetry !== undefined ? { onRetry: options.onRetry } : {})
  }
  const redact = options.redact ?? Redaction.none
  const json = (body: unknown) => HttpServerResponse.unsafeJson(Redaction.deep(body, redact))
  const chat = Effect.gen(function*() {
    const request = yield* chatRequest
    if (request.stream === true) {
      return ServerError.sseStreamWithRetries((onRetry) =>
        mimo.stream(request, {
          ...call,
          onRetry: (event) =>
            options.onRetry === undefined ? onRetry(event) : Effect.zipRight(options.onRetry(event), onRetry(event))
        }), { redact })
    }
    return json(yield* mimo.chat(request, call))
  })
  const models = Effect.map(mimo.models(call), json)
  const index = HttpServerResponse.text(page.html, {
    contentType: "text/html; charset=utf-8",
    headers: { "content-security-policy": page.csp, "x-frame-options": "DENY", "referrer-policy": "no-referrer" }
  })
  const script = Option.match(page.script, {
    onNone: () =>
      HttpServerResponse.text("console.error(\"mimo gateway: web/dist/app.js is not built\")", {
        status: 404,
        contentType: "text/javascript"
      }),
    onSome: (code) => HttpServerResponse.text(code, { contentType: "text/javascript; charset=utf-8" })
  })
  const router = HttpRouter.empty.pipe(
    HttpRouter.post("/v1/chat/completions", chat),
    HttpRouter.get("/v1/models", models),
    HttpRouter.get("/", Effect.succeed(index)),
    HttpRouter.get("/index.html", Effect.succeed(index)),
    HttpRouter.get("/app.js", Effect.succeed(script))
  )
  return Effect.catchTag(router, "RouteNotFound", () =>
    Effect.map(
      HttpServerRequest.HttpServerRequest,
      (request) =>
        ServerError.toResponse(new MimoError.NotFound({ message: `No route for ${request.method} ${request.url}` }))
    ))
}

/** 413 answers close the connection: the rest of the body is not read. */
const closeAfterTooLarge = (response: HttpServerResponse.HttpServerResponse) =>
  response.status === 413 ? HttpServerResponse.setHeader(response, "connection", "close") : response

/**
 * Only this gateway's `Host`, and only allowed `Origin`s (a request without
 * one is not from a browser page, or is same-origin GET): anything else is a
 * 403 before it reaches a handler, so a page on another site can neither spend
 * the key (even with a "simple" request that skips the CORS preflight) nor
 * reach the gateway through a rebound DNS name.
 */
const guard = (hosts: ReadonlySet<string>, origins: ReadonlySet<string>) => <E, R>(app: HttpApp.Default<E, R>) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const host = request.headers.host ?? ""
    const origin = request.headers.origin
    if (!hosts.has(host.toLowerCase())) {
      return Effect.succeed(
        ServerError.toResponse(
          new MimoError.PermissionDenied({ message: `Host ${JSON.stringify(host)} is not this gateway` })
        )
      )
    }
    if (origin !== undefined && !origins.has(origin)) {
      return Effect.succeed(
        ServerError.toResponse(
          new MimoError.PermissionDenied({
            message: `Origin ${origin} is not allowed (start the gateway with --allow-origin ${origin})`
          })
        )
      )
    }
    return app
  })

/**
 * Starts the gateway on 127.0.0.1 over the `MimoClient` in context; it stops
 * when the scope closes (open connections, streams included, are closed).
 */
export const make = (
  options: GatewayOptions
): Effect.Effect<Running, HttpServerError.ServeError, MimoClient.MimoClient | FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    const page = yield* readPage(options.webDir ?? defaultWebDir)
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host: "127.0.0.1", port: options.port })
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port
    const own = [`http://127.0.0.1:${port}`, `http://localhost:${port}`]
    const origins = new Set([...own, ...(options.allowOrigins ?? [])])
    const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`])
    const app = routes(mimo, options, page).pipe(
      (routed) => ServerError.middleware(routed, { redact: options.redact }),
      Effect.map(closeAfterTooLarge),
      HttpMiddleware.cors({
        allowedOrigins: (origin) => origins.has(origin),
        allowedMethods: ["GET", "POST", "OPTIONS"],
        allowedHeaders: ["content-type", "authorization", MimoClient.retryCountHeader],
        exposedHeaders: ["retry-after", "retry-after-ms", "x-request-id"],
        maxAge: 600
      }),
      guard(hosts, origins),
      Effect.map(HttpServerResponse.setHeaders(nosniff))
    )
    yield* HttpServer.serveEffect(app).pipe(
      Effect.provideService(HttpServer.HttpServer, server),
      HttpMiddleware.withTracerDisabledWhenEffect(() => true)
    )
    return { url: `${own[0]}/`, baseUrl: `${own[0]}/v1`, port, pageBuilt: Option.isSome(page.script) }
  })

// -----------------------------------------------------------------------------
// mimo gateway
// -----------------------------------------------------------------------------

/**
 * The upstream: the host and key of `Environment.target`, or the embedded
 * simulator (with a small pause between SSE events, so that streaming shows),
 * whose control endpoints are printed for fault injection.
 */
const upstream = Effect.gen(function*() {
  const target = yield* Environment.target
  if (target._tag === "Host") {
    const redact = Redaction.make({ secrets: [target.apiKey], baseUrls: [target.baseUrl] })
    yield* Console.error(
      Output.sanitize(`mimo gateway: upstream ${redact(target.baseUrl)} (the key stays here; browsers never see it)`)
    )
    return { layer: NodeMimoClient.layer({ apiKey: target.apiKey, baseUrl: target.baseUrl }), redact }
  }
  const Simulator = yield* Effect.promise(() => import("@effect-mimo/simulator/Simulator"))
  const simulator = yield* Simulator.make({ port: 0, chunkDelay: "40 millis" })
  yield* Console.error(
    `mimo gateway: MIMO_API_KEY and MIMO_BASE_URL are not set; upstream is the embedded simulator at ${simulator.url}\n` +
      `  inject a fault into the next chat request: curl -X POST ${simulator.origin}/_sim/script -d '["error:503"]'`
  )
  return {
    layer: NodeMimoClient.layer({ apiKey: Environment.simulatorKey, baseUrl: simulator.url }),
    redact: Redaction.make({ secrets: [Environment.simulatorKey] })
  }
})

/** `mimo gateway`: serves until interrupted (Ctrl-C). */
export const run = (options: Options): Effect.Effect<void, Output.Reported, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const base = yield* Retry.base
    const { layer, redact } = yield* upstream
    const client = yield* Layer.build(layer)
    const running = yield* make({
      port: options.port,
      retry: Retry.policy({ maxAttempts: options.maxAttempts, base }),
      allowOrigins: options.allowOrigin,
      redact,
      onRetry: (event) => Console.error(`mimo gateway: ${Output.retryLine(event, options.maxAttempts, redact)}`)
    }).pipe(Effect.provideService(MimoClient.MimoClient, Context.get(client, MimoClient.MimoClient)))
    yield* Console.log(running.url)
    yield* Console.error(
      `mimo gateway: listening on ${running.url} (page) and ${running.baseUrl} (API, JSON and SSE); ` +
        `origins allowed: ${
          [`http://127.0.0.1:${running.port}`, ...options.allowOrigin].join(", ")
        }. Ctrl-C stops it.` +
        (running.pageBuilt
          ? ""
          : "\nmimo gateway: the page is not built (web/dist/app.js): run pnpm --filter @effect-mimo/sample build")
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Output.reportFailure
  )
