/**
 * `MimoClient`: the MiMo API as an Effect service.
 *
 * It sends everything (buffered calls and streams) through the one
 * `MimoTransport` in context and never picks a platform itself: provide
 * `@effect-mimo/platform-node` (undici), `@effect-mimo/platform-browser`
 * (fetch), or `MimoTransport.layerHttpClient` over any `HttpClient` layer.
 *
 * Limits (each an option and a `Config` key, see {@link config}):
 * - `timeout` (default 10 minutes): each attempt, until the whole body of a
 *   buffered call, or until the first chunk of a stream;
 * - `idleTimeout` (default 2 minutes): between two events of a stream, after
 *   its first chunk (comments and keep-alive pings are no progress);
 * - `deadline` (default none): the whole call, attempts in flight included;
 * - `maxBodySize` (default 32 MiB): a 2xx body read whole, past which the
 *   call fails with `ResponseDecodeError` without reading further;
 * - `maxEventSize` (default 8 MiB): one SSE event or line of a stream.
 *
 * Spans: under Effect's default tracer, which records nothing, the client
 * makes none (they cost a tenth of a call); with any other tracer
 * (OpenTelemetry, your own) every call is a span `MimoClient.<operation>` and
 * every attempt a child span `MimoClient.attempt`.
 *
 * Every call validates its request first (nothing is sent when validation
 * fails), authenticates with a `Redacted` key, applies a per-attempt timeout,
 * retries with the core's default `RetryPolicy` (or yours), logs each failed
 * attempt once, and fails only with `MimoError`s.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import type * as ChatCompletion from "./ChatCompletion.js"
import * as internal from "./internal/mimoClient.js"
import type * as MimoError from "./MimoError.js"
import type * as MimoTransport from "./MimoTransport.js"
import type * as Model from "./Model.js"
import type * as RetryQuota from "./RetryQuota.js"
import type * as SpeechModule from "./Speech.js"
import type * as Validation from "./Validation.js"

/**
 * What a caller learns about each failed attempt that will be retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryEvent {
  /** The attempt that failed, counting from 1. */
  readonly attempt: number
  /** Why it failed. */
  readonly error: MimoError.MimoError
  /** How long the policy waits before the next attempt. */
  readonly delay: Duration.Duration
}

/**
 * What a wrapper of attempts ({@link AroundAttempt}) learns about the attempt it wraps.
 *
 * @since 0.1.0
 * @category models
 */
export interface AttemptInfo {
  /** The operation: `"chat"` (speech included), `"stream"` or `"models"`. */
  readonly operation: "chat" | "stream" | "models"
  /** The model of the request (`undefined` for `models`). */
  readonly model: string | undefined
  /** The attempt, counting from 1. */
  readonly attempt: number
}

