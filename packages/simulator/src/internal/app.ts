/**
 * The simulator's request handling: faults, auth, validation, limits,
 * answers; as an `HttpApp` and an `HttpRouter`.
 *
 * @internal
 */
import { type ErrorCode, ErrorResponse, MimoError, Model } from "@effect-mimo/core"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Fault from "../Fault.js"
import * as Simulator from "../Simulator.js"
import * as conversation from "./conversation.js"
import * as generate from "./generate.js"
import * as prng from "./prng.js"
import * as ratelimit from "./ratelimit.js"
import { Counters } from "./stats.js"
import * as validate from "./validate.js"

/** @internal */
export const faultHeader = "x-mimo-sim-fault"

/** @internal */
export const controlTokenHeader = "x-mimo-sim-token"

type ApiError = MimoError.ApiError | MimoError.UnknownApiError
type Response = HttpServerResponse.HttpServerResponse
type Headers = Readonly<Record<string, string>>
type StreamFault = typeof Fault.StreamCut.Type | typeof Fault.StreamError.Type
/** What the answer itself applies: a stream fault, or a directive for the generator. */
type AnswerFault = StreamFault | conversation.Directive

/** A complete answer, already counted in the stats. */
interface Plain {
  readonly _tag: "Plain"
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

/** What a chat request comes to once its body is read. */
type ChatOutcome =
  | Plain
  | { readonly _tag: "Sse"; readonly answer: generate.Answer }
  | { readonly _tag: "Truncated"; readonly text: string }

const MINUTE = 60_000

// -----------------------------------------------------------------------------
// Options
// -----------------------------------------------------------------------------

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
  readonly maxBodyBytes: number
  readonly controlToken: string | undefined
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
    mix: options.faults !== undefined && options.faults.mix.length > 0 ? options.faults : undefined,
    initialScript: options.script ?? [],
    maxBodyBytes: options.maxBodyBytes !== undefined && options.maxBodyBytes > 0
      ? Math.floor(options.maxBodyBytes)
      : Simulator.defaultMaxBodyBytes,
    controlToken: options.controlToken === undefined ? undefined : Redacted.value(options.controlToken)
  }
}

const builtinLimits: Readonly<Record<string, Simulator.ModelLimits>> = {
  "mimo-v2.5-asr": { tokensPerMinute: 10_000 }
}

const limitsFor = (options: Simulator.RateLimitOptions | undefined) => (model: string): ratelimit.Limits => {
  const own = options?.perModel?.[model]
  const builtin = builtinLimits[model]
  // A model's own limits, then its documented ones (for tokens), then the defaults given for every model.
  const pick = <K extends keyof Simulator.ModelLimits>(key: K): Simulator.ModelLimits[K] =>
    own?.[key] ?? (key === "tokensPerMinute" || key === "tokenBurst" ? builtin?.[key] : undefined) ??
      options?.[key] ?? builtin?.[key]
  const rps = pick("requestsPerSecond")
  const rpm = pick("requestsPerMinute") ?? 100
  const tpm = pick("tokensPerMinute") ?? 10_000_000
  return {
    requestCapacity: Math.max(1, pick("burst") ?? (rps !== undefined ? rps : rpm)),
    requestsPerMs: rps !== undefined ? rps / 1000 : rpm / MINUTE,
    tokenCapacity: Math.max(1, pick("tokenBurst") ?? tpm),
    tokensPerMs: tpm / MINUTE
  }
}

const corsHeaders: Headers = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "retry-after, retry-after-ms, x-request-id"
}

const jsonHeaders: Headers = { "content-type": "application/json" }
const sseHeaders: Headers = { "content-type": "text/event-stream", "cache-control": "no-cache" }

