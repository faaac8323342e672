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

/** @internal */
export const defaults = {
  name: "default",
  failureThreshold: 5,
  cooldown: Duration.seconds(30)
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
  | { readonly _tag: "Closed"; readonly failures: number }
  | { readonly _tag: "Open"; readonly until: number }
  | { readonly _tag: "HalfOpen"; readonly probing: boolean }

const gaugeValue = (state: Internal): number => state._tag === "Closed" ? 0 : state._tag === "HalfOpen" ? 1 : 2

/** @internal */
export const unsafeMake = (options: CircuitBreaker.Options = {}): CircuitBreaker.CircuitBreaker => {
  const name = options.name ?? defaults.name
  const threshold = Math.max(1, Math.floor(options.failureThreshold ?? defaults.failureThreshold))
  const cooldown = Duration.toMillis(Duration.decode(options.cooldown ?? defaults.cooldown))
  const isFailure = options.isFailure ?? defaultIsFailure
  const gauge = Metric.tagged(metrics.state, "breaker", name)
  const rejected = Metric.tagged(metrics.rejected, "breaker", name)
  const opened = Metric.tagged(metrics.opened, "breaker", name)
  let state: Internal = { _tag: "Closed", failures: 0 }
  gauge.unsafeUpdate(0, [])

  const transition = (next: Internal): Effect.Effect<void> => {
    const wasOpen = state._tag === "Open"
    state = next
    const effects = [Metric.set(gauge, gaugeValue(next))]
    if (next._tag === "Open" && !wasOpen) effects.push(Metric.increment(opened))
    return Effect.all(effects, { discard: true })
  }

  const reject = (now: number) =>
    Effect.zipRight(
      Metric.increment(rejected),
      Effect.fail(
        state._tag === "Open"
          ? new MimoError.CircuitOpen({
            breaker: name,
            message: `circuit ${name} is open: ${threshold} consecutive failures; probing again in ${
              Duration.format(Duration.millis(state.until - now))
            }`,
            retryAfter: Duration.millis(state.until - now)
          })
          : new MimoError.CircuitOpen({
            breaker: name,
            message: `circuit ${name} is half-open: a probe is in flight`
          })
      )
    )

  type Permit = "normal" | "probe"

  /** Decides, at `now`, whether a call may go: as a normal call, as the probe, or not at all. */
  const acquire = (now: number): Effect.Effect<Permit, MimoError.CircuitOpen> =>
    Effect.suspend(() => {
      switch (state._tag) {
        case "Closed":
          return Effect.succeed<Permit>("normal")
        case "Open":
          return now < state.until ? reject(now) : Effect.as(transition({ _tag: "HalfOpen", probing: true }), "probe")
        case "HalfOpen":
          return state.probing ? reject(now) : Effect.as(transition({ _tag: "HalfOpen", probing: true }), "probe")
      }
    })

  const settle = (permit: Permit, exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) {
        const error = Cause.failureOption(exit.cause)
        const failure = Option.isSome(error) ? isFailure(error.value) : true
        if (failure) {
          if (permit === "probe") return transition({ _tag: "Open", until: now + cooldown })
          if (state._tag !== "Closed") return Effect.void
          const failures = state.failures + 1
          return transition(
            failures >= threshold ? { _tag: "Open", until: now + cooldown } : { _tag: "Closed", failures }
          )
        }
      } else if (Exit.isFailure(exit)) {
        // Interrupted: a probe that never finished leaves the breaker half-open for the next caller.
        return permit === "probe" && state._tag === "HalfOpen"
          ? transition({ _tag: "HalfOpen", probing: false })
          : Effect.void
      }
      // A success, or a failure that does not count (e.g. a 400): the service answered.
      if (permit === "probe" || state._tag === "Closed") {
        return state._tag === "Closed" && state.failures === 0
          ? Effect.void
          : transition({ _tag: "Closed", failures: 0 })
      }
      return Effect.void
    })

  const protect = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | MimoError.CircuitOpen, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        Clock.currentTimeMillis,
        (now) =>
          Effect.flatMap(acquire(now), (permit) => Effect.onExit(restore(effect), (exit) => settle(permit, exit)))
      )
    )

  return {
    name,
    state: Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<CircuitBreaker.State> => {
      switch (state._tag) {
        case "Closed":
          return Effect.succeed("closed")
        case "HalfOpen":
          return Effect.succeed("half-open")
        case "Open":
          // After the cool-down the next call is let through as a probe.
          return Effect.succeed(now < state.until ? "open" : "half-open")
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