/**
 * Wraps every attempt of a call (the first and each retry, after the retry
 * policy's wait): it may wait before running it (a rate limiter), refuse it
 * (a circuit breaker), or observe its outcome (every failure, the last one
 * included, with its `Retry-After`). It runs outside the per-attempt timeout.
 * For `stream`, an attempt lasts until the first chunk.
 *
 * @example
 * ```ts
 * import type { MimoClient } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const logged: MimoClient.AroundAttempt = (attempt, info) =>
 *   Effect.zipRight(Effect.logDebug(`attempt ${info.attempt} of ${info.operation}`), attempt)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type AroundAttempt = <A>(
  attempt: Effect.Effect<A, MimoError.MimoError>,
  info: AttemptInfo
) => Effect.Effect<A, MimoError.MimoError>

/**
 * Client settings. Only `apiKey` is required (unless `authHeader` is `"none"`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API key. Kept `Redacted`: it never appears in logs, spans, errors or `toString`. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /**
   * The OpenAI-compatible base URL. Default `https://api.xiaomimimo.com/v1`.
   * Others: `https://token-plan-{cn,sgp,ams}.xiaomimimo.com/v1` (Token Plan `tp-` keys, bound to
   * their region) and `https://api.mimo-v2.com/v1` (mimo-v2.com, a separate compatible provider).
   */
  readonly baseUrl?: string | undefined
  /**
   * How the key is sent: `Authorization: Bearer <key>` (default) or `api-key: <key>`; or `"none"`: no key
   * at all, for talking to your own backend that holds it (as `@effect-mimo/platform-browser` does).
   */
  readonly authHeader?: "authorization" | "api-key" | "none" | undefined
  /** Per-attempt timeout (default 10 minutes); for streams, until the first chunk. A timeout is a retryable `TransportError`. */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * The longest silence between two events of a stream after its first chunk (default 2 minutes). SSE
   * comments and keep-alive pings do not count as events. Past it the stream fails with a `TransportError`
   * `"Timeout"` whose `received` holds the text delivered so far.
   */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** The retry policy (default `RetryPolicy.defaultPolicy`). */
  readonly retry?: Schedule.Schedule<unknown, MimoError.MimoError> | undefined
  /**
   * An end-to-end budget per call (default none): no retry starts whose wait would cross it, and the
   * attempt in flight (a stream's reading included) is cut when it passes, with a `TransportError` `"Timeout"`.
   */
  readonly deadline?: Duration.DurationInput | undefined
  /**
   * The largest 2xx body a buffered call reads, in bytes (default `MimoTransport.defaultMaxBodySize`, 32 MiB).
   * A larger one fails with `ResponseDecodeError` and is read no further.
   */
  readonly maxBodySize?: number | undefined
  /**
   * The largest SSE event (or single line) a stream accepts, in characters (default 8 MiB). A larger one fails
   * the stream with `ResponseDecodeError` and is read no further.
   */
  readonly maxEventSize?: number | undefined
  /**
   * The level of the client's own log lines: each failed attempt that is retried, and the call's final
   * failure (default `Debug`: a program that handles the error prints nothing it did not ask for).
   */
  readonly logLevel?: LogLevel.LogLevel | undefined
  /**
   * Called for each retry notice a backend streams (`event: mimo.retry`, as `ServerError.sseStreamWithRetries`
   * writes them): the backend's attempt that failed, its typed error and the backend's wait.
   */
  readonly onGatewayRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /**
   * The client's retry quota, shared by all its calls (and by every client given the same one): each retry pays
   * from it, successes refill it, and an empty quota means no more retries, so an outage is not multiplied.
   * Default: a new `RetryQuota.unsafeMake()` per client (AWS's standard quota: 100 retries in a full outage).
   * `false` turns it off.
   */
  readonly retryQuota?: RetryQuota.RetryQuota | false | undefined
  /** The validation profile (default: chosen from the base URL by `Validation.profileFor`). */
  readonly validation?: Validation.Profile | undefined
  /** Extra headers sent with every request. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Called for every failed attempt that will be retried. */
  readonly onRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /** Wraps every attempt of every call; it runs outside the call's own `aroundAttempt`. */
  readonly aroundAttempt?: AroundAttempt | undefined
}

/**
 * Per-call settings; each overrides the client's (`onRetry` and
 * `aroundAttempt` are added to the client's: both run).
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly retry?: Schedule.Schedule<unknown, MimoError.MimoError> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly deadline?: Duration.DurationInput | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly onRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /** Called for each retry notice the backend streams (added to the client's). */
  readonly onGatewayRetry?: ((event: RetryEvent) => Effect.Effect<void>) | undefined
  /** Wraps every attempt of this call, inside the client's `aroundAttempt`. */
  readonly aroundAttempt?: AroundAttempt | undefined
  /**
   * The retry quota this call's retries pay from (and its successes refill), instead of the client's `retryQuota`;
   * `false`: none. `RetryBudget.layer` of `@effect-mimo/resilience` sets it, so that a budget shared by several
   * clients is paid under each client's own retry policy.
   *
   * @since 0.2.0
   */
  readonly retryQuota?: RetryQuota.RetryQuota | false | undefined
  /**
   * For a decorator that paces attempts itself (`RateLimit` of `@effect-mimo/resilience`): asked after each
   * failed attempt, before the retry policy. A delay sends the request again after it, as a new attempt (its
   * `AttemptInfo.attempt` and retry-count header count it, `onRetry` sees it) that neither the policy nor the
   * retry quota counts: a request the server refused with 429, queued again behind the limiter until its
   * `Retry-After`. `undefined`, or a delay that would end past the call's deadline, leaves the failure to the
   * policy. The hook bounds how many times it answers with a delay.
   *
   * @since 0.2.0
   */
  readonly requeue?:
    | ((error: MimoError.MimoError, info: AttemptInfo) => Effect.Effect<Duration.Duration | undefined>)
    | undefined
  /**
   * For a decorator that paces attempts itself: changes each wait the retry policy chose, once the policy (and
   * the quota) agreed to retry, before the call's deadline is checked against it. `RateLimit` shortens the wait
   * after a 5xx while the server is otherwise healthy (its queue spaces the retries already).
   *
   * @since 0.2.0
   */
  readonly retryDelay?:
    | ((delay: Duration.Duration, error: MimoError.MimoError) => Effect.Effect<Duration.Duration>)
    | undefined
}

