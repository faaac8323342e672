/**
 * The program the browser tests load in Chromium (bundled by esbuild): the
 * browser client, and a few functions on `window.mimoTest` that the tests
 * call with `page.evaluate`. Every function resolves with plain JSON.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as BrowserMimoClient from "../../src/BrowserMimoClient.js"

export interface CallInput {
  readonly baseUrl: string
  readonly token?: string
  readonly tokenHeader?: string
  /** The first backoff delay of the client's own retries (no jitter). Default 20 ms. */
  readonly retryBaseMs?: number
  readonly maxAttempts?: number
  readonly prompt?: string
}

export interface RetryView {
  readonly source: "client" | "gateway"
  readonly attempt: number
  readonly delayMs: number
  readonly tag: string
  readonly code: string | null
  readonly status: number | null
}

export interface ErrorView {
  readonly tag: string
  readonly code: string | null
  readonly status: number | null
  readonly message: string
  readonly solution: string
}

export interface Outcome {
  readonly ok: boolean
  readonly content: string
  readonly chunks: number
  readonly retries: ReadonlyArray<RetryView>
  readonly error: ErrorView | null
}

export interface Driver {
  readonly chat: (input: CallInput) => Promise<Outcome>
  readonly stream: (input: CallInput) => Promise<Outcome>
  readonly streamThenInterrupt: (
    input: CallInput & { readonly after: number }
  ) => Promise<{ readonly received: number; readonly interrupted: boolean }>
}

declare global {
  interface Window {
    mimoTest: Driver
  }
}

const retryView = (source: RetryView["source"], event: MimoClient.RetryEvent): RetryView => ({
  source,
  attempt: event.attempt,
  delayMs: Duration.toMillis(event.delay),
  tag: event.error._tag,
  code: MimoError.codeOf(event.error) ?? null,
  status: MimoError.statusOf(event.error) ?? null
})

const errorView = (error: MimoError.MimoError): ErrorView => ({
  tag: error._tag,
  code: MimoError.codeOf(error) ?? null,
  status: MimoError.statusOf(error) ?? null,
  message: error.message,
  solution: MimoError.solution(error)
})

const request = (input: CallInput): ChatCompletion.Request => ({
  model: "mimo-v2-flash",
  messages: [{ role: "user", content: input.prompt ?? "Say hello from the browser" }]
})

/** The client under test, with the retries it sees (its own and the backend's) recorded. */
const setup = (input: CallInput, retries: Array<RetryView>) =>
  BrowserMimoClient.layer({
    baseUrl: input.baseUrl,
    ...(input.token !== undefined ? { token: Redacted.make(input.token) } : {}),
    ...(input.tokenHeader !== undefined ? { tokenHeader: input.tokenHeader } : {}),
    retry: RetryPolicy.make({
      base: Duration.millis(input.retryBaseMs ?? 20),
      jitter: "none",
      maxAttempts: input.maxAttempts ?? 5
    }),
    timeout: "20 seconds",
    onRetry: (event) => Effect.sync(() => void retries.push(retryView("client", event))),
    onGatewayRetry: (event) => Effect.sync(() => void retries.push(retryView("gateway", event)))
  })

const run = (
  input: CallInput,
  call: (mimo: MimoClient.Service) => Effect.Effect<{ content: string; chunks: number }, MimoError.MimoError>
): Promise<Outcome> => {
  const retries: Array<RetryView> = []
  return Effect.runPromise(
    Effect.flatMap(MimoClient.MimoClient, (mimo) => Effect.either(call(mimo))).pipe(
      Effect.provide(setup(input, retries)),
      Effect.map((result): Outcome =>
        Either.match(result, {
          onLeft: (error) => ({ ok: false, content: "", chunks: 0, retries, error: errorView(error) }),
          onRight: ({ chunks, content }) => ({ ok: true, content, chunks, retries, error: null })
        })
      )
    )
  )
}

window.mimoTest = {
  chat: (input) =>
    run(
      input,
      (mimo) =>
        Effect.map(mimo.chat(request(input)), (response) => ({ content: ChatCompletion.text(response), chunks: 0 }))
    ),

  stream: (input) =>
    run(input, (mimo) =>
      mimo.stream(request(input)).pipe(
        Stream.runFold({ content: "", chunks: 0 }, (acc, chunk) => ({
          content: acc.content + chunk.choices.map((c) => c.delta?.content ?? "").join(""),
          chunks: acc.chunks + 1
        }))
      )),

  streamThenInterrupt: (input) =>
    Effect.runPromise(
      Effect.gen(function*() {
        const mimo = yield* MimoClient.MimoClient
        const enough = yield* Deferred.make<void>()
        let received = 0
        const fiber = yield* mimo.stream(request(input)).pipe(
          Stream.runForEach(() =>
            Effect.suspend(() => ++received >= input.after ? Deferred.succeed(enough, undefined) : Effect.void)
          ),
          Effect.fork
        )
        yield* Effect.raceFirst(Deferred.await(enough), Effect.asVoid(Fiber.await(fiber)))
        const exit = yield* Fiber.interrupt(fiber)
        return { received, interrupted: Exit.isInterrupted(exit) }
      }).pipe(Effect.provide(setup(input, [])))
    )
}
