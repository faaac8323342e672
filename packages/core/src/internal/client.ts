import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Tracer from "effect/Tracer"
import * as ChatCompletion from "../ChatCompletion.js"
import * as ErrorResponse from "../ErrorResponse.js"
import type * as Client from "../MimoClient.js"
import * as MimoError from "../MimoError.js"
import * as MimoTransport from "../MimoTransport.js"
import * as Model from "../Model.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as RetryQuota from "../RetryQuota.js" // retry-quota (issue 13)
import * as Validation from "../Validation.js"
import { toHttpClientRequest } from "./mimoTransport.js"
import { decodeEvents, excerpt } from "./sse.js"
import * as Transport from "./transport.js"

/** @internal */
export const defaultBaseUrl = "https://api.xiaomimimo.com/v1"

/** @internal */
export const defaultTimeout: Duration.Duration = Duration.minutes(10)

/** @internal */
export const retryCountHeader = "x-mimo-retry-count"

const formatError = (e: ParseResult.ParseError): string => ParseResult.TreeFormatter.formatErrorSync(e)

const decodeResponse = (u: unknown) => Either.mapLeft(ChatCompletion.decodeResponseFast(u), formatError)
const decodeChunk = (u: unknown) => Either.mapLeft(ChatCompletion.decodeChunkFast(u), formatError)
const decodeModelsEither = ParseResult.decodeUnknownEither(Model.ModelList, { onExcessProperty: "preserve" })
const decodeModels = (u: unknown) =>
  Either.mapLeft(decodeModelsEither(u), (issue) => ParseResult.TreeFormatter.formatIssueSync(issue))

const chunkDecoders = {
  decode: decodeChunk,
  chunkError: (u: unknown) => ErrorResponse.decodeChunkError(u)
}

const requestIdHeaders = ["x-request-id", "request-id", "x-mimo-request-id"] as const

const requestIdFrom = (headers: Headers.Headers): string | undefined => {
  for (const name of requestIdHeaders) {
    const value = headers[name]
    if (value !== undefined && value !== "") return value
  }
  return undefined
}

/**
 * Effect's own tracer, the default service: its spans are recorded nowhere
 * (no exporter), so with it in context the client creates none. A span costs
 * ≈ 15–30 µs per call (the span, a bigint clock read, a context copy), a
 * tenth of the hot path (apps/bench). With any other tracer (OpenTelemetry,
 * a test's) every call and every attempt is a span, as documented.
 */
const nativeTracer: Tracer.Tracer = Effect.runSync(Effect.tracer)

/** The options of every span of the client. */
const spanOptions = (attributes: Record<string, unknown> | undefined): Tracer.SpanOptions => ({
  kind: "client",
  captureStackTrace: false,
  ...(attributes !== undefined ? { attributes } : {})
})

/** `Effect.withSpan` with {@link spanOptions}, skipped under the native tracer. */
const withSpan = (name: string, attributes: Record<string, unknown> | undefined) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) =>
    tracer === nativeTracer ? effect : Effect.withSpan(effect, name, spanOptions(attributes))
  )

const lowerCased = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) out[name.toLowerCase()] = headers[name]!
  return out
}

const trimSlash = (url: string) => url.endsWith("/") ? url.slice(0, -1) : url

interface CallContext {
  readonly operation: Client.AttemptInfo["operation"]
  readonly model: string | undefined
  attempts: number
  readonly onRetry: ReadonlyArray<(event: Client.RetryEvent) => Effect.Effect<void>>
  /** Attempt wrappers, outermost first (the client's, then the call's). */
  readonly around: ReadonlyArray<Client.AroundAttempt>
}

/** Wraps one attempt in the context's `aroundAttempt` hooks, the first one outermost. */
const aroundAttempt = <A>(
  ctx: CallContext,
  attempt: Effect.Effect<A, MimoError.MimoError>
): Effect.Effect<A, MimoError.MimoError> => {
  if (ctx.around.length === 0) return attempt
  const info: Client.AttemptInfo = { operation: ctx.operation, model: ctx.model, attempt: ctx.attempts }
  let wrapped = attempt
  for (let i = ctx.around.length - 1; i >= 0; i--) wrapped = ctx.around[i]!(wrapped, info)
  return wrapped
}

