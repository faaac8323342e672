import { MimoClient, MimoError } from "@effect-mimo/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import { decorate, withAround } from "./decorate.js"
import * as SlidingWindow from "./slidingWindow.js"

/** @internal */
export const defaults = {
  name: "default",
  failureRate: 0.5,
  minimumCalls: 20,
  window: Duration.seconds(10),
  cooldown: Duration.millis(500),
  maxCooldown: Duration.millis(1500),
  cooldownFactor: 2
} as const

/** @internal */
export const metrics = {
  state: Metric.gauge("mimo_circuit_state", {
    description: "Circuit breaker state: 0 closed, 1 half-open, 2 open (tagged by breaker)"
  }),
  rejected: Metric.counter("mimo_circuit_rejected_total", {
    description: "Calls refused by an open or probing circuit breaker (tagged by breaker)",
    incremental: true
  }),
  opened: Metric.counter("mimo_circuit_opened_total", {
    description: "Times a circuit breaker opened (tagged by breaker)",
    incremental: true
  })
}

/** @internal */
export const defaultIsFailure = (error: unknown): boolean =>
  MimoError.isMimoError(error)
    // A 429 says the server is alive and busy: the rate limiter's business, not the breaker's.
    ? MimoError.isRetryable(error) && error._tag !== "RateLimitExceeded"
    : true

type Internal =
  | { readonly _tag: "Closed" }
  | { readonly _tag: "Open"; readonly until: number; readonly cooldown: number }
  | { readonly _tag: "HalfOpen"; readonly probing: boolean; readonly cooldown: number }

const gaugeValue = (state: Internal): number => state._tag === "Closed" ? 0 : state._tag === "HalfOpen" ? 1 : 2

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.Duration): number => {
  const ms = Duration.toMillis(Duration.decode(input ?? fallback))
  return Number.isFinite(ms) && ms >= 0 ? ms : Duration.toMillis(fallback)
}

/** @internal */
export const resolve = (options: CircuitBreaker.Options) => {
  const cooldown = millis(options.cooldown, defaults.cooldown)
  const rate = options.failureRate
  return {
    name: options.name ?? defaults.name,
    failureRate: rate !== undefined && rate > 0 && rate <= 1 ? rate : defaults.failureRate,
    minimumCalls: Math.max(1, Math.floor(options.minimumCalls ?? defaults.minimumCalls)),
    window: Math.max(1, millis(options.window, defaults.window)),
    cooldown,
    maxCooldown: Math.max(cooldown, millis(options.maxCooldown, defaults.maxCooldown)),
    cooldownFactor: Math.max(1, options.cooldownFactor ?? defaults.cooldownFactor),
    isFailure: options.isFailure ?? defaultIsFailure
  }
}

