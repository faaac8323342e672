/**
 * `mimo chat`: one chat completion, streamed or not, with its retries shown
 * as they happen and its outcome rendered for people or as JSON.
 *
 * The pieces: `MimoClient` (from `Environment.layer`) sends, the CLI's retry
 * `Schedule` (`Retry.policy`) decides, the `onRetry` hook counts and prints
 * attempts, and the typed error channel carries every failure to one place
 * where it is rendered.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as Redaction from "@effect-mimo/core/Redaction"
import type * as Terminal from "@effect/platform/Terminal"
import type * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"
import * as Retry from "./Retry.js"

/** What `mimo chat` was asked to do (parsed by `@effect/cli` in `Cli.ts`). */
export interface Options {
  readonly prompt: string
  readonly model: string
  readonly system: Option.Option<string>
  readonly stream: boolean
  readonly temperature: Option.Option<number>
  readonly topP: Option.Option<number>
  readonly maxTokens: Option.Option<number>
  readonly thinking: boolean
  readonly maxAttempts: number
  readonly timeout: Option.Option<Duration.Duration>
  readonly json: boolean
}

/** The wire request (`ChatCompletion.Request`); the client validates it before sending anything. */
export const request = (options: Options): ChatCompletion.Request => ({
  model: options.model,
  messages: [
    ...Option.match(options.system, {
      onNone: () => [],
      onSome: (content) => [{ role: "system" as const, content }]
    }),
    { role: "user" as const, content: options.prompt }
  ],
  ...Option.match(options.temperature, { onNone: () => ({}), onSome: (temperature) => ({ temperature }) }),
  ...Option.match(options.topP, { onNone: () => ({}), onSome: (top_p) => ({ top_p }) }),
  ...Option.match(options.maxTokens, {
    onNone: () => ({}),
    onSome: (max_completion_tokens) => ({ max_completion_tokens })
  }),
  ...(options.thinking ? { thinking: { type: "enabled" as const } } : {})
})

/** What the user sees of an answer. */
export interface Answer {
  readonly content: string
  readonly model: string
  readonly usage: ChatCompletion.Usage | null
  readonly requestId: string | null
}

const answerOf = (response: ChatCompletion.Response, model: string): Answer => ({
  content: ChatCompletion.text(response),
  model: response.model ?? model,
  usage: response.usage ?? null,
  requestId: response.id !== "" ? response.id : null
})

/**
 * The per-call state the outcome is rendered from: how many attempts failed
 * and were retried (from `onRetry`), and the text streamed so far.
 */
export interface Tracker {
  readonly retried: Ref.Ref<number>
  readonly streamed: Ref.Ref<ChatCompletion.Accumulator>
}

/** A fresh tracker. */
export const tracker: Effect.Effect<Tracker> = Effect.all({
  retried: Ref.make(0),
  streamed: Ref.make(ChatCompletion.emptyAccumulator)
})

/**
 * Requests sent: none when the request failed locally (a `ValidationError`,
 * or a setup failure such as a bad configuration), else one more than the
 * attempts that were retried.
 */
export const attemptsOf = (error: Option.Option<unknown>, retried: number): number =>
  Option.match(error, {
    onNone: () => retried + 1,
    onSome: (e) => MimoError.isMimoError(e) && e._tag !== "ValidationError" ? retried + 1 : 0
  })

/**
 * The per-call settings: the CLI's retry policy, the per-attempt timeout, and
 * an `onRetry` hook that counts attempts and prints each retry on stderr.
 */
export const callOptions = (
  tracker: Tracker,
  options: { readonly maxAttempts: number; readonly timeout: Option.Option<Duration.Duration> },
  redact: Redaction.Redactor = Redaction.none
): Effect.Effect<MimoClient.CallOptions, ConfigError.ConfigError> =>
  Effect.map(Retry.base, (base) => ({
    retry: Retry.policy({ maxAttempts: options.maxAttempts, base }),
    ...Option.match(options.timeout, { onNone: () => ({}), onSome: (timeout) => ({ timeout }) }),
    onRetry: (event: MimoClient.RetryEvent) =>
      Effect.zipRight(Ref.set(tracker.retried, event.attempt), Output.printRetry(options.maxAttempts, redact)(event))
  }))

/**
 * `--timeout` for a stream once it has started: the client's per-attempt
 * timeout bounds the wait for the first chunk (retries included), this bounds
 * each wait for the next one, so a stream that stalls (or is held open after
 * its last chunk) fails with a `Timeout` instead of hanging, keeping what it
 * printed.
 */
