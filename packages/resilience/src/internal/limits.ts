/**
 * The rate limiter's settings, resolved: per-model limits (the caller's, then
 * the account-wide ones, then the built-in per-model ones), the adaptive rate's
 * configuration, and the token estimates of a request and of its usage. Pure
 * functions, tested alone (test/Limits.test.ts).
 *
 * @internal
 */
import type { ChatCompletion } from "@effect-mimo/core"
import * as Duration from "effect/Duration"
import type * as RateLimit from "../RateLimit.js"
import type * as AdaptiveRate from "./adaptiveRate.js"

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
  pauseAllFrom: Duration.seconds(5),
  maxRequeues: 8,
  quickRetry: { delay: Duration.millis(250), maxFailureRatio: 0.25, extraAttempts: 3 },
  slowStart: { initialWindow: 10, probe: Duration.millis(500) }
} as const

/** Per-model limits that differ from the account-wide defaults ([X] §2). */
const builtinLimits: Readonly<Record<string, RateLimit.Limits>> = {
  "mimo-v2.5-asr": { tokensPerMinute: 10_000 }
}

/** @internal */
export interface Resolved {
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

/** @internal */
export const usageTotal = (usage: ChatCompletion.Usage | null | undefined): number | undefined => {
  if (usage === null || usage === undefined) return undefined
  if (typeof usage.total_tokens === "number") return usage.total_tokens
  const prompt = usage.prompt_tokens
  const completion = usage.completion_tokens
  return typeof prompt === "number" || typeof completion === "number" ? (prompt ?? 0) + (completion ?? 0) : undefined
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

/** The limiter's hold on the call's retries and its first flight, resolved (issue 13). */
export interface Pacing {
  readonly maxRequeues: number
  readonly refundStray: boolean
  readonly quickRetry:
    | { readonly delay: Duration.Duration; readonly maxFailureRatio: number; readonly extraAttempts: number }
    | undefined
  readonly slowStart: { readonly initial: number; readonly probe: number } | undefined
}

/** @internal */
export const resolvePacing = (options: RateLimit.Options): Pacing => {
  const quick = options.quickRetry === false ? undefined : options.quickRetry ?? {}
  const slow = options.slowStart === false ? undefined : options.slowStart === true ? {} : options.slowStart ?? {}
  const requeues = options.maxRequeues ?? defaults.maxRequeues
  const probe = Duration.toMillis(Duration.decode(slow?.probe ?? defaults.slowStart.probe))
  return {
    maxRequeues: Number.isFinite(requeues) ? Math.max(0, Math.floor(requeues)) : defaults.maxRequeues,
    refundStray: options.refundStray ?? true,
    quickRetry: quick === undefined ? undefined : {
      delay: Duration.decode(quick.delay ?? defaults.quickRetry.delay),
      maxFailureRatio: fraction(quick.maxFailureRatio, defaults.quickRetry.maxFailureRatio),
      extraAttempts: quick.extraAttempts !== undefined && Number.isFinite(quick.extraAttempts)
        ? Math.max(0, Math.floor(quick.extraAttempts))
        : defaults.quickRetry.extraAttempts
    },
    slowStart: slow === undefined ? undefined : {
      initial: Math.max(1, Math.floor(slow.initialWindow ?? defaults.slowStart.initialWindow)),
      probe: Number.isFinite(probe) && probe > 0 ? probe : Duration.toMillis(defaults.slowStart.probe)
    }
  }
}
