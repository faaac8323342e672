import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as MimoError from "../MimoError.js"
import type * as RetryPolicy from "../RetryPolicy.js"

/** @internal */
export const defaults = {
  maxAttempts: 5,
  base: "1 second",
  factor: 2,
  cap: "60 seconds",
  additiveJitter: "1 second",
  retryAfterJitter: "250 millis"
} as const

/** Data-first when the first argument is a Schedule (the other arguments are all optional). */
const isDataFirst = (args: IArguments): boolean => Schedule.isSchedule(args[0])

/**
 * A uniform draw in `[0, span)` milliseconds, in whole milliseconds, from `r` in `[0, 1]`.
 *
 * Whole milliseconds keep timelines exact integers (a real timer's granularity
 * anyway), and the clamp keeps the upper bound open even when a `Random.fixed`
 * hands out exactly `1`.
 */
const uniformMillis = (r: number, span: number): number =>
  span > 0 && Number.isFinite(span) ? Math.min(Math.ceil(span) - 1, Math.floor(r * span)) : 0

/** Replace each delay of `self` by `f(delay in ms, r)`, with `r` drawn from the `Random` service. */
const jitterWith = <Out, In, R>(
  self: Schedule.Schedule<Out, In, R>,
  f: (millis: number, r: number) => number
): Schedule.Schedule<Out, In, R> =>
  Schedule.modifyDelayEffect(
    self,
    (_, delay) => Effect.map(Random.next, (r) => Duration.millis(f(Duration.toMillis(delay), r)))
  )

/** @internal */
export const exponential = (
  base: Duration.DurationInput = defaults.base,
  factor: number = defaults.factor
): Schedule.Schedule<Duration.Duration> =>
  // Effect's own `exponential` is exactly the seed's `base * factor^n` (n = 0, 1, ...), output = that delay.
  Schedule.exponential(base, factor)

// Effect's `Schedule.jitteredWith({ min, max })` scales a delay by a factor drawn in [min, max]:
// `{ min: 0, max: 1 }` is full jitter and `{ min: 0.5, max: 1 }` equal jitter, but in fractional
// milliseconds and with `max` reachable. The seed's additive jitter (d + U[0, 1 s)) is not a scaling
// at all, so it cannot be expressed with it. All our strategies share `jitterWith` instead: whole
// milliseconds, half-open upper bounds, one `Random.next` per recurrence.

/** @internal */
export const jitterAdditive: {
  (max?: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, max?: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = dual(
  isDataFirst,
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    max: Duration.DurationInput = defaults.additiveJitter
  ): Schedule.Schedule<Out, In, R> => {
    const span = Duration.toMillis(Duration.decode(max))
    return jitterWith(self, (d, r) => d + uniformMillis(r, span))
  }
)

/** @internal */
export const jitterFull = <Out, In, R>(self: Schedule.Schedule<Out, In, R>): Schedule.Schedule<Out, In, R> =>
  jitterWith(self, (d, r) => uniformMillis(r, d))

/** @internal */
export const jitterEqual = <Out, In, R>(self: Schedule.Schedule<Out, In, R>): Schedule.Schedule<Out, In, R> =>
  jitterWith(self, (d, r) => {
    const half = Math.ceil(d / 2)
    return half + uniformMillis(r, d - half)
  })

/**
 * AWS's decorrelated jitter as a Schedule of its own: `sleep = min(cap, U[base, sleep * 3))`,
 * starting from `sleep = base`. It needs the previous sleep as state, which no combinator on
 * delays can keep (and `Schedule.reduceEffect` emits its state one step late), hence `makeWithState`.
 */
const decorrelated = (
  base: Duration.DurationInput,
  cap: Duration.DurationInput
): Schedule.Schedule<Duration.Duration> => {
  const baseMillis = Duration.toMillis(Duration.decode(base))
  const capMillis = Duration.toMillis(Duration.decode(cap))
  return Schedule.makeWithState(baseMillis, (now, _: unknown, previous) =>
    Effect.map(Random.next, (r) => {
      const sleep = Math.min(capMillis, baseMillis + uniformMillis(r, previous * 3 - baseMillis))
      return [
        sleep,
        Duration.millis(sleep),
        ScheduleDecision.continueWith(ScheduleInterval.after(now + sleep))
      ] as const
    }))
}

/** @internal */
export const jitterDecorrelated: {
  (
    base?: Duration.DurationInput,
    cap?: Duration.DurationInput
  ): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    base?: Duration.DurationInput,
    cap?: Duration.DurationInput
  ): Schedule.Schedule<Out, In, R>
} = dual(
  isDataFirst,
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    base: Duration.DurationInput = defaults.base,
    cap: Duration.DurationInput = defaults.cap
  ): Schedule.Schedule<Out, In, R> =>
    Schedule.intersect(self, decorrelated(base, cap)).pipe(
      Schedule.modifyDelay(([, sleep]) => sleep),
      Schedule.map(([out]) => out)
    )
)

/** @internal */
export const capDelay: {
  (max?: Duration.DurationInput): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, max?: Duration.DurationInput): Schedule.Schedule<Out, In, R>
} = dual(
  isDataFirst,
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    max: Duration.DurationInput = defaults.cap
  ): Schedule.Schedule<Out, In, R> => {
    const cap = Duration.decode(max)
    return Schedule.modifyDelay(self, (_, delay) => Duration.min(delay, cap))
  }
)

