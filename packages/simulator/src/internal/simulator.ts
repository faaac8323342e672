/**
 * The simulator's machinery: request handling, faults, limits, serving.
 *
 * @internal
 */
import { ErrorCode, ErrorResponse, MimoError, Model } from "@effect-mimo/core"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Fault from "../Fault.js"
import type * as Simulator from "../Simulator.js"
import * as generate from "./generate.js"
import * as prng from "./prng.js"
import * as ratelimit from "./ratelimit.js"
import { Counters } from "./stats.js"
import * as validate from "./validate.js"

/** @internal */
export const faultHeader = "x-mimo-sim-fault"

type ApiError = MimoError.ApiError | MimoError.UnknownApiError
type Response = HttpServerResponse.HttpServerResponse

const MINUTE = 60_000

interface Resolved {
  readonly apiKey: string | undefined
  readonly seed: number
  readonly shape: Fault.Shape
  readonly cors: boolean
  readonly extraModels: ReadonlySet<string>
  readonly allowUnknownModels: boolean
  readonly chunkDelay: Duration.Duration | undefined
  readonly limits: Simulator.RateLimitOptions | undefined
  readonly limitsEnabled: boolean
  readonly retryAfter: "seconds" | "millis" | "none"
  readonly mix: Simulator.FaultMix | undefined
  readonly initialScript: ReadonlyArray<Fault.Fault>
}

const resolve = (options: Simulator.Options): Resolved => {
  const chunkDelay = options.chunkDelay === undefined ? undefined : Duration.decode(options.chunkDelay)
  return {
    apiKey: options.apiKey === undefined ? undefined : Redacted.value(options.apiKey),
    seed: options.seed ?? 0,
    shape: options.errorShape ?? "seed",
    cors: options.cors ?? false,
    extraModels: new Set(options.models ?? []),
    allowUnknownModels: options.allowUnknownModels ?? false,
    chunkDelay: chunkDelay !== undefined && Duration.greaterThan(chunkDelay, Duration.zero) ? chunkDelay : undefined,
    limits: options.rateLimit,
    limitsEnabled: options.rateLimit?.enabled ?? true,
    retryAfter: options.rateLimit?.retryAfter ?? "seconds",
    mix: options.faults,
    initialScript: options.script ?? []
  }
}

const builtinLimits: Readonly<Record<string, Simulator.ModelLimits>> = {
  "mimo-v2.5-asr": { tokensPerMinute: 10_000 }
}

const limitsFor = (options: Simulator.RateLimitOptions | undefined) => (model: string): ratelimit.Limits => {
  const own = options?.perModel?.[model]
  const builtin = builtinLimits[model]
  const pick = <K extends keyof Simulator.ModelLimits>(key: K): Simulator.ModelLimits[K] =>
    own?.[key] ?? (key === "tokensPerMinute" || key === "tokenBurst" ? builtin?.[key] : undefined) ??
      options?.[key] ?? builtin?.[key]
  const rps = pick("requestsPerSecond")
  const requestsPerMs = rps !== undefined ? rps / 1000 : (pick("requestsPerMinute") ?? 100) / MINUTE
  const requestCapacity = pick("burst") ?? (rps !== undefined ? rps : pick("requestsPerMinute") ?? 100)
  const tpm = pick("tokensPerMinute") ?? 10_000_000
  return {
    requestCapacity: Math.max(1, requestCapacity),
    requestsPerMs,
    tokenCapacity: Math.max(1, pick("tokenBurst") ?? tpm),
    tokensPerMs: tpm / MINUTE
  }
}

const corsHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "retry-after, retry-after-ms, x-request-id"
}

const ScriptBody = Schema.parseJson(Schema.Array(Schema.Union(Fault.Fault, Fault.FromString)))
const decodeScript = Schema.decodeEither(ScriptBody)

interface RequestState {
  /** Set when the simulator itself closes the connection (Reset, StreamCut). */
  serverClosed: boolean
}

const nodeSocket = (request: HttpServerRequest.HttpServerRequest): Net.Socket | undefined => {
  const source: unknown = request.source
  return source instanceof Http.IncomingMessage ? NodeHttpServerRequest.toIncomingMessage(request).socket : undefined
}

