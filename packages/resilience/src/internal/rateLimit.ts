import type { ChatCompletion } from "@effect-mimo/core"
import { MimoClient, MimoError } from "@effect-mimo/core"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import type * as MetricLabel from "effect/MetricLabel"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as RateLimit from "../RateLimit.js"
import * as AdaptiveRate from "./adaptiveRate.js"
import * as AdmissionQueue from "./admissionQueue.js"
import * as Buckets from "./buckets.js"
import { composeAround, decorate } from "./decorate.js"
import * as Gate from "./gate.js"
import { inMemoryStores, layerStoreMemory, Store } from "./limiterStore.js"
import {
  defaults,
  estimateTokens,
  resolveAdaptive,
  type Resolved,
  resolveLimits,
  resolvePacing,
  usageTotal
} from "./limits.js"
import * as Permits from "./permits.js"
import * as SlidingWindow from "./slidingWindow.js"
import * as SlowStart from "./slowStart.js"

export { layerStoreMemory, makeStore, memoryPauses, Store } from "./limiterStore.js"
export { defaults, estimateTokens, resolveAdaptive, resolveLimits } from "./limits.js"

// -----------------------------------------------------------------------------
// metrics
// -----------------------------------------------------------------------------

/**
 * The keys of the per-model metrics. A model's metric is made from its key with the model's tag in it
 * (`MetricKey.tagged`): the same registry entry as `Metric.tagged(metric, "model", model)`, resolved once, where
 * `Metric.tagged` builds, hashes and looks up a new key at every update (apps/bench, the limiter's own cost).
 */
const keys = {
  queueLength: MetricKey.gauge("mimo_ratelimit_queue_length", {
    description: "Attempts waiting in the rate limiter (tagged by model)"
  }),
  inFlight: MetricKey.gauge("mimo_ratelimit_in_flight", {
    description: "Attempts let through and not finished (tagged by model)"
  }),
  allowedRate: MetricKey.gauge("mimo_ratelimit_allowed_rate", {
    description: "Requests per second the limiter allows now, after adaptive decreases (tagged by model)"
  }),
  waitMillis: MetricKey.histogram(
    "mimo_ratelimit_wait_ms",
    MetricBoundaries.exponential({ start: 1, factor: 2, count: 18 }),
    "Milliseconds an attempt waited in the rate limiter (tagged by model)"
  ),
  throttled: MetricKey.counter("mimo_ratelimit_throttled_total", {
    description: "429 responses seen, on any attempt (tagged by model)",
    incremental: true
  }),
  admitted: MetricKey.counter("mimo_ratelimit_admitted_total", {
    description: "Attempts let through to the wire (tagged by model)",
    incremental: true
  })
}

/** @internal */
export const metrics = {
  queueLength: Metric.fromMetricKey(keys.queueLength),
  inFlight: Metric.fromMetricKey(keys.inFlight),
  allowedRate: Metric.fromMetricKey(keys.allowedRate),
  waitMillis: Metric.fromMetricKey(keys.waitMillis),
  throttled: Metric.fromMetricKey(keys.throttled),
  admitted: Metric.fromMetricKey(keys.admitted),
  storeErrors: Metric.counter("mimo_ratelimit_store_errors_total", {
    description: "Failed rate-limit store operations; the limiter lets the attempt through (fails open)",
    incremental: true
  })
}

/**
 * Metric updates in one step, with the current fiber's metric labels (as `Metric.update` has them): the per-attempt
 * counters are updated together, not as an `Effect` each (apps/bench, the limiter's own cost).
 */
const updating = (f: (labels: ReadonlyArray<MetricLabel.MetricLabel>) => void): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    f(fiber.getFiberRef(FiberRef.currentMetricLabels))
    return Effect.void
  })

// -----------------------------------------------------------------------------
// the limiter
// -----------------------------------------------------------------------------

/** Two `retryDelay` hooks, one after the other (the caller's first). */
const composeDelays = (
  first: NonNullable<MimoClient.CallOptions["retryDelay"]>,
  second: NonNullable<MimoClient.CallOptions["retryDelay"]>
): NonNullable<MimoClient.CallOptions["retryDelay"]> =>
(delay, error) => Effect.flatMap(first(delay, error), (d) => second(d, error))