/** @internal */
export const attempts = (n: number): Schedule.Schedule<number> =>
  Schedule.recurs(Number.isNaN(n) ? 0 : Math.max(0, Math.floor(n) - 1))

/** @internal */
export const whileRetryable: Schedule.Schedule<MimoError.MimoError, MimoError.MimoError> = Schedule.recurWhile(
  MimoError.isRetryable
)

/** @internal */
export const retryAfterOf = (error: MimoError.MimoError): Duration.Duration | undefined =>
  error._tag === "RateLimitExceeded" ? error.retryAfter : undefined

/** @internal */
export const retryAfterAware: {
  (
    options?: RetryPolicy.RetryAfterOptions
  ): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In & MimoError.MimoError, R>
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    options?: RetryPolicy.RetryAfterOptions
  ): Schedule.Schedule<Out, In & MimoError.MimoError, R>
} = dual(
  isDataFirst,
  <Out, In, R>(
    self: Schedule.Schedule<Out, In, R>,
    options?: RetryPolicy.RetryAfterOptions
  ): Schedule.Schedule<Out, In & MimoError.MimoError, R> => {
    const cap = Duration.decode(options?.cap ?? defaults.cap)
    const jitter = Duration.toMillis(Duration.decode(options?.jitter ?? defaults.retryAfterJitter))
    return Schedule.intersect(self, Schedule.identity<MimoError.MimoError>()).pipe(
      // A Retry-After beyond the cap is not slept through: stop now, the caller gets this error.
      Schedule.check((_, [, error]) => {
        const retryAfter = retryAfterOf(error)
        return retryAfter === undefined || !Duration.greaterThan(retryAfter, cap)
      }),
      Schedule.modifyDelayEffect(([, error], delay) => {
        const retryAfter = retryAfterOf(error)
        return retryAfter === undefined ?
          Effect.succeed(delay) :
          Effect.map(
            Random.next,
            (r) => Duration.max(delay, Duration.millis(Duration.toMillis(retryAfter) + uniformMillis(r, jitter)))
          )
      }),
      Schedule.map(([out]) => out)
    )
  }
)

/** @internal */
export const deadline: {
  (at: number): <Out, In, R>(self: Schedule.Schedule<Out, In, R>) => Schedule.Schedule<Out, In, R>
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, at: number): Schedule.Schedule<Out, In, R>
} = dual(
  2,
  <Out, In, R>(self: Schedule.Schedule<Out, In, R>, at: number): Schedule.Schedule<Out, In, R> =>
    // The decision's interval is in Clock time: its start is `now + delay`, where `now` is the
    // Clock reading the driver took for this step. A wait that would end after `at` is not started.
    Schedule.makeWithState(self.initial, (now, input: In, state) =>
      Effect.map(self.step(now, input, state), ([next, out, decision]) =>
        ScheduleDecision.isContinue(decision) && ScheduleIntervals.start(decision.intervals) > at
          ? [next, out, ScheduleDecision.done] as const
          : [next, out, decision] as const))
)

/** @internal */
export const defaultPolicy: Schedule.Schedule<Duration.Duration, MimoError.MimoError> = exponential(
  "1 second",
  2
).pipe(
  jitterAdditive("1 second"),
  capDelay("60 seconds"),
  Schedule.intersect(attempts(5)),
  Schedule.intersect(whileRetryable),
  retryAfterAware({ cap: "60 seconds", jitter: "250 millis" }),
  Schedule.delays
)

const applyJitter = (
  backoff: Schedule.Schedule<Duration.Duration>,
  options: RetryPolicy.Options
): Schedule.Schedule<Duration.Duration> => {
  switch (options.jitter ?? "additive") {
    case "additive":
      return jitterAdditive(backoff, defaults.additiveJitter)
    case "full":
      return jitterFull(backoff)
    case "equal":
      return jitterEqual(backoff)
    case "decorrelated":
      return jitterDecorrelated(backoff, options.base ?? defaults.base, options.cap ?? defaults.cap)
    case "none":
      return backoff
  }
}

/** @internal */
export const make = (options: RetryPolicy.Options = {}): Schedule.Schedule<Duration.Duration, MimoError.MimoError> => {
  const cap = options.cap ?? defaults.cap
  const policy = applyJitter(exponential(options.base ?? defaults.base, options.factor ?? defaults.factor), options)
    .pipe(
      capDelay(cap),
      Schedule.intersect(attempts(options.maxAttempts ?? defaults.maxAttempts)),
      Schedule.intersect(whileRetryable)
    )
  const aware = options.retryAfter === false ? policy : retryAfterAware(policy, { cap })
  return Schedule.delays(options.deadline === undefined ? aware : deadline(aware, options.deadline))
}

/** @internal */
export const delays = <Out, R>(
  policy: Schedule.Schedule<Out, MimoError.MimoError, R>,
  errors: ReadonlyArray<MimoError.MimoError>
): Effect.Effect<Array<Duration.Duration>, never, R> =>
  Effect.gen(function*() {
    let now = yield* Clock.currentTimeMillis
    let state = policy.initial
    const out: Array<Duration.Duration> = []
    for (const error of errors) {
      const [next, , decision] = yield* policy.step(now, error, state)
      if (ScheduleDecision.isDone(decision)) break
      const start = Math.max(now, ScheduleIntervals.start(decision.intervals))
      out.push(Duration.millis(start - now))
      now = start
      state = next
    }
    return out
  })
