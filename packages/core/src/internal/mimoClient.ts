import type * as Headers from "@effect/platform/Headers"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as LogLevel from "effect/LogLevel"
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
import type * as Redaction from "../Redaction.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as RetryQuota from "../RetryQuota.js" // retry-quota (issue 13)
import * as ServerError from "../ServerError.js"
import type * as Speech from "../Speech.js"
import * as Validation from "../Validation.js"
import { isTextChunk } from "./chunkGuard.js"
import * as Json from "./json.js"
import { defaultMaxBodySize, timeoutError } from "./mimoTransport.js"

/** @internal */
export { defaultMaxBodySize }
import * as Redacting from "./redaction.js"
import { requestBody } from "./requestBody.js"
import * as SpeechInternal from "./speech.js"
import { excerpt, makeChunkReader } from "./sse.js"

/** @internal */
export const defaultBaseUrl = "https://api.xiaomimimo.com/v1"

/** @internal */
export const defaultTimeout: Duration.Duration = Duration.minutes(10)

/** @internal */
export const retryCountHeader = "x-mimo-retry-count"

/** @internal */
export const clientRequestIdHeader = "x-client-request-id"

/** @internal */
export const defaultIdleTimeout: Duration.Duration = Duration.minutes(2)

/** @internal */
export const defaultMaxEventSize = 8 * 1024 * 1024

/** @internal */
export const defaultLogLevel: LogLevel.LogLevel = LogLevel.Debug

/** A short, bounded rendering of a Schema failure (the formatter recurses: it runs guarded). */
const formatError = (e: ParseResult.ParseError): string =>
  excerpt(Json.guarded(() => ParseResult.TreeFormatter.formatErrorSync(e), (m) => m), 2048)

/**
 * A decoder of wire JSON: the depth check (iterative), then the fast guard (which accepts the common shapes
 * without recursion), then the Schema (recursive, guarded).
 */
const safely = <A>(
  fast: (u: unknown) => Either.Either<A, ParseResult.ParseError>
) =>
(u: unknown, size: number): Either.Either<A, string> => {
  // Checked first, whatever the guard says: a deep value in an unknown field would pass it, and crash
  // whoever formats or re-encodes the response later. A text of `size` characters nests at most
  // `size / 2` deep: the walk is only needed for long ones (not for the common stream chunk).
  if (Json.mayBeTooDeep(size) && Json.tooDeep(u)) {
    return Either.left(`the value nests deeper than ${Json.maxDepth} levels`)
  }
  // No closure on the hot path (one per chunk): the guard is inline.
  let decoded: Either.Either<A, ParseResult.ParseError>
  try {
    decoded = fast(u)
  } catch (e) {
    if (e instanceof RangeError) return Either.left(`the value is too deeply nested to decode (${e.message})`)
    throw e
  }
  return Either.isRight(decoded) ? Either.right(decoded.right) : Either.left(formatError(decoded.left))
}

const decodeResponse = safely(ChatCompletion.decodeResponseFast)
const decodeChunk = safely(ChatCompletion.decodeChunkFast)
/**
 * The common stream chunk, accepted as it is: what `decodeChunk` returns unchanged for it (the same guard comes
 * first in `ChatCompletion.decodeChunkFast`), without its two `Either`s. A text too long to rule out deep
 * nesting goes to `decodeChunk`, whose depth check comes first.
 */
const isPlainChunk = (u: unknown, size: number): u is ChatCompletion.Chunk => !Json.mayBeTooDeep(size) && isTextChunk(u)
const decodeModelsEither = ParseResult.decodeUnknownEither(Model.ModelList, { onExcessProperty: "preserve" })
const decodeModels = (u: unknown, size: number): Either.Either<Model.ModelList, string> =>
  Json.mayBeTooDeep(size) && Json.tooDeep(u)
    ? Either.left(`the value nests deeper than ${Json.maxDepth} levels`)
    : Json.guarded(
      () =>
        Either.mapLeft(
          decodeModelsEither(u),
          (issue) => excerpt(Json.guarded(() => ParseResult.TreeFormatter.formatIssueSync(issue), (m) => m), 2048)
        ),
      (m) => Either.left(m)
    )

const requestIdHeaders = ["x-request-id", "request-id", "x-mimo-request-id"] as const

/** A client request id: random, 128 bits, hex (`crypto.randomUUID` where there is one). */
const newRequestId = (): string => {
  const crypto = globalThis.crypto
  if (crypto !== undefined && typeof crypto.randomUUID === "function") return crypto.randomUUID()
  let out = ""
  for (let i = 0; i < 32; i++) out += Math.floor(Math.random() * 16).toString(16)
  return out
}

/** A header value an HTTP library accepts: visible ASCII, inner spaces only. */
const headerSafe = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/

