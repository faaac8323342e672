/**
 * `mimo simulator`: the simulator of `@effect-mimo/simulator` in the
 * foreground, for trying other clients (curl, openai-node, ...) against it.
 *
 * Its settings start from `Simulator.config` (the `MIMO_SIM_*` variables) and
 * the command-line options override them. When `MIMO_API_KEY` is set, it is
 * the one key accepted (any other gets 401); otherwise any non-empty key is.
 */
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"

/** What `mimo simulator` was asked to do. */
export interface Options {
  readonly port: number
  readonly seed: Option.Option<number>
  readonly fault: ReadonlyArray<string>
  readonly faults: Option.Option<string>
  readonly errorShape: Option.Option<"seed" | "xiaomi" | "bare">
  readonly rpm: Option.Option<number>
  readonly rps: Option.Option<number>
  readonly tpm: Option.Option<number>
  readonly burst: Option.Option<number>
  readonly noRateLimit: boolean
  readonly retryAfter: Option.Option<"seconds" | "millis" | "none">
  readonly chunkDelay: Option.Option<Duration.Duration>
}

class BadFault extends Error {
  readonly _tag = "BadFault"
}

const parseFault = (text: string): Effect.Effect<Fault.Fault, BadFault> =>
  Either.match(Fault.parse(text), {
    onLeft: (message) => Effect.fail(new BadFault(`bad fault "${text}": ${message}`)),
    onRight: Effect.succeed
  })

/** `<fault>@<probability>` joined by `|`, as in `MIMO_SIM_FAULTS`. */
const parseMix = (text: string, seed: number): Effect.Effect<Simulator.FaultMix, BadFault> =>
  Effect.forEach(text.split("|").filter((s) => s.trim() !== ""), (item) => {
    const at = item.lastIndexOf("@")
    const probability = Number(item.slice(at + 1))
    return at === -1 || !Number.isFinite(probability) || probability < 0 || probability > 1
      ? Effect.fail(new BadFault(`bad fault mix item "${item}": expected <fault>@<probability in [0, 1]>`))
      : Effect.map(parseFault(item.slice(0, at)), (fault) => ({ fault, probability }))
  }).pipe(Effect.map((mix) => ({ seed, mix })))

const some = <A, K extends string>(option: Option.Option<A>, key: K) =>
  Option.match(option, { onNone: () => ({}), onSome: (value) => ({ [key]: value }) as { [P in K]: A } })

/** The simulator's options: `Simulator.config` overridden by the command line. */
const simulatorOptions = (options: Options) =>
  Effect.gen(function*() {
    const base = yield* Simulator.config
    const { apiKey } = yield* Environment.settings
    const seed = Option.getOrElse(options.seed, () => base.seed ?? 0)
    const script = yield* Effect.forEach(options.fault, parseFault)
    const faults = yield* Option.match(options.faults, {
      onNone: () => Effect.succeed(base.faults),
      onSome: (text) => parseMix(text, seed)
    })
    const rateLimit: Simulator.RateLimitOptions = {
      ...base.rateLimit,
      ...(options.noRateLimit ? { enabled: false } : {}),
      ...some(options.rpm, "requestsPerMinute"),
      ...some(options.rps, "requestsPerSecond"),
      ...some(options.tpm, "tokensPerMinute"),
      ...some(options.burst, "burst"),
      ...some(options.retryAfter, "retryAfter")
    }
    return {
      ...base,
      host: "127.0.0.1",
      port: options.port,
      seed,
      rateLimit,
      ...(faults !== undefined ? { faults } : {}),
      ...(script.length > 0 ? { script } : {}),
      ...some(options.errorShape, "errorShape"),
      ...some(options.chunkDelay, "chunkDelay"),
      // MIMO_API_KEY, when set, is the one key accepted.
      ...Option.match(apiKey, { onNone: () => ({}), onSome: (key) => ({ apiKey: key }) })
    } satisfies Simulator.Options
  })

/** Serves until interrupted (Ctrl-C): `Effect.never` inside the simulator's scope. */
export const run = (options: Options): Effect.Effect<void, Output.Reported> =>
  Effect.gen(function*() {
    const settings = yield* simulatorOptions(options)
    const simulator = yield* Simulator.make(settings)
    yield* Console.log(simulator.url)
    yield* Console.error(
      `mimo simulator: listening on ${simulator.url} (${
        settings.apiKey !== undefined ? "only MIMO_API_KEY is accepted" : "any non-empty key is accepted"
      }; control: ${simulator.origin}/_sim/stats, /_sim/script, /_sim/reset). Ctrl-C stops it.`
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Output.reportFailure
  )