/** @internal */
export const unsafeMake = (options: CircuitBreaker.Options = {}): CircuitBreaker.CircuitBreaker => {
  const o = resolve(options)
  const name = o.name
  const gauge = Metric.tagged(metrics.state, "breaker", name)
  const rejected = Metric.tagged(metrics.rejected, "breaker", name)
  const opened = Metric.tagged(metrics.opened, "breaker", name)
  const outcomes = SlidingWindow.make(o.window)
  let state: Internal = { _tag: "Closed" }
  gauge.unsafeUpdate(0, [])

  const transition = (next: Internal): void => {
    const wasOpen = state._tag === "Open"
    state = next
    gauge.unsafeUpdate(gaugeValue(next), [])
    if (next._tag === "Open" && !wasOpen) opened.unsafeUpdate(1, [])
    if (next._tag === "Closed") outcomes.clear()
  }

  const open = (now: number, cooldown: number): void => transition({ _tag: "Open", until: now + cooldown, cooldown })

  const reject = (now: number) =>
    Effect.suspend(() => {
      rejected.unsafeUpdate(1, [])
      return Effect.fail(
        state._tag === "Open"
          ? new MimoError.CircuitOpen({
            breaker: name,
            message: `circuit ${name} is open: over ${
              Math.round(o.failureRate * 100)
            }% of attempts failed in the last ${Duration.format(Duration.millis(o.window))}; probing again in ${
              Duration.format(Duration.millis(state.until - now))
            }`,
            retryAfter: Duration.millis(state.until - now)
          })
          : new MimoError.CircuitOpen({
            breaker: name,
            message: `circuit ${name} is half-open: a probe is in flight`
          })
      )
    })

  type Permit = "normal" | "probe"

  /** Decides, at `now`, whether a call may go: as a normal call, as the probe, or not at all. */
  const acquire = (now: number): Effect.Effect<Permit, MimoError.CircuitOpen> => {
    switch (state._tag) {
      case "Closed":
        return Effect.succeed("normal")
      case "Open":
        if (now < state.until) return reject(now)
        transition({ _tag: "HalfOpen", probing: true, cooldown: state.cooldown })
        return Effect.succeed("probe")
      case "HalfOpen":
        if (state.probing) return reject(now)
        transition({ _tag: "HalfOpen", probing: true, cooldown: state.cooldown })
        return Effect.succeed("probe")
    }
  }

  const settle = (permit: Permit, exit: Exit.Exit<unknown, unknown>, now: number): void => {
    if (Exit.isFailure(exit) && Exit.isInterrupted(exit)) {
      // Interrupted: a probe that never finished leaves the breaker half-open for the next caller.
      if (permit === "probe" && state._tag === "HalfOpen") {
        transition({ _tag: "HalfOpen", probing: false, cooldown: state.cooldown })
      }
      return
    }
    let failure = false
    if (Exit.isFailure(exit)) {
      const error = Cause.failureOption(exit.cause)
      failure = Option.isSome(error) ? o.isFailure(error.value) : true
    }
    if (permit === "probe") {
      if (state._tag !== "HalfOpen") return
      // A failed probe opens it again for a longer cool-down; a success (or an answer that does not count) closes it.
      if (failure) open(now, Math.min(o.maxCooldown, state.cooldown * o.cooldownFactor))
      else transition({ _tag: "Closed" })
      return
    }
    if (state._tag !== "Closed") return
    outcomes.record(now, failure)
    if (!failure) return
    const { bad, total } = outcomes.totals(now)
    if (total >= o.minimumCalls && bad >= o.failureRate * total) open(now, o.cooldown)
  }

  const protect = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | MimoError.CircuitOpen, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.flatMap(acquire(now), (permit) =>
            Effect.onExit(
              restore(effect),
              (exit) => Effect.map(Clock.currentTimeMillis, (end) => settle(permit, exit, end))
            ))
      )
    )

  return {
    name,
    state: Effect.map(Clock.currentTimeMillis, (now): CircuitBreaker.State => {
      switch (state._tag) {
        case "Closed":
          return "closed"
        case "HalfOpen":
          return "half-open"
        case "Open":
          // After the cool-down the next call is let through as a probe.
          return now < state.until ? "open" : "half-open"
      }
    }),
    protect
  }
}

/** @internal */
export const make = (options?: CircuitBreaker.Options): Effect.Effect<CircuitBreaker.CircuitBreaker> =>
  Effect.sync(() => unsafeMake(options))

/** @internal */
export const aroundAttempt = (breaker: CircuitBreaker.CircuitBreaker): MimoClient.AroundAttempt => (attempt) =>
  breaker.protect(attempt)

/** @internal */
export const decorateClient = (
  service: MimoClient.Service,
  options: CircuitBreaker.LayerOptions
): MimoClient.Service => {
  const breakers = new Map<string, CircuitBreaker.CircuitBreaker>()
  const perModel = options.perModel ?? true
  const prefix = options.name === undefined ? "" : `${options.name}/`
  const breakerFor = (model: string | undefined): CircuitBreaker.CircuitBreaker => {
    const key = perModel ? model ?? "models" : options.name ?? defaults.name
    let breaker = breakers.get(key)
    if (breaker === undefined) {
      breaker = unsafeMake({ ...options, name: perModel ? `${prefix}${key}` : key })
      breakers.set(key, breaker)
    }
    return breaker
  }
  const around: MimoClient.AroundAttempt = (attempt, info) => breakerFor(info.model).protect(attempt)
  return decorate(service, {
    chat: (_, call, send) => send(withAround(call, around)),
    stream: (_, call, send) => send(withAround(call, around)),
    speech: (_, call, send) => send(withAround(call, around)),
    models: (call) => withAround(call, around)
  })
}

/** @internal */
export const layer = (
  options: CircuitBreaker.LayerOptions = {}
): Layer.Layer<MimoClient.MimoClient, never, MimoClient.MimoClient> =>
  Layer.effect(MimoClient.MimoClient, Effect.map(MimoClient.MimoClient, (service) => decorateClient(service, options)))
