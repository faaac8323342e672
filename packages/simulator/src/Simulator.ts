/**
 * A MiMo-compatible HTTP server (OpenAI-style `/v1/chat/completions` and
 * `/v1/models`) with deterministic answers, fault injection and rate limits,
 * served on 127.0.0.1 by `@effect/platform`'s HttpServer on Node.
 *
 * It is the embedded default of the `mimo` CLI, the ground truth of the
 * end-to-end tests and the target of the benchmarks.
 *
 * Endpoints:
 * - `POST /v1/chat/completions`: JSON, or SSE with `stream: true`; text, tool
 *   calls (when the last user message says `call <tool name>`), thinking, JSON
 *   mode, TTS audio (WAV / PCM16 / MP3) and ASR.
 * - `GET /v1/models`: the known models (and `options.models`).
 * - `GET /_sim/stats`, `POST /_sim/script` (a JSON array of faults),
 *   `GET /_sim/script`, `POST /_sim/reset`: control from other processes.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as Fault from "./Fault.js"
import * as internal from "./internal/simulator.js"

/**
 * Rate limits: per-model token buckets for requests and for tokens, as the
 * real service counts them (per account and per model, [X] §2).
 *
 * A bucket holds `burst` requests and refills at the per-minute (or
 * per-second) rate; a request also takes its tokens (prompt + completion)
 * from the token bucket. A request that does not fit gets
 * `429 rate_limit_exceeded` with `Retry-After`.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 *
 * // the benchmark's limit: 50 requests a second, 50 at once
 * Simulator.make({ rateLimit: { requestsPerSecond: 50, burst: 50 } })
 * // the documented limits, with a "minute" lasting one second
 * Simulator.make({ rateLimit: { timeScale: 60 } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimitOptions extends ModelLimits {
  /** Whether limits apply at all. Default `true`. */
  readonly enabled?: boolean | undefined
  /**
   * How much faster than real time the buckets refill: with `60`, a "minute"
   * passes in one second. `Retry-After` is given in real time. Default `1`.
   */
  readonly timeScale?: number | undefined
  /**
   * What a limited answer says about when to retry: `"seconds"` (default):
   * `Retry-After` in whole seconds, rounded up, as real servers do;
   * `"millis"`: `Retry-After` plus the exact `retry-after-ms`; `"none"`: no header.
   */
  readonly retryAfter?: "seconds" | "millis" | "none" | undefined
  /**
   * Limits for particular models, over the ones above. `mimo-v2.5-asr` has
   * `tokensPerMinute: 10_000` unless given here.
   */
  readonly perModel?: Readonly<Record<string, ModelLimits>> | undefined
}

/**
 * The limits of one model (or of every model, as defaults).
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 *
 * Simulator.make({ rateLimit: { perModel: { "mimo-v2.5-pro": { requestsPerMinute: 10 } } } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ModelLimits {
  /** Requests per minute. Default `100` (the documented RPM). */
  readonly requestsPerMinute?: number | undefined
  /**
   * Requests per second: when set, it replaces `requestsPerMinute`, e.g.
   * `{ requestsPerSecond: 50, burst: 50 }`.
   */
  readonly requestsPerSecond?: number | undefined
  /** How many requests may arrive at once. Default: the per-minute (or per-second) limit. */
  readonly burst?: number | undefined
  /** Tokens per minute. Default `10_000_000` (the documented TPM). */
  readonly tokensPerMinute?: number | undefined
  /** How many tokens may be taken at once. Default: `tokensPerMinute`. */
  readonly tokenBurst?: number | undefined
}