/** The base URL: absolute http(s), or relative to a page (`/v1`, no scheme); no query, no fragment. */
const checkBaseUrl = (baseUrl: string): MimoError.ValidationError | undefined => {
  const invalid = (expected: string) =>
    new MimoError.ValidationError({
      field: "baseUrl",
      value: excerpt(Redacting.make({ baseUrls: [baseUrl] })(baseUrl), 128),
      expected,
      message: `baseUrl: expected ${expected}`
    })
  if (baseUrl.includes("?") || baseUrl.includes("#")) {
    return invalid("a URL without a query or fragment (put parameters in headers or the request)")
  }
  // No scheme: a reference relative to a page (`/v1`, `api/v1`), which `fetch` resolves.
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(baseUrl)) return undefined
  try {
    const url = new URL(baseUrl)
    if (url.protocol !== "http:" && url.protocol !== "https:") return invalid("an http: or https: URL")
  } catch {
    return invalid("an absolute http(s) URL, or a path relative to the page such as /v1")
  }
  return undefined
}

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

/** `Effect.withSpan` with {@link spanOptions} when `traced` (a tracer other than the native one is in context). */
const spanIf = <A, E, R>(
  traced: boolean,
  effect: Effect.Effect<A, E, R>,
  name: string,
  attributes: Record<string, unknown> | undefined
): Effect.Effect<A, E, R> => traced ? Effect.withSpan(effect, name, spanOptions(attributes)) : effect

/** {@link spanIf}, the tracer read from context by a step of its own. */
const withSpan = (name: string, attributes: Record<string, unknown> | undefined) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.tracerWith((tracer) => spanIf(tracer !== nativeTracer, effect, name, attributes))

const lowerCased = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name in headers) out[name.toLowerCase()] = headers[name]!
  return out
}

const trimSlash = (url: string) => url.endsWith("/") ? url.slice(0, -1) : url

interface CallContext {
  readonly operation: Client.AttemptInfo["operation"]
  readonly model: string | undefined
  /** The client request id, sent on every attempt. */
  readonly requestId: string
  /** When the call's deadline passes (ms on the call's `Clock`), if it has one. */
  deadlineAt: number | undefined
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
  "mimo.client_request_id": ctx.requestId,
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
  ctx: CallContext,
  level: LogLevel.LogLevel
): Schedule.Schedule<unknown, MimoError.MimoError> =>
  Schedule.intersect(Schedule.delays(policy), Schedule.identity<MimoError.MimoError>()).pipe(
    Schedule.onDecision(([delay, error], decision) =>
      decision._tag === "Done" ? Effect.void : reportRetry(ctx, level, error, delay)
    )
  )

/** A failed attempt that will be retried (by the policy, or requeued): the log line and the `onRetry` hooks. */
const reportRetry = (
  ctx: CallContext,
  level: LogLevel.LogLevel,
  error: MimoError.MimoError,
  delay: Duration.Duration
): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const event: Client.RetryEvent = { attempt: ctx.attempts, error, delay }
    const log = Effect.logWithLevel(level, "MiMo attempt failed; retrying").pipe(
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

/**
 * The policy with each of its waits changed by a decorator's `retryDelay` (issue 13), which reads the error the
 * wait follows; the policy's decisions are unchanged.
 */
const withRetryDelay = (
  policy: Schedule.Schedule<unknown, MimoError.MimoError>,
  retryDelay: NonNullable<Client.CallOptions["retryDelay"]>
): Schedule.Schedule<unknown, MimoError.MimoError> =>
  Schedule.intersect(policy, Schedule.identity<MimoError.MimoError>()).pipe(
    Schedule.modifyDelayEffect(([, error], delay) => retryDelay(delay, error))
  )

const isOk = (status: number) => status >= 200 && status < 300

/** A batch of chunks handed to the consumer (one network read's worth). */
type Batch = Chunk.Chunk<ChatCompletion.Chunk>

/**
 * Writes a batch, then goes on. A channel executor keeps the last value written until the next write, so a large
 * batch would stay reachable (and be copied by every scavenge, then promoted) for as long as the next read waits
 * on the network; an empty chunk written after it lets it go. Small batches (events paced by the server) are
 * cheaper to keep than to release. Measured in apps/bench/analysis.md.
 */
const writeBatch = <Env>(
  batch: Batch,
  next: () => Channel.Channel<Batch, unknown, MimoError.MimoError, unknown, void, Env>
): Channel.Channel<Batch, unknown, MimoError.MimoError, unknown, void, Env> =>
  batch.length < releaseAfter
    ? Channel.flatMap(Channel.write(batch), next)
    : Channel.flatMap(Channel.write(batch), () => Channel.flatMap(Channel.write(noChunks), next))

/** The batch size from which a batch is released once written (see {@link writeBatch}). */
const releaseAfter = 16
const noChunks: Batch = Chunk.empty()

/** What a stream attempt hands on: the first chunks and the pull of the rest. */
interface Opened {
  /** The first non-empty batch, or `undefined` when the stream ended without a chunk. */
  readonly first: Batch | undefined
  /** The next non-empty batch, or `undefined` at the end of the stream. */
  readonly pull: Effect.Effect<Batch | undefined, MimoError.MimoError>
  /** Whether the stream ended as it should (`[DONE]`, or the end of the body): only then is its connection drained. */
  readonly complete: () => boolean
}

/**
 * One run of a stream: the scope of its current attempt's connection (closed when the run ends) and whether the
 * stream ended as it should. Per run, so that each run of the same `Stream` value owns its own connection.
 */
interface StreamRun {
  scope: Scope.CloseableScope | undefined
  /** The opened attempt's `complete` (not the `Opened` itself: its first batch would live as long as the run). */
  complete: (() => boolean) | undefined
}

/** The `content` text a chunk adds (every choice), kept so that a stream failing later says what it delivered. */
const chunkText = (chunk: ChatCompletion.Chunk): string => {
  const choices = chunk.choices
  if (choices.length === 1) return choices[0]!.delta?.content ?? ""
  let out = ""
  for (const choice of choices) out += choice.delta?.content ?? ""
  return out
}

const chunkFinished = (chunk: ChatCompletion.Chunk): boolean => {
  for (const choice of chunk.choices) {
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) return true
  }
  return false
}

