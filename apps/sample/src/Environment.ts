/**
 * Where requests go, decided from configuration, and the `MimoClient` layer
 * that sends them there.
 *
 * | `MIMO_BASE_URL` | `MIMO_API_KEY` | target |
 * |---|---|---|
 * | set | non-empty | that URL, with that key |
 * | set | unset or empty | a local `ValidationError`: nothing is sent |
 * | unset | non-empty | the official host (`MimoClient.defaultBaseUrl`) |
 * | unset | unset or empty | the embedded simulator on a random loopback port |
 *
 * Settings are read with Effect's `Config` (from the environment by default),
 * the key as a `Redacted` value that prints as `<redacted>`.
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as Redaction from "@effect-mimo/core/Redaction"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** Where the CLI sends requests. */
export type Target =
  | { readonly _tag: "Host"; readonly baseUrl: string; readonly apiKey: Redacted.Redacted<string> }
  | { readonly _tag: "EmbeddedSimulator" }

/** A variable counts as set when it holds more than blanks. */
const nonBlank = <A>(config: Config.Config<A>, text: (a: A) => string) =>
  Config.option(config).pipe(Config.map(Option.filter((a) => text(a).trim() !== "")))

/** `MIMO_BASE_URL` and `MIMO_API_KEY` (redacted), each optional. */
export const settings = Config.all({
  baseUrl: nonBlank(Config.string("MIMO_BASE_URL"), (s) => s),
  apiKey: nonBlank(Config.redacted("MIMO_API_KEY"), Redacted.value)
})

/** Decides the target; a base URL without a key fails locally, before any request. */
export const target: Effect.Effect<Target, MimoError.ValidationError | ConfigError.ConfigError> = Effect.flatMap(
  settings,
  ({ apiKey, baseUrl }): Effect.Effect<Target, MimoError.ValidationError> => {
    if (Option.isSome(baseUrl)) {
      return Option.match(apiKey, {
        onNone: () =>
          Effect.fail(
            new MimoError.ValidationError({
              field: "MIMO_API_KEY",
              value: "",
              expected: "a non-empty API key when MIMO_BASE_URL is set",
              message: `MIMO_BASE_URL is set (${baseUrl.value}) but MIMO_API_KEY is empty or unset; nothing was sent`
            })
          ),
        onSome: (key) => Effect.succeed({ _tag: "Host", baseUrl: baseUrl.value, apiKey: key })
      })
    }
    return Option.match(apiKey, {
      onNone: () => Effect.succeed({ _tag: "EmbeddedSimulator" }),
      onSome: (key) => Effect.succeed({ _tag: "Host", baseUrl: MimoClient.defaultBaseUrl, apiKey: key })
    })
  }
)

/** The key the CLI sends to its embedded simulator (which accepts any non-empty key). */
export const simulatorKey: Redacted.Redacted<string> = Redacted.make("sk-embedded-simulator")

/**
 * Scrubs the key and the base URL's secrets out of what the CLI prints (the
 * client's errors already carry none; a server's echo inside model text or a
 * message is caught here too). Nothing to scrub when the configuration is bad.
 */
export const redactor: Effect.Effect<Redaction.Redactor> = Effect.map(
  Effect.option(target),
  Option.match({
    onNone: () => Redaction.none,
    onSome: (t) =>
      t._tag === "Host"
        ? Redaction.make({ secrets: [t.apiKey], baseUrls: [t.baseUrl] })
        : Redaction.make({ secrets: [simulatorKey] })
  })
)

/**
 * Starts the embedded simulator for the layer's lifetime (`Simulator.make` is
 * scoped: the server closes with the scope) and says so on stderr. The
 * simulator's code is loaded only here, so that runs against a real host
 * start faster.
 */
const embedded: Layer.Layer<MimoClient.MimoClient, HttpServerError.ServeError> = Layer.unwrapScoped(
  Effect.gen(function*() {
    const Simulator = yield* Effect.promise(() => import("@effect-mimo/simulator/Simulator"))
    const simulator = yield* Simulator.make({ port: 0 })
    yield* Console.error(
      `mimo: MIMO_API_KEY and MIMO_BASE_URL are not set; using the embedded simulator at ${simulator.url}`
    )
    return NodeMimoClient.layer({ apiKey: simulatorKey, baseUrl: simulator.url })
  })
)

/**
 * `MimoClient` for the decided target, over undici (`NodeMimoClient`, the Node
 * adapter). Retry, timeout and `onRetry` are given per call by the commands.
 */
export const layer: Layer.Layer<
  MimoClient.MimoClient,
  MimoError.ValidationError | ConfigError.ConfigError | HttpServerError.ServeError
> = Layer.unwrapEffect(
  Effect.map(target, (target) =>
    target._tag === "Host"
      ? NodeMimoClient.layer({ apiKey: target.apiKey, baseUrl: target.baseUrl })
      : embedded)
)