const defaultMessages: Readonly<Record<ErrorCode.Code, string>> = {
  invalid_request: "Param Incorrect",
  authentication_failed: "Invalid API Key",
  permission_denied: "Permission denied",
  not_found: "Not found",
  rate_limit_exceeded: "Too many requests",
  internal_error: "Internal server error",
  service_unavailable: "Service temporarily unavailable, please retry later"
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

const ScriptBody = Schema.parseJson(Schema.Array(Schema.Union(Fault.Fault, Fault.FromString)))
const decodeScript = Schema.decodeEither(ScriptBody)
const encodeFault = Schema.encodeSync(Fault.Fault)

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

/**
 * The key of a request: `Authorization: Bearer <key>`, else `api-key`; as
 * sent (not trimmed: `"key "` is not `"key"`).
 */
const keyOf = (headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>): string | undefined => {
  const authorization = headers["authorization"]
  if (typeof authorization === "string" && authorization.length > 7 && /^bearer /i.test(authorization)) {
    return authorization.slice(7)
  }
  const key = headers["api-key"]
  return typeof key === "string" ? key : undefined
}

/**
 * Whether two secrets are equal, in time that does not depend on where they
 * differ: both are hashed to 32 bytes first, so their lengths leak nothing either.
 */
const sameSecret = (given: string, expected: string): boolean =>
  Crypto.timingSafeEqual(
    Crypto.createHash("sha256").update(given, "utf8").digest(),
    Crypto.createHash("sha256").update(expected, "utf8").digest()
  )

/** A `Host` that no DNS name can rebind to: an IP literal or `localhost`, with an optional port. */
const literalHost = /^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i

/** A body larger than `maxBodyBytes`. */
class TooLarge {
  readonly _tag = "TooLarge"
}

/** A body that could not be read (the client went away, a bad chunked encoding). */
class Unreadable {
  readonly _tag = "Unreadable"
  constructor(readonly message: string) {}
}

/**
 * Reads a request body as UTF-8, at most `max` bytes: a declared
 * `Content-Length` above it fails at once, and a chunked body stops being
 * read (paused, not destroyed: the 413 can still be written) once it passes
 * it. The platform's own limit destroys the socket instead, which a client
 * sees as a reset and retries.
 */
const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  max: number
): Effect.Effect<string, TooLarge | Unreadable> => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && Number(declared) > max) return Effect.fail(new TooLarge())
  const source: unknown = request.source
  if (!(source instanceof Http.IncomingMessage)) {
    return request.text.pipe(
      Effect.mapError((e) => new Unreadable(e.message)),
      Effect.filterOrFail((text) => Buffer.byteLength(text) <= max, () => new TooLarge())
    )
  }
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  return Effect.async<string, TooLarge | Unreadable>((resume) => {
    const parts: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        cleanup()
        incoming.pause()
        resume(Effect.fail(new TooLarge()))
      } else parts.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(parts).toString("utf8")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(new Unreadable(error.message)))
    }
    incoming.on("data", onData)
    incoming.once("end", onEnd)
    incoming.once("error", onError)
    return Effect.sync(cleanup)
  })
}

/** The simulator's app, router and controls. */
export type Built = Simulator.Embedded

