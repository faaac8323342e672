import type { ChatCompletion } from "@effect-mimo/core"
import { MimoClient, MimoError } from "@effect-mimo/core"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as RateLimit from "../RateLimit.js"
import { decorate, withAround } from "./decorate.js"

// -----------------------------------------------------------------------------
// defaults, metrics
// -----------------------------------------------------------------------------

/** @internal */
export const defaults = {
  requestsPerMinute: 100,
  tokensPerMinute: 10_000_000,
  concurrency: 64,
  completionEstimate: 1024,
  defaultPause: Duration.seconds(1),
  maxPause: Duration.seconds(60),
  prefix: "mimo:",
  cubic: { beta: 0.7, scale: 0.4 },
  aimd: { beta: 0.5, increase: 0.1 },
  minRate: 0.02
} as const

/** Per-model limits that differ from the account-wide defaults ([X] §2). */
const builtinLimits: Readonly<Record<string, RateLimit.Limits>> = {
  "mimo-v2.5-asr": { tokensPerMinute: 10_000 }
}

/** @internal */
export const metrics = {
  queueLength: Metric.gauge("mimo_ratelimit_queue_length", {
    description: "Attempts waiting in the rate limiter (tagged by model)"
  }),
  inFlight: Metric.gauge("mimo_ratelimit_in_flight", {
    description: "Attempts let through and not finished (tagged by model)"
  }),
  allowedRate: Metric.gauge("mimo_ratelimit_allowed_rate", {
    description: "Requests per second the limiter allows now, after adaptive decreases (tagged by model)"
  }),
  waitMillis: Metric.histogram(
    "mimo_ratelimit_wait_ms",
    MetricBoundaries.exponential({ start: 1, factor: 2, count: 18 }),
    "Milliseconds an attempt waited in the rate limiter (tagged by model)"
  ),
  throttled: Metric.counter("mimo_ratelimit_throttled_total", {
    description: "429 responses seen, on any attempt (tagged by model)",
    incremental: true
  }),
  admitted: Metric.counter("mimo_ratelimit_admitted_total", {
    description: "Attempts let through to the wire (tagged by model)",
    incremental: true
  }),
  storeErrors: Metric.counter("mimo_ratelimit_store_errors_total", {
    description: "Failed rate-limit store operations; the limiter lets the attempt through (fails open)",
    incremental: true
  })
}

// -----------------------------------------------------------------------------
// store
// -----------------------------------------------------------------------------

/** @internal */
export const Store: Context.Tag<RateLimit.Store, RateLimit.Store> = Context.GenericTag<RateLimit.Store>(
  "@effect-mimo/resilience/RateLimit/Store"
)

/** @internal */
export const makeStore = (
  pauses: Pick<RateLimit.Store, "pausedUntil" | "pause">
): Effect.Effect<RateLimit.Store, never, RateLimiter.RateLimiterStore> =>
  Effect.map(RateLimiter.make, (buckets) => ({ buckets, ...pauses }))

/** @internal */
export const memoryPauses = (): Pick<RateLimit.Store, "pausedUntil" | "pause"> => {
  const pauses = new Map<string, number>()
  return {
    pausedUntil: (key) => Effect.sync(() => pauses.get(key) ?? 0),
    pause: (key, until) =>
      Effect.sync(() => {
        if (until > (pauses.get(key) ?? 0)) pauses.set(key, until)
      })
  }
}

/** The stores `layerStoreMemory` made: their operations are synchronous. */
const inMemoryStores = new WeakSet<RateLimit.Store>()

/** @internal */
export const layerStoreMemory: Layer.Layer<RateLimit.Store> = Layer.effect(
  Store,
  Effect.suspend(() => makeStore(memoryPauses())).pipe(Effect.tap((store) => inMemoryStores.add(store)))
).pipe(Layer.provide(RateLimiter.layerStoreMemory))