/**
 * Seeded random faults: for each chat request (not answered by the header
 * or the script), one draw in [0, 1) walks the mix; the same seed gives the
 * same sequence of faults.
 *
 * @example
 * ```ts
 * import { Fault, Simulator } from "@effect-mimo/simulator"
 *
 * Simulator.make({
 *   faults: {
 *     seed: 1,
 *     mix: [
 *       { fault: Fault.error("service_unavailable"), probability: 0.1 },
 *       { fault: Fault.reset, probability: 0.05 }
 *     ]
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultMix {
  readonly seed: number
  readonly mix: ReadonlyArray<{ readonly fault: Fault.Fault; readonly probability: number }>
}

/**
 * The simulator's settings; every field is optional.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Redacted } from "effect"
 *
 * const options: Simulator.Options = { apiKey: Redacted.make("sk-test"), seed: 42, errorShape: "xiaomi", cors: true }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The port on `host`. Default `0`: a free port, see `SimulatorService.port`. */
  readonly port?: number | undefined
  /** The address to listen on. Default `"127.0.0.1"`. */
  readonly host?: string | undefined
  /**
   * The one key accepted (`Authorization: Bearer <key>` or `api-key: <key>`);
   * any other gets 401. When unset, any non-empty key is accepted. A missing
   * key is always a 401.
   */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** The seed of every answer: the same seed and request give the same answer. Default `0`. */
  readonly seed?: number | undefined
  /** The envelope of error bodies. Default `"seed"`. */
  readonly errorShape?: Fault.Shape | undefined
  /** Seeded random faults. Default: none. */
  readonly faults?: FaultMix | undefined
  /** Faults queued at start, consumed one per chat request (as `script` does). */
  readonly script?: ReadonlyArray<Fault.Fault> | undefined
  /** Rate limits. Default: 100 RPM and 10M TPM per model, enabled. */
  readonly rateLimit?: RateLimitOptions | undefined
  /** Answer CORS preflights and add `access-control-allow-origin: *`. Default `false`. */
  readonly cors?: boolean | undefined
  /** More model ids to serve (as text models) besides the known ones. */
  readonly models?: ReadonlyArray<string> | undefined
  /** Answer unknown model ids as text models instead of 404. Default `false`. */
  readonly allowUnknownModels?: boolean | undefined
  /** A pause between SSE events. Default: none (all events are written at once). */
  readonly chunkDelay?: Duration.DurationInput | undefined
  /** Keep `@effect/platform`'s per-request server spans. Default `false` (they cost ~100 µs a request). */
  readonly tracing?: boolean | undefined
  /**
   * The largest request body read, in bytes; a larger one is answered
   * `413 request_too_large` (in the `errorShape` envelope) with
   * `Connection: close`, read no further. Default {@link defaultMaxBodyBytes} (32 MiB).
   */
  readonly maxBodyBytes?: number | undefined
  /**
   * A token the control endpoints (`/_sim/*`) require in `x-mimo-sim-token`.
   * Default: none (they are still closed to browsers on other origins).
   */
  readonly controlToken?: Redacted.Redacted<string> | undefined
}

/**
 * The default of `Options.maxBodyBytes`: 32 MiB (room for base64 images,
 * audio and voice samples; the platform's own default is 10 MiB).
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 *
 * Simulator.defaultMaxBodyBytes // 33554432
 * ```
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultMaxBodyBytes: number = 32 * 1024 * 1024

/**
 * What the simulator has seen since it started (or since `resetStats`).
 * Requests to `/_sim/*` are not counted.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * const closedByClients = Effect.map(Simulator.Simulator, (sim) => sim.stats).pipe(
 *   Effect.flatten,
 *   Effect.map((stats) => stats.clientClosed)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Requests received. */
  readonly requests: number
  /** Requests per path (at most 64 distinct paths, the rest under `(other)`). */
  readonly byPath: Readonly<Record<string, number>>
  /** Responses per status, 200 included (resets, hangs and cuts after the headers are not here). */
  readonly byStatus: Readonly<Record<string, number>>
  /** Faults applied, per kind (`Error`, `Status`, `Reset`, ..., and `Ok` when one was given explicitly). */
  readonly byFault: Readonly<Record<string, number>>
  /** 429s given by the rate limiter (not by faults). */
  readonly rateLimited: number
  /** Tokens of the answered requests. */
  readonly tokens: { readonly prompt: number; readonly completion: number; readonly total: number }
  /**
   * SSE responses: `opened`; `closed` (ended with `[DONE]`); `cut` (by a
   * `StreamCut`); `errored` (ended by an error event); `aborted` (the client
   * went away first).
   */
  readonly streams: {
    readonly opened: number
    readonly closed: number
    readonly cut: number
    readonly errored: number
    readonly aborted: number
  }
  /** Connections the client closed before the response was complete (hangs, latencies, streams). */
  readonly clientClosed: number
  /** Requests in flight now (a gauge: `resetStats` leaves it). */
  readonly active: number
}

/**
 * The control surface shared by a running simulator and an embedded one.
 *
 * @example
 * ```ts
 * import { Fault, Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * const failTwice = Effect.flatMap(Simulator.Simulator, (sim) =>
 *   sim.script([Fault.error("internal_error"), Fault.error("service_unavailable")]))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Control {
  /** A snapshot of the counters. */
  readonly stats: Effect.Effect<Stats>
  /** Zeroes the counters. */
  readonly resetStats: Effect.Effect<void>
  /** Queues faults, consumed one per chat request, before the probabilities. */
  readonly script: (faults: Iterable<Fault.Fault>) => Effect.Effect<void>
  /** Back to the start: counters, script, rate-limit buckets and the fault sequence. */
  readonly reset: Effect.Effect<void>
}

/**
 * A running simulator.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * const baseUrl = Effect.map(Simulator.Simulator, (sim) => sim.url) // "http://127.0.0.1:<port>/v1"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorService extends Control {
  /** The OpenAI-compatible base URL, e.g. `http://127.0.0.1:53211/v1`. */
  readonly url: string
  /** The origin without `/v1`, e.g. `http://127.0.0.1:53211` (for `/_sim/*`). */
  readonly origin: string
  /** The port it listens on. */
  readonly port: number
}