interface ModelBase {
  readonly model: string
  readonly limits: Resolved
  readonly keys: { readonly requests: string; readonly tokens: string; readonly pause: string }
  readonly permits: Permits.Permits
  readonly adaptive: AdaptiveRate.AdaptiveRate
  /** The first flight, in rounds (issue 13). */
  readonly slowStart: SlowStart.SlowStart
  /** Attempts that ended, `bad` for a 5xx or a transport failure: the quick retry's health check (issue 13). */
  readonly outcomes: SlidingWindow.SlidingWindow
  queued: number
  inFlight: number
  /** The latest pause end this process knows of (epoch ms, Clock time). */
  knownPause: number
  throttled: number
  admitted: number
  readonly m: {
    readonly queueLength: Metric.Metric.Gauge<number>
    readonly inFlight: Metric.Metric.Gauge<number>
    readonly allowedRate: Metric.Metric.Gauge<number>
    readonly waitMillis: typeof metrics.waitMillis
    readonly throttled: Metric.Metric.Counter<number>
    readonly admitted: Metric.Metric.Counter<number>
  }
}

interface ModelState extends ModelBase {
  readonly queue: AdmissionQueue.AdmissionQueue
  /** The call option that shortens the policy's waits after a 5xx while the server is healthy (issue 13). */
  readonly retryDelay: MimoClient.CallOptions["retryDelay"]
}