/**
 * Text-to-speech output: the decoded audio bytes, their format, and the raw response.
 *
 * @since 0.1.0
 * @category models
 */
export interface Speech {
  readonly audio: Uint8Array
  readonly format: string
  readonly response: ChatCompletion.Response
}

/**
 * The service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The base URL requests go to. */
  readonly baseUrl: string
  /** The validation profile in force. */
  readonly profile: Validation.Profile
  /**
   * `POST /chat/completions`, non-streaming. Like every operation here, the effect is a description: each run
   * is a call of its own (its own `x-client-request-id`, attempt count and deadline), however often it runs.
   */
  readonly chat: (
    request: ChatCompletion.Request,
    options?: CallOptions
  ) => Effect.Effect<ChatCompletion.Response, MimoError.MimoError>
  /**
   * `POST /chat/completions` with `stream: true`, as a `Stream` of typed chunks (ending at `data: [DONE]`).
   * Retried only before the first chunk; after it, a cut, an error event or an undecodable chunk ends the
   * stream with a typed error, and what was emitted stays emitted.
   */
  readonly stream: (
    request: ChatCompletion.Request,
    options?: CallOptions
  ) => Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>
  /**
   * Text-to-speech through chat completions: the decoded audio bytes. Takes the caller's input, or the
   * `Speech.Prepared` a decorator made of it with `Speech.prepare` (sent as it was built, without validating
   * or building it again, when prepared against this service's `profile`).
   */
  readonly speech: (
    input: ChatCompletion.SpeechInput | SpeechModule.Prepared,
    options?: CallOptions
  ) => Effect.Effect<Speech, MimoError.MimoError>
  /** `GET /models`. */
  readonly models: (options?: CallOptions) => Effect.Effect<Model.ModelList, MimoError.MimoError>
}