/**
 * The simulator as a service.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const sim = yield* Simulator.Simulator
 *   const response = yield* Effect.promise(() => fetch(`${sim.url}/models`, { headers: { "api-key": "k" } }))
 *   return response.status // 200
 * }).pipe(Effect.provide(Simulator.layer({ seed: 1 })))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class Simulator extends Context.Tag("@effect-mimo/simulator/Simulator")<Simulator, SimulatorService>() {}

/**
 * The simulator as an `HttpApp` and a router, for serving inside another
 * HttpServer, with its control surface.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { HttpRouter } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const mounted = Effect.map(Simulator.app(), (sim) => HttpRouter.empty.pipe(HttpRouter.mountApp("/mimo", sim.app)))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Embedded extends Control {
  /** Every endpoint, unknown paths answered with a 404 `not_found` envelope. */
  readonly app: HttpApp.Default<never, never>
  /** The routes alone (unknown paths fail with `RouteNotFound`). */
  readonly router: HttpRouter.HttpRouter<never, never>
}

/**
 * The request header that selects a fault for one request (JSON or the short
 * form of `Fault.FromString`).
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 *
 * const headers = { [Simulator.faultHeader]: "error:rate_limit_exceeded;retry-after=3" }
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const faultHeader: string = internal.faultHeader

/**
 * Builds the simulator's app and router without listening anywhere.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { HttpServer } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const serveHere = Effect.gen(function*() {
 *   const sim = yield* Simulator.app({ seed: 7 })
 *   yield* HttpServer.serveEffect(sim.app)
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const app: (options?: Options) => Effect.Effect<Embedded> = internal.app

/**
 * Starts the simulator on `{ host: "127.0.0.1", port: options.port ?? 0 }`;
 * it stops when the scope closes (open connections are closed).
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * Effect.scoped(Effect.gen(function*() {
 *   const sim = yield* Simulator.make({ rateLimit: { enabled: false } })
 *   console.log(sim.url) // http://127.0.0.1:<port>/v1
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options?: Options
) => Effect.Effect<SimulatorService, HttpServerError.ServeError, Scope.Scope> = internal.make

/**
 * A layer running the simulator.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 *
 * const SimulatorLive = Simulator.layer({ seed: 42, rateLimit: { timeScale: 60 } })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Simulator, HttpServerError.ServeError> =>
  Layer.scoped(Simulator, make(options))

/**
 * The options read from the environment:
 *
 * | variable | option | default |
 * |---|---|---|
 * | `MIMO_SIM_PORT` | `port` | 0 |
 * | `MIMO_SIM_HOST` | `host` | 127.0.0.1 |
 * | `MIMO_SIM_SEED` | `seed` | 0 |
 * | `MIMO_SIM_API_KEY` | `apiKey` | any key |
 * | `MIMO_SIM_ERROR_SHAPE` | `errorShape` | seed |
 * | `MIMO_SIM_CORS` | `cors` | false |
 * | `MIMO_SIM_CHUNK_DELAY` | `chunkDelay` (a duration, e.g. `20 millis`) | none |
 * | `MIMO_SIM_MAX_BODY_BYTES` | `maxBodyBytes` | 33554432 |
 * | `MIMO_SIM_CONTROL_TOKEN` | `controlToken` | none |
 * | `MIMO_SIM_RATE_LIMIT` | `rateLimit.enabled` | true |
 * | `MIMO_SIM_RPM` / `MIMO_SIM_RPS` | `rateLimit.requestsPerMinute` / `requestsPerSecond` | 100 / unset |
 * | `MIMO_SIM_TPM` | `rateLimit.tokensPerMinute` | 10000000 |
 * | `MIMO_SIM_BURST` | `rateLimit.burst` | the limit |
 * | `MIMO_SIM_TIME_SCALE` | `rateLimit.timeScale` | 1 |
 * | `MIMO_SIM_RETRY_AFTER` | `rateLimit.retryAfter` | seconds |
 * | `MIMO_SIM_FAULTS` | `faults.mix`: `<fault>@<probability>` joined by `\|`, e.g. `error:503@0.1\|reset@0.05` | none |
 * | `MIMO_SIM_FAULT_SEED` | `faults.seed` | `MIMO_SIM_SEED` |
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Effect } from "effect"
 *
 * const options = Effect.runSync(Simulator.config)
 * ```
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = internal.config

/**
 * A layer running the simulator with the options of {@link config}.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-mimo/simulator"
 * import { Layer } from "effect"
 *
 * const SimulatorFromEnv: Layer.Layer<Simulator.Simulator, unknown> = Simulator.layerConfig
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<Simulator, HttpServerError.ServeError | ConfigError.ConfigError> = Layer
  .scoped(Simulator, Effect.flatMap(config, make))