const encoder = new TextEncoder()

/** The events one by one, `delay` apart (the first at once). */
const paced = (events: ReadonlyArray<string>, delay: Duration.Duration): Stream.Stream<Uint8Array> =>
  Stream.fromIterable(events).pipe(
    Stream.zipWithIndex,
    Stream.mapEffect(([event, i]) =>
      i === 0 ? Effect.succeed(encoder.encode(event)) : Effect.as(Effect.sleep(delay), encoder.encode(event))
    )
  )

/** @internal */
export const app = (options: Simulator.Options = {}): Effect.Effect<Simulator.Embedded> =>
  Effect.map(Effect.clock, (clock) => {
    const o = resolve(options)
    const counters = new Counters()
    const now = () => clock.unsafeCurrentTimeMillis()
    const limiter = new ratelimit.Limiter(limitsFor(o.limits), Math.max(1e-9, o.limits?.timeScale ?? 1), now)
    let script: Array<Fault.Fault> = [...o.initialScript]
    let faultRng = prng.make(o.mix?.seed ?? 0)
    let served = 0

    // ---------------------------------------------------------------------------
    // Responses (every one counted by status; CORS added when asked)
    // ---------------------------------------------------------------------------

    const withCors = (headers: Readonly<Record<string, string>>) => o.cors ? { ...headers, ...corsHeaders } : headers

    const respond = (status: number, body: string, headers: Readonly<Record<string, string>>): Response => {
      counters.status(status)
      return HttpServerResponse.raw(body, { status, headers: withCors(headers) })
    }

    const jsonHeaders = { "content-type": "application/json" }

    const json = (status: number, body: string): Response => respond(status, body, jsonHeaders)

    const renderError = (error: ApiError, shape: Fault.Shape = o.shape, extra?: Record<string, string>): Response => {
      const r = ErrorResponse.encode(error, { shape })
      return respond(r.status, r.body, extra === undefined ? r.headers : { ...r.headers, ...extra })
    }

    const errorOf = (code: ErrorCode.Code, message?: string): MimoError.ApiError => {
      const p = { message: message ?? defaultMessages[code] }
      switch (code) {
        case "invalid_request":
          return new MimoError.InvalidRequest(p)
        case "authentication_failed":
          return new MimoError.AuthenticationFailed(p)
        case "permission_denied":
          return new MimoError.PermissionDenied(p)
        case "not_found":
          return new MimoError.NotFound(p)
        case "rate_limit_exceeded":
          return new MimoError.RateLimitExceeded(p)
        case "internal_error":
          return new MimoError.InternalError(p)
        case "service_unavailable":
          return new MimoError.ServiceUnavailable(p)
      }
    }

    const faultError = (fault: typeof Fault.Error.Type): Response => {
      const extra: Record<string, string> = {}
      const ra = fault.retryAfter
      if (ra !== undefined) {
        if ("seconds" in ra) extra["retry-after"] = String(ra.seconds)
        else if ("millis" in ra) {
          extra["retry-after"] = String(Math.ceil(ra.millis / 1000))
          extra["retry-after-ms"] = String(ra.millis)
        } else extra["retry-after"] = new Date(now() + ra.httpDate * 1000).toUTCString()
      }
      return renderError(errorOf(fault.code, fault.message), fault.shape ?? o.shape, extra)
    }

    const faultStatus = (fault: typeof Fault.Status.Type): Response => {
      const headers: Record<string, string> = { ...fault.headers }
      if (fault.contentType !== undefined) headers["content-type"] = fault.contentType
      else if (fault.body !== "" && headers["content-type"] === undefined) headers["content-type"] = "text/plain"
      return respond(fault.status, fault.body, headers)
    }

    // ---------------------------------------------------------------------------
    // Faults
    // ---------------------------------------------------------------------------

    const drawFault = (): Fault.Fault | undefined => {
      if (o.mix === undefined || o.mix.mix.length === 0) return undefined
      const u = faultRng()
      let acc = 0
      for (const entry of o.mix.mix) {
        acc += entry.probability
        if (u < acc) return entry.fault
      }
      return undefined
    }

    const reset = (request: HttpServerRequest.HttpServerRequest, state: RequestState): Effect.Effect<Response> =>
      Effect.suspend(() => {
        const socket = nodeSocket(request)
        if (socket === undefined) return Effect.interrupt
        state.serverClosed = true
        socket.resetAndDestroy()
        // The platform interrupts this fiber when the response closes.
        return Effect.never
      })

    /** Waits until what was written reached the kernel, then closes the connection (a FIN: data already sent stays readable). */
    const cut = (request: HttpServerRequest.HttpServerRequest, state: RequestState): Effect.Effect<never> =>
      Effect.async<never>((resume) => {
        const socket = nodeSocket(request)
        if (socket === undefined) {
          resume(Effect.interrupt)
          return
        }
        state.serverClosed = true
        socket.write(new Uint8Array(0), () => setImmediate(() => socket.destroy()))
      })

    // ---------------------------------------------------------------------------
    // Auth
    // ---------------------------------------------------------------------------

    const authError = (request: HttpServerRequest.HttpServerRequest): Response | undefined => {
      const authorization = request.headers["authorization"]
      let key: string | undefined
      if (authorization !== undefined && authorization.length > 7 && /^bearer /i.test(authorization)) {
        key = authorization.slice(7).trim()
      } else {
        key = request.headers["api-key"]?.trim()
      }
      if (key === undefined || key === "") {
        return renderError(
          new MimoError.AuthenticationFailed({
            message: "Missing API key: send `Authorization: Bearer <key>` or `api-key: <key>`"
          })
        )
      }
      if (o.apiKey !== undefined && key !== o.apiKey) {
        return renderError(new MimoError.AuthenticationFailed({ message: "Invalid API Key" }))
      }
      return undefined
    }

    const modelKnown = (id: string) => Model.isKnown(id) || o.extraModels.has(id)

    // ---------------------------------------------------------------------------
    // Chat completions
    // ---------------------------------------------------------------------------

    const nextIds = () => {
      const rng = prng.make(prng.hashNumber(o.seed, ++served))
      return { id: prng.hex(rng, 32), toolCallId: `call_${prng.hex(rng, 24)}` }
    }

    const answerChat = (
      request: HttpServerRequest.HttpServerRequest,
      state: RequestState,
      streamFault: typeof Fault.StreamCut.Type | typeof Fault.StreamError.Type | undefined
    ): Effect.Effect<Response> => {
      const denied = authError(request)
      if (denied !== undefined) return Effect.succeed(denied)
      return Effect.matchEffect(request.text, {
        onFailure: (e) =>
          Effect.succeed(renderError(new MimoError.InvalidRequest({ message: `Could not read the body: ${e.message}` }))),
        onSuccess: (text) => {
          let body: unknown
          try {
            body = JSON.parse(text)
          } catch (e) {
            return Effect.succeed(
              renderError(
                new MimoError.InvalidRequest({ message: `The body is not valid JSON: ${String(e)}`, param: "body" })
              )
            )
          }
          if (
            typeof body === "object" && body !== null && "model" in body && typeof body.model === "string" &&
            !o.allowUnknownModels && !modelKnown(body.model)
          ) {
            return Effect.succeed(
              renderError(
                new MimoError.NotFound({ message: `The model \`${body.model}\` does not exist`, param: "model" })
              )
            )
          }
          return Effect.match(validate.chatRequest(body), {
            onFailure: (e) => renderError(new MimoError.InvalidRequest({ message: e.message, param: e.field })),
            onSuccess: (valid) => respondChat(request, state, valid, streamFault)
          })
        }
      })
    }

    const respondChat = (
      request: HttpServerRequest.HttpServerRequest,
      state: RequestState,
      body: generate.Json,
      streamFault: typeof Fault.StreamCut.Type | typeof Fault.StreamError.Type | undefined
    ): Response => {
      const model = typeof body.model === "string" ? body.model : ""
      const info = Option.getOrUndefined(Model.info(model))
      const ids = nextIds()
      const answer = generate.answer(body, {
        seed: o.seed,
        kind: info?.kind ?? "text",
        thinkingDefault: info === undefined ? false : info.thinkingDefault === "enabled",
        defaultMaxTokens: info?.defaultMaxCompletionTokens ?? 8192,
        id: ids.id,
        toolCallId: ids.toolCallId,
        created: Math.floor(now() / 1000)
      })
      const tokens = answer.promptTokens + answer.completionTokens
      if (o.limitsEnabled) {
        const decision = limiter.take(model, tokens)
        if (decision._tag === "Limited") {
          counters.rateLimited++
          return rateLimited(model, decision)
        }
      }
      counters.promptTokens += answer.promptTokens
      counters.completionTokens += answer.completionTokens
      if (!answer.stream) {
        if (streamFault?._tag === "StreamError") return renderError(errorOf(streamFault.code))
        const text = generate.toJson(answer)
        if (streamFault?._tag === "StreamCut") return truncated(request, state, text)
        return json(200, text)
      }
      return sse(request, state, answer, streamFault)
    }

    const rateLimited = (model: string, decision: Extract<ratelimit.Decision, { _tag: "Limited" }>): Response => {
      const wait = decision.waitMillis
      const retryAfter = o.retryAfter === "none" || !Number.isFinite(wait)
        ? undefined
        : o.retryAfter === "seconds"
        ? Duration.seconds(Math.max(1, Math.ceil(wait / 1000)))
        : Duration.millis(Math.max(1, Math.ceil(wait)))
      const what = decision.limit === "requests" ? "requests per minute" : "tokens per minute"
      const error = new MimoError.RateLimitExceeded({
        message: `Rate limit exceeded: too many ${what} for model ${model}`,
        ...(retryAfter === undefined ? {} : { retryAfter })
      })
      const r = ErrorResponse.encode(error, { shape: o.shape })
      let headers = r.headers
      if (o.retryAfter === "seconds" && headers["retry-after-ms"] !== undefined) {
        const { "retry-after-ms": _, ...rest } = headers
        headers = rest
      }
      return respond(r.status, r.body, headers)
    }

    const truncated = (request: HttpServerRequest.HttpServerRequest, state: RequestState, text: string): Response => {
      const bytes = encoder.encode(text)
      counters.status(200)
      return HttpServerResponse.stream(
        Stream.concat(Stream.make(bytes.subarray(0, Math.floor(bytes.length / 2))), Stream.fromEffect(cut(request, state))),
        { status: 200, headers: withCors({ "content-length": String(bytes.length) }), contentType: "application/json" }
      )
    }

    const sse = (
      request: HttpServerRequest.HttpServerRequest,
      state: RequestState,
      answer: generate.Answer,
      fault: typeof Fault.StreamCut.Type | typeof Fault.StreamError.Type | undefined
    ): Response => {
      const payloads = generate.toChunks(answer)
      const n = fault === undefined ? payloads.length : Math.min(fault.afterChunks, payloads.length)
      const events: Array<string> = []
      for (let i = 0; i < n; i++) events.push(`data: ${payloads[i]}\n\n`)
      if (fault === undefined) events.push("data: [DONE]\n\n")
      else if (fault._tag === "StreamError") {
        events.push(`data: ${ErrorResponse.encode(errorOf(fault.code), { shape: o.shape }).body}\n\n`)
      }
      let body: Stream.Stream<Uint8Array> = o.chunkDelay === undefined
        ? Stream.make(encoder.encode(events.join("")))
        : paced(events, o.chunkDelay)
      if (fault?._tag === "StreamCut") {
        body = Stream.concat(
          body,
          Stream.fromEffect(Effect.zipRight(Effect.sync(() => counters.streamsCut++), cut(request, state)))
        )
      }
      counters.status(200)
      counters.streamsOpened++
      return HttpServerResponse.stream(
        Stream.ensuringWith(body, (exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) {
              if (fault === undefined) counters.streamsClosed++
              else if (fault._tag === "StreamError") counters.streamsErrored++
            } else if (Exit.isInterrupted(exit) && !state.serverClosed) {
              counters.streamsAborted++
              counters.clientClosed++
            }
          })),
        {
          status: 200,
          headers: withCors({ "cache-control": "no-cache" }),
          contentType: "text/event-stream"
        }
      )
    }

    type Handler = (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Response>

    const chat: Handler = (request) => {
      counters.request("/v1/chat/completions")
      const header = request.headers[faultHeader]
      let fault: Fault.Fault | undefined
      if (header !== undefined) {
        const parsed = Fault.parse(header)
        if (Either.isLeft(parsed)) {
          return Effect.succeed(
            renderError(
              new MimoError.InvalidRequest({ message: `${faultHeader}: ${parsed.left}`, param: faultHeader })
            )
          )
        }
        fault = parsed.right
      } else {
        fault = script.length > 0 ? script.shift() : drawFault()
      }
      const state: RequestState = { serverClosed: false }
      let handled: Effect.Effect<Response>
      if (fault === undefined) {
        handled = answerChat(request, state, undefined)
      } else {
        counters.fault(fault._tag)
        switch (fault._tag) {
          case "Error":
            return Effect.succeed(faultError(fault))
          case "Status":
            return Effect.succeed(faultStatus(fault))
          case "Reset":
            handled = reset(request, state)
            break
          case "Hang":
            handled = Effect.never
            break
          case "Latency":
            handled = Effect.zipRight(Effect.sleep(Duration.millis(fault.millis)), answerChat(request, state, undefined))
            break
          case "StreamCut":
          case "StreamError":
            handled = answerChat(request, state, fault)
            break
          case "Ok":
            handled = answerChat(request, state, undefined)
            break
        }
      }
      counters.active++
      return handled.pipe(
        Effect.onExit((exit) =>
          Effect.sync(() => {
            counters.active--
            if (Exit.isInterrupted(exit) && !state.serverClosed) counters.clientClosed++
          })
        )
      )
    }

    // ---------------------------------------------------------------------------
    // Models
    // ---------------------------------------------------------------------------

    const modelIds = [...Model.knownIds, ...[...o.extraModels].filter((id) => !Model.isKnown(id))]
    const modelList = JSON.stringify({
      object: "list",
      data: modelIds.map((id) => ({ id, object: "model", owned_by: "xiaomi" }))
    })

    const models: Handler = (request) => {
      counters.request("/v1/models")
      const header = request.headers[faultHeader]
      if (header !== undefined) {
        const parsed = Fault.parse(header)
        if (Either.isLeft(parsed)) {
          return Effect.succeed(
            renderError(new MimoError.InvalidRequest({ message: `${faultHeader}: ${parsed.left}`, param: faultHeader }))
          )
        }
        const fault = parsed.right
        counters.fault(fault._tag)
        const state: RequestState = { serverClosed: false }
        switch (fault._tag) {
          case "Error":
            return Effect.succeed(faultError(fault))
          case "Status":
            return Effect.succeed(faultStatus(fault))
          case "Reset":
            return reset(request, state)
          case "Hang":
            return Effect.onInterrupt(Effect.never, () => Effect.sync(() => counters.clientClosed++))
          case "Latency":
            return Effect.zipRight(
              Effect.sleep(Duration.millis(fault.millis)),
              Effect.sync(() => authError(request) ?? json(200, modelList))
            )
          default:
            break
        }
      }
      return Effect.succeed(authError(request) ?? json(200, modelList))
    }

    // ---------------------------------------------------------------------------
    // Control
    // ---------------------------------------------------------------------------

    const stats = Effect.sync(() => counters.snapshot())
    const resetStats = Effect.sync(() => counters.reset())
    const enqueue = (faults: Iterable<Fault.Fault>) => Effect.sync(() => void script.push(...faults))
    const resetAll = Effect.sync(() => {
      counters.reset()
      limiter.reset()
      script = [...o.initialScript]
      faultRng = prng.make(o.mix?.seed ?? 0)
      served = 0
    })

    const adminJson = (status: number, body: unknown): Response =>
      HttpServerResponse.raw(JSON.stringify(body), { status, headers: withCors(jsonHeaders) })

    const postScript: Handler = (request) =>
      Effect.match(request.text, {
        onFailure: (e) => adminJson(400, { error: { code: "invalid_request", message: e.message, type: "error" } }),
        onSuccess: (text) => {
          const decoded = decodeScript(text)
          if (Either.isLeft(decoded)) {
            return adminJson(400, {
              error: { code: "invalid_request", message: String(decoded.left.message), type: "error" }
            })
          }
          script.push(...decoded.right)
          return adminJson(200, { queued: decoded.right.length, pending: script.length })
        }
      })

    const getScript = Effect.sync(() => adminJson(200, { pending: script.map((f) => Schema.encodeSync(Fault.Fault)(f)) }))

    const preflight = (request: HttpServerRequest.HttpServerRequest): Response =>
      HttpServerResponse.empty({
        status: 204,
        headers: {
          ...corsHeaders,
          "access-control-allow-methods": "GET, POST, OPTIONS",
          "access-control-allow-headers": request.headers["access-control-request-headers"] ??
            `authorization, api-key, content-type, ${faultHeader}`,
          "access-control-max-age": "600"
        }
      })

    const getStats = Effect.map(stats, (s) => adminJson(200, s))
    const postReset = Effect.as(resetAll, adminJson(200, { reset: true }))

    const notFound = (request: HttpServerRequest.HttpServerRequest, path: string): Response => {
      counters.request(path)
      return renderError(new MimoError.NotFound({ message: `No route for ${request.method} ${path}` }))
    }

    // What `make` serves: a direct dispatch on method and path. It answers
    // exactly as `router` does, without the router's per-request work
    // (route lookup, context copy, search params), measured at ~50 µs a request.
    const httpApp: HttpApp.Default = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const url = request.url
      const q = url.indexOf("?")
      const path = q === -1 ? url : url.slice(0, q)
      const method = request.method
      if (method === "OPTIONS" && o.cors) return Effect.succeed(preflight(request))
      switch (path) {
        case "/v1/chat/completions":
          if (method === "POST") return chat(request)
          break
        case "/v1/models":
          if (method === "GET") return models(request)
          break
        case "/_sim/stats":
          if (method === "GET") return getStats
          break
        case "/_sim/script":
          if (method === "GET") return getScript
          if (method === "POST") return postScript(request)
          break
        case "/_sim/reset":
          if (method === "POST") return postReset
          break
      }
      return Effect.succeed(notFound(request, path))
    })

    const withRequest = (handler: Handler) => Effect.flatMap(HttpServerRequest.HttpServerRequest, handler)
    let router = HttpRouter.empty.pipe(
      HttpRouter.post("/v1/chat/completions", withRequest(chat)),
      HttpRouter.get("/v1/models", withRequest(models)),
      HttpRouter.get("/_sim/stats", getStats),
      HttpRouter.get("/_sim/script", getScript),
      HttpRouter.post("/_sim/script", withRequest(postScript)),
      HttpRouter.post("/_sim/reset", postReset)
    )
    if (o.cors) router = HttpRouter.options(router, "*", Effect.map(HttpServerRequest.HttpServerRequest, preflight))

    return {
      app: httpApp,
      router,
      stats,
      resetStats,
      script: enqueue,
      reset: resetAll
    }
  })

