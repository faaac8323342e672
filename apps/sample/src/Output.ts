/**
 * Rendering, for people (stdout for answers, stderr for everything else) and
 * for scripts (`--json`: one JSON object on the last line of stdout).
 *
 * Nothing here knows the API key: errors and retry events carry no headers,
 * so whatever is printed from them cannot contain it.
 */
import type * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import type * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as Redaction from "@effect-mimo/core/Redaction"
import * as Terminal from "@effect/platform/Terminal"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import { Reported } from "./Reported.js"

/**
 * The failure of a command whose error was already shown to the user (its own
 * module, so that `Main.ts` recognises it without loading this one).
 */
export { Reported }

/**
 * C0 and C1 control characters except tab and newline (ESC, CSI, BEL, CR,
 * backspace, DEL, ...), and the Unicode bidirectional overrides: what would
 * let model text or a server message move the cursor, rewrite earlier lines,
 * set the window title or hide text in a terminal.
 */
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text from a model or a server made safe for a terminal: every control
 * character other than newline and tab is shown escaped (`\x1b`, `\u202e`)
 * instead of being acted on. `--json` output needs none of it (JSON escapes
 * C0 controls itself).
 */
export const sanitize = (text: string): string =>
  text.replace(controls, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`
  })

/**
 * Writes text to stdout without a newline (a streamed answer), control
 * characters escaped ({@link sanitize}). `Terminal` is `@effect/platform`'s;
 * `NodeContext.layer` provides the Node implementation.
 */
export const write = (text: string): Effect.Effect<void, never, Terminal.Terminal> =>
  Effect.flatMap(Terminal.Terminal, (terminal) => terminal.display(sanitize(text))).pipe(Effect.ignore)

/** A duration for people: `250 ms`, `1.42 s`. */
export const formatDuration = (duration: Duration.DurationInput): string => {
  const millis = Math.round(Duration.toMillis(Duration.decode(duration)))
  return millis < 1000 ? `${millis} ms` : `${(millis / 1000).toFixed(2).replace(/\.?0+$/, "")} s`
}

/** The code of an error as shown: the seed code, else the raw code, else its tag. */
const codeText = (error: MimoError.MimoError): string => MimoError.codeOf(error) ?? error._tag

const statusText = (error: MimoError.MimoError): string => {
  const status = MimoError.statusOf(error)
  return status === undefined ? "no HTTP status" : String(status)
}

/** Why the policy waits: the server's `Retry-After` when it set the wait, else the backoff. */
const reasonOf = (event: MimoClient.RetryEvent): string => {
  const error = event.error
  if (error._tag === "RateLimitExceeded" && error.retryAfter !== undefined) {
    const retryAfter = error.retryAfter
    return Duration.greaterThanOrEqualTo(event.delay, retryAfter)
      ? `Retry-After ${formatDuration(retryAfter)}`
      : "exponential backoff, longer than Retry-After"
  }
  return "exponential backoff with jitter"
}

/**
 * One retry, as it happens: `retry: attempt 1 of 5 failed: service_unavailable (503) "busy";
 * waiting 1.42 s (exponential backoff with jitter)`.
 */
export const retryLine = (
  event: MimoClient.RetryEvent,
  maxAttempts: number,
  redact: Redaction.Redactor = Redaction.none
): string =>
  sanitize(redact(
    `retry: attempt ${event.attempt} of ${maxAttempts} failed: ${codeText(event.error)} (${statusText(event.error)}) ${
      JSON.stringify(event.error.message)
    }; waiting ${formatDuration(event.delay)} (${reasonOf(event)})`
  ))

/** The `onRetry` hook of the CLI: the retry line on stderr. */
export const printRetry =
  (maxAttempts: number, redact: Redaction.Redactor = Redaction.none) =>
  (event: MimoClient.RetryEvent): Effect.Effect<void> => Console.error(retryLine(event, maxAttempts, redact))

/** A failure with the secrets scrubbed out of what came from a server. */
export const redactFailure = (failure: Failure, redact: Redaction.Redactor): Failure => ({
  ...failure,
  message: redact(failure.message),
  code: failure.code === null ? null : redact(failure.code),
  requestId: failure.requestId === null ? null : redact(failure.requestId)
})

/** A failure of any kind, as data both renderers share. */
export interface Failure {
  readonly tag: string
  readonly code: string | null
  readonly status: number | null
  readonly message: string
  readonly solution: string | null
  readonly requestId: string | null
  readonly retryAfterMs: number | null
}

const none = { code: null, status: null, solution: null, requestId: null, retryAfterMs: null } as const

const missingKeySolution =
  "Set MIMO_API_KEY to a key for the host in MIMO_BASE_URL, or unset both to use the embedded simulator."

const messageOf = (u: unknown): string =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" ? u.message : String(u)

/** Describes an error: a `MimoError` through the core's lookups, anything else by its tag and message. */
export const describe = (error: unknown): Failure => {
  if (MimoError.isMimoError(error)) {
    return {
      tag: error._tag,
      code: MimoError.codeOf(error) ?? null,
      status: MimoError.statusOf(error) ?? null,
      message: error.message,
      // The setup error of `Environment.target` gets advice about the environment instead.
      solution: error._tag === "ValidationError" && error.field === "MIMO_API_KEY"
        ? missingKeySolution
        : MimoError.solution(error),
      requestId: MimoError.requestIdOf(error) ?? null,
      retryAfterMs: error._tag === "RateLimitExceeded" && error.retryAfter !== undefined
        ? Duration.toMillis(error.retryAfter)
        : null
    }
  }
  if (ConfigError.isConfigError(error)) {
    // Its string form names the variable and what was wrong with it.
    return { ...none, tag: "ConfigError", message: String(error) }
  }
  const tag = Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Error"
  return { ...none, tag, message: messageOf(error) }
}

/** The failure block on stderr: code, status, message, the seed's solution, the request id. */
export const failureBlock = (failure: Failure, attempts?: number): string =>
  [
    `mimo: failed with ${failure.tag}`,
    `  code:        ${failure.code ?? "(none)"}`,
    `  status:      ${failure.status ?? "(no HTTP response)"}`,
    `  message:     ${failure.message}`,
    ...(failure.solution !== null ? [`  solution:    ${failure.solution}`] : []),
    `  request id:  ${failure.requestId ?? "(none)"}`,
    ...(failure.retryAfterMs !== null ? [`  retry after: ${formatDuration(failure.retryAfterMs)}`] : []),
    ...(attempts === undefined ? [] : [`  attempts:    ${attempts}${attempts === 0 ? " (nothing was sent)" : ""}`])
  ].map(sanitize).join("\n")

/**
 * Prints any failure as the failure block on stderr and fails with `Reported` (the CLI then exits with 1 and
 * prints nothing more). The commands that have no per-call summary of their own end with it.
 */
export const reportFailure = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Reported, R> =>
  Effect.catchAll(
    self,
    (error) => Effect.zipRight(Console.error(failureBlock(describe(error))), Effect.fail(new Reported()))
  )

/** What `--json` prints on success. */
export interface JsonSuccess {
  readonly ok: true
  readonly content: string
  readonly attempts: number
  readonly model: string
  readonly usage: ChatCompletion.Usage | null
  readonly requestId: string | null
}

/** What `--json` prints on failure. */
export interface JsonFailure {
  readonly ok: false
  readonly tag: string
  readonly code: string | null
  readonly status: number | null
  readonly message: string
  readonly requestId: string | null
  readonly retryAfterMs: number | null
  readonly attempts: number
  readonly content: string
}

/** The `--json` failure object. */
export const jsonFailure = (failure: Failure, attempts: number, content: string): JsonFailure => ({
  ok: false,
  tag: failure.tag,
  code: failure.code,
  status: failure.status,
  message: failure.message,
  requestId: failure.requestId,
  retryAfterMs: failure.retryAfterMs,
  attempts,
  content
})

/** Prints one JSON object as one line of stdout. */
export const printJson = (value: JsonSuccess | JsonFailure): Effect.Effect<void> => Console.log(JSON.stringify(value))