const mediaType = (headers: Headers.Headers, name: string): string =>
  (headers[name] ?? "").split(";")[0]!.trim().toLowerCase()

/** @internal */
export const make = (
  options: Client.Options
): Effect.Effect<Client.Service, never, MimoTransport.MimoTransport> =>
  Effect.gen(function*() {
    const baseUrl = trimSlash(options.baseUrl ?? defaultBaseUrl)
    const profile = options.validation ?? Validation.profileFor(baseUrl)
    const apiKey = options.apiKey ?? Redacted.make("")
    const scrubber: Redaction.Redactor = Redacting.make({
      secrets: options.authHeader === "none" ? [] : [apiKey],
      baseUrls: [baseUrl]
    })
    // Settings checked once; a bad one fails every call before anything is sent (0 attempts).
    const keyCheck: Either.Either<unknown, MimoError.ValidationError> = options.authHeader === "none"
      ? Either.right(apiKey)
      : yield* Effect.either(Validation.validateApiKey(apiKey))
    const settingsError: MimoError.ValidationError | undefined = Either.isLeft(keyCheck)
      ? keyCheck.left
      : options.authHeader !== "none" && !headerSafe.test(Redacted.value(apiKey))
      ? new MimoError.ValidationError({
        field: "apiKey",
        value: "<redacted>",
        expected: "visible ASCII characters only (no newline, NUL, control or non-ASCII character)",
        message:
          "apiKey: the API key holds a character that cannot be sent in an HTTP header (a newline, NUL, control " +
          "or non-ASCII character); copy the key again"
      })
      : checkBaseUrl(baseUrl)
    const authHeaders: Record<string, string> = options.authHeader === "none" || settingsError !== undefined
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
    const clientQuota = options.retryQuota === false ? undefined : options.retryQuota ?? RetryQuota.unsafeMake()
    const defaultTimeoutDuration = Duration.decode(options.timeout ?? defaultTimeout)
    const idleTimeoutMs = Duration.toMillis(Duration.decode(options.idleTimeout ?? defaultIdleTimeout))
    const maxBodySize = options.maxBodySize ?? defaultMaxBodySize
    const maxEventSize = options.maxEventSize ?? defaultMaxEventSize
    const logLevel = options.logLevel ?? defaultLogLevel
    const transport = yield* MimoTransport.MimoTransport

    const chatUrl = `${baseUrl}/chat/completions`
    const chatHeaders: Record<string, string> = { ...baseHeaders, "content-type": "application/json" }
    const streamHeaders: Record<string, string> = { ...chatHeaders, accept: "text/event-stream" }
    const modelsUrl = `${baseUrl}/models`

    /** The one place a request is built: the call's headers, the attempt's, the time limit. */
    const buildRequest = (
      method: "GET" | "POST",
      url: string,
      headers: Record<string, string>,
      body: string | undefined,
      ctx: CallContext,
      extra: Readonly<Record<string, string>> | undefined,
      timeout: Duration.Duration
    ): MimoTransport.Request => {
      const out = { ...headers }
      out[clientRequestIdHeader] = ctx.requestId
      if (ctx.attempts > 1) out[retryCountHeader] = String(ctx.attempts - 1)
      if (extra !== undefined) Object.assign(out, lowerCased(extra))
      return { method, url, headers: out, body, timeout, maxBodySize }
    }

    /**
     * The one place an attempt's time limit is decided: the per-attempt timeout, cut to what is left of the
     * call's deadline. `undefined` when the deadline has passed.
     */
    const attemptLimit = (ctx: CallContext, timeout: Duration.Duration, now: number): number | undefined => {
      const ms = Duration.toMillis(timeout)
      if (ctx.deadlineAt === undefined) return ms
      const left = ctx.deadlineAt - now
      return left <= 0 ? undefined : Math.min(ms, left)
    }

    const deadlineError = (ctx: CallContext) =>
      new MimoError.TransportError({
        reason: "Timeout",
        message: `the call's deadline passed after ${ctx.attempts - 1} attempt(s)`
      })

    const decodeError = (message: string, status: number, body: string, headers: Headers.Headers) => {
      const requestId = requestIdFrom(headers)
      return new MimoError.ResponseDecodeError({
        status,
        message,
        body: excerpt(body),
        ...(requestId !== undefined ? { requestId } : {})
      })
    }

    /**
     * A 2xx body: JSON, then the Schema. A body past the cap, a body that is not JSON or does not match is a
     * `ResponseDecodeError`; an error envelope in a 2xx body is the error it holds (the server's code and
     * message).
     */
    const readJson = <A>(
      response: MimoTransport.Response,
      decode: (u: unknown, size: number) => Either.Either<A, string>
    ): Effect.Effect<A, MimoError.MimoError> => {
      if (response.truncated === true) {
        return Effect.fail(
          decodeError(
            `the response body is larger than the ${maxBodySize}-byte cap (maxBodySize); the rest was not read`,
            response.status,
            response.body.slice(0, 512),
            response.headers
          )
        )
      }
      let json: unknown
      try {
        json = Json.parse(response.body)
      } catch (e) {
        return Effect.fail(
          decodeError(
            `response body is not JSON: ${e instanceof Error ? e.message : String(e)}`,
            response.status,
            response.body,
            response.headers
          )
        )
      }
      const decoded = decode(json, response.body.length)
      if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
      const envelope = ErrorResponse.decodeChunkError(json, requestIdFrom(response.headers))
      if (Option.isSome(envelope)) return Effect.fail(envelope.value)
      return Effect.fail(decodeError(decoded.left, response.status, response.body, response.headers))
    }

    /** The one place an error status is decoded: its typed error (the `Retry-After` of a 429 measured from now). */
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
        requestId: newRequestId(),
        deadlineAt: undefined,
        attempts: 0,
        onRetry: call?.onRetry !== undefined ? [...clientOnRetry, call.onRetry] : clientOnRetry,
        around: call?.aroundAttempt !== undefined ? [...clientAround, call.aroundAttempt] : clientAround
      }
      const timeout = call?.timeout !== undefined ? Duration.decode(call.timeout) : defaultTimeoutDuration
      return { ctx, timeout }
    }

    /** The error a call fails with: scrubbed of our secrets, with the attempts made and the client request id. */
    const finalize = (ctx: CallContext) => (error: MimoError.MimoError): MimoError.MimoError =>
      Redacting.error(scrubber, error, { attempts: ctx.attempts, clientRequestId: ctx.requestId })

    const onFinalFailure = (ctx: CallContext) => (error: MimoError.MimoError) =>
      Effect.logWithLevel(logLevel, "MiMo call failed").pipe(
        Effect.annotateLogs(annotationsOf(ctx, error)),
        Effect.zipRight(Effect.annotateCurrentSpan(annotationsOf(ctx, error)))
      )

    /**
     * A call's failure, made final: finalized (scrubbed, attempts, request id) and logged once. One `catchAll`
     * rather than `mapError` then `tapError`: a step fewer on every call (apps/bench's `steps` case).
     */
    const failFinal = (ctx: CallContext) => (error: MimoError.MimoError): Effect.Effect<never, MimoError.MimoError> => {
      const final = finalize(ctx)(error)
      return Effect.zipRight(onFinalFailure(ctx)(final), Effect.fail(final))
    }

    /**
     * Runs one operation: attempts under the retry policy and the deadline, with spans and logs. `traced`: a
     * tracer other than Effect's own is in context (read once per call by the caller). `final`: the call's
     * failure is made final here (`failFinal`), on the failure path only, rather than by a `catchAll` the
     * caller wraps around every call.
     */
    const run = <A>(
      ctx: CallContext,
      call: Client.CallOptions | undefined,
      attempt: Effect.Effect<A, MimoError.MimoError>,
      traced: boolean,
      final: boolean
    ): Effect.Effect<A, MimoError.MimoError> => {
      // An attempt's error is scrubbed before anything sees it. With no hook and no span around the attempt, the
      // first thing that sees it is the retry loop: it is scrubbed there, on the failure path, and a successful
      // attempt pays no `mapError` step (apps/bench's `steps` case).
      const plain = !traced && ctx.around.length === 0
      const scrub = (error: MimoError.MimoError) => Redacting.error(scrubber, error)
      const scrubbed = plain ? attempt : Effect.mapError(attempt, scrub)
      const once = Effect.suspend(() => {
        ctx.attempts++
        return !traced
          ? aroundAttempt(ctx, scrubbed)
          : Effect.tapError(
            aroundAttempt(ctx, scrubbed),
            (error) => Effect.annotateCurrentSpan(annotationsOf(ctx, error))
          ).pipe(Effect.withSpan("MimoClient.attempt", spanOptions({ "mimo.attempt": ctx.attempts })))
      })
      /** What follows a failed attempt, given its error as the attempt's wrappers left it. */
      const onAttemptFailure = (next: (error: MimoError.MimoError) => Effect.Effect<A, MimoError.MimoError>) =>
        plain ? (error: MimoError.MimoError) => next(scrub(error)) : next
      // What `Effect.retry(once, policy)` does, but the schedule's driver is only
      // built after a first failure: most calls succeed at once, and the hot path
      // then pays nothing for retries (apps/bench).
      const policy = call?.retry ?? defaultPolicy
      const deadline = call?.deadline ?? options.deadline
      // retry-quota (issue 13): the call's own quota (a `RetryBudget`'s) instead of the client's; `false`: none.
      const quota = call?.retryQuota === undefined
        ? clientQuota
        : call.retryQuota === false
        ? undefined
        : call.retryQuota
      const requeue = call?.requeue
      const retrying = (first: MimoError.MimoError) => {
        // retry-delay (issue 13): a decorator that paces attempts may change the policy's waits.
        const adjusted = call?.retryDelay === undefined ? policy : withRetryDelay(policy, call.retryDelay)
        const bounded = ctx.deadlineAt === undefined ? adjusted : RetryPolicy.deadline(adjusted, ctx.deadlineAt)
        // retry-quota (issue 13): each retry the policy would make pays from the quota (more after a timeout);
        // when it cannot pay, the schedule is done and the call fails with the error it has.
        const paid = quota === undefined ? bounded : RetryQuota.schedule(bounded, quota)
        return Effect.flatMap(Schedule.driver(observed(paid, ctx, logLevel)), (driver) => {
          /** The failure the policy's latest retry followed: its cost comes back if the call then succeeds. */
          let retriedAfter: MimoError.MimoError | undefined
          const again: Effect.Effect<A, MimoError.MimoError> = Effect.suspend(() =>
            quota === undefined
              ? Effect.catchAll(once, onAttemptFailure(loop))
              // retry-quota (issue 13): a success after a retry gives that retry's cost back.
              : Effect.matchEffect(once, {
                onFailure: onAttemptFailure(loop),
                onSuccess: (a) => succeeded(a, retriedAfter)
              })
          )
          const byPolicy = (error: MimoError.MimoError): Effect.Effect<A, MimoError.MimoError> =>
            Effect.matchEffect(driver.next(error), {
              onFailure: () => Effect.fail(error),
              onSuccess: () => {
                retriedAfter = error
                return again
              }
            })
          // requeue (issue 13): a decorator that paces attempts may send the request again, uncounted by the
          // policy and the quota, within the call's deadline.
          const loop = (error: MimoError.MimoError): Effect.Effect<A, MimoError.MimoError> =>
            requeue === undefined ? byPolicy(error) : Effect.flatMap(
              requeue(error, { operation: ctx.operation, model: ctx.model, attempt: ctx.attempts }),
              (delay) =>
                delay === undefined ?
                  byPolicy(error) :
                  Effect.flatMap(Clock.currentTimeMillis, (now) =>
                    ctx.deadlineAt !== undefined && now + Duration.toMillis(delay) > ctx.deadlineAt
                      ? byPolicy(error)
                      : reportRetry(ctx, logLevel, error, delay).pipe(
                        Effect.zipRight(Effect.sleep(delay)),
                        Effect.zipRight(again)
                      ))
            )
          return loop(first)
        })
      }
      // retry-quota (issue 13): a success at once refills the quota a little (nothing to do while it is full).
      const succeeded = (a: A, retriedAfter?: MimoError.MimoError): Effect.Effect<A> => {
        quota?.unsafeRecordSuccess(retriedAfter)
        return Effect.succeed(a)
      }
      const afterFailure = onAttemptFailure(
        final ? (first) => Effect.catchAll(retrying(first), failFinal(ctx)) : retrying
      )
      const attempted = quota === undefined
        ? Effect.catchAll(once, afterFailure)
        : Effect.matchEffect(once, { onFailure: afterFailure, onSuccess: (a) => succeeded(a) })
      return deadline === undefined
        ? attempted
        : Effect.flatMap(Clock.currentTimeMillis, (now) => {
          ctx.deadlineAt = now + Duration.toMillis(Duration.decode(deadline))
          return attempted
        })
    }

    /** One attempt of a JSON call: send, then the decoded 2xx body or the typed error, within the time limit. */
    const jsonAttempt = <A>(
      method: "GET" | "POST",
      url: string,
      headers: Record<string, string>,
      body: string | undefined,
      decode: (u: unknown, size: number) => Either.Either<A, string>,
      ctx: CallContext,
      call: Client.CallOptions | undefined,
      timeout: Duration.Duration
    ): Effect.Effect<A, MimoError.MimoError> => {
      // The request is built inside a `suspend`: the fiber's frame of the `flatMap` holds its first effect for
      // as long as the exchange lasts, and should not hold the request with it (garbage kept that long is
      // promoted to the old generation: apps/bench/analysis.md, session 8).
      const send = (limit: Duration.Duration) =>
        Effect.flatMap(
          Effect.suspend(() => transport.send(buildRequest(method, url, headers, body, ctx, call?.headers, limit))),
          (response) => isOk(response.status) ? readJson(response, decode) : failWith(response)
        )
      return Effect.suspend(() => {
        if (ctx.deadlineAt === undefined) return send(timeout)
        return Effect.clockWith((clock) => {
          const limit = attemptLimit(ctx, timeout, clock.unsafeCurrentTimeMillis())
          return limit === undefined ? Effect.fail(deadlineError(ctx)) : send(Duration.millis(limit))
        })
      })
    }

    /** A chat call of a request validated (and, for speech, built) once, before any attempt. */
    const sendChat = (
      validated: Effect.Effect<ChatCompletion.Request, MimoError.ValidationError>,
      model: string,
      call: Client.CallOptions | undefined
    ): Effect.Effect<ChatCompletion.Response, MimoError.MimoError> =>
      // The call's context (request id, attempts, deadline) is made when the effect runs, not when it is built:
      // an effect run again (`Effect.repeat`, a caller's own retry, a shared constant) is a new call. One step
      // reads the fiber's tracer and makes the context (apps/bench's `steps` case).
      Effect.withFiberRuntime((fiber) => {
        const traced = fiber.currentTracer !== nativeTracer
        const { ctx, timeout } = resolveCall("chat", model, call)
        // A match rather than `Effect.gen` or a `catchAll` around the call: this is the hot path (apps/bench). A
        // failure of validation is final here; one of the attempts is made final by `run`.
        const sent: Effect.Effect<ChatCompletion.Response, MimoError.MimoError> = settingsError !== undefined
          ? failFinal(ctx)(settingsError)
          : Effect.matchEffect(validated, {
            onFailure: failFinal(ctx),
            onSuccess: (valid) =>
              run(
                ctx,
                call,
                jsonAttempt(
                  "POST",
                  chatUrl,
                  chatHeaders,
                  requestBody(valid, false),
                  decodeResponse,
                  ctx,
                  call,
                  timeout
                ),
                traced,
                true
              )
          })
        return spanIf(traced, sent, "MimoClient.chat", { "mimo.model": model })
      })

    const chat = (
      request: ChatCompletion.Request,
      call?: Client.CallOptions
    ): Effect.Effect<ChatCompletion.Response, MimoError.MimoError> =>
      sendChat(Validation.validateChatRequest(request, profile), request.model, call)

    /**
     * One run of a stream: the call's context (request id, attempts, deadline) is this run's own, so that a
     * `Stream` value run again is a new call, as an `Effect` is.
     */
    const streamRun = (
      request: ChatCompletion.Request,
      call: Client.CallOptions | undefined,
      onGatewayRetry: ReadonlyArray<(event: Client.RetryEvent) => Effect.Effect<void>>
    ): Channel.Channel<Batch, unknown, MimoError.MimoError, unknown, void, unknown> => {
      const { ctx, timeout } = resolveCall("stream", request.model, call)

      // One attempt: open, check the status and the content type, and read until the first chunk, all within
      // the attempt's time limit (each read waits only what is left of it: native timers in a lean transport).
      // The attempt's scope owns the connection; on failure it is closed (the request released) before the
      // policy decides on another attempt.
      // The run keeps the attempt's scope from the moment it exists: a run interrupted just as an attempt succeeds
      // still closes its connection.
      const open = (body: string, run: StreamRun): Effect.Effect<Opened, MimoError.MimoError> =>
        Effect.clockWith((clock) => {
          const startedAt = clock.unsafeCurrentTimeMillis()
          const limit = attemptLimit(ctx, timeout, startedAt)
          if (limit === undefined) return Effect.fail(deadlineError(ctx))
          const attemptEnd = startedAt + limit
          return Effect.flatMap(Scope.make(), (scope) => {
            run.scope = scope
            return transport.open(
              buildRequest("POST", chatUrl, streamHeaders, body, ctx, call?.headers, Duration.millis(limit))
            ).pipe(
              Scope.extend(scope),
              Effect.flatMap((response) => {
                if (!isOk(response.status)) return failWith(response)
                const contentType = mediaType(response.headers, "content-type")
                const encoding = mediaType(response.headers, "content-encoding")
                if (encoding !== "" && encoding !== "identity") {
                  return Effect.fail(
                    decodeError(
                      `the stream came compressed (content-encoding: ${
                        excerpt(encoding, 32)
                      }), which this client does not decode; it asks for none`,
                      response.status,
                      "",
                      response.headers
                    )
                  )
                }
                if (contentType !== "" && contentType !== "text/event-stream") {
                  return notEventStream(response, contentType, attemptEnd, clock)
                }
                return firstChunks(response, attemptEnd, limit, clock)
              }),
              Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit))
            )
          })
        })

      /** A 2xx answer to a stream that is not SSE: the error envelope it holds, or a `ResponseDecodeError`. */
      const notEventStream = (
        response: MimoTransport.StreamResponse,
        type: string,
        attemptEnd: number,
        clock: Clock.Clock
      ): Effect.Effect<never, MimoError.MimoError> => {
        const pieces: Array<Uint8Array> = []
        let size = 0
        const readSome: Effect.Effect<void, MimoError.MimoError> = Effect.suspend(() => {
          const wait = attemptEnd - clock.unsafeCurrentTimeMillis()
          if (wait <= 0 || size >= MimoTransport.maxErrorBody) return Effect.void
          return Effect.flatMap(Effect.orElseSucceed(response.read(Duration.millis(wait)), () => undefined), (got) => {
            if (got === undefined) return Effect.void
            for (const piece of got) {
              pieces.push(piece)
              size += piece.length
            }
            return readSome
          })
        })
        return Effect.flatMap(readSome, (): Effect.Effect<never, MimoError.MimoError> => {
          const all = new Uint8Array(Math.min(size, MimoTransport.maxErrorBody))
          let offset = 0
          for (const piece of pieces) {
            if (offset >= all.length) break
            const taken = piece.subarray(0, all.length - offset)
            all.set(taken, offset)
            offset += taken.length
          }
          const text = new TextDecoder().decode(all)
          let json: unknown = undefined
          try {
            json = Json.parse(text)
          } catch {
            // not JSON: reported below
          }
          const envelope = ErrorResponse.decodeChunkError(json, requestIdFrom(response.headers))
          if (Option.isSome(envelope)) return Effect.fail(envelope.value)
          return Effect.fail(
            decodeError(
              `expected a text/event-stream answer to a stream request, got ${excerpt(type, 64)}`,
              response.status,
              text,
              response.headers
            )
          )
        })
      }

      const firstChunks = (
        response: MimoTransport.StreamResponse,
        attemptEnd: number,
        limitMs: number,
        clock: Clock.Clock
      ): Effect.Effect<Opened, MimoError.MimoError> => {
        const requestId = requestIdFrom(response.headers)
        const reader = makeChunkReader<ChatCompletion.Chunk>({
          decode: decodeChunk,
          guard: isPlainChunk,
          chunkError: (u) => ErrorResponse.decodeChunkError(u, requestId),
          text: chunkText,
          finished: chunkFinished,
          parse: Json.parse,
          requestId,
          maxEventSize,
          onNamed: onGatewayRetry.length === 0 ? undefined : (event, data) => {
            if (event !== ServerError.retryNoticeEvent) return
            const notice = ServerError.decodeRetryNotice(scrubber(data))
            if (Option.isSome(notice)) notices.push(notice.value)
          }
        })
        const notices: Array<Client.RetryEvent> = []
        const runNotices: Effect.Effect<void> = Effect.suspend(() => {
          if (notices.length === 0) return Effect.void
          const batch = notices.splice(0, notices.length)
          return Effect.forEach(batch, (n) => Effect.forEach(onGatewayRetry, (f) => f(n), { discard: true }), {
            discard: true
          })
        })
        let first = true
        /** Until when the next event may come: the attempt's end before the first chunk, then the idle limit. */
        let progressBy = attemptEnd
        let events = 0
        /** Chunks were handed to the consumer since the last read. */
        let emitted = false
        let finished = false
        let pending: MimoError.MimoError | undefined = undefined
        const callEnd = ctx.deadlineAt ?? Infinity
        const complete = () => finished && pending === undefined
        const end = Effect.succeed(undefined)

        const failed = (error: MimoError.MimoError) => {
          finished = true
          return Effect.fail(Redacting.error(scrubber, error))
        }
        const timedOut = (now: number): MimoError.TransportError => {
          if (first) {
            return now >= callEnd
              ? new MimoError.TransportError({
                reason: "Timeout",
                message: "the call's deadline passed before the first chunk"
              })
              : timeoutError(Duration.millis(limitMs))
          }
          return new MimoError.TransportError({
            reason: "Timeout",
            message: now >= callEnd
              ? `the call's deadline passed after ${reader.chunks} chunk(s)`
              : `no event for ${
                Duration.format(Duration.millis(idleTimeoutMs))
              } (the idle timeout) after ${reader.chunks} chunk(s)`,
            received: reader.received,
            ...(requestId !== undefined ? { requestId } : {})
          })
        }
        const cut = (error: MimoError.TransportError) =>
          new MimoError.TransportError({
            reason: "StreamCut",
            message: `stream cut: ${error.message}`,
            ...(first ? {} : { received: reader.received }),
            ...(requestId !== undefined ? { requestId } : {})
          })

        const pull: Effect.Effect<Batch | undefined, MimoError.MimoError> = Effect
          .suspend(() => {
            if (pending !== undefined) {
              const error = pending
              pending = undefined
              return failed(error)
            }
            if (finished) return end
            const now = clock.unsafeCurrentTimeMillis()
            if (emitted) {
              // The time the consumer spent on what it got is not the server's silence.
              emitted = false
              progressBy = Math.max(progressBy, now + idleTimeoutMs)
            }
            const wait = Math.min(progressBy, callEnd) - now
            if (wait <= 0) return failed(timedOut(now))
            return Effect.matchEffect(response.read(Duration.millis(wait)), {
              onFailure: (error) =>
                failed(error.reason === "Timeout" ? timedOut(clock.unsafeCurrentTimeMillis()) : cut(error)),
              onSuccess: (pieces) => {
                const out: Array<ChatCompletion.Chunk> = []
                const error = pieces === undefined ? reader.end(out) : reader.feed(pieces, out)
                if (reader.events !== events) {
                  events = reader.events
                  if (!first || out.length > 0) progressBy = clock.unsafeCurrentTimeMillis() + idleTimeoutMs
                }
                if (out.length > 0) {
                  first = false
                  emitted = true
                }
                if (error !== undefined) {
                  const typed = error._tag === "TransportError" && !first
                    ? new MimoError.TransportError({
                      reason: error.reason,
                      message: error.message,
                      received: reader.received,
                      ...(requestId !== undefined ? { requestId } : {})
                    })
                    : error
                  if (out.length === 0) return failed(typed)
                  pending = typed
                }
                if (pieces === undefined || reader.done) finished = true
                const emit = out.length > 0
                  ? Effect.succeed(Chunk.unsafeFromArray(out))
                  : finished
                  ? end
                  : pull
                return notices.length === 0 ? emit : Effect.zipRight(runNotices, emit)
              }
            })
          })

        // Pull until the first non-empty batch, or the end of the stream.
        return Effect.map(pull, (first): Opened => ({ first, pull, complete }))
      }

      // The stream is one channel over the pull, with no `Stream` layer per step (each one costs every batch a
      // step of its own, and every run a scope and fibers: apps/bench/analysis.md): the request (validated, then
      // opened under the retry policy up to its first chunk), then each batch as it is read. Its finalizer closes
      // the connection's scope: a stream read to its end lets the transport keep the connection (it may drain the
      // rest briefly); one stopped early, failed or interrupted has its request aborted. Every failure is the
      // call's final one: finalized (scrubbed, attempts, request id) and logged once, here.
      const failFinalOf = failFinal(ctx)
      const state: StreamRun = { scope: undefined, complete: undefined }
      const start: Effect.Effect<Opened, MimoError.MimoError> = Effect.withFiberRuntime<Opened, MimoError.MimoError>(
        (fiber) => {
          if (settingsError !== undefined) return Effect.fail(settingsError)
          const traced = fiber.currentTracer !== nativeTracer
          return Effect.flatMap(Validation.validateChatRequest(request, profile), (valid) => {
            const body = requestBody(valid, true)
            return run(ctx, call, Effect.suspend(() => open(body, state)), traced, false)
          })
        }
      ).pipe(Effect.catchAll(failFinalOf))
      const emit = (
        pull: Effect.Effect<Batch | undefined, MimoError.MimoError>
      ): Channel.Channel<Batch, unknown, MimoError.MimoError, unknown, void, unknown> => {
        const loop: Channel.Channel<Batch, unknown, MimoError.MimoError, unknown, void, unknown> = Channel
          .flatMap(
            Channel.fromEffect(pull),
            (batch) => batch === undefined ? Channel.void : writeBatch(batch, () => loop)
          )
        return loop
      }
      return Channel.ensuringWith(
        Channel.flatMap(Channel.fromEffect(start), (opened) => {
          state.complete = opened.complete
          const rest = emit(Effect.catchAll(opened.pull, failFinalOf))
          return opened.first === undefined ? rest : writeBatch(opened.first, () => rest)
        }),
        (exit) =>
          state.scope === undefined ? Effect.void : Scope.close(
            state.scope,
            Exit.isSuccess(exit) && state.complete !== undefined && state.complete()
              ? exit
              : Exit.interrupt(FiberId.none)
          )
      )
    }

    const stream = (
      request: ChatCompletion.Request,
      call?: Client.CallOptions
    ): Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError> => {
      const onGatewayRetry = [options.onGatewayRetry, call?.onGatewayRetry].filter((f) => f !== undefined)
      const channel = Channel.suspend(() => streamRun(request, call, onGatewayRetry))
      return Stream.fromChannel(Channel.unwrap(Effect.tracerWith((tracer) =>
        Effect.succeed(
          tracer === nativeTracer
            ? channel
            : Stream.toChannel(
              Stream.withSpan(
                Stream.fromChannel(channel),
                "MimoClient.stream",
                spanOptions({ "mimo.model": request.model })
              )
            )
        )
      )))
    }

    // Speech is validated on the caller's own fields (`voice`, `instructions`, `text`, ...) and built once: by
    // `Speech.prepare` (a decorator of this service did it, and passes the `Prepared` on), or here. The built
    // request is sent as it is (not validated again).
    const speech = (
      input: Speech.Input | Speech.Prepared,
      call?: Client.CallOptions
    ): Effect.Effect<Client.Speech, MimoError.MimoError> =>
      Effect.suspend(() => {
        const built: { request?: ChatCompletion.Request } = {}
        const [raw, prepared] = SpeechInternal.isPrepared(input) ? [input.input, input] : [input, undefined]
        const valid = prepared !== undefined && prepared.profile === profile
          ? Either.match(prepared.request, { onLeft: Effect.fail, onRight: Effect.succeed })
          : Validation.validateSpeechRequest(raw, profile)
        const validated = Effect.tap(valid, (request) => {
          built.request = request
        })
        const model = raw.model ?? ChatCompletion.defaultSpeechModel
        return Effect.flatMap(
          sendChat(validated, model, call),
          (response) => {
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
                  format: built.request?.audio?.format ?? "wav",
                  response
                })
            })
          }
        )
      }).pipe(withSpan("MimoClient.speech", undefined))

    const models = (call?: Client.CallOptions): Effect.Effect<Model.ModelList, MimoError.MimoError> =>
      Effect.withFiberRuntime((fiber) => {
        // This run's own call context, as in `sendChat`.
        const traced = fiber.currentTracer !== nativeTracer
        const { ctx, timeout } = resolveCall("models", undefined, call)
        const attempted: Effect.Effect<Model.ModelList, MimoError.MimoError> = settingsError !== undefined
          ? failFinal(ctx)(settingsError)
          : run(
            ctx,
            call,
            jsonAttempt("GET", modelsUrl, baseHeaders, undefined, decodeModels, ctx, call, timeout),
            traced,
            true
          )
        return spanIf(traced, attempted, "MimoClient.models", undefined)
      })

    return { baseUrl, profile, chat, stream, speech, models } satisfies Client.Service
  })