const defaultMessages: Readonly<Record<ErrorCode.Code, string>> = {
  invalid_request: "Param Incorrect",
  authentication_failed: "Invalid API Key",
  permission_denied: "Permission denied",
  not_found: "Not found",
  rate_limit_exceeded: "Too many requests",
  internal_error: "Internal server error",
  service_unavailable: "Service temporarily unavailable, please retry later"
}

/** @internal */
export const make = (
  options: Simulator.Options = {}
): Effect.Effect<Simulator.SimulatorService, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const embedded = yield* app(options)
    const host = options.host ?? "127.0.0.1"
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host, port: options.port ?? 0 })
    const serve = HttpServer.serveEffect(embedded.app).pipe(Effect.provideService(HttpServer.HttpServer, server))
    yield* options.tracing === true ? serve : HttpMiddleware.withTracerDisabledWhenEffect(serve, () => true)
    // Runs before the server closes: connections still open (a hang, a slow stream) would keep it open.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const urlHost = host.includes(":") ? `[${host}]` : host
    const origin = `http://${urlHost}:${port}`
    return {
      url: `${origin}/v1`,
      origin,
      port,
      stats: embedded.stats,
      resetStats: embedded.resetStats,
      script: embedded.script,
      reset: embedded.reset
    }
  })

// -----------------------------------------------------------------------------
// Config
// -----------------------------------------------------------------------------