const annotationsOf = (ctx: CallContext, error: MimoError.MimoError) => ({
  "mimo.operation": ctx.operation,
  "mimo.model": ctx.model ?? "",
  "mimo.error.tag": error._tag,
  "mimo.error.code": MimoError.codeOf(error) ?? "",
  "mimo.error.status": MimoError.statusOf(error) ?? 0,
  "mimo.error.message": error.message,
  "mimo.request_id": MimoError.requestIdOf(error) ?? "",
  "mimo.attempt": ctx.attempts
})

/**
 * Wraps a retry policy so that every failed attempt that will be retried is
 * observed once: a structured warning log line, the span annotations and the
 * caller's `onRetry` hooks, with the delay the policy chose. The policy's
 * decisions are unchanged (`Schedule.delays` and `Schedule.identity` only
 * observe, and `intersect` with `identity` keeps the policy's delays).
 */
const observed = (
  policy: Schedule.Schedule<unknown, MimoError.MimoError>,
  ctx: CallContext
): Schedule.Schedule<unknown, MimoError.MimoError> =>
  Schedule.intersect(Schedule.delays(policy), Schedule.identity<MimoError.MimoError>()).pipe(
    Schedule.onDecision(([delay, error], decision) =>
      decision._tag === "Done" ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const event: Client.RetryEvent = { attempt: ctx.attempts, error, delay }
        const log = Effect.logWarning("MiMo attempt failed; retrying").pipe(
          Effect.annotateLogs({
            ...annotationsOf(ctx, error),
            "mimo.retry.delay_ms": Duration.toMillis(delay),
            "mimo.timestamp": new Date(now).toISOString()
          })
        )
        return ctx.onRetry.length === 0
          ? log
          : Effect.zipRight(log, Effect.forEach(ctx.onRetry, (f) => f(event), { discard: true }))
      })
    )
  )