// -----------------------------------------------------------------------------
// limits
// -----------------------------------------------------------------------------

interface Resolved {
  /** Requests per second, the configured maximum. */
  readonly rate: number
  /** Requests allowed at once at the maximum rate. */
  readonly burst: number
  /** Tokens per second. */
  readonly tokenRate: number
  readonly tokenBurst: number
  readonly concurrency: number
}

const positive = (n: number | undefined): number | undefined =>
  n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined

/** @internal */
export const resolveLimits = (options: RateLimit.Options, model: string): Resolved => {
  const own = options.perModel?.[model]
  const builtin = builtinLimits[model]
  const layers = [own, options, builtin]
  const pick = <K extends keyof RateLimit.Limits>(key: K): number | undefined => {
    for (const limits of layers) {
      const value = positive(limits?.[key])
      if (value !== undefined) return value
    }
    return undefined
  }
  // The most specific layer that names a request rate wins, per second or per minute.
  let rate: number = defaults.requestsPerMinute / 60
  let burstDefault: number = defaults.requestsPerMinute
  for (const limits of layers) {
    const rps = positive(limits?.requestsPerSecond)
    const rpm = positive(limits?.requestsPerMinute)
    if (rps !== undefined) {
      rate = rps
      burstDefault = rps
      break
    }
    if (rpm !== undefined) {
      rate = rpm / 60
      burstDefault = rpm
      break
    }
  }
  const tpm = pick("tokensPerMinute") ?? defaults.tokensPerMinute
  return {
    rate,
    burst: Math.max(1, Math.floor(pick("burst") ?? burstDefault)),
    tokenRate: tpm / 60,
    tokenBurst: Math.max(1, Math.floor(pick("tokenBurst") ?? tpm)),
    concurrency: Math.max(1, Math.floor(pick("concurrency") ?? defaults.concurrency))
  }
}

// -----------------------------------------------------------------------------
// token estimates
// -----------------------------------------------------------------------------

const partLength = (part: unknown): number => {
  if (typeof part !== "object" || part === null) return 0
  if ("text" in part && typeof part.text === "string") return part.text.length
  // An image, audio or video part: its tokens depend on the media; count a flat guess.
  return 1024
}

const contentLength = (content: unknown): number =>
  typeof content === "string"
    ? content.length
    : Array.isArray(content)
    ? content.reduce((n: number, part) => n + partLength(part), 0)
    : 0

/** @internal */
export const estimateTokens = (request: ChatCompletion.Request): number => {
  let chars = 0
  for (const message of request.messages) chars += contentLength(message.content)
  const prompt = Math.ceil(chars / 4) + 4 * request.messages.length
  const completion = request.max_completion_tokens ?? defaults.completionEstimate
  return prompt + completion
}

const usageTotal = (usage: ChatCompletion.Usage | null | undefined): number | undefined => {
  if (usage === null || usage === undefined) return undefined
  if (typeof usage.total_tokens === "number") return usage.total_tokens
  const prompt = usage.prompt_tokens
  const completion = usage.completion_tokens
  return typeof prompt === "number" || typeof completion === "number" ? (prompt ?? 0) + (completion ?? 0) : undefined
}

// -----------------------------------------------------------------------------
// the limiter
// -----------------------------------------------------------------------------

interface Waiter {
  readonly cost: number
  readonly deferred: Deferred.Deferred<void>
  cancelled: boolean
  /** A slot already reserved for the head of the queue: when it is due (Clock ms). */
  dueAt?: number | undefined
}

interface Adaptive {
  readonly algorithm: "cubic" | "aimd" | "off"
  readonly beta: number
  readonly scale: number
  readonly increase: number
  readonly minRate: number
}