const parseMix = (text: string): Either.Either<Simulator.FaultMix["mix"], string> => {
  const out: Array<{ fault: Fault.Fault; probability: number }> = []
  for (const raw of text.split("|")) {
    const entry = raw.trim()
    if (entry === "") continue
    const at = entry.lastIndexOf("@")
    if (at === -1) return Either.left(`"${entry}": expected <fault>@<probability>`)
    const probability = Number(entry.slice(at + 1))
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) {
      return Either.left(`"${entry}": the probability must be a number in [0, 1]`)
    }
    const fault = Fault.parse(entry.slice(0, at))
    if (Either.isLeft(fault)) return Either.left(fault.left)
    out.push({ fault: fault.right, probability })
  }
  return Either.right(out)
}

const optional = <A>(c: Config.Config<A>) => Config.option(c).pipe(Config.map(Option.getOrUndefined))

/** @internal */
export const config: Config.Config<Simulator.Options> = Config.all({
  port: Config.integer("MIMO_SIM_PORT").pipe(Config.withDefault(0)),
  host: Config.string("MIMO_SIM_HOST").pipe(Config.withDefault("127.0.0.1")),
  seed: Config.integer("MIMO_SIM_SEED").pipe(Config.withDefault(0)),
  apiKey: optional(Config.redacted("MIMO_SIM_API_KEY")),
  errorShape: Config.literal("seed", "xiaomi", "bare")("MIMO_SIM_ERROR_SHAPE").pipe(Config.withDefault("seed" as const)),
  cors: Config.boolean("MIMO_SIM_CORS").pipe(Config.withDefault(false)),
  chunkDelay: optional(Config.duration("MIMO_SIM_CHUNK_DELAY")),
  enabled: Config.boolean("MIMO_SIM_RATE_LIMIT").pipe(Config.withDefault(true)),
  rpm: optional(Config.number("MIMO_SIM_RPM")),
  rps: optional(Config.number("MIMO_SIM_RPS")),
  tpm: optional(Config.number("MIMO_SIM_TPM")),
  burst: optional(Config.number("MIMO_SIM_BURST")),
  timeScale: Config.number("MIMO_SIM_TIME_SCALE").pipe(Config.withDefault(1)),
  retryAfter: Config.literal("seconds", "millis", "none")("MIMO_SIM_RETRY_AFTER").pipe(
    Config.withDefault("seconds" as const)
  ),
  mix: optional(
    Config.string("MIMO_SIM_FAULTS").pipe(
      Config.mapOrFail((text) =>
        Either.mapLeft(parseMix(text), (message) => ConfigError.InvalidData(["MIMO_SIM_FAULTS"], message))
      )
    )
  ),
  faultSeed: optional(Config.integer("MIMO_SIM_FAULT_SEED"))
}).pipe(
  Config.map((c): Simulator.Options => ({
    port: c.port,
    host: c.host,
    seed: c.seed,
    apiKey: c.apiKey,
    errorShape: c.errorShape,
    cors: c.cors,
    chunkDelay: c.chunkDelay,
    rateLimit: {
      enabled: c.enabled,
      requestsPerMinute: c.rpm,
      requestsPerSecond: c.rps,
      tokensPerMinute: c.tpm,
      burst: c.burst,
      timeScale: c.timeScale,
      retryAfter: c.retryAfter
    },
    faults: c.mix === undefined ? undefined : { seed: c.faultSeed ?? c.seed, mix: c.mix }
  }))
)