const idleAfterFirst = <A, E>(
  stream: Stream.Stream<A, E>,
  timeout: Duration.Duration
): Stream.Stream<A, E | MimoError.TransportError> =>
  Stream.unwrapScoped(Effect.map(Stream.toPull(stream), (pull) => {
    let started = false
    const stalled = () =>
      Option.some(
        new MimoError.TransportError({
          reason: "Timeout",
          message: `the stream stalled: no chunk for ${Output.formatDuration(timeout)} (--timeout)`
        })
      )
    const widened = Effect.mapError(pull, Option.map((e): E | MimoError.TransportError => e))
    const next = Effect.suspend(() =>
      started ? Effect.timeoutFail(widened, { duration: timeout, onTimeout: stalled }) : widened
    ).pipe(Effect.tap(() => {
      started = true
    }))
    return Stream.repeatEffectChunkOption(next)
  }))

/**
 * A stream that ended without any finish reason was cut short (the
 * connection closed cleanly before `[DONE]` and before the last chunk): a
 * typed failure, never an answer.
 */
const unfinished = new MimoError.TransportError({
  reason: "ConnectionReset",
  message: "the stream ended before its finish reason (the connection closed early)"
})

/**
 * Sends the request. Streamed answers are printed as they arrive (unless
 * `--json`), and folded with the core's accumulator so that the full text,
 * the usage and the id are known at the end, or at a failure.
 */
export const send = (
  options: Options,
  tracker: Tracker,
  redact: Redaction.Redactor = Redaction.none
): Effect.Effect<Answer, MimoError.MimoError | ConfigError.ConfigError, MimoClient.MimoClient | Terminal.Terminal> =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    const call = yield* callOptions(tracker, options, redact)
    if (!options.stream) {
      return answerOf(yield* mimo.chat(request(options), call), options.model)
    }
    const chunks = mimo.stream(request(options), call)
    yield* Option.match(options.timeout, { onNone: () => chunks, onSome: (t) => idleAfterFirst(chunks, t) }).pipe(
      Stream.runForEach((chunk) =>
        Effect.zipRight(
          Ref.update(tracker.streamed, (acc) => ChatCompletion.accumulateChunk(acc, chunk)),
          options.json ? Effect.void : Output.write(redact(chunk.choices.map((c) => c.delta?.content ?? "").join("")))
        )
      )
    )
    if ((yield* Ref.get(tracker.streamed)).choices.every((c) => c.finish_reason === null)) {
      return yield* unfinished
    }
    const answer = answerOf(ChatCompletion.toResponse(yield* Ref.get(tracker.streamed)), options.model)
    if (!options.json) {
      // Only reasoning came (some deployments answer that way): show it, as `chat` without --stream would.
      const printed = (yield* Ref.get(tracker.streamed)).choices.some((c) => (c.content ?? "") !== "")
      yield* Output.write(printed ? "\n" : `${redact(answer.content)}\n`)
    }
    return answer
  })

/** Text streamed before a failure, if any. */
const partial = (tracker: Tracker) =>
  Effect.map(Ref.get(tracker.streamed), (acc) => ChatCompletion.text(ChatCompletion.toResponse(acc)))

/**
 * `mimo chat`: sends through `Environment.layer` and renders the outcome.
 * A failure is rendered here and becomes `Output.Reported` (exit status 1).
 */
export const run = (options: Options): Effect.Effect<void, Output.Reported, Terminal.Terminal> =>
  Effect.gen(function*() {
    const t = yield* tracker
    const redact = yield* Environment.redactor
    const outcome = yield* Effect.either(send(options, t, redact).pipe(Effect.provide(Environment.layer)))
    const retried = yield* Ref.get(t.retried)
    if (Either.isRight(outcome)) {
      const answer = outcome.right
      if (options.json) {
        yield* Output.printJson({
          ok: true,
          content: redact(answer.content),
          attempts: attemptsOf(Option.none(), retried),
          model: answer.model,
          usage: answer.usage,
          requestId: answer.requestId
        })
      } else if (!options.stream) {
        yield* Console.log(Output.sanitize(redact(answer.content)))
      }
      return
    }
    const failure = Output.redactFailure(Output.describe(outcome.left), redact)
    const attempts = attemptsOf(Option.some(outcome.left), retried)
    const content = redact(yield* partial(t))
    if (options.json) {
      yield* Output.printJson(Output.jsonFailure(failure, attempts, content))
    } else {
      // A stream cut short: end the partial line before the failure block.
      if (content !== "") yield* Output.write("\n")
      yield* Console.error(Output.failureBlock(failure, attempts))
    }
    return yield* new Output.Reported()
  })
