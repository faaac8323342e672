/**
 * The `mimo` commands, declared with `@effect/cli`: `Options` and `Args` are
 * parsed and validated by the library, `Command.make` pairs them with a
 * handler, and `Command.run` adds `--help`, `--version`, `--wizard`,
 * `--completions` and `--log-level`.
 *
 * This module holds only the declarations: what a command runs lives in its
 * own module, imported (see {@link modules}) when that command runs, so that
 * `mimo --help` or a typo loads `@effect/cli` and nothing of the client, the
 * simulator or the gateway.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as CliValidationError from "@effect/cli/ValidationError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as AiCommands from "./AiCommands.js"
import type * as Chat from "./Chat.js"
import type * as Gateway from "./Gateway.js"
import type * as Load from "./Load.js"
import type * as ServeSimulator from "./ServeSimulator.js"
import type * as Speech from "./Speech.js"

// -----------------------------------------------------------------------------
// What the commands run, loaded when they run
// -----------------------------------------------------------------------------

/**
 * Every command's module, by the one `import()` that loads it: the only place
 * this file refers to a command's code (the imports above are types only).
 * The bundle (`scripts/bundle.mjs`, esbuild with code splitting) makes each a
 * chunk of its own, loaded when a handler asks for it, so that starting `mimo`
 * parses `@effect/cli` and the declarations below, and nothing else.
 *
 * A new command: add its module here, and run it with {@link lazily} in its handler.
 */
const modules = {
  chat: () => import("./Chat.js"),
  speech: () => import("./Speech.js"),
  simulator: () => import("./ServeSimulator.js"),
  gateway: () => import("./Gateway.js"),
  load: () => import("./Load.js"),
  demo: () => import("./Demo.js")
}

/** Loads a command's module (one of {@link modules}), then runs what `run` makes of it. */
const lazily = <M, A, E, R>(
  load: () => Promise<M>,
  run: (module: M) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.flatMap(Effect.promise(load), run)

/** A duration in Effect's syntax (`2 seconds`, `500 millis`), parsed by `Duration.decodeUnknown`. */
const duration = (name: string) =>
  Options.text(name).pipe(
    Options.mapEffect((text) =>
      Option.match(Duration.decodeUnknown(text), {
        onNone: () =>
          Effect.fail(
            CliValidationError.invalidValue(
              HelpDoc.p(`--${name}: expected a duration such as "2 seconds" or "500 millis", got "${text}"`)
            )
          ),
        onSome: Effect.succeed
      })
    ),
    Options.withPseudoName("duration")
  )

const atLeastOne = (name: string) => (n: number) =>
  n >= 1
    ? Effect.succeed(n)
    : Effect.fail(CliValidationError.invalidValue(HelpDoc.p(`--${name}: expected at least 1, got ${n}`)))

// -----------------------------------------------------------------------------
// mimo chat
// -----------------------------------------------------------------------------

const chatOptions = {
  model: Options.text("model").pipe(
    Options.withDefault("mimo-v2-flash"),
    Options.withDescription("The model id.")
  ),
  system: Options.text("system").pipe(Options.optional, Options.withDescription("A system message.")),
  stream: Options.boolean("stream").pipe(Options.withDescription("Stream the answer as it is generated (SSE).")),
  temperature: Options.float("temperature").pipe(Options.optional, Options.withDescription("Sampling temperature.")),
  topP: Options.float("top-p").pipe(Options.optional, Options.withDescription("Nucleus sampling (top_p).")),
  maxTokens: Options.integer("max-tokens").pipe(
    Options.optional,
    Options.withDescription("max_completion_tokens: reasoning plus answer tokens.")
  ),
  thinking: Options.boolean("thinking").pipe(Options.withDescription("Turn thinking (reasoning) on.")),
  maxAttempts: Options.integer("max-attempts").pipe(
    Options.mapEffect(atLeastOne("max-attempts")),
    Options.withDefault(5),
    Options.withDescription("Attempts in all, the first included.")
  ),
  timeout: duration("timeout").pipe(
    Options.optional,
    Options.withDescription(
      "Per-attempt timeout, e.g. \"2 seconds\" (default 10 minutes); with --stream also the longest wait between chunks."
    )
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print one JSON object (success or failure) as the last line of stdout.")
  ),
  prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("What to ask."))
}

