import type { ChatCompletion } from "@effect-mimo/core"
import { MimoClient, MimoError } from "@effect-mimo/core"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as RateLimit from "../RateLimit.js"
import * as AdaptiveRate from "./adaptiveRate.js"
import * as AdmissionQueue from "./admissionQueue.js"
import { decorate, withAround } from "./decorate.js"
import * as Gate from "./gate.js"

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
  cubic: { beta: 0.9, scale: 0.4 },
  aimd: { beta: 0.9, increase: 0.1 },
  minRate: 0.02,
  window: Duration.seconds(1),
  denseRatio: 0.2,
  minSamples: 10,
  minThrottled: 5,
  pauseAllFrom: Duration.seconds(5)
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

interface ModelBase {
  readonly model: string
  readonly limits: Resolved
  readonly keys: { readonly requests: string; readonly tokens: string; readonly pause: string }
  readonly semaphore: Effect.Semaphore
  readonly adaptive: AdaptiveRate.AdaptiveRate
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
}

const fraction = (n: number | undefined, fallback: number, min = 1e-6): number =>
  n !== undefined && Number.isFinite(n) ? Math.min(1, Math.max(min, n)) : fallback

/** @internal */
export const resolveAdaptive = (option: RateLimit.Options["adaptive"]): AdaptiveRate.Config => {
  const o = option === true || option === undefined || option === false ? {} : option
  const algorithm = option === false ? "off" : o.algorithm ?? "cubic"
  const base = algorithm === "aimd" ? defaults.aimd : defaults.cubic
  const window = Duration.toMillis(Duration.decode(o.window ?? defaults.window))
  return {
    algorithm,
    beta: fraction(o.beta, base.beta, 0.05),
    scale: Math.max(1e-6, o.scale ?? defaults.cubic.scale),
    increase: Math.max(1e-6, o.increase ?? defaults.aimd.increase),
    minRate: fraction(o.minRate, defaults.minRate),
    window: Number.isFinite(window) && window > 0 ? window : Duration.toMillis(defaults.window),
    denseRatio: fraction(o.denseRatio, defaults.denseRatio),
    minSamples: Math.max(1, Math.floor(o.minSamples ?? defaults.minSamples)),
    minThrottled: Math.max(1, Math.floor(o.minThrottled ?? defaults.minThrottled))
  }
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
    const models = new Map<string, ModelState>()

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

    /** The request bucket's size at `rate`: it shrinks with the rate, so a pause does not end in a full-size burst. */
    const bucketSize = (s: ModelBase, rate: number) => Math.max(1, Math.round((s.limits.burst * rate) / s.limits.rate))

    /** Reserves one request and `cost` tokens; the milliseconds until the reservation is due. */
    const reserve = (s: ModelBase, cost: number, rate: number): Effect.Effect<number> => {
      // Token counts stay whole numbers (the store multiplies durations by them).
      const requests = consume(s.keys.requests, 1, bucketSize(s, rate), rate)
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
     * Empties the request bucket: the server said its own is empty (a dense window). The bucket then refills
     * during the pause at the (lowered) rate, so the burst after the pause is what the server can have gathered.
     */
    const drain = (s: ModelBase, rate: number): Effect.Effect<void> => {
      const limit = bucketSize(s, rate)
      return consume(s.keys.requests, 0, limit, rate).pipe(
        Effect.flatMap((r) => r.remaining > 0 ? consume(s.keys.requests, r.remaining, limit, rate) : Effect.void),
        Effect.asVoid,
        Effect.catchAll(storeFailed("drain"))
      )
    }

    /** Debits (or, when negative, credits back) tokens after the fact: a usage reconciliation. */
    const adjustTokens = (s: ModelBase, delta: number): Effect.Effect<void> =>
      delta === 0 || !Number.isFinite(delta)
        ? Effect.void
        : consume(
          s.keys.tokens,
          Math.min(Math.round(delta), s.limits.tokenBurst),
          s.limits.tokenBurst,
          s.limits.tokenRate
        ).pipe(Effect.asVoid, Effect.catchAll(storeFailed("adjust")))

    // --- reservations: pauses, then the buckets at the allowed rate ------------------------------------------

    const sleepUntil = (at: number): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void)

    /** Waits while the model is paused (the pause may grow while we wait). */
    const awaitPause = (s: ModelBase): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.flatMap(pausedUntil(s, now), (until) =>
          until > now ? Effect.zipRight(sleepUntil(until), awaitPause(s)) : Effect.void))

    const reservations = (s: ModelBase): AdmissionQueue.Reservations => ({
      reserve: (cost) =>
        Effect.zipRight(
          awaitPause(s),
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const rate = s.adaptive.rate(now)
            return Effect.zipRight(Metric.set(s.m.allowedRate, rate), reserve(s, cost, rate))
          })
        ),
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
          semaphore: Effect.unsafeMakeSemaphore(limits.concurrency),
          adaptive: AdaptiveRate.make(adaptiveConfig, limits.rate, () =>
            store.share?.() ?? 1),
          queued: 0,
          inFlight: 0,
          knownPause: 0,
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
        const state: ModelState = Object.assign(base, { queue: AdmissionQueue.make(reservations(base), scope) })
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
        const asked = error.retryAfter === undefined ? defaultPause : Duration.toMillis(error.retryAfter)
        const wait = Math.min(maxPause, Math.max(0, asked))
        const until = now + wait
        const before = s.adaptive.rate(now)
        const dense = s.adaptive.answered(now, true, until)
        const pauseAll = dense || wait >= pauseAllFrom
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

    /** The model as the per-attempt gate sees it. */
    const gateModel = (s: ModelState): Gate.Model => ({
      semaphore: s.semaphore,
      admit: (cost) =>
        s.queue.admit(cost),
      queued: (delta) =>
        setQueued(s, delta),
      admitted: (waited, sentAt) =>
        Effect.suspend(() => {
          s.admitted++
          s.adaptive.sent(sentAt)
          return Effect.all([
            Metric.update(s.m.waitMillis, waited),
            Metric.increment(s.m.admitted),
            setInFlight(s, 1)
          ], { discard: true })
        }),
      finished: setInFlight(s, -1),
      succeeded: () =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync(() =>
            void s.adaptive.answered(now, false, now)
          )),
      failed: (error, cost) => {
        // A refused request gives its token estimate back; an answer other than a 429 counts in the 429 ratio.
        const refund = MimoError.statusOf(error) !== undefined ? adjustTokens(s, -cost) : Effect.void
        if (error._tag === "RateLimitExceeded") return Effect.zipRight(refund, onThrottled(s, error))
        if (MimoError.statusOf(error) === undefined) return Effect.as(refund, undefined)
        return Effect.flatMap(Clock.currentTimeMillis, (now) => {
          s.adaptive.answered(now, false, now)
          return Effect.as(refund, undefined)
        })
      }
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
            return Effect.tap(
              send(withAround(call, Gate.make(gateModel(s), cost, true))),
              (r) => reconcile(s, cost, r.usage)
            )
          }),
        speech: (request, call, send) =>
          Effect.suspend(() => {
            const s = stateFor(request.model)
            const cost = estimate(request)
            return Effect.tap(
              send(withAround(call, Gate.make(gateModel(s), cost, true))),
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
            return send(withAround(call, Gate.make(gateModel(s), cost, false))).pipe(
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
