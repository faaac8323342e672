/**
 * The retry policy, as small `Schedule`s and `Schedule` combinators that
 * compose with Effect's own (`Schedule.union`, `intersect`, `andThen`,
 * `upTo`, `compose`).
 *
 * The default follows the seed: 5 attempts in all (at most 4 retries); before
 * retry n (n = 0, 1, 2, 3) wait `min(2^n s + U[0, 1) s, 60 s)`; only
 * retryable errors are retried; a `Retry-After` is honoured (the larger of it
 * and the backoff), and one longer than the cap fails the call at once.
 *
 * Every random draw goes through Effect's `Random` service and every wait
 * through its `Clock`, so under `TestClock` and a seeded `Random`
 * (`Effect.withRandom(Random.make(seed))`) a timeline is exact and repeatable.
 * Jittered delays are whole milliseconds.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/retryPolicy.js"
import type * as MimoError from "./MimoError.js"

/**
 * Exponential backoff: the delay before retry n (n = 0, 1, ...) is
 * `base * factor^n`; the output is that delay. Recurs forever: limit it with
 * {@link attempts}. This is Effect's own `Schedule.exponential`, with the
 * seed's defaults.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * // 1 s, 2 s, 4 s, 8 s, ...
 * const backoff = RetryPolicy.exponential()
 * // 200 ms, 300 ms, 450 ms, ...
 * const gentle = RetryPolicy.exponential("200 millis", 1.5)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponential: (base?: Duration.DurationInput, factor?: number) => Schedule.Schedule<Duration.Duration> =
  internal.exponential

/**
 * Additive jitter, the seed's: each delay `d` becomes `d + U[0, max)`
 * (default `max`: 1 second).
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * // 1 s + U[0, 1 s), 2 s + U[0, 1 s), ...
 * const policy = RetryPolicy.exponential().pipe(RetryPolicy.jitterAdditive("1 second"))
 * ```
 *
 * @since 0.1.0
 * @category jitter
 */
export const jitterAdditive: {
  /**
   * @since 0.1.0
   * @category jitter
   */
  (max?: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.1.0
   * @category jitter
   */
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, max?: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = internal.jitterAdditive

/**
 * Full jitter: each delay `d` becomes `U[0, d)`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * const policy = RetryPolicy.exponential().pipe(RetryPolicy.jitterFull)
 * ```
 *
 * @since 0.1.0
 * @category jitter
 */
export const jitterFull: <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R> =
  internal.jitterFull

/**
 * Equal jitter: each delay `d` becomes `d/2 + U[0, d/2)`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * const policy = RetryPolicy.exponential().pipe(RetryPolicy.jitterEqual)
 * ```
 *
 * @since 0.1.0
 * @category jitter
 */
export const jitterEqual: <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R> =
  internal.jitterEqual

/**
 * AWS's decorrelated jitter: `sleep = min(cap, U[base, previous sleep * 3))`,
 * starting from `previous = base`. It **replaces** the delays of the schedule
 * it wraps (which then only decides whether to recur, and what to output).
 * Defaults: `base` 1 second, `cap` 60 seconds.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 * import { Schedule } from "effect"
 *
 * const policy = Schedule.forever.pipe(RetryPolicy.jitterDecorrelated("1 second", "30 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category jitter
 */
export const jitterDecorrelated: {
  /**
   * @since 0.1.0
   * @category jitter
   */
  (
    base?: Duration.DurationInput,
    cap?: Duration.DurationInput
  ): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.1.0
   * @category jitter
   */
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    base?: Duration.DurationInput,
    cap?: Duration.DurationInput
  ): Schedule.Schedule<Out, In, R>
} = internal.jitterDecorrelated

/**
 * Caps each delay at `max` (default 60 seconds). Apply it after the jitter to
 * get the seed's `min(backoff + jitter, cap)`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * const policy = RetryPolicy.exponential().pipe(RetryPolicy.jitterAdditive(), RetryPolicy.capDelay("60 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const capDelay: {
  /**
   * @since 0.1.0
   * @category combinators
   */
  (max?: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.1.0
   * @category combinators
   */
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, max?: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = internal.capDelay

/**
 * `n` attempts in all, i.e. at most `n - 1` retries, without delay of its
 * own: `Schedule.recurs(n - 1)`. Intersect it with a backoff. Values below 1
 * (and `NaN`) mean a single attempt; `Infinity` means no limit. The output is
 * the number of retries so far.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 * import { Schedule } from "effect"
 *
 * // 3 attempts in all: the first one and 2 retries
 * const policy = Schedule.intersect(RetryPolicy.exponential(), RetryPolicy.attempts(3))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const attempts: (n: number) => Schedule.Schedule<number> = internal.attempts

/**
 * Recurs (without delay of its own) while the input error is retryable
 * (`MimoError.isRetryable`), and stops at the first one that is not. Its
 * input is a `MimoError`; its output is that error.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 * import { Schedule } from "effect"
 *
 * const policy = Schedule.intersect(RetryPolicy.exponential(), RetryPolicy.whileRetryable)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const whileRetryable: Schedule.Schedule<MimoError.MimoError, MimoError.MimoError> = internal.whileRetryable

/**
 * Options of {@link retryAfterAware}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryAfterOptions {
  /** The longest `Retry-After` worth waiting for; beyond it, stop at once. Default: 60 seconds. */
  readonly cap?: Duration.DurationInput | undefined
  /** Added to `Retry-After` as `U[0, jitter)`, so clients do not all wake at the reset. Default: 250 millis. */
  readonly jitter?: Duration.DurationInput | undefined
}

/**
 * Honours `Retry-After`. It reads the input error: when it is a
 * `RateLimitExceeded` with `retryAfter`, the delay becomes
 * `max(delay, retryAfter + U[0, jitter))`; when `retryAfter > cap` the
 * schedule stops at once, so the caller gets that `RateLimitExceeded`,
 * carrying `retryAfter`. Other errors pass through unchanged. Apply it after
 * {@link capDelay}.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 *
 * const policy = RetryPolicy.exponential().pipe(
 *   RetryPolicy.capDelay(),
 *   RetryPolicy.retryAfterAware({ cap: "30 seconds", jitter: "100 millis" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retryAfterAware: {
  /**
   * @since 0.1.0
   * @category combinators
   */
  (
    options?: RetryAfterOptions
  ): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In & MimoError.MimoError, R>
  /**
   * @since 0.1.0
   * @category combinators
   */
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    options?: RetryAfterOptions
  ): Schedule.Schedule<Out, In & MimoError.MimoError, R>
} = internal.retryAfterAware

