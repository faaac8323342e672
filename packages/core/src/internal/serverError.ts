import * as Headers from "@effect/platform/Headers"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Queue from "effect/Queue"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"
import type * as ChatCompletion from "../ChatCompletion.js"
import * as ErrorResponse from "../ErrorResponse.js"
import type * as MimoClient from "../MimoClient.js"
import * as MimoError from "../MimoError.js"
import type * as Redaction from "../Redaction.js"
import type * as ServerError from "../ServerError.js"
import * as redaction from "./redaction.js"
import * as RetryAfter from "./retryAfter.js"

type Wire = MimoError.ApiError | MimoError.UnknownApiError

/** @internal */
export const defaultRetryAfter: Duration.Duration = Duration.seconds(1)

/** @internal */
export const retryNoticeEvent = "mimo.retry"

const withRequestId = <A extends object>(props: A, requestId: string | undefined): A & { requestId?: string } =>
  requestId === undefined || requestId === "" ? props : { ...props, requestId }

/**
 * The error as it goes on the wire: the API errors as they are, the others
 * mapped to the status a gateway answers with (see the module notes).
 *
 * @internal
 */
export const toWireError = (error: MimoError.MimoError): Wire => {
  switch (error._tag) {
    case "ValidationError":
      return new MimoError.InvalidRequest({ message: error.message, param: error.field })
    case "TransportError":
      return new MimoError.UnknownApiError(
        withRequestId(
          error.reason === "Timeout"
            ? { status: 504, code: "upstream_timeout", message: error.message, type: "transport_error", body: "" }
            : { status: 502, code: "upstream_unavailable", message: error.message, type: "transport_error", body: "" },
          error.requestId
        )
      )
    case "CircuitOpen":
      return new MimoError.ServiceUnavailable({ message: error.message, type: "circuit_open" })
    case "ResponseDecodeError":
      return new MimoError.UnknownApiError(
        withRequestId(
          {
            status: 502,
            code: "upstream_bad_response",
            message: error.message,
            type: "response_decode_error",
            body: ""
          },
          error.requestId
        )
      )
    default:
      return error
  }
}

/** The rendered envelope with every string in it (and its header values) scrubbed. */
const scrubRendered = (rendered: ErrorResponse.Rendered, redact: Redaction.Redactor): ErrorResponse.Rendered => {
  if (redact === redaction.none) return rendered
  let body: string
  try {
    body = JSON.stringify(redaction.deep(JSON.parse(rendered.body), redact))
  } catch {
    body = redact(rendered.body)
  }
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(rendered.headers)) headers[name] = redact(value)
  return { ...rendered, body, headers }
}

/** @internal */
export const render = (
  error: MimoError.MimoError,
  options?: ServerError.RenderOptions
): ErrorResponse.Rendered => {
  const rendered = scrubRendered(ErrorResponse.encode(toWireError(error)), options?.redact ?? redaction.none)
  if (error._tag === "CircuitOpen") {
    // A 503 may say when to come back too: when the breaker lets a probe through.
    return error.retryAfter === undefined
      ? rendered
      : { ...rendered, headers: { ...rendered.headers, ...RetryAfter.toHeaders(error.retryAfter) } }
  }
  if (rendered.status !== 429 || rendered.headers["retry-after"] !== undefined) return rendered
  const fallback = Duration.decode(options?.retryAfter ?? defaultRetryAfter)
  return { ...rendered, headers: { ...rendered.headers, ...RetryAfter.toHeaders(fallback) } }
}

/** @internal */
export const toResponse = (
  error: MimoError.MimoError,
  options?: ServerError.RenderOptions
): HttpServerResponse.HttpServerResponse => {
  const { body, headers, status } = render(error, options)
  const { "content-type": contentType, ...rest } = headers
  return HttpServerResponse.text(body, { status, headers: rest, contentType: contentType ?? "application/json" })
}

/** @internal */
export const middleware = <E, R>(
  app: HttpApp.Default<E | MimoError.MimoError, R>,
  options?: ServerError.RenderOptions
): HttpApp.Default<E, R> =>
  Effect.catchAll(app, (e) => MimoError.isMimoError(e) ? Effect.succeed(toResponse(e, options)) : Effect.fail(e))

// -----------------------------------------------------------------------------
// SSE
// -----------------------------------------------------------------------------

const encoder = new TextEncoder()