/** @internal */
export const build = (options: Simulator.Options): Effect.Effect<Built> =>
  Effect.map(Effect.clock, (clock) => {
    const o = resolve(options)
    const counters = new Counters()
    const now = () => clock.unsafeCurrentTimeMillis()
    const limiter = new ratelimit.Limiter(limitsFor(o.limits), Math.max(1e-9, o.limits?.timeScale ?? 1), now)
    let script: Array<Fault.Fault> = [...o.initialScript]
    let faultRng = prng.make(o.mix?.seed ?? 0)
    let served = 0

    // ---------------------------------------------------------------------------
    // Answers (every one counted by status; CORS added when asked)
    // ---------------------------------------------------------------------------

    const withCors = (headers: Headers): Headers => o.cors ? { ...headers, ...corsHeaders } : headers

    const plain = (status: number, body: string, headers: Headers): Plain => {
      counters.status(status)
      return { _tag: "Plain", status, headers: withCors(headers), body }
    }

    const toResponse = (p: Plain): Response => HttpServerResponse.raw(p.body, { status: p.status, headers: p.headers })

    const renderError = (error: ApiError, shape: Fault.Shape = o.shape, extra?: Headers): Plain => {
      const r = ErrorResponse.encode(error, { shape })
      return plain(r.status, r.body, extra === undefined ? r.headers : { ...r.headers, ...extra })
    }

    const faultError = (fault: typeof Fault.Error.Type): Plain => {
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

    const faultStatus = (fault: typeof Fault.Status.Type): Plain => {
      const headers: Record<string, string> = { ...fault.headers }
      if (fault.contentType !== undefined) headers["content-type"] = fault.contentType
      else if (fault.body !== "" && headers["content-type"] === undefined) headers["content-type"] = "text/plain"
      return plain(fault.status, fault.body, headers)
    }

    const badFaultHeader = (message: string): Plain =>
      renderError(new MimoError.InvalidRequest({ message: `${faultHeader}: ${message}`, param: faultHeader }))

    const drawFault = (): Fault.Fault | undefined => {
      if (o.mix === undefined) return undefined
      const u = faultRng()
      let acc = 0
      for (const entry of o.mix.mix) {
        acc += entry.probability
        if (u < acc) return entry.fault
      }
      return undefined
    }

    // ---------------------------------------------------------------------------
    // Decisions shared by both paths
    // ---------------------------------------------------------------------------

    const authError = (
      headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
    ): Plain | undefined => {
      const key = keyOf(headers)
      if (key === undefined || key === "") {
        return renderError(
          new MimoError.AuthenticationFailed({
            message: "Missing API key: send `Authorization: Bearer <key>` or `api-key: <key>`"
          })
        )
      }
      if (o.apiKey !== undefined && !sameSecret(key, o.apiKey)) {
        return renderError(new MimoError.AuthenticationFailed({ message: "Invalid API Key" }))
      }
      return undefined
    }

    const modelKnown = (id: string) => Model.isKnown(id) || o.extraModels.has(id)

    const nextIds = () => {
      const rng = prng.make(prng.hashNumber(o.seed, ++served))
      return { id: prng.hex(rng, 32), toolCallId: `call_${prng.hex(rng, 24)}` }
    }

    /** Everything about a chat request once its body is read (the caller checked auth). */
    const decideChat = (
      text: string,
      streamFault: StreamFault | undefined,
      directive: conversation.Directive | undefined
    ): ChatOutcome => {
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch (e) {
        return renderError(
          new MimoError.InvalidRequest({ message: `The body is not valid JSON: ${String(e)}`, param: "body" })
        )
      }
      if (
        typeof body === "object" && body !== null && "model" in body && typeof body.model === "string" &&
        !o.allowUnknownModels && !modelKnown(body.model)
      ) {
        return renderError(
          new MimoError.NotFound({ message: `The model \`${body.model}\` does not exist`, param: "model" })
        )
      }
      // MiMo's own answer to the replay rule comes first: the shared validation refuses the same
      // request too, but with the client's wording, and the simulator speaks as the server does.
      const thinkingDefault = generate.isObject(body) && typeof body.model === "string" &&
        Option.getOrUndefined(Model.info(body.model))?.thinkingDefault === "enabled"
      if (generate.isObject(body) && conversation.replayViolation(body, thinkingDefault) !== undefined) {
        return renderError(
          new MimoError.InvalidRequest({ message: "Param Incorrect", param: conversation.replayMessage })
        )
      }
      const verdict = validate.chatRequest(body)
      if (Either.isLeft(verdict)) {
        return renderError(new MimoError.InvalidRequest({ message: verdict.left.message, param: verdict.left.field }))
      }
      const valid = verdict.right
      const model = typeof valid.model === "string" ? valid.model : ""
      const info = Option.getOrUndefined(Model.info(model))
      const ids = nextIds()
      const answer = generate.answer(valid, {
        seed: o.seed,
        kind: info?.kind ?? "text",
        thinkingDefault: info?.thinkingDefault === "enabled",
        defaultMaxTokens: info?.defaultMaxCompletionTokens ?? 8192,
        id: ids.id,
        toolCallId: ids.toolCallId,
        created: Math.floor(now() / 1000),
        directive
      })
      if (o.limitsEnabled) {
        const decision = limiter.take(model, answer.promptTokens + answer.completionTokens)
        if (decision._tag === "Limited") {
          counters.rateLimited++
          return rateLimited(model, decision)
        }
      }
      counters.promptTokens += answer.promptTokens
      counters.completionTokens += answer.completionTokens
      if (answer.stream) return { _tag: "Sse", answer }
      if (streamFault?._tag === "StreamError") return renderError(errorOf(streamFault.code))
      const json = generate.toJson(answer)
      if (streamFault?._tag === "StreamCut") {
        counters.status(200)
        return { _tag: "Truncated", text: json }
      }
      return plain(200, json, jsonHeaders)
    }

    const rateLimited = (model: string, decision: Extract<ratelimit.Decision, { _tag: "Limited" }>): Plain => {
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
      return plain(r.status, r.body, headers)
    }

    /** The SSE events of an answer: its chunks, then `[DONE]`, or what a stream fault makes of them. */
    const sseEvents = (answer: generate.Answer, fault: StreamFault | undefined): Array<string> => {
      const payloads = generate.toChunks(answer)
      const n = fault === undefined ? payloads.length : Math.min(fault.afterChunks, payloads.length)
      const events: Array<string> = []
      for (let i = 0; i < n; i++) events.push(`data: ${payloads[i]}\n\n`)
      if (fault === undefined) events.push("data: [DONE]\n\n")
      else if (fault._tag === "StreamError") {
        events.push(`data: ${ErrorResponse.encode(errorOf(fault.code), { shape: o.shape }).body}\n\n`)
      }
      return events
    }

    const modelIds = [...Model.knownIds, ...[...o.extraModels].filter((id) => !Model.isKnown(id))]
    const modelList = JSON.stringify({
      object: "list",
      data: modelIds.map((id) => ({ id, object: "model", owned_by: "xiaomi" }))
    })

    // ---------------------------------------------------------------------------
    // The Effect path
    // ---------------------------------------------------------------------------

    const resetConnection = (request: HttpServerRequest.HttpServerRequest, state: RequestState): Effect.Effect<never> =>
      Effect.suspend(() => {
        const socket = nodeSocket(request)
        if (socket === undefined) return Effect.interrupt
        state.serverClosed = true
        socket.resetAndDestroy()
        // The platform interrupts this fiber when the response closes.
        return Effect.never
      })

    /**
     * Waits until what was written reached the kernel, then closes the
     * connection (a FIN: the data already sent stays readable).
     */
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

    const truncated = (request: HttpServerRequest.HttpServerRequest, state: RequestState, text: string): Response => {
      const bytes = encoder.encode(text)
      return HttpServerResponse.stream(
        Stream.concat(
          Stream.make(bytes.subarray(0, Math.floor(bytes.length / 2))),
          Stream.fromEffect(cut(request, state))
        ),
        { status: 200, headers: withCors({ ...jsonHeaders, "content-length": String(bytes.length) }) }
      )
    }

    const sse = (
      request: HttpServerRequest.HttpServerRequest,
      state: RequestState,
      answer: generate.Answer,
      fault: StreamFault | undefined
    ): Response => {
      const events = sseEvents(answer, fault)
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
        { status: 200, headers: withCors(sseHeaders) }
      )
    }

    /** 413 in the envelope; `Connection: close`, since the rest of the body is not read. */
    const tooLarge = (): Response =>
      toResponse(
        renderError(
          new MimoError.UnknownApiError({
            status: 413,
            code: "request_too_large",
            message: `The request body is larger than ${o.maxBodyBytes} bytes`,
            type: "error",
            body: ""
          }),
          o.shape,
          { connection: "close" }
        )
      )

    const bodyFailure = (e: TooLarge | Unreadable): Response =>
      e._tag === "TooLarge"
        ? tooLarge()
        : toResponse(renderError(new MimoError.InvalidRequest({ message: `Could not read the body: ${e.message}` })))

    const answerChat = (
      request: HttpServerRequest.HttpServerRequest,
      state: RequestState,
      fault: AnswerFault | undefined
    ): Effect.Effect<Response> => {
      const directive = conversation.isDirective(fault) ? fault : undefined
      const streamFault = conversation.isDirective(fault) ? undefined : fault
      const denied = authError(request.headers)
      if (denied !== undefined) return Effect.succeed(toResponse(denied))
      return Effect.match(readBody(request, o.maxBodyBytes), {
        onFailure: bodyFailure,
        onSuccess: (text) => {
          const outcome = decideChat(text, streamFault, directive)
          switch (outcome._tag) {
            case "Plain":
              return toResponse(outcome)
            case "Sse":
              return sse(request, state, outcome.answer, streamFault)
            case "Truncated":
              return truncated(request, state, outcome.text)
          }
        }
      })
    }

    type Handler = (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Response>

    /** The fault of a request: its header, else the script, else the probabilities. */
    const faultOf = (request: HttpServerRequest.HttpServerRequest): Either.Either<Fault.Fault | undefined, Plain> => {
      const header = request.headers[faultHeader]
      if (header !== undefined) return Either.mapLeft(Fault.parse(header), badFaultHeader)
      return Either.right(script.length > 0 ? script.shift() : drawFault())
    }

    /**
     * Applies a request's fault (none: `answer` as is), counting it, and keeps
     * the in-flight and client-closed counters. `answer` gets the stream fault,
     * if any, for the answer itself to apply (a cut or an error event).
     */
    const withFault = (
      request: HttpServerRequest.HttpServerRequest,
      fault: Fault.Fault | undefined,
      answer: (fault: AnswerFault | undefined, state: RequestState) => Effect.Effect<Response>
    ): Effect.Effect<Response> => {
      const state: RequestState = { serverClosed: false }
      let handled: Effect.Effect<Response>
      if (fault === undefined) {
        handled = answer(undefined, state)
      } else {
        counters.fault(fault._tag)
        switch (fault._tag) {
          case "Error":
            return Effect.succeed(toResponse(faultError(fault)))
          case "Status":
            return Effect.succeed(toResponse(faultStatus(fault)))
          case "Reset":
            handled = resetConnection(request, state)
            break
          case "Hang":
            handled = Effect.never
            break
          case "Latency":
            handled = Effect.zipRight(Effect.sleep(Duration.millis(fault.millis)), answer(undefined, state))
            break
          case "StreamCut":
          case "StreamError":
          case "ToolCalls":
          case "MalformedToolArguments":
          case "NonConformingJson":
            handled = answer(fault, state)
            break
          case "Ok":
            handled = answer(undefined, state)
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

    const chat: Handler = (request) => {
      counters.request("/v1/chat/completions")
      const chosen = faultOf(request)
      if (Either.isLeft(chosen)) return Effect.succeed(toResponse(chosen.left))
      return withFault(request, chosen.right, (fault, state) => answerChat(request, state, fault))
    }

    const models: Handler = (request) => {
      counters.request("/v1/models")
      const answer = () =>
        Effect.sync(() => toResponse(authError(request.headers) ?? plain(200, modelList, jsonHeaders)))
      const header = request.headers[faultHeader]
      if (header === undefined) return answer()
      const parsed = Fault.parse(header)
      if (Either.isLeft(parsed)) return Effect.succeed(toResponse(badFaultHeader(parsed.left)))
      // Stream faults have nothing to cut in a JSON list: it is answered whole.
      return withFault(request, parsed.right, answer)
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

    // The control endpoints carry no CORS headers: no page on another origin may read them.
    const adminJson = (status: number, body: unknown, headers: Headers = jsonHeaders): Response =>
      HttpServerResponse.raw(JSON.stringify(body), { status, headers })

    const adminError = (message: string, status = 400, code = "invalid_request") =>
      adminJson(status, { error: { code, message, type: "error" } }, status === 413 ? closeHeaders : jsonHeaders)

    const closeHeaders: Headers = { ...jsonHeaders, connection: "close" }

    /**
     * Why a control request is refused, if it is: a browser page on another
     * origin (`Origin` not this `Host`, or `Sec-Fetch-Site` other than
     * same-origin / none), a `Host` that is a DNS name (a rebound name would
     * be same-origin), or a missing or wrong `x-mimo-sim-token` when a
     * `controlToken` is set. Tools (curl, tests, the bench) send none of the
     * browser headers and pass.
     */
    const controlDenied = (request: HttpServerRequest.HttpServerRequest): Response | undefined => {
      const deny = (message: string) => adminJson(403, { error: { code: "permission_denied", message, type: "error" } })
      const host = request.headers["host"] ?? ""
      const origin = request.headers["origin"]
      const site = request.headers["sec-fetch-site"]
      if (host !== "" && !literalHost.test(host)) {
        return deny(`/_sim/* answers only an IP or localhost Host, not ${JSON.stringify(host)}`)
      }
      if (origin !== undefined && origin !== `http://${host}`) {
        return deny(`/_sim/* refuses requests from other origins (${JSON.stringify(origin)})`)
      }
      if (site !== undefined && site !== "same-origin" && site !== "none") {
        return deny(`/_sim/* refuses ${site} browser requests`)
      }
      if (o.controlToken !== undefined) {
        const token = request.headers[controlTokenHeader]
        if (token === undefined || !sameSecret(token, o.controlToken)) {
          return deny(`/_sim/* needs the control token in ${controlTokenHeader}`)
        }
      }
      return undefined
    }

    const guarded = (handler: Handler): Handler => (request) => {
      const denied = controlDenied(request)
      return denied === undefined ? handler(request) : Effect.succeed(denied)
    }

    const postScript: Handler = (request) =>
      Effect.match(readBody(request, o.maxBodyBytes), {
        onFailure: (e) =>
          e._tag === "TooLarge"
            ? adminError(`The request body is larger than ${o.maxBodyBytes} bytes`, 413, "request_too_large")
            : adminError(e.message),
        onSuccess: (text) => {
          const decoded = decodeScript(text)
          if (Either.isLeft(decoded)) return adminError(decoded.left.message)
          script.push(...decoded.right)
          return adminJson(200, { queued: decoded.right.length, pending: script.length })
        }
      })

    const getScript = Effect.sync(() => adminJson(200, { pending: script.map((f) => encodeFault(f)) }))
    const getStats = Effect.map(stats, (s) => adminJson(200, s))
    const postReset = Effect.as(resetAll, adminJson(200, { reset: true }))

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

    const notFound = (request: HttpServerRequest.HttpServerRequest, path: string): Response => {
      counters.request(path)
      return toResponse(renderError(new MimoError.NotFound({ message: `No route for ${request.method} ${path}` })))
    }

    // A direct dispatch on method and path: it answers exactly as `router`
    // does, without the router's per-request work (route lookup, context copy,
    // search params). The platform runs apps uninterruptibly; like the
    // router's routes, the API handlers are made interruptible so that a
    // client going away ends them.
    const app: HttpApp.Default = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const url = request.url
      const q = url.indexOf("?")
      const path = q === -1 ? url : url.slice(0, q)
      const method = request.method
      if (path.startsWith("/_sim/")) {
        const denied = controlDenied(request)
        if (denied !== undefined) return Effect.succeed(denied)
      } else if (method === "OPTIONS" && o.cors) return Effect.succeed(preflight(request))
      switch (path) {
        case "/v1/chat/completions":
          if (method === "POST") return Effect.interruptible(chat(request))
          break
        case "/v1/models":
          if (method === "GET") return Effect.interruptible(models(request))
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
      HttpRouter.get("/_sim/stats", withRequest(guarded(() => getStats))),
      HttpRouter.get("/_sim/script", withRequest(guarded(() => getScript))),
      HttpRouter.post("/_sim/script", withRequest(guarded(postScript))),
      HttpRouter.post("/_sim/reset", withRequest(guarded(() => postReset)))
    )
    if (o.cors) {
      router = HttpRouter.options(
        router,
        "*",
        Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
          request.url.startsWith("/_sim/")
            ? controlDenied(request) ?? HttpServerResponse.empty({ status: 204 })
            : preflight(request))
      )
    }

    return {
      app,
      router,
      stats,
      resetStats,
      script: enqueue,
      reset: resetAll
    }
  })