/**
 * The MiMo client service.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { NodeMimoClient } from "@effect-mimo/platform-node"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const mimo = yield* MimoClient.MimoClient
 *   const response = yield* mimo.chat({
 *     model: "mimo-v2-flash",
 *     messages: [{ role: "user", content: "Hello!" }]
 *   })
 *   return response.choices[0]?.message?.content
 * })
 *
 * program.pipe(Effect.provide(NodeMimoClient.layerConfig()), Effect.runPromise)
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class MimoClient extends Context.Tag("@effect-mimo/core/MimoClient")<MimoClient, Service>() {}

/**
 * The default base URL (Xiaomi pay-as-you-go).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 *
 * MimoClient.defaultBaseUrl // "https://api.xiaomimimo.com/v1"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl: string = internal.defaultBaseUrl

/**
 * The header that carries the retry count on retried attempts (`1` on the first retry).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 *
 * MimoClient.retryCountHeader // "x-mimo-retry-count"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const retryCountHeader: string = internal.retryCountHeader

/**
 * The header that carries the client request id: one random id per call, sent
 * on each of its attempts and kept in the error the call fails with
 * (`clientRequestId`), so that logs on both sides can be joined.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 *
 * MimoClient.clientRequestIdHeader // "x-client-request-id"
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const clientRequestIdHeader: string = internal.clientRequestIdHeader

/**
 * The default idle timeout of a stream (2 minutes).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { Duration } from "effect"
 *
 * Duration.toSeconds(MimoClient.defaultIdleTimeout) // 120
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultIdleTimeout: Duration.Duration = internal.defaultIdleTimeout

/**
 * The default largest SSE event (or line) of a stream: 8 MiB.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 *
 * MimoClient.defaultMaxEventSize // 8388608
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxEventSize: number = internal.defaultMaxEventSize

/**
 * Builds the service over the `MimoTransport` in context.
 *
 * @example
 * ```ts
 * import { MimoClient, MimoTransport } from "@effect-mimo/core"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Redacted } from "effect"
 *
 * const client = MimoClient.make({ apiKey: Redacted.make("sk-...") }).pipe(
 *   Effect.provide(MimoTransport.layerHttpClient),
 *   Effect.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, never, MimoTransport.MimoTransport> = internal.make

/**
 * A layer from options, over the `MimoTransport` an adapter provides
 * (`NodeMimoClient.layer` and `BrowserMimoClient.layer` do both in one).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { Redacted } from "effect"
 *
 * const MimoLive = MimoClient.layer({ apiKey: Redacted.make("sk-..."), timeout: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<MimoClient, never, MimoTransport.MimoTransport> =>
  Layer.effect(MimoClient, make(options))

/**
 * The settings read from configuration:
 * `MIMO_API_KEY` (required, non-empty, redacted), `MIMO_BASE_URL` (default
 * `https://api.xiaomimimo.com/v1`), `MIMO_AUTH_HEADER` (`authorization` or
 * `api-key`), `MIMO_TIMEOUT` (a duration such as `30 seconds`),
 * `MIMO_IDLE_TIMEOUT` (default 2 minutes), `MIMO_DEADLINE` (default none),
 * `MIMO_MAX_BODY_SIZE` (bytes, default 32 MiB), `MIMO_MAX_EVENT_SIZE` (characters, default 8 MiB),
 * `MIMO_LOG_LEVEL` (default `Debug`).
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * const options = Effect.runSync(MimoClient.config.pipe(Effect.orDie))
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  apiKey: Config.redacted("MIMO_API_KEY").pipe(
    Config.validate({
      message: "MIMO_API_KEY must not be empty",
      validation: (key) => Redacted.value(key).trim() !== ""
    })
  ),
  baseUrl: Config.string("MIMO_BASE_URL").pipe(Config.withDefault(internal.defaultBaseUrl)),
  authHeader: Config.literal("authorization", "api-key")("MIMO_AUTH_HEADER").pipe(
    Config.withDefault("authorization" as const)
  ),
  timeout: Config.duration("MIMO_TIMEOUT").pipe(Config.withDefault(internal.defaultTimeout)),
  idleTimeout: Config.duration("MIMO_IDLE_TIMEOUT").pipe(Config.withDefault(internal.defaultIdleTimeout)),
  deadline: Config.option(Config.duration("MIMO_DEADLINE")).pipe(
    Config.map((d) => d._tag === "Some" ? d.value : undefined)
  ),
  maxBodySize: Config.integer("MIMO_MAX_BODY_SIZE").pipe(
    Config.validate({ message: "MIMO_MAX_BODY_SIZE must be a positive number of bytes", validation: (n) => n > 0 }),
    Config.withDefault(internal.defaultMaxBodySize)
  ),
  maxEventSize: Config.integer("MIMO_MAX_EVENT_SIZE").pipe(
    Config.validate({
      message: "MIMO_MAX_EVENT_SIZE must be a positive number of characters",
      validation: (n) => n > 0
    }),
    Config.withDefault(internal.defaultMaxEventSize)
  ),
  logLevel: Config.logLevel("MIMO_LOG_LEVEL").pipe(Config.withDefault(internal.defaultLogLevel))
})

/**
 * A layer from configuration (see `config`), with optional overrides.
 *
 * @example
 * ```ts
 * import { MimoClient } from "@effect-mimo/core"
 *
 * const MimoLive = MimoClient.layerConfig({ timeout: "30 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides?: Partial<Omit<Options, "apiKey">>
): Layer.Layer<MimoClient, import("effect/ConfigError").ConfigError, MimoTransport.MimoTransport> =>
  Layer.effect(
    MimoClient,
    Effect.flatMap(config, (options) => make({ ...options, ...overrides }))
  )
