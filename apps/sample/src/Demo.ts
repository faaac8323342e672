/**
 * `mimo demo`: a guided tour against the embedded simulator, with real HTTP
 * requests over loopback. Each step shows one piece of the client:
 *
 * 1. a chat answer, 2. a streamed answer, 3. a 503 retried with backoff,
 * 4. a 429 whose Retry-After is honoured, 5. a 401 that is not retried,
 * 6. a request rejected by validation before anything is sent, 7. speech
 * written to a WAV file in a temporary directory, 8. a tool loop and 9.
 * structured output with `@effect/ai` (`AiDemo.ts`).
 *
 * The simulator's scripted faults (`Simulator.script`) make steps 3 and 4
 * happen on cue. Retries use a short-backoff policy (base 200 ms instead of
 * the seed's 1 s) so that the tour takes a few seconds.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import type * as MimoError from "@effect-mimo/core/MimoError"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as SpeechFile from "@effect-mimo/platform-node/SpeechFile"
import * as Fault from "@effect-mimo/simulator/Fault"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as AiDemo from "./AiDemo.js"
import * as Output from "./Output.js"
import * as Retry from "./Retry.js"

const steps = 9
const maxAttempts = 5

/** The demo's policy: the CLI's composition with a 200 ms base, so waits are 200–400 ms, 400–600 ms, ... */
const policy = Retry.policy({ maxAttempts, base: "200 millis" })

/** Retry lines, indented into the tour (on stdout, unlike `mimo chat`, which keeps stdout for answers). */
const callOptions: MimoClient.CallOptions = {
  retry: policy,
  onRetry: (event) => Console.log(`   ${Output.retryLine(event, maxAttempts)}`)
}

const step = (n: number, title: string) => Console.log(`\n[${n}/${steps}] ${title}`)
const say = (text: string) => Console.log(`   ${Output.sanitize(text)}`)

const ask = (content: string): ChatCompletion.Request => ({
  model: "mimo-v2-flash",
  messages: [{ role: "user", content }]
})

/** What the simulator saw during `effect`: the number of requests it received. */
const counted = <A, E, R>(simulator: Simulator.SimulatorService, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = (yield* simulator.stats).requests
    const result = yield* effect
    const after = (yield* simulator.stats).requests
    return [result, after - before] as const
  })

const showError = (error: MimoError.MimoError) =>
  Effect.forEach(Output.failureBlock(Output.describe(error)).split("\n"), say, { discard: true })

/** The tour. */
export const run: Effect.Effect<
  void,
  Output.Reported,
  FileSystem.FileSystem | Path.Path | Terminal.Terminal
> = Effect.gen(function*() {
  const started = yield* Clock.currentTimeMillis
  // A random key for this run; the simulator accepts only it. Redacted: it never shows up in output.
  const key = Redacted.make(`sk-demo-${(yield* Random.nextInt).toString(16)}`)
  const simulator = yield* Simulator.make({ apiKey: key, seed: 42 })
  // The Node adapter: MimoClient over undici, pointed at the simulator.
  const client = NodeMimoClient.layer({ apiKey: key, baseUrl: simulator.url })

  yield* Console.log(`mimo demo: the embedded simulator is listening at ${simulator.url}`)
  yield* Console.log(
    `Retries in this tour use a short-backoff policy (base 200 ms, ${maxAttempts} attempts) so it stays quick;` +
      " `mimo chat` uses the seed's 1 s base."
  )

  yield* Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient

    yield* step(1, "A chat answer (POST /chat/completions)")
    const answer = yield* mimo.chat(ask("Say hello to the demo."), callOptions)
    yield* say(`${answer.model ?? "model"}: ${ChatCompletion.text(answer)}`)

    yield* step(2, "A streamed answer (SSE, printed as the chunks arrive)")
    yield* Output.write("   ")
    yield* mimo.stream(ask("Tell me about streaming."), callOptions).pipe(
      Stream.runForEach((chunk) => Output.write(chunk.choices.map((c) => c.delta?.content ?? "").join("")))
    )
    yield* Output.write("\n")

    yield* step(3, "503 service_unavailable, retried with exponential backoff, then success")
    yield* simulator.script([Fault.error("service_unavailable")])
    const [retried, sent3] = yield* counted(simulator, mimo.chat(ask("Are you there?"), callOptions))
    yield* say(`success after ${sent3} requests: ${ChatCompletion.text(retried).slice(0, 60)}…`)

    yield* step(4, "429 rate_limit_exceeded with Retry-After: 1, honoured")
    yield* simulator.script([Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 1 } })])
    const before4 = yield* Clock.currentTimeMillis
    const [, sent4] = yield* counted(simulator, mimo.chat(ask("Once more, please."), callOptions))
    const waited = (yield* Clock.currentTimeMillis) - before4
    yield* say(`success after ${sent4} requests, ${Output.formatDuration(waited)} later (at least the 1 s asked for)`)
  }).pipe(Effect.provide(client))

  yield* step(5, "401 authentication_failed: not retried, with the table's solution")
  const wrongKey = NodeMimoClient.layer({ apiKey: Redacted.make("sk-not-the-right-key"), baseUrl: simulator.url })
  const [, sent5] = yield* counted(
    simulator,
    Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat(ask("Let me in."), callOptions)).pipe(
      Effect.provide(wrongKey),
      Effect.asVoid,
      // Typed error handling: the error channel names every failure, so we catch exactly this one.
      Effect.catchTag("AuthenticationFailed", showError)
    )
  )
  yield* say(`requests sent: ${sent5} (401 is never retried)`)

  yield* step(6, "A validation error, caught before sending")
  const [, sent6] = yield* counted(
    simulator,
    Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.chat({ ...ask("Too hot."), temperature: 3 }, callOptions))
      .pipe(
        Effect.provide(client),
        Effect.asVoid,
        Effect.catchTag("ValidationError", showError)
      )
  )
  yield* say(`requests sent: ${sent6}`)

  yield* step(7, "Text-to-speech, written to a WAV file")
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const dir = yield* fs.makeTempDirectory({ prefix: "mimo-demo-" })
  const written = yield* SpeechFile.write(path.join(dir, "hello.wav"), {
    model: "mimo-v2.5-tts",
    text: "Hello! Welcome to MiMo.",
    voice: "Mia",
    format: "wav"
  }, callOptions).pipe(Effect.provide(client))
  yield* say(
    `${written.path}: ${written.bytes} bytes, ${
      written.durationSeconds === undefined ? "?" : written.durationSeconds.toFixed(2)
    } s of ${written.format}`
  )

  yield* AiDemo.run({ simulator, client, callOptions, first: 8, step })

  const stats = yield* simulator.stats
  const elapsed = (yield* Clock.currentTimeMillis) - started
  yield* Console.log(
    `\nDone in ${Output.formatDuration(elapsed)}; the simulator received ${stats.requests} requests. ` +
      "Next: `pnpm mimo chat --help`."
  )
}).pipe(
  Effect.scoped,
  Output.reportFailure
)
