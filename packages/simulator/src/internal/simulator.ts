/**
 * The simulator's serving: the app on a node:http server (the platform's
 * handler), the options from Config.
 *
 * @internal
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Fault from "../Fault.js"
import type * as Simulator from "../Simulator.js"
import * as internalApp from "./app.js"

/** @internal */
export const faultHeader = internalApp.faultHeader

/** @internal */
export const app = (options: Simulator.Options = {}): Effect.Effect<Simulator.Embedded> =>
  Effect.map(internalApp.build(options), (built) => ({
    app: built.app,
    router: built.router,
    stats: built.stats,
    resetStats: built.resetStats,
    script: built.script,
    reset: built.reset
  }))

/** @internal */
export const make = (
  options: Simulator.Options = {}
): Effect.Effect<Simulator.SimulatorService, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const built = yield* internalApp.build(options)
    const host = options.host ?? "127.0.0.1"
    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, { host, port: options.port ?? 0 })
    // The platform's handler for the app (tracing off unless asked: it costs ~100 µs a request).
    const makeHandler = NodeHttpServer.makeHandler(built.app)
    const platform = yield* options.tracing === true
      ? makeHandler
      : HttpMiddleware.withTracerDisabledWhenEffect(makeHandler, () => true)
    const listener = platform
    nodeServer.on("request", listener)
    // Runs before the server closes: connections still open (a hang, a slow stream) would keep it open.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        nodeServer.off("request", listener)
        nodeServer.closeAllConnections()
      })
    )
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const origin = `http://${host.includes(":") ? `[${host}]` : host}:${port}`
    return {
      url: `${origin}/v1`,
      origin,
      port,
      stats: built.stats,
      resetStats: built.resetStats,
      script: built.script,
      reset: built.reset
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
    if (entry.slice(at + 1).trim() === "" || !Number.isFinite(probability) || probability < 0 || probability > 1) {
      return Either.left(`"${entry}": the probability must be a number in [0, 1]`)
    }
    const fault = Fault.parse(entry.slice(0, at))
    if (Either.isLeft(fault)) return Either.left(`"${entry}": ${fault.left}`)
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
  errorShape: Config.literal("seed", "xiaomi", "bare")("MIMO_SIM_ERROR_SHAPE").pipe(
    Config.withDefault("seed" as const)
  ),
  cors: Config.boolean("MIMO_SIM_CORS").pipe(Config.withDefault(false)),
  chunkDelay: optional(Config.duration("MIMO_SIM_CHUNK_DELAY")),
  maxBodyBytes: optional(Config.integer("MIMO_SIM_MAX_BODY_BYTES")),
  controlToken: optional(Config.redacted("MIMO_SIM_CONTROL_TOKEN")),
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
    maxBodyBytes: c.maxBodyBytes,
    controlToken: c.controlToken,
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