/** `mimo chat [options] <prompt>` */
export const chat = Command.make(
  "chat",
  chatOptions,
  (options: Chat.Options) => lazily(modules.chat, (module) => module.run(options))
).pipe(
  Command.withDescription("Ask a model; retries are shown on stderr as they happen.")
)

// -----------------------------------------------------------------------------
// mimo tts
// -----------------------------------------------------------------------------

/** `mimo tts [--model] [--voice] [--format wav|mp3|pcm16] --out <file> <text>` */
export const tts = Command.make("tts", {
  model: Options.text("model").pipe(Options.withDefault("mimo-v2.5-tts"), Options.withDescription("The TTS model.")),
  voice: Options.text("voice").pipe(
    Options.optional,
    Options.withDescription("A preset voice, e.g. Mia, Chloe, Milo, Dean (mimo-v2.5-tts).")
  ),
  format: Options.choice("format", ["wav", "mp3", "pcm16"]).pipe(
    Options.withDefault("wav" as const),
    Options.withDescription("The audio format.")
  ),
  out: Options.text("out").pipe(Options.withPseudoName("file"), Options.withDescription("Where to write the audio.")),
  text: Args.text({ name: "text" }).pipe(Args.withDescription("What to say."))
}, (options: Speech.Options) => lazily(modules.speech, (module) => module.run(options))).pipe(
  Command.withDescription("Synthesise speech and write it to a file.")
)

// -----------------------------------------------------------------------------
// mimo models
// -----------------------------------------------------------------------------

/** `mimo models` */
export const models = Command.make("models", {}, () => lazily(modules.speech, (module) => module.models)).pipe(
  Command.withDescription("List the models the server offers.")
)

// -----------------------------------------------------------------------------
// mimo simulator
// -----------------------------------------------------------------------------

/** `mimo simulator [--port n] [fault and rate-limit options]` */
export const simulator = Command.make("simulator", {
  port: Options.integer("port").pipe(
    Options.withDefault(0),
    Options.withDescription("The port on 127.0.0.1 (0: a free one).")
  ),
  seed: Options.integer("seed").pipe(Options.optional, Options.withDescription("The seed of answers and faults.")),
  fault: Options.text("fault").pipe(
    Options.repeated,
    Options.withDescription(
      "A fault queued for the next chat request, in order (repeatable), e.g. error:503, " +
        "error:rate_limit_exceeded;retry-after=3, reset, hang, latency:200, cut:3, ok."
    )
  ),
  faults: Options.text("faults").pipe(
    Options.optional,
    Options.withDescription(
      "Seeded random faults: <fault>@<probability> joined by |, e.g. \"error:503@0.1|reset@0.05\"."
    )
  ),
  errorShape: Options.choice("error-shape", ["seed", "xiaomi", "bare"]).pipe(
    Options.optional,
    Options.withDescription("The envelope of error bodies.")
  ),
  rpm: Options.integer("rpm").pipe(Options.optional, Options.withDescription("Requests per minute per model.")),
  rps: Options.integer("rps").pipe(
    Options.optional,
    Options.withDescription("Requests per second per model (replaces --rpm).")
  ),
  tpm: Options.integer("tpm").pipe(Options.optional, Options.withDescription("Tokens per minute per model.")),
  burst: Options.integer("burst").pipe(Options.optional, Options.withDescription("Requests allowed at once.")),
  noRateLimit: Options.boolean("no-rate-limit").pipe(Options.withDescription("Turn rate limits off.")),
  retryAfter: Options.choice("retry-after", ["seconds", "millis", "none"]).pipe(
    Options.optional,
    Options.withDescription("How a 429 says when to retry: Retry-After seconds, plus retry-after-ms, or nothing.")
  ),
  chunkDelay: duration("chunk-delay").pipe(
    Options.optional,
    Options.withDescription("A pause between SSE events, e.g. \"20 millis\".")
  )
}, (options: ServeSimulator.Options) => lazily(modules.simulator, (module) => module.run(options))).pipe(
  Command.withDescription(
    "Run the MiMo simulator in the foreground on 127.0.0.1 and print its URL. It enforces MIMO_API_KEY when set."
  )
)