/**
 * No retry is started whose wait would end after `at` (epoch milliseconds,
 * in `Clock` time, e.g. `(yield* Clock.currentTimeMillis) + 30_000`). Each
 * step's decision is in the Clock time the retry driver read for that step.
 * Apply it last, so that it sees the final delay.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "@effect-mimo/core"
 * import { Clock, Effect } from "effect"
 *
 * const withDeadline = Effect.map(
 *   Clock.currentTimeMillis,
 *   (now) => RetryPolicy.defaultPolicy.pipe(RetryPolicy.deadline(now + 30_000))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const deadline: {
  /**
   * @since 0.1.0
   * @category combinators
   */
  (at: number): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  /**
   * @since 0.1.0
   * @category combinators
   */
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, at: number): Schedule.Schedule<Out, In, R>
} = internal.deadline

/**
 * The seed's policy, as one composition of the parts above; its output is the
 * wait before the next attempt:
 *
 * ```ts
 * exponential("1 second", 2).pipe(
 *   jitterAdditive("1 second"),        // 2^n s + U[0, 1 s)
 *   capDelay("60 seconds"),            // min(..., 60 s)
 *   Schedule.intersect(attempts(5)),   // 5 attempts in all
 *   Schedule.intersect(whileRetryable),
 *   retryAfterAware({ cap: "60 seconds", jitter: "250 millis" }),
 *   Schedule.delays
 * )
 * ```
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 * const robust = Effect.retry(call, RetryPolicy.defaultPolicy)
 * ```
 *
 * @since 0.1.0
 * @category policies
 */
export const defaultPolicy: Schedule.Schedule<Duration.Duration, MimoError.MimoError> = internal.defaultPolicy

/**
 * The jitter strategies {@link make} knows.
 *
 * @since 0.1.0
 * @category models
 */
export type Jitter = "additive" | "full" | "equal" | "decorrelated" | "none"

/**
 * Options of {@link make}; each defaults to the seed's policy.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Attempts in all, the first included. Default: 5. */
  readonly maxAttempts?: number | undefined
  /** The first backoff delay. Default: 1 second. */
  readonly base?: Duration.DurationInput | undefined
  /** Growth of the backoff per retry. Default: 2. */
  readonly factor?: number | undefined
  /** The longest delay, and the longest `Retry-After` worth waiting for. Default: 60 seconds. */
  readonly cap?: Duration.DurationInput | undefined
  /**
   * Default: `"additive"` (+ U[0, 1 s)). `"decorrelated"` uses `base` and `cap`
   * and replaces the exponential delays.
   */
  readonly jitter?: Jitter | undefined
  /** Honour `Retry-After` ({@link retryAfterAware}). Default: true. */
  readonly retryAfter?: boolean | undefined
  /** Epoch milliseconds (Clock time) after which no wait may end ({@link deadline}). Default: none. */
  readonly deadline?: number | undefined
}

/**
 * Builds a variant of {@link defaultPolicy}; `make()` is the default itself.
 * The output is the wait before the next attempt.
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy } from "@effect-mimo/core"
 * import { Effect } from "effect"
 *
 * declare const call: Effect.Effect<string, MimoError.MimoError>
 * const patient = Effect.retry(call, RetryPolicy.make({ maxAttempts: 8, jitter: "full", cap: "20 seconds" }))
 * ```
 *
 * @since 0.1.0
 * @category policies
 */
export const make: (options?: Options) => Schedule.Schedule<Duration.Duration, MimoError.MimoError> = internal.make

/**
 * The waits a policy would take, in order, if the attempts failed with
 * `errors` (one error per attempt), without sleeping: it steps the schedule
 * from the current Clock time. Its length is the number of retries. Draws
 * from the `Random` service as a real run would, so for docs and tests.
 *
 * @example
 * ```ts
 * import { MimoError, RetryPolicy } from "@effect-mimo/core"
 * import { Effect, Random } from "effect"
 *
 * const busy = new MimoError.ServiceUnavailable({ message: "busy" })
 * // 4 waits: [1 s, 2 s), [2 s, 3 s), [4 s, 5 s), [8 s, 9 s)
 * const waits = RetryPolicy.delays(RetryPolicy.defaultPolicy, Array.from({ length: 6 }, () => busy)).pipe(
 *   Effect.withRandom(Random.make(42))
 * )
 * ```
 *
 * @since 0.1.0
 * @category utils
 */
export const delays: <Out, R>(
  policy: Schedule.Schedule<Out, MimoError.MimoError, R>,
  errors: ReadonlyArray<MimoError.MimoError>
) => Effect.Effect<Array<Duration.Duration>, never, R> = internal.delays
