/**
 * `mimo tts` and `mimo models`: two more calls through the same wiring as
 * `mimo chat` (the `Environment` layer, the CLI's retry policy, retries on
 * stderr), plus `@effect/platform`'s `FileSystem` and `Path` (from
 * `NodeContext.layer`) to write the audio.
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as SpeechFile from "@effect-mimo/platform-node/SpeechFile"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Chat from "./Chat.js"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"

/** Runs a call with a fresh tracker; a failure is rendered on stderr and becomes `Output.Reported`. */
const reported = <A, E, R>(
  call: (options: MimoClient.CallOptions) => Effect.Effect<A, E, R>
): Effect.Effect<A, Output.Reported, Exclude<R, MimoClient.MimoClient>> =>
  Effect.gen(function*() {
    const tracker = yield* Chat.tracker
    const outcome = yield* Chat.callOptions(tracker, { maxAttempts: 5, timeout: Option.none() }).pipe(
      Effect.flatMap(call),
      Effect.provide(Environment.layer),
      Effect.either
    )
    if (Either.isRight(outcome)) return outcome.right
    const retried = yield* Ref.get(tracker.retried)
    yield* Console.error(
      Output.failureBlock(Output.describe(outcome.left), Chat.attemptsOf(Option.some(outcome.left), retried))
    )
    return yield* new Output.Reported()
  })

/** What `mimo tts` was asked to do. */
export interface Options {
  readonly model: string
  readonly voice: Option.Option<string>
  readonly format: "wav" | "mp3" | "pcm16"
  readonly out: string
  readonly text: string
}

/** `mimo tts`: synthesises speech and writes it with `SpeechFile.write`; prints the path, size and duration. */
export const run = (
  options: Options
): Effect.Effect<void, Output.Reported, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const out = path.resolve(options.out)
    const written = yield* reported((call) =>
      SpeechFile.write(out, {
        model: options.model,
        text: options.text,
        format: options.format,
        ...Option.match(options.voice, { onNone: () => ({}), onSome: (voice) => ({ voice }) })
      }, call)
    )
    const duration = written.durationSeconds === undefined
      ? "duration unknown"
      : `${written.durationSeconds.toFixed(2)} s`
    yield* Console.log(`${written.path}`)
    yield* Console.log(`${written.bytes} bytes, ${duration}, ${written.format}`)
  })

/** `mimo models`: one line per model, `id  owned_by`. */
export const models: Effect.Effect<void, Output.Reported> = Effect.gen(function*() {
  const list = yield* reported((call) => Effect.flatMap(MimoClient.MimoClient, (mimo) => mimo.models(call)))
  const width = Math.max(0, ...list.data.map((m) => m.id.length))
  for (const model of list.data) {
    yield* Console.log(Output.sanitize(`${model.id.padEnd(width)}  ${model.owned_by ?? ""}`.trimEnd()))
  }
})