const frame = (data: string, event?: string): Uint8Array =>
  encoder.encode(event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`)

const done = frame("[DONE]")

const defectError = new MimoError.InternalError({ message: "The server failed while streaming." })

/**
 * Chunks as `data:` frames, then `[DONE]`. A failure becomes one error event
 * (the seed envelope) and ends the body; so does a defect, logged here and
 * sent as a bare `internal_error`. An interruption (the client went away)
 * stays an interruption.
 */
const frames = (
  stream: Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>,
  options: ServerError.SseOptions | undefined
): Stream.Stream<Uint8Array> => {
  const redact = options?.redact ?? redaction.none
  const renderOptions = { redact }
  return stream.pipe(
    Stream.map((chunk) => frame(JSON.stringify(redaction.deep(chunk, redact)))),
    Stream.concat(Stream.succeed(done)),
    Stream.catchAllCause((cause) => {
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) return Stream.succeed(frame(render(failure.value, renderOptions).body))
      if (Cause.isInterruptedOnly(cause)) return Stream.fromEffect(Effect.interrupt)
      return Stream.fromEffect(
        Effect.as(Effect.logError("MiMo stream failed with a defect", cause), frame(render(defectError).body))
      )
    })
  )
}

const sseOptions = (options: ServerError.SseOptions | undefined): HttpServerResponse.Options => ({
  status: 200,
  contentType: "text/event-stream",
  headers: { "cache-control": "no-cache", "x-accel-buffering": "no", ...options?.headers }
})

/** @internal */
export const sseStream = (
  stream: Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>,
  options?: ServerError.SseOptions
): HttpServerResponse.HttpServerResponse => HttpServerResponse.stream(frames(stream, options), sseOptions(options))

// -----------------------------------------------------------------------------
// Retry notices
// -----------------------------------------------------------------------------

const NoticeError = Schema.Struct({
  code: Schema.Union(Schema.String, Schema.Number),
  message: Schema.String,
  type: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  param: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true })
})

/** @internal */
export const RetryNotice = Schema.Struct({
  attempt: Schema.Int.pipe(Schema.positive()),
  delay_ms: Schema.NonNegative,
  status: Schema.Int,
  retry_after_ms: Schema.optionalWith(Schema.NonNegative, { exact: true }),
  error: NoticeError
})

/** The envelope's `error` object as `ErrorResponse.encode` writes it (seed shape). */
const wireEnvelopeError = (error: Wire): ServerError.RetryNotice["error"] => {
  const code = error._tag === "UnknownApiError" ? error.code ?? String(error.status) : error.code
  return error.param === undefined
    ? { code, message: error.message, type: error.type ?? "error" }
    : { code, message: error.message, type: error.type ?? "error", param: error.param }
}

/** @internal */
export const toRetryNotice = (
  event: MimoClient.RetryEvent,
  redact: Redaction.Redactor = redaction.none
): ServerError.RetryNotice => redaction.deep(noticeOf(event), redact)

const noticeOf = (event: MimoClient.RetryEvent): ServerError.RetryNotice => {
  const wire = toWireError(event.error)
  const retryAfter = wire._tag === "RateLimitExceeded" && wire.retryAfter !== undefined &&
      Duration.isFinite(wire.retryAfter)
    ? { retry_after_ms: Duration.toMillis(wire.retryAfter) }
    : {}
  return {
    attempt: event.attempt,
    delay_ms: Duration.isFinite(event.delay) ? Duration.toMillis(event.delay) : 0,
    status: wire.status,
    ...retryAfter,
    error: wireEnvelopeError(wire)
  }
}

/** @internal */
export const fromRetryNotice = (notice: ServerError.RetryNotice): MimoClient.RetryEvent => ({
  attempt: notice.attempt,
  delay: Duration.millis(notice.delay_ms),
  error: ErrorResponse.decode({
    status: notice.status,
    headers: notice.retry_after_ms === undefined
      ? Headers.empty
      : Headers.fromInput({ "retry-after-ms": String(notice.retry_after_ms) }),
    body: JSON.stringify({ error: notice.error }),
    nowMillis: 0
  })
})

const decodeNotice = ParseResult.decodeUnknownEither(Schema.parseJson(RetryNotice))

/** @internal */
export const decodeRetryNotice = (data: string): Option.Option<MimoClient.RetryEvent> =>
  Either.match(decodeNotice(data), {
    onLeft: () => Option.none(),
    onRight: (notice) => Option.some(fromRetryNotice(notice))
  })

/** @internal */
export const retryNoticeFrame = (event: MimoClient.RetryEvent, redact: Redaction.Redactor = redaction.none): string =>
  `event: ${retryNoticeEvent}\ndata: ${JSON.stringify(toRetryNotice(event, redact))}\n\n`

/** @internal */
export const sseStreamWithRetries = (
  f: (onRetry: (event: MimoClient.RetryEvent) => Effect.Effect<void>) => Stream.Stream<
    ChatCompletion.Chunk,
    MimoError.MimoError
  >,
  options?: ServerError.SseOptions
): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.stream(
    Stream.unwrapScoped(Effect.gen(function*() {
      // One queue, one producer (the upstream's fiber: `onRetry` runs in it, before its next attempt),
      // so notices and chunks reach the client in the order they happened; a bounded queue keeps a slow
      // client's backpressure on the upstream. Closing the response interrupts the producer.
      const queue = yield* Effect.acquireRelease(Queue.bounded<Take.Take<Uint8Array>>(64), Queue.shutdown)
      const offer = (bytes: Uint8Array) => Queue.offer(queue, Take.of(bytes))
      const redact = options?.redact ?? redaction.none
      const onRetry = (event: MimoClient.RetryEvent) => offer(encoder.encode(retryNoticeFrame(event, redact)))
      yield* frames(Stream.suspend(() => f(onRetry)), options).pipe(
        Stream.runForEach(offer),
        Effect.ensuring(Queue.offer(queue, Take.end)),
        Effect.forkScoped
      )
      return Stream.flattenTake(Stream.fromQueue(queue))
    })),
    sseOptions(options)
  )