interface ModelState {
  readonly model: string
  readonly limits: Resolved
  readonly keys: { readonly requests: string; readonly tokens: string; readonly pause: string }
  readonly semaphore: Effect.Semaphore
  readonly queue: Array<Waiter>
  running: boolean
  queued: number
  inFlight: number
  /** The latest pause end this process knows of (epoch ms, Clock time). */
  knownPause: number
  /** Adaptive state: the rate at the last decrease, when it happened, and the cubic's K (seconds). */
  throttledOnce: boolean
  wMax: number
  t0: number
  k: number
  /** When the latest 429 episode began (a 429 to a request sent after it starts another). */
  lastEpisodeAt: number
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

const resolveAdaptive = (option: RateLimit.Options["adaptive"]): Adaptive => {
  if (option === false) return { algorithm: "off", beta: 1, scale: 0, increase: 0, minRate: defaults.minRate }
  const o = option === true || option === undefined ? {} : option
  const algorithm = o.algorithm ?? "cubic"
  const base = algorithm === "cubic" ? defaults.cubic : defaults.aimd
  return {
    algorithm,
    beta: Math.min(1, Math.max(0.05, o.beta ?? base.beta)),
    scale: Math.max(1e-6, o.scale ?? defaults.cubic.scale),
    increase: Math.max(1e-6, o.increase ?? defaults.aimd.increase),
    minRate: Math.min(1, Math.max(1e-6, o.minRate ?? defaults.minRate))
  }
}

/** @internal */
export const make = (
  options: RateLimit.Options = {}
): Effect.Effect<RateLimit.Limiter, never, Scope.Scope | RateLimit.Store> =>
  Effect.gen(function*() {
    const store = yield* Store
    const scope = yield* Effect.scope
    const adaptive = resolveAdaptive(options.adaptive)
    const prefix = options.prefix ?? defaults.prefix
    const defaultPause = Duration.toMillis(Duration.decode(options.defaultPause ?? defaults.defaultPause))
    const maxPause = Duration.toMillis(Duration.decode(options.maxPause ?? defaults.maxPause))
    const estimate = options.estimateTokens ?? estimateTokens
    const models = new Map<string, ModelState>()

    const stateFor = (model: string): ModelState => {
      let s = models.get(model)
      if (s === undefined) {
        const limits = resolveLimits(options, model)
        s = {
          model,
          limits,
          keys: {
            requests: `${prefix}${model}:requests`,
            tokens: `${prefix}${model}:tokens`,
            pause: `${prefix}${model}:pause`
          },
          semaphore: Effect.unsafeMakeSemaphore(limits.concurrency),
          queue: [],
          running: false,
          queued: 0,
          inFlight: 0,
          knownPause: 0,
          throttledOnce: false,
          wMax: limits.rate,
          t0: 0,
          k: 0,
          lastEpisodeAt: Number.NEGATIVE_INFINITY,
          throttled: 0,
          admitted: 0,
          m: {
            queueLength: Metric.tagged(metrics.queueLength, "model", model),
            inFlight: Metric.tagged(metrics.inFlight, "model", model),
            allowedRate: Metric.tagged(metrics.allowedRate, "model", model),
            waitMillis: Metric.tagged(metrics.waitMillis, "model", model),
            throttled: Metric.tagged(metrics.throttled, "model", model),
            admitted: Metric.tagged(metrics.admitted, "model", model)
          }
        }
        s.m.allowedRate.unsafeUpdate(limits.rate, [])
        models.set(model, s)
      }
      return s
    }

    // --- adaptive rate --------------------------------------------------------

    /** The allowed rate (requests per second) at `now`. */
    const allowedRate = (s: ModelState, now: number): number => {
      const max = s.limits.rate
      if (adaptive.algorithm === "off" || !s.throttledOnce) return max
      // The rate grows back from the end of the pause: a pause lets the server's bucket refill, not ours grow.
      const t = Math.max(0, now - Math.max(s.t0, s.knownPause)) / 1000
      const rate = adaptive.algorithm === "cubic"
        ? adaptive.scale * Math.pow(t - s.k, 3) + s.wMax
        : adaptive.beta * s.wMax + adaptive.increase * max * t
      return Math.min(max, Math.max(adaptive.minRate * max, rate))
    }

    /** A multiplicative decrease at `now`: the rate falls to `beta` times what it was, then grows back. */
    const decrease = (s: ModelState, now: number): void => {
      if (adaptive.algorithm === "off") return
      const rate = allowedRate(s, now)
      s.wMax = rate
      s.t0 = now
      s.throttledOnce = true
      // CUBIC's K: the time (s) the cubic takes to climb back to wMax from beta * wMax.
      s.k = Math.cbrt((rate * (1 - adaptive.beta)) / adaptive.scale)
      s.m.allowedRate.unsafeUpdate(allowedRate(s, now), [])
    }

    // --- store access (fails open) -----------------------------------------------

    const storeFailed = (operation: string) => (error: RateLimiter.RateLimiterError) =>
      Effect.zipRight(
        Metric.increment(metrics.storeErrors),
        Effect.logWarning("MiMo rate limiter: store failed; letting the attempt through").pipe(
          Effect.annotateLogs({ "mimo.ratelimit.operation": operation, "mimo.ratelimit.error": error.message })
        )
      )

    const storeDefect = (operation: string, defect: unknown) =>
      Effect.zipRight(
        Metric.increment(metrics.storeErrors),
        Effect.logError("MiMo rate limiter: store defect; letting the attempt through", defect).pipe(
          Effect.annotateLogs({ "mimo.ratelimit.operation": operation })
        )
      )

    /** The pause in force for the model, from this process and the store; a new pause from elsewhere slows us too. */
    const pausedUntil = (s: ModelState, now: number): Effect.Effect<number> =>
      store.pausedUntil(s.keys.pause).pipe(
        Effect.map((stored) => {
          if (stored > s.knownPause) {
            // Another process's 429 (shared store): one decrease per pause episode, as for our own.
            if (now >= s.knownPause) {
              s.lastEpisodeAt = now
              decrease(s, now)
            }
            s.knownPause = stored
          }
          return s.knownPause
        }),
        Effect.catchAll((error) => Effect.as(storeFailed("pausedUntil")(error), s.knownPause)),
        Effect.catchAllDefect((defect) => Effect.as(storeDefect("pausedUntil", defect), s.knownPause))
      )

    const consume = (key: string, tokens: number, limit: number, rate: number) =>
      store.buckets.consume({
        key,
        algorithm: "token-bucket",
        onExceeded: "delay",
        limit,
        // The store refills `limit` tokens per `window`: one token every 1000 / rate ms.
        window: Duration.millis((limit / rate) * 1000),
        tokens
      })

    /** Reserves one request and `cost` tokens; the milliseconds until the reservation is due. */
    const reserve = (s: ModelState, cost: number, rate: number): Effect.Effect<number> => {
      // The bucket shrinks with the rate, so that a pause after a decrease does not end in a full-size burst.
      // Token counts stay whole numbers (the store multiplies durations by them).
      const limit = Math.max(1, Math.round((s.limits.burst * rate) / s.limits.rate))
      const requests = consume(s.keys.requests, 1, limit, rate)
      const tokens = Math.min(Math.ceil(cost), s.limits.tokenBurst)
      const both = tokens <= 0
        ? Effect.map(requests, (r) => Duration.toMillis(r.delay))
        : Effect.map(
          Effect.all([requests, consume(s.keys.tokens, tokens, s.limits.tokenBurst, s.limits.tokenRate)], {
            // In memory both are synchronous: forking two fibers for them only costs (apps/bench);
            // a remote store (Redis) does its two round trips at once.
            concurrency: inMemoryStores.has(store) ? 1 : 2
          }),
          ([r, t]) => Math.max(Duration.toMillis(r.delay), Duration.toMillis(t.delay))
        )
      return both.pipe(
        Effect.catchAll((error) => Effect.as(storeFailed("consume")(error), 0)),
        Effect.catchAllDefect((defect) => Effect.as(storeDefect("consume", defect), 0))
      )
    }

    /**
     * Empties the request bucket: the server just said its own is empty. The bucket then refills during the pause
     * at the (lowered) rate, so the burst after the pause is what the server can have gathered, not a full one.
     */
    const drain = (s: ModelState, rate: number): Effect.Effect<void> => {
      const limit = Math.max(1, Math.round((s.limits.burst * rate) / s.limits.rate))
      return consume(s.keys.requests, 0, limit, rate).pipe(
        Effect.flatMap((r) => r.remaining > 0 ? consume(s.keys.requests, r.remaining, limit, rate) : Effect.void),
        Effect.asVoid,
        Effect.catchAll(storeFailed("drain"))
      )
    }

    /** Debits (or, when negative, credits back) tokens after the fact: a usage reconciliation. */
    const adjustTokens = (s: ModelState, delta: number): Effect.Effect<void> =>
      delta === 0 || !Number.isFinite(delta)
        ? Effect.void
        : consume(
          s.keys.tokens,
          Math.min(Math.round(delta), s.limits.tokenBurst),
          s.limits.tokenBurst,
          s.limits.tokenRate
        ).pipe(Effect.asVoid, Effect.catchAll(storeFailed("adjust")))

    // --- the dispatcher: one fiber per busy model, admitting waiters in order at the allowed rate ----------

    const sleepUntil = (at: number): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void)

    /** Waits while the model is paused (the pause may grow while we wait). */
    const awaitPause = (s: ModelState): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(pausedUntil(s, now), (until) =>
          until > now ? Effect.zipRight(sleepUntil(until), awaitPause(s)) : Effect.void))

