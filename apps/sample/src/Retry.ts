/**
 * The retry policy of the CLI, composed from the core's small Schedules
 * (`@effect-mimo/core/RetryPolicy`) and Effect's own `Schedule` combinators.
 *
 * With the default base of 1 second this is exactly the core's
 * `RetryPolicy.defaultPolicy` (the seed's: `min(2^n s + U[0, 1) s, 60 s)`,
 * Retry-After honoured); `--max-attempts` changes the number of attempts and
 * `MIMO_RETRY_BASE` (a duration such as `50 millis`) shrinks the whole backoff,
 * jitter included, for quick experiments and tests.
 */
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"

/** `MIMO_RETRY_BASE`: the first backoff delay (default 1 second), read with Effect's `Config`. */
export const base: Config.Config<Duration.Duration> = Config.duration("MIMO_RETRY_BASE").pipe(
  Config.withDefault(Duration.seconds(1))
)

/** The longest delay, and the longest `Retry-After` worth waiting for (the seed's 60 s). */
const retryAfterCap = Duration.seconds(60)

/**
 * The policy: exponential backoff from `base`, plus `U[0, base)` jitter, capped
 * at 60 s, `maxAttempts` attempts in all, only retryable errors, and at least
 * the server's `Retry-After` (a Retry-After longer than 60 s fails at once).
 * Its output is the wait before the next attempt (`Schedule.delays`), which the
 * client reports to `onRetry`.
 */
export const policy = (options: {
  readonly maxAttempts: number
  readonly base: Duration.DurationInput
}) =>
  RetryPolicy.exponential(options.base, 2).pipe(
    RetryPolicy.jitterAdditive(options.base),
    RetryPolicy.capDelay(retryAfterCap),
    Schedule.intersect(RetryPolicy.attempts(options.maxAttempts)),
    Schedule.intersect(RetryPolicy.whileRetryable),
    RetryPolicy.retryAfterAware({ cap: retryAfterCap, jitter: "250 millis" }),
    Schedule.delays
  )