/** @internal */
export const make = (
  options: RateLimit.Options = {}
): Effect.Effect<RateLimit.Limiter, never, Scope.Scope | RateLimit.Store> =>
  Effect.gen(function*() {
    const store = yield* Store
    const scope = yield* Effect.scope
    const adaptiveConfig = resolveAdaptive(options.adaptive)
    const prefix = options.prefix ?? defaults.prefix
    const defaultPause = Duration.toMillis(Duration.decode(options.defaultPause ?? defaults.defaultPause))
    const maxPause = Duration.toMillis(Duration.decode(options.maxPause ?? defaults.maxPause))
    const pauseAllFrom = Duration.toMillis(Duration.decode(options.pauseAllFrom ?? defaults.pauseAllFrom))
    const estimate = options.estimateTokens ?? estimateTokens
    const pacing = resolvePacing(options)
    const models = new Map<string, ModelState>()

    // --- store access (fails open) -----------------------------------------------

    const {
      adjustTokens,
      adjustTokensSync,
      bucketSize,
      consume,
      drain,
      reserve,
      reserveNowSync,
      reserveSync,
      storeDefect,
      storeFailed
    } = Buckets.make(
      store,
      metrics.storeErrors,
      inMemoryStores.has(store)
    )

    /** The pause in force for the model, from this process and the store; a new pause from elsewhere slows us too. */
    const pausedUntil = (s: ModelBase, now: number): Effect.Effect<number> =>
      store.pausedUntil(s.keys.pause).pipe(
        Effect.map((stored) => {
          if (stored > s.knownPause) {
            // Another process's pause (shared store): this process cuts too, from what it measured itself.
            if (s.adaptive.cut(now, stored)) s.m.allowedRate.unsafeUpdate(s.adaptive.rate(now), [])
            s.knownPause = stored
          }
          return s.knownPause
        }),
        Effect.catchAll((error) => Effect.as(storeFailed("pausedUntil")(error), s.knownPause)),
        Effect.catchAllDefect((defect) => Effect.as(storeDefect("pausedUntil", defect), s.knownPause))
      )

    // --- reservations: pauses, then the buckets at the allowed rate ------------------------------------------

    const sleepUntil = (at: number): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void)

    /** Waits while the model is paused (the pause may grow while we wait). */
    const awaitPause = (s: ModelBase): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(pausedUntil(s, now), (until) =>
          until > now ? Effect.zipRight(sleepUntil(until), awaitPause(s)) : Effect.void))

    /** At the allowed rate now: the reservation, the rate in its gauge. */
    const reserveNow = (s: ModelBase, cost: number, now: number): Effect.Effect<number> => {
      const rate = s.adaptive.rate(now)
      return Effect.zipRight(
        updating((labels) =>
          s.m.allowedRate.unsafeUpdate(rate, labels)
        ),
        reserve(s, cost, rate)
      )
    }

    /** `awaitPause`, then the reservation, in fewer steps when there is no pause (one clock access). */
    const reserveAfterPause = (s: ModelBase, cost: number): Effect.Effect<number> =>
      Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        return Effect.flatMap(pausedUntil(s, now), (until) =>
          until > now
            ? Effect.zipRight(
              Effect.zipRight(sleepUntil(until), awaitPause(s)),
              Effect.flatMap(Clock.currentTimeMillis, (after) => reserveNow(s, cost, after))
            )
            : reserveNow(s, cost, clock.unsafeCurrentTimeMillis()))
      })

    /**
     * In memory, a reservation when no pause is in force and none is new in the store is `reserveNow` in one
     * synchronous step: the same rate, gauge and buckets, without an `Effect` per bucket (apps/bench, the limiter's
     * own cost). Anything else (slow start too) goes the store's way. Keep in step with `reserveNow` (test/FastPath.test.ts compares the
     * two).
     */
    const syncStore = inMemoryStores.get(store)

    /**
     * In memory, whether a reservation at `now` may skip the store's way: no slow start, no pause in force, none
     * new in the store (the store's way would learn it and wait).
     */
    const calmInMemory = (s: ModelBase, now: number): boolean =>
      syncStore !== undefined && !s.slowStart.active() && s.knownPause <= now &&
      syncStore.pausedUntil(s.keys.pause) <= s.knownPause

    const fastReserve = (s: ModelBase, viaStore: AdmissionQueue.Reservations): AdmissionQueue.Reservations => {
      if (reserveSync === undefined || syncStore === undefined) return viaStore
      return {
        ...viaStore,
        reserve: (cost) =>
          Effect.withFiberRuntime((fiber) => {
            const now = Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()
            if (!calmInMemory(s, now)) return viaStore.reserve(cost)
            const rate = s.adaptive.rate(now)
            s.m.allowedRate.unsafeUpdate(rate, fiber.getFiberRef(FiberRef.currentMetricLabels))
            return Effect.succeed(reserveSync(s, cost, rate, now))
          })
      }
    }

    const reservations = (s: ModelBase): AdmissionQueue.Reservations => ({
      reserve: (cost) =>
        // slow-start (issue 13): during the first flight, the round's turn first (a 429 may pause everyone).
        s.slowStart.active()
          ? Effect.zipRight(s.slowStart.await, reserveAfterPause(s, cost))
          : reserveAfterPause(s, cost),
      // A slot whose wait a pause overtook is void (the bucket refills during the pause, and the next reservation
      // takes from it), and the tokens taken for it are given back.
      stillValid: (cost) =>
        Effect.flatMap(Clock.currentTimeMillis, (after) =>
          Effect.flatMap(pausedUntil(s, after), (until) =>
            until > after ? Effect.as(adjustTokens(s, -cost), false) : Effect.succeed(true)))
    })

    const stateFor = (model: string): ModelState => {
      let s = models.get(model)
      if (s === undefined) {
        const limits = resolveLimits(options, model)
        const base: ModelBase = {
          model,
          limits,
          keys: {
            requests: `${prefix}${model}:requests`,
            tokens: `${prefix}${model}:tokens`,
            pause: `${prefix}${model}:pause`
          },
          permits: Permits.make(limits.concurrency),
          adaptive: AdaptiveRate.make(adaptiveConfig, limits.rate, () =>
            store.share?.() ?? 1),
          slowStart: pacing.slowStart === undefined
            ? SlowStart.off
            : SlowStart.make(
              pacing.slowStart.initial,
              Math.min(limits.burst, limits.concurrency),
              pacing.slowStart.probe,
              scope,
              Effect.suspend(() =>
                slowStartEnded(base)
              )
            ),
          outcomes: SlidingWindow.make(adaptiveConfig.window),
          queued: 0,
          inFlight: 0,
          knownPause: 0,
          throttled: 0,
          admitted: 0,
          m: {
            queueLength: Metric.fromMetricKey(MetricKey.tagged(keys.queueLength, "model", model)),
            inFlight: Metric.fromMetricKey(MetricKey.tagged(keys.inFlight, "model", model)),
            allowedRate: Metric.fromMetricKey(MetricKey.tagged(keys.allowedRate, "model", model)),
            waitMillis: Metric.fromMetricKey(MetricKey.tagged(keys.waitMillis, "model", model)),
            throttled: Metric.fromMetricKey(MetricKey.tagged(keys.throttled, "model", model)),
            admitted: Metric.fromMetricKey(MetricKey.tagged(keys.admitted, "model", model))
          }
        }
        const state: ModelState = Object.assign(base, {
          queue: AdmissionQueue.make(fastReserve(base, reservations(base)), scope),
          retryDelay: quickRetry(base)
        })
        state.m.allowedRate.unsafeUpdate(limits.rate, [])
        models.set(model, state)
        s = state
      }
      return s
    }

    // --- what happens around each attempt ---------------------------------------------

    /**
     * A 429: the request that got it waits its `Retry-After` (returned: the gate holds its next attempt until
     * then). The model's whole queue pauses only when 429s are dense over the window, or when the server asks
     * for `pauseAllFrom` or more (its budget is spent for a while); then the rate is cut (once per window) and
     * the pause shared through the store.
     */
    const onThrottled = (s: ModelState, error: MimoError.RateLimitExceeded): Effect.Effect<number> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        s.throttled++
        s.slowStart.throttled(now)
        const wait = Math.min(maxPause, askedWait(error))
        const until = now + wait
        const before = s.adaptive.rate(now)
        const dense = s.adaptive.answered(now, true, until)
        // pause-once (issue 13): the attempts held by a pause go together when it ends; for a window after that,
        // their 429s hold only themselves, or each pause would end in the next one.
        const settled = s.knownPause === 0 || now < s.knownPause || now - s.knownPause >= adaptiveConfig.window
        const pauseAll = (dense && settled) || wait >= pauseAllFrom
        const rate = s.adaptive.rate(now)
        // Only a dense window's cut empties the bucket (the server's is empty); a soft cut only lowers the rate.
        const cut = dense && rate < before
        const extend = pauseAll && until > s.knownPause
        if (extend) {
          s.knownPause = until
        }
        const effects: Array<Effect.Effect<void>> = [Metric.increment(s.m.throttled), Metric.set(s.m.allowedRate, rate)]
        if (extend) {
          effects.push(Effect.catchAll(store.pause(s.keys.pause, until), storeFailed("pause")))
        }
        if (cut) {
          effects.push(drain(s, rate))
        } else if (
          // refund-stray (issue 13): a stray 429 — sparse (under half the dense ratio), the rate not cut — gives
          // its request token back: the server refused the request, so it did not count it (see the README).
          pacing.refundStray && !pauseAll && rate >= s.limits.rate &&
          s.adaptive.ratio(now) < adaptiveConfig.denseRatio / 2
        ) {
          effects.push(refundRequest(s, rate))
        }
        if (pauseAll) {
          effects.push(
            Effect.logDebug("MiMo rate limiter: 429s are dense; pausing the model's queue").pipe(
              Effect.annotateLogs({
                "mimo.model": s.model,
                "mimo.ratelimit.paused_ms": wait,
                "mimo.ratelimit.allowed_rate": rate,
                "mimo.ratelimit.throttled_ratio": s.adaptive.ratio(now)
              })
            )
          )
        }
        if (options.onThrottled !== undefined) {
          effects.push(options.onThrottled({
            model: s.model,
            retryAfter: Duration.millis(wait),
            pausedUntil: pauseAll ? s.knownPause : now,
            allowedRate: rate,
            pausedAll: pauseAll
          }))
        }
        return Effect.as(Effect.all(effects, { discard: true }), until)
      })

    /**
     * slow-start (issue 13): the first flight met a 429, so the server's burst is spent (or the 429 was stray):
     * what is left of ours is not sent at once either. The bucket is emptied and refills at the allowed rate.
     */
    const slowStartEnded = (s: ModelBase): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => drain(s, s.adaptive.rate(now)))

    /** Gives one request token back, never above the bucket's size. */
    const refundRequest = (s: ModelBase, rate: number): Effect.Effect<void> => {
      const limit = bucketSize(s, rate)
      return consume(s.keys.requests, 0, limit, rate).pipe(
        Effect.flatMap((r) => r.remaining < limit ? consume(s.keys.requests, -1, limit, rate) : Effect.void),
        Effect.asVoid,
        Effect.catchAll(storeFailed("refund"))
      )
    }

    // --- what the limiter does to the call's retries (issue 13) --------------------------------------------

    /** What a 429 asks for, in ms: its `Retry-After`, or `defaultPause`. */
    const askedWait = (error: MimoError.RateLimitExceeded): number =>
      Math.max(0, error.retryAfter === undefined ? defaultPause : Duration.toMillis(error.retryAfter))

    /**
     * requeue (issue 13): the call's hook (one per call) that sends a request refused with 429 again once its
     * `Retry-After` has passed, behind the limiter like any attempt, without spending one of the call's attempts
     * or its retry quota — at most `maxRequeues` times per call, and never for a `Retry-After` beyond `maxPause`
     * (the policy then decides: the default one fails the call with the 429 at once).
     *
     * extra attempts (issue 13, `quickRetry.extraAttempts`): a retryable 5xx or transport failure of a call whose
     * policy already retried once is sent again after `quickRetry.delay`, uncounted, while the model's attempts are
     * healthy (as for the quick retry) — at most `extraAttempts` times per call. Sparse, independent failures then
     * do not end a call that merely drew several in a row; dense ones leave the policy alone; a policy that does not
     * retry is never overridden.
     */
    const requeueHook = (s: ModelBase): MimoClient.CallOptions["requeue"] => {
      let left = pacing.maxRequeues
      const quick = pacing.quickRetry
      let spare = quick === undefined ? 0 : quick.extraAttempts
      return (error, info) =>
        Effect.clockWith((clock) => {
          if (error._tag === "RateLimitExceeded") {
            if (left <= 0) return Effect.succeed(undefined)
            const wait = askedWait(error)
            if (wait > maxPause) return Effect.succeed(undefined)
            left--
            return Effect.succeed(Duration.millis(wait))
          }
          if (quick === undefined || spare <= 0 || info.attempt < 2 || !MimoError.isRetryable(error)) {
            return Effect.succeed(undefined)
          }
          const status = MimoError.statusOf(error)
          if (status !== undefined && status < 500) return Effect.succeed(undefined)
          if (!healthy(s, quick.maxFailureRatio, clock.unsafeCurrentTimeMillis())) return Effect.succeed(undefined)
          spare--
          return Effect.succeed(quick.delay)
        })
    }

    /**
     * quick-retry (issue 13): after a 5xx or a transport failure, the policy's wait is cut to `quickRetry.delay`
     * while the model's attempts are otherwise healthy (fewer than `maxFailureRatio` of the window's, out of at
     * least `minSamples`): the failures are sparse and independent, and the queue spaces the retries already.
     * When failures are dense (an outage, an overload) the policy's backoff stands.
     */
    const quickRetry = (s: ModelBase): MimoClient.CallOptions["retryDelay"] => {
      const quick = pacing.quickRetry
      if (quick === undefined) return undefined
      return (delay, error) =>
        error._tag === "RateLimitExceeded" || Duration.lessThanOrEqualTo(delay, quick.delay)
          ? Effect.succeed(delay)
          : Effect.map(Clock.currentTimeMillis, (now) => healthy(s, quick.maxFailureRatio, now) ? quick.delay : delay)
    }

    /** Fewer than `maxFailureRatio` of the model's attempts over the window ending at `now` failed so (5xx or transport), out of at least `minSamples`. */
    const healthy = (s: ModelBase, maxFailureRatio: number, now: number): boolean => {
      const { bad, total } = s.outcomes.totals(now)
      return total >= adaptiveConfig.minSamples && bad < maxFailureRatio * total
    }

    /** The call's options under the limiter: the gate around each attempt, the requeue and quick-retry hooks. */
    const paced = (
      s: ModelState,
      call: MimoClient.CallOptions | undefined,
      cost: number,
      permits: boolean
    ): MimoClient.CallOptions => {
      const requeue = pacing.maxRequeues > 0 || (pacing.quickRetry?.extraAttempts ?? 0) > 0
        ? requeueHook(s)
        : undefined
      const own = call?.requeue
      return {
        ...call,
        aroundAttempt: composeAround(call?.aroundAttempt, Gate.make(gateOf(s), cost, permits)),
        requeue: own === undefined || requeue === undefined ?
          own ?? requeue :
          (error, info) =>
            Effect.flatMap(
              own(error, info),
              (delay) => delay === undefined ? requeue(error, info) : Effect.succeed(delay)
            ),
        retryDelay: call?.retryDelay === undefined || s.retryDelay === undefined
          ? call?.retryDelay ?? s.retryDelay
          : composeDelays(call.retryDelay, s.retryDelay)
      }
    }

    const setQueued = (s: ModelState, delta: number) =>
      updating((labels) => {
        s.queued += delta
        s.m.queueLength.unsafeUpdate(s.queued, labels)
      })

    const inFlightSync = (s: ModelState, delta: number, labels: ReadonlyArray<MetricLabel.MetricLabel>): void => {
      s.inFlight += delta
      s.m.inFlight.unsafeUpdate(s.inFlight, labels)
    }

    const setInFlight = (s: ModelState, delta: number) => updating((labels) => inFlightSync(s, delta, labels))

    /** An attempt let through at `sentAt` after waiting `waited` ms: counted, in flight. */
    const admittedSync = (
      s: ModelState,
      waited: number,
      sentAt: number,
      labels: ReadonlyArray<MetricLabel.MetricLabel>
    ): void => {
      s.admitted++
      s.adaptive.sent(sentAt)
      s.m.waitMillis.unsafeUpdate(waited, labels)
      s.m.admitted.unsafeUpdate(1, labels)
      inFlightSync(s, 1, labels)
    }

    /**
     * In memory, an attempt that would not wait at all — nobody queued, no pause in force or new in the store, no
     * slow start, both buckets giving at once — is reserved and admitted in one synchronous step: the same
     * buckets, rate, gauges and counts as `admit` then `admitted`, without the queue's `Effect`s (apps/bench, the
     * limiter's own cost). Anything else goes the usual way, with nothing taken. test/FastPath.test.ts checks
     * that a limiter on the in-memory store sends exactly when one on the library's store (no fast path) does.
     */
    const fastGate = (s: ModelState): Gate.Fast | undefined => {
      if (reserveNowSync === undefined) return undefined
      return {
        tryAdmit: (cost, now, labels) => {
          if (!s.queue.idle() || !calmInMemory(s, now)) return false
          const rate = s.adaptive.rate(now)
          if (!reserveNowSync(s, cost, rate, now)) return false
          s.m.allowedRate.unsafeUpdate(rate, labels)
          admittedSync(s, 0, now, labels)
          return true
        },
        succeeded: (_sentAt, now) => succeededSync(s, now),
        // Slow start was over when the attempt was admitted (it never starts again): only the count in flight.
        finished: (labels) => inFlightSync(s, -1, labels)
      }
    }

    /** An attempt succeeded at `now`. */
    const succeededSync = (s: ModelState, now: number): void => {
      s.adaptive.answered(now, false, now)
      s.outcomes.record(now, false)
    }

    /** The model as the per-attempt gate sees it. */
    const gateModel = (s: ModelState): Gate.Model => ({
      permits: s.permits,
      admit: (cost) => s.queue.admit(cost),
      queued: (delta) => setQueued(s, delta),
      admitted: (waited, sentAt) => updating((labels) => admittedSync(s, waited, sentAt, labels)),
      fast: fastGate(s),
      // slow-start (issue 13): only calls made while it lasts tell it their attempts' ends (the hot path after it
      // pays nothing).
      finished: s.slowStart.active()
        ? Effect.zipRight(
          setInFlight(s, -1),
          Effect.flatMap(Clock.currentTimeMillis, (now) => s.slowStart.finished(now) ? slowStartEnded(s) : Effect.void)
        )
        : setInFlight(s, -1),
      succeeded: () =>
        Effect.clockWith((clock) => {
          succeededSync(s, clock.unsafeCurrentTimeMillis())
          return Effect.void
        }),
      failed: (error, cost) => {
        // A refused request gives its token estimate back; an answer other than a 429 counts in the 429 ratio.
        const status = MimoError.statusOf(error)
        const refund = status !== undefined ? adjustTokens(s, -cost) : Effect.void
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          // quick-retry (issue 13): a 5xx or a transport failure is a fault; any other answer is not.
          s.outcomes.record(now, status === undefined || status >= 500)
          if (error._tag === "RateLimitExceeded") return Effect.zipRight(refund, onThrottled(s, error))
          if (status !== undefined) s.adaptive.answered(now, false, now)
          return Effect.as(refund, undefined)
        })
      }
    })

    /** The model's gate model, made once per model (it holds no per-call state). */
    const gateModels = new WeakMap<ModelState, Gate.Model>()
    const gateOf = (s: ModelState): Gate.Model => {
      // While slow start lasts the model's `finished` differs per call (see `gateModel`): made fresh, not kept.
      if (s.slowStart.active()) return gateModel(s)
      let model = gateModels.get(s)
      if (model === undefined) {
        model = gateModel(s)
        gateModels.set(s, model)
      }
      return model
    }

    /** Holds one of the model's permits for the life of a scope (a stream). */
    const holdPermit = (s: ModelState): Effect.Effect<void, never, Scope.Scope> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          s.permits.take(restore),
          Effect.addFinalizer(() => Effect.sync(s.permits.release))
        )
      )

    const reconcile = (s: ModelState, cost: number, usage: ChatCompletion.Usage | null | undefined) => {
      const actual = usageTotal(usage)
      return actual === undefined ? Effect.void : adjustTokens(s, actual - cost)
    }

    const wrap = (service: MimoClient.Service): MimoClient.Service =>
      decorate(service, {
        chat: (request, call, send) =>
          Effect.withFiberRuntime((fiber) => {
            const s = stateFor(request.model)
            const cost = estimate(request)
            const sent = send(paced(s, call, cost, true))
            if (adjustTokensSync === undefined) return Effect.tap(sent, (r) => reconcile(s, cost, r.usage))
            // In memory, the reconciliation in the same step as the answer (apps/bench, the limiter's own cost).
            const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
            return Effect.map(sent, (r) => {
              const actual = usageTotal(r.usage)
              if (actual !== undefined) adjustTokensSync(s, actual - cost, clock.unsafeCurrentTimeMillis())
              return r
            })
          }),
        speech: (request, call, send) =>
          Effect.suspend(() => {
            const s = stateFor(request.model)
            const cost = estimate(request)
            return Effect.tap(
              send(paced(s, call, cost, true)),
              (r) => reconcile(s, cost, r.response.usage)
            )
          }),
        stream: (request, call, send) =>
          Stream.unwrapScoped(Effect.gen(function*() {
            const s = stateFor(request.model)
            const cost = estimate(request)
            // A stream holds a permit for as long as it is open, not only until its first chunk.
            yield* setQueued(s, 1)
            yield* Effect.ensuring(holdPermit(s), setQueued(s, -1))
            let usage: ChatCompletion.Usage | undefined
            yield* Effect.addFinalizer((exit) => Exit.isSuccess(exit) ? reconcile(s, cost, usage) : Effect.void)
            return send(paced(s, call, cost, false)).pipe(
              Stream.tap((chunk) =>
                Effect.sync(() => {
                  if (chunk.usage !== null && chunk.usage !== undefined) usage = chunk.usage
                })
              )
            )
          }))
      })

    const snapshot: Effect.Effect<ReadonlyArray<RateLimit.Snapshot>> = Effect.map(
      Clock.currentTimeMillis,
      (now) =>
        Array.from(models.values(), (s): RateLimit.Snapshot => ({
          model: s.model,
          queued: s.queued,
          inFlight: s.inFlight,
          allowedRate: s.adaptive.rate(now),
          maxRate: s.limits.rate,
          pausedUntil: s.knownPause,
          throttled: s.throttled,
          admitted: s.admitted,
          throttledRatio: s.adaptive.ratio(now)
        }))
    )

    return { wrap, snapshot } satisfies RateLimit.Limiter
  })

/** @internal */
export const Limiter: Context.Tag<RateLimit.Limiter, RateLimit.Limiter> = Context.GenericTag<RateLimit.Limiter>(
  "@effect-mimo/resilience/RateLimit/Limiter"
)

/** @internal */
export const layerWithStore = (
  options?: RateLimit.Options
): Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, never, MimoClient.MimoClient | RateLimit.Store> =>
  Layer.scopedContext(Effect.gen(function*() {
    const limiter = yield* make(options)
    const service = yield* MimoClient.MimoClient
    return Context.make(Limiter, limiter).pipe(Context.add(MimoClient.MimoClient, limiter.wrap(service)))
  }))

/** @internal */
export const layer = (
  options?: RateLimit.Options
): Layer.Layer<MimoClient.MimoClient | RateLimit.Limiter, never, MimoClient.MimoClient> =>
  layerWithStore(options).pipe(Layer.provide(layerStoreMemory))