    const dropCancelled = (s: ModelState): void => {
      while (s.queue.length > 0 && s.queue[0]!.cancelled) {
        s.queue.shift()
      }
    }

    /**
     * After a reserved slot's wait: `false` when a 429 paused the model meanwhile. The slot is then void (the
     * bucket refills during the pause, and the next reservation takes from it, so that the burst after a pause is
     * the bucket's and not one more), and the tokens taken for it are given back.
     */
    const stillValid = (s: ModelState, cost: number): Effect.Effect<boolean> =>
      Effect.flatMap(Clock.currentTimeMillis, (after) =>
        Effect.flatMap(pausedUntil(s, after), (until) =>
          until > after ? Effect.as(adjustTokens(s, -cost), false) : Effect.succeed(true)))

    /** After any pause, reserves the next slot for `cost` tokens at the allowed rate: ms until it is due. */
    const reserveNext = (s: ModelState, cost: number): Effect.Effect<number> =>
      Effect.zipRight(
        awaitPause(s),
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          const rate = allowedRate(s, now)
          return Effect.zipRight(Metric.set(s.m.allowedRate, rate), reserve(s, cost, rate))
        })
      )

    /**
     * The dispatcher: one fiber per busy model, admitting the queued waiters in order. A slot is reserved for the
     * head of the queue and given, when due, to whoever is the head then (a waiter interrupted meanwhile leaves
     * it to the next one).
     */
    const dispatch = (s: ModelState): Effect.Effect<void> =>
      Effect.gen(function*() {
        while (true) {
          dropCancelled(s)
          if (s.queue.length === 0) {
            s.running = false
            return
          }
          const head = s.queue[0]!
          const cost = head.cost
          const reserved = head.dueAt
          head.dueAt = undefined
          const wait = reserved === undefined
            ? yield* reserveNext(s, cost)
            : reserved - (yield* Clock.currentTimeMillis)
          if (wait > 0) {
            yield* Effect.sleep(Duration.millis(wait))
            if (!(yield* stillValid(s, cost))) {
              continue
            }
          }
          dropCancelled(s)
          const waiter = s.queue.shift()
          if (waiter !== undefined) {
            Deferred.unsafeDone(waiter.deferred, Exit.void)
          }
        }
      }).pipe(
        // The loop has no failures; should it die, later waiters must still be served.
        Effect.onExit(() =>
          Effect.sync(() =>
            void (s.running = false)
          )
        )
      )

    /** Claims the model's dispatcher at once (synchronously) when waiters need one; the effect forks it. */
    const startDispatcher = (s: ModelState): Effect.Effect<void> => {
      if (s.running || s.queue.length === 0) {
        return Effect.void
      }
      s.running = true
      return Effect.asVoid(Effect.forkIn(dispatch(s), scope))
    }

    /** Puts a waiter in the queue (at its head when `first`) and makes sure a dispatcher serves it. Synchronous. */
    const push = (s: ModelState, waiter: Waiter, first: boolean): Effect.Effect<void> => {
      if (first) {
        s.queue.unshift(waiter)
      } else s.queue.push(waiter)
      return startDispatcher(s)
    }

    const awaitTurn = (waiter: Waiter): Effect.Effect<void> =>
      Deferred.await(waiter.deferred).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => void (waiter.cancelled = true))
        )
      )

    const makeWaiter = (cost: number, dueAt: number | undefined): Waiter => ({
      cost,
      deferred: Deferred.unsafeMake<void>(FiberId.none),
      cancelled: false,
      dueAt
    })

    /**
     * Queues for the model's next slot. When nobody is queued and no dispatcher runs, the caller reserves its slot
     * itself, as the dispatcher would: a slot free now admits it at once, without a `Deferred` or a forked fiber
     * (the common case when the limiter is not the bottleneck; apps/bench); a slot due later puts it first in the
     * queue with that slot, so that the dispatcher hands the slot on should the caller be interrupted. Whoever
     * arrives meanwhile queues behind it: first come, first served.
     */
    const admission = (s: ModelState, cost: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (s.running || s.queue.length > 0) {
          const waiter = makeWaiter(cost, undefined)
          return Effect.zipRight(push(s, waiter, false), awaitTurn(waiter))
        }
        s.running = true
        return Effect.uninterruptibleMask((restore) =>
          Effect.zip(restore(reserveNext(s, cost)), Clock.currentTimeMillis).pipe(
            Effect.onExit((exit) =>
              Exit.isSuccess(exit) ? Effect.void : Effect.suspend(() => {
                s.running = false
                return startDispatcher(s)
              })
            ),
            Effect.flatMap(([delay, now]) => {
              // One synchronous step from here until the queue is served again: nobody slips in between.
              s.running = false
              if (delay <= 0) return startDispatcher(s)
              const waiter = makeWaiter(cost, now + delay)
              return Effect.zipRight(push(s, waiter, true), restore(awaitTurn(waiter)))
            })
          )
        )
      })

    // --- what happens around each attempt ---------------------------------------------

    const onThrottled = (s: ModelState, error: MimoError.RateLimitExceeded, sentAt: number): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        s.throttled++
        const asked = error.retryAfter === undefined ? defaultPause : Duration.toMillis(error.retryAfter)
        const until = now + Math.min(maxPause, Math.max(0, asked))
        // One episode per round trip: a 429 to a request sent before the episode began says nothing new.
        const episode = sentAt >= s.lastEpisodeAt
        if (episode) {
          s.lastEpisodeAt = now
          decrease(s, now)
        }
        const extend = until > s.knownPause
        if (extend) s.knownPause = until
        const event: RateLimit.ThrottledEvent = {
          model: s.model,
          retryAfter: Duration.millis(until - now),
          pausedUntil: s.knownPause,
          allowedRate: allowedRate(s, now)
        }
        return Effect.all([
          Metric.increment(s.m.throttled),
          Metric.set(s.m.allowedRate, event.allowedRate),
          extend ? Effect.catchAll(store.pause(s.keys.pause, until), storeFailed("pause")) : Effect.void,
          episode ? drain(s, event.allowedRate) : Effect.void,
          Effect.logDebug("MiMo rate limiter: 429; pausing the model's queue").pipe(
            Effect.annotateLogs({
              "mimo.model": s.model,
              "mimo.ratelimit.paused_ms": until - now,
              "mimo.ratelimit.allowed_rate": event.allowedRate
            })
          ),
          options.onThrottled === undefined ? Effect.void : options.onThrottled(event)
        ], { discard: true })
      })

    const setQueued = (s: ModelState, delta: number) =>
      Effect.suspend(() => {
        s.queued += delta
        return Metric.set(s.m.queueLength, s.queued)
      })

    const setInFlight = (s: ModelState, delta: number) =>
      Effect.suspend(() => {
        s.inFlight += delta
        return Metric.set(s.m.inFlight, s.inFlight)
      })

    /**
     * The per-attempt hook for one call: wait for a permit (when `permits`) and a slot, send, and learn from
     * the outcome (a 429 pauses and slows the model; a refused request gives its token estimate back).
     */
    const gate = (s: ModelState, cost: number, permits: boolean): MimoClient.AroundAttempt => (attempt) =>
      Effect.suspend(() => {
        let waiting = true
        const leave = Effect.suspend(() => {
          if (!waiting) return Effect.void
          waiting = false
          return setQueued(s, -1)
        })
        const body = Effect.gen(function*() {
          const enteredAt = yield* Clock.currentTimeMillis
          yield* admission(s, cost)
          yield* leave
          const sentAt = yield* Clock.currentTimeMillis
          s.admitted++
          yield* Effect.all([
            Metric.update(s.m.waitMillis, sentAt - enteredAt),
            Metric.increment(s.m.admitted),
            setInFlight(s, 1)
          ], { discard: true })
          return yield* attempt.pipe(
            Effect.tapError((error) => {
              const refund = MimoError.statusOf(error) !== undefined ? adjustTokens(s, -cost) : Effect.void
              return error._tag === "RateLimitExceeded"
                ? Effect.zipRight(refund, onThrottled(s, error, sentAt))
                : refund
            }),
            Effect.ensuring(setInFlight(s, -1))
          )
        })
        return Effect.zipRight(setQueued(s, 1), permits ? s.semaphore.withPermits(1)(body) : body).pipe(
          Effect.ensuring(leave)
        )
      })

    /** Holds one of the model's permits for the life of a scope (a stream). */
    const holdPermit = (s: ModelState): Effect.Effect<void, never, Scope.Scope> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.zipRight(
          restore(s.semaphore.take(1)),
          Effect.asVoid(Effect.addFinalizer(() => s.semaphore.release(1)))
        )
      )

    const reconcile = (s: ModelState, cost: number, usage: ChatCompletion.Usage | null | undefined) => {
      const actual = usageTotal(usage)
      return actual === undefined ? Effect.void : adjustTokens(s, actual - cost)
    }

    const wrap = (service: MimoClient.Service): MimoClient.Service =>
      decorate(service, {
        chat: (request, call, send) =>
          Effect.suspend(() => {
            const s = stateFor(request.model)
            const cost = estimate(request)
            return Effect.tap(send(withAround(call, gate(s, cost, true))), (r) => reconcile(s, cost, r.usage))
          }),
        speech: (request, call, send) =>
          Effect.suspend(() => {
            const s = stateFor(request.model)
            const cost = estimate(request)
            return Effect.tap(send(withAround(call, gate(s, cost, true))), (r) => reconcile(s, cost, r.response.usage))
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
            return send(withAround(call, gate(s, cost, false))).pipe(
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
          allowedRate: allowedRate(s, now),
          maxRate: s.limits.rate,
          pausedUntil: s.knownPause,
          throttled: s.throttled,
          admitted: s.admitted
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