/** @internal */
export const make = (
  options: Client.Options
): Effect.Effect<Client.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const baseUrl = trimSlash(options.baseUrl ?? defaultBaseUrl)
    const profile = options.validation ?? Validation.profileFor(baseUrl)
    const apiKey = options.apiKey ?? Redacted.make("")
    const keyCheck = options.authHeader === "none"
      ? Either.right(apiKey)
      : yield* Effect.either(Validation.validateApiKey(apiKey))
    const authHeaders: Record<string, string> = options.authHeader === "none"
      ? {}
      : options.authHeader === "api-key"
      ? { "api-key": Redacted.value(apiKey) }
      : { authorization: `Bearer ${Redacted.value(apiKey)}` }
    // Plain records with lower-case names: the transport's request headers.
    const baseHeaders: Record<string, string> = lowerCased({
      accept: "application/json",
      ...options.headers,
      ...authHeaders
    })
    const defaultPolicy = options.retry ?? RetryPolicy.defaultPolicy
    // retry-quota (issue 13): one quota per client, shared by its calls; `retryQuota: false` turns it off.
    const quota = options.retryQuota === false ? undefined : options.retryQuota ?? RetryQuota.unsafeMake()
    const defaultTimeoutDuration = Duration.decode(options.timeout ?? defaultTimeout)
    // Our own spans (one per call, one per attempt) replace the HTTP client's:
    // they carry the MiMo attributes, never a header, and cost less on the hot path.
    const http = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerDisabledWhen(() => true))
    // Buffered calls go through the transport in context (an adapter's fast path), else over `http`.
    const transport = Option.getOrElse(
      yield* Effect.serviceOption(MimoTransport.MimoTransport),
      () => MimoTransport.fromHttpClient(http)
    )

    const chatUrl = `${baseUrl}/chat/completions`
    const chatHeaders: Record<string, string> = { ...baseHeaders, "content-type": "application/json" }
    const modelsUrl = `${baseUrl}/models`

    const attemptHeaders = (
      headers: Record<string, string>,
      ctx: CallContext,
      extra: Readonly<Record<string, string>> | undefined
    ): Record<string, string> => {
      if (ctx.attempts <= 1 && extra === undefined) return headers
      const out = { ...headers }
      if (ctx.attempts > 1) out[retryCountHeader] = String(ctx.attempts - 1)
      return extra === undefined ? out : Object.assign(out, lowerCased(extra))
    }

    const failResponse = (
      response: HttpClientResponse.HttpClientResponse
    ): Effect.Effect<never, MimoError.MimoError> => {
      const requestId = requestIdFrom(response.headers)
      return ErrorResponse.fromResponse(response, requestId !== undefined ? { requestId } : undefined)
    }

    const execute = (
      request: HttpClientRequest.HttpClientRequest
    ): Effect.Effect<HttpClientResponse.HttpClientResponse, MimoError.TransportError> =>
      Effect.mapError(http.execute(request), (e: HttpClientError.HttpClientError) => Transport.fromHttpClientError(e))

    /** A 2xx body: JSON, then the Schema; anything else is a `ResponseDecodeError` with an excerpt. */
    const readJson = <A>(
      response: MimoTransport.Response,
      decode: (u: unknown) => Either.Either<A, string>
    ): Effect.Effect<A, MimoError.MimoError> => {
      const fail = (message: string) => {
        const requestId = requestIdFrom(response.headers)
        return Effect.fail(
          new MimoError.ResponseDecodeError({
            status: response.status,
            message,
            body: excerpt(response.body),
            ...(requestId !== undefined ? { requestId } : {})
          })
        )
      }
      let json: unknown
      try {
        json = JSON.parse(response.body)
      } catch (e) {
        return fail(`response body is not JSON: ${e instanceof Error ? e.message : String(e)}`)
      }
      const decoded = decode(json)
      return Either.isRight(decoded) ? Effect.succeed(decoded.right) : fail(decoded.left)
    }

    /** A non-2xx answer: its typed error (the `Retry-After` of a 429 is measured from now). */
    const failWith = (response: MimoTransport.Response): Effect.Effect<never, MimoError.MimoError> =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMillis) =>
        Effect.fail(
          ErrorResponse.decode({ status: response.status, headers: response.headers, body: response.body, nowMillis })
        ))

    const clientOnRetry = options.onRetry !== undefined ? [options.onRetry] : []
    const clientAround = options.aroundAttempt !== undefined ? [options.aroundAttempt] : []

    const resolveCall = (
      operation: Client.AttemptInfo["operation"],
      model: string | undefined,
      call: Client.CallOptions | undefined
    ) => {
      const ctx: CallContext = {
        operation,
        model,
        attempts: 0,
        onRetry: call?.onRetry !== undefined ? [...clientOnRetry, call.onRetry] : clientOnRetry,
        around: call?.aroundAttempt !== undefined ? [...clientAround, call.aroundAttempt] : clientAround
      }
      const timeout = call?.timeout !== undefined ? Duration.decode(call.timeout) : defaultTimeoutDuration
      return { ctx, timeout }
    }

    const timeoutError = (timeout: Duration.Duration) => () => MimoTransport.timeoutError(timeout)

    const onFinalFailure = (ctx: CallContext) => (error: MimoError.MimoError) =>
      Effect.logError("MiMo call failed").pipe(
        Effect.annotateLogs(annotationsOf(ctx, error)),
        Effect.zipRight(Effect.annotateCurrentSpan(annotationsOf(ctx, error)))
      )

    /** Runs one operation: validation, then attempts under the retry policy, with spans and logs. */
    const run = <A>(
      ctx: CallContext,
      call: Client.CallOptions | undefined,
      attempt: Effect.Effect<A, MimoError.MimoError>
    ): Effect.Effect<A, MimoError.MimoError> => {
      const once = Effect.suspend(() => {
        ctx.attempts++
        return Effect.tracerWith((tracer) =>
          tracer === nativeTracer
            ? aroundAttempt(ctx, attempt)
            : Effect.tapError(
              aroundAttempt(ctx, attempt),
              (error) => Effect.annotateCurrentSpan(annotationsOf(ctx, error))
            ).pipe(Effect.withSpan("MimoClient.attempt", spanOptions({ "mimo.attempt": ctx.attempts })))
        )
      })
      // What `Effect.retry(once, policy)` does, but the schedule's driver is only
      // built after a first failure: most calls succeed at once, and the hot path
      // then pays nothing for retries (apps/bench).
      const policy = call?.retry ?? defaultPolicy
      const deadline = call?.deadline ?? options.deadline
      const retrying = (startedAt: number) => (first: MimoError.MimoError) => {
        const bounded = deadline === undefined
          ? policy
          : RetryPolicy.deadline(policy, startedAt + Duration.toMillis(Duration.decode(deadline)))
        const paid = quota === undefined ? bounded : RetryQuota.schedule(bounded, quota) // retry-quota (issue 13)
        return Effect.flatMap(Schedule.driver(observed(paid, ctx)), (driver) => {
          const loop = (error: MimoError.MimoError): Effect.Effect<A, MimoError.MimoError> =>
            Effect.matchEffect(driver.next(error), {
              onFailure: () => Effect.fail(error),
              // retry-quota (issue 13): a success after a retry gives that retry's cost back.
              onSuccess: () => Effect.matchEffect(once, { onFailure: loop, onSuccess: (a) => succeeded(a, error) })
            })
          return loop(first)
        })
      }
      // retry-quota (issue 13): a success at once refills the quota a little.
      const succeeded = (a: A, retriedAfter?: MimoError.MimoError) => {
        quota?.unsafeRecordSuccess(retriedAfter)
        return Effect.succeed(a)
      }
      return deadline === undefined
        ? Effect.matchEffect(once, { onFailure: retrying(0), onSuccess: succeeded })
        : Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => Effect.matchEffect(once, { onFailure: retrying(now), onSuccess: succeeded })
        )
    }

    /** One attempt of a JSON call: send, then the decoded 2xx body or the typed error, within the timeout. */
    const jsonAttempt = <A>(
      method: "GET" | "POST",
      url: string,
      headers: Record<string, string>,
      body: string | undefined,
      decode: (u: unknown) => Either.Either<A, string>,
      ctx: CallContext,
      call: Client.CallOptions | undefined,
      timeout: Duration.Duration
    ): Effect.Effect<A, MimoError.MimoError> =>
      Effect.flatMap(
        Effect.suspend(() =>
          transport.send({ method, url, headers: attemptHeaders(headers, ctx, call?.headers), body, timeout })
        ),
        (response) => response.status >= 200 && response.status < 300 ? readJson(response, decode) : failWith(response)
      )

    const chat = (
      request: ChatCompletion.Request,
      call?: Client.CallOptions
    ): Effect.Effect<ChatCompletion.Response, MimoError.MimoError> => {
      const { ctx, timeout } = resolveCall("chat", request.model, call)
      // A flatMap chain rather than `Effect.gen`: this is the hot path (apps/bench).
      const send = Effect.flatMap(Validation.validateChatRequest(request, profile), (valid) => {
        const body = JSON.stringify(ChatCompletion.toBody({ ...valid, stream: false }))
        return run(ctx, call, jsonAttempt("POST", chatUrl, chatHeaders, body, decodeResponse, ctx, call, timeout))
      })
      const checked: Effect.Effect<ChatCompletion.Response, MimoError.MimoError> = Either.isLeft(keyCheck)
        ? Effect.fail(keyCheck.left)
        : send
      return checked.pipe(
        Effect.tapError(onFinalFailure(ctx)),
        withSpan("MimoClient.chat", { "mimo.model": request.model })
      )
    }

    const stream = (
      request: ChatCompletion.Request,
      call?: Client.CallOptions
    ): Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError> => {
      const { ctx, timeout } = resolveCall("stream", request.model, call)
      // One attempt: send, check the status, and pull until the first chunk.
      // The attempt's scope owns the connection; on failure it is closed (the
      // request aborted) before the policy decides on another attempt.
      const open = (body: string) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const opened = yield* Effect.gen(function*() {
            const headers = attemptHeaders(chatHeaders, ctx, call?.headers)
            const response = yield* execute(toHttpClientRequest({ method: "POST", url: chatUrl, headers, body }))
            if (response.status < 200 || response.status >= 300) return yield* failResponse(response)
            const requestId = requestIdFrom(response.headers)
            const chunks = decodeEvents(
              response.stream,
              chunkDecoders,
              Transport.streamCut,
              { requestId }
            )
            const pull = yield* Stream.toPull(chunks)
            // Pull until the first non-empty batch, or the end of the stream.
            let first: Chunk.Chunk<ChatCompletion.Chunk> = Chunk.empty()
            let ended = false
            while (Chunk.isEmpty(first) && !ended) {
              const next = yield* Effect.either(pull)
              if (Either.isRight(next)) first = next.right
              else if (Option.isNone(next.left)) ended = true
              else return yield* Effect.fail(next.left.value)
            }
            return { first, pull, ended }
          }).pipe(
            Scope.extend(scope),
            Effect.timeoutFail({ duration: timeout, onTimeout: timeoutError(timeout) }),
            Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit))
          )
          return { ...opened, scope }
        })

      return Stream.unwrapScoped(
        Effect.gen(function*() {
          if (Either.isLeft(keyCheck)) return yield* keyCheck.left
          const valid = yield* Validation.validateChatRequest(request, profile)
          const body = JSON.stringify(ChatCompletion.toBody({ ...valid, stream: true }))
          const opened = yield* run(ctx, call, Effect.suspend(() => open(body)))
          yield* Effect.addFinalizer((exit) => Scope.close(opened.scope, exit))
          const rest: Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError> = opened.ended
            ? Stream.empty
            : Stream.repeatEffectChunkOption(opened.pull)
          return Stream.concat(Stream.fromChunk(opened.first), rest)
        })
      ).pipe(
        Stream.tapErrorCause((cause) => Cause.isFailType(cause) ? onFinalFailure(ctx)(cause.error) : Effect.void),
        (chunks) =>
          Stream.unwrap(Effect.tracerWith((tracer) =>
            Effect.succeed(
              tracer === nativeTracer
                ? chunks
                : Stream.withSpan(chunks, "MimoClient.stream", spanOptions({ "mimo.model": request.model }))
            )
          ))
      )
    }

    const speech = (
      input: ChatCompletion.SpeechInput,
      call?: Client.CallOptions
    ): Effect.Effect<Client.Speech, MimoError.MimoError> =>
      Effect.suspend(() => {
        const request = ChatCompletion.speechRequest(input)
        return Effect.flatMap(chat(request, call), (response) => {
          const data = response.choices[0]?.message?.audio?.data
          if (typeof data !== "string" || data === "") {
            return Effect.fail(
              new MimoError.ResponseDecodeError({
                status: 200,
                message: "the response holds no audio (choices[0].message.audio.data)",
                body: "",
                ...(typeof response.id === "string" ? { requestId: response.id } : {})
              })
            )
          }
          return Either.match(Encoding.decodeBase64(data), {
            onLeft: (e) =>
              Effect.fail(
                new MimoError.ResponseDecodeError({
                  status: 200,
                  message: `audio data is not base64: ${e.message}`,
                  body: excerpt(data, 64)
                })
              ),
            onRight: (audio) =>
              Effect.succeed<Client.Speech>({
                audio,
                format: request.audio?.format ?? "wav",
                response
              })
          })
        })
      }).pipe(withSpan("MimoClient.speech", undefined))

    const models = (call?: Client.CallOptions): Effect.Effect<Model.ModelList, MimoError.MimoError> => {
      const { ctx, timeout } = resolveCall("models", undefined, call)
      return Effect.gen(function*() {
        if (Either.isLeft(keyCheck)) return yield* keyCheck.left
        return yield* run(
          ctx,
          call,
          jsonAttempt("GET", modelsUrl, baseHeaders, undefined, decodeModels, ctx, call, timeout)
        )
      }).pipe(
        Effect.tapError(onFinalFailure(ctx)),
        withSpan("MimoClient.models", undefined)
      )
    }

    return { baseUrl, profile, chat, stream, speech, models } satisfies Client.Service
  })