// -----------------------------------------------------------------------------
// mimo gateway
// -----------------------------------------------------------------------------

/** `mimo gateway [--port n] [--allow-origin <origin>]... [--max-attempts n]` */
export const gateway = Command.make("gateway", {
  port: Options.integer("port").pipe(
    Options.withDefault(8787),
    Options.withDescription("The port on 127.0.0.1 (0: a free one).")
  ),
  allowOrigin: Options.text("allow-origin").pipe(
    Options.repeated,
    Options.withDescription(
      "Another origin allowed to call the gateway from a browser, e.g. http://localhost:5173 (repeatable); " +
        "the gateway's own origin always is."
    )
  ),
  maxAttempts: Options.integer("max-attempts").pipe(
    Options.mapEffect(atLeastOne("max-attempts")),
    Options.withDefault(5),
    Options.withDescription("Attempts in all per upstream call, the first included.")
  )
}, (options: Gateway.Options) => lazily(modules.gateway, (module) => module.run(options))).pipe(
  Command.withDescription(
    "Serve MiMo to browsers from 127.0.0.1: holds MIMO_API_KEY (or uses the embedded simulator), exposes " +
      "POST /v1/chat/completions (JSON and SSE, with retry notices) and a chat page at /."
  )
)

// -----------------------------------------------------------------------------
// mimo load
// -----------------------------------------------------------------------------

/** `mimo load [--requests n] [--concurrency c] [--rps r] [--burst b] [--limiter/--no-limiter] [--model m]` */
export const load = Command.make("load", {
  requests: Options.integer("requests").pipe(
    Options.mapEffect(atLeastOne("requests")),
    Options.withDefault(300),
    Options.withDescription("How many chat requests to send.")
  ),
  concurrency: Options.integer("concurrency").pipe(
    Options.mapEffect(atLeastOne("concurrency")),
    Options.withDefault(100),
    Options.withDescription("How many at once.")
  ),
  rps: Options.integer("rps").pipe(
    Options.mapEffect(atLeastOne("rps")),
    Options.withDefault(50),
    Options.withDescription("The simulator's limit (and the limiter's), in requests per second.")
  ),
  burst: Options.integer("burst").pipe(
    Options.mapEffect(atLeastOne("burst")),
    Options.optional,
    Options.withDescription("Requests allowed at once (default: --rps).")
  ),
  limiter: Options.boolean("no-limiter", { ifPresent: false, negationNames: ["limiter"] }).pipe(
    Options.withDescription(
      "--no-limiter: send without the client-side rate limiter (--limiter, the default: with it)."
    )
  ),
  model: Options.text("model").pipe(Options.withDefault("mimo-v2-flash"), Options.withDescription("The model id."))
}, (options: Load.Options) => lazily(modules.load, (module) => module.run(options))).pipe(
  Command.withDescription(
    "Load the embedded simulator's rate limit with or without the client-side limiter; a progress bar on stderr, " +
      "then failures, 429s and the wall time against the physical limit."
  )
)

// -----------------------------------------------------------------------------
// mimo demo
// -----------------------------------------------------------------------------

/** `mimo demo` */
export const demo = Command.make(
  "demo",
  {},
  () => lazily(modules.demo, (module) => module.run)
).pipe(
  Command.withDescription("A guided tour against the embedded simulator: answers, retries, errors, TTS.")
)

// -----------------------------------------------------------------------------
// mimo
// -----------------------------------------------------------------------------

/** The root command. */
export const mimo = Command.make("mimo").pipe(
  Command.withDescription("The MiMo API from the command line, built with effect-mimo."),
  Command.withSubcommands([chat, tts, models, simulator, gateway, load, demo, AiCommands.agent, AiCommands.extract])
)

/** Parses `process.argv` and runs the matching handler. */
export const run = Command.run(mimo, { name: "mimo", version: "0.1.0" })
