/**
 * Per-model token buckets for requests and tokens, on a scalable clock.
 *
 * @internal
 */

/** The resolved limits of one model. */
export interface Limits {
  /** Request bucket: capacity and refill per simulated millisecond. */
  readonly requestCapacity: number
  readonly requestsPerMs: number
  /** Token bucket: capacity and refill per simulated millisecond. */
  readonly tokenCapacity: number
  readonly tokensPerMs: number
}

class Bucket {
  tokens: number
  last: number
  constructor(readonly capacity: number, readonly perMs: number, now: number) {
    this.tokens = capacity
    this.last = now
  }
  refill(now: number) {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs)
      this.last = now
    }
  }
  /** Simulated milliseconds until `cost` tokens are available (0 when they are). */
  wait(cost: number): number {
    const needed = Math.min(cost, this.capacity) - this.tokens
    if (needed <= 0) return 0
    return this.perMs > 0 ? needed / this.perMs : Number.POSITIVE_INFINITY
  }
}

interface ModelBuckets {
  readonly requests: Bucket
  readonly tokens: Bucket
}

/** The outcome of a check: admitted, or the real milliseconds to wait and which limit said no. */
export type Decision =
  | { readonly _tag: "Admitted" }
  | { readonly _tag: "Limited"; readonly waitMillis: number; readonly limit: "requests" | "tokens" }

const admitted: Decision = { _tag: "Admitted" }

/** A set of per-model buckets. `now` is real milliseconds; time runs `timeScale` times faster inside. */
export class Limiter {
  private buckets = new Map<string, ModelBuckets>()
  constructor(
    readonly limitsFor: (model: string) => Limits,
    readonly timeScale: number,
    readonly now: () => number
  ) {}

  private get(model: string, t: number): ModelBuckets {
    let b = this.buckets.get(model)
    if (b === undefined) {
      const l = this.limitsFor(model)
      b = {
        requests: new Bucket(l.requestCapacity, l.requestsPerMs, t),
        tokens: new Bucket(l.tokenCapacity, l.tokensPerMs, t)
      }
      this.buckets.set(model, b)
    }
    return b
  }

  /** Takes one request and `tokens` tokens for `model`, or says how long to wait (taking nothing). */
  take(model: string, tokens: number): Decision {
    const t = this.now() * this.timeScale
    const b = this.get(model, t)
    b.requests.refill(t)
    b.tokens.refill(t)
    const requestWait = b.requests.wait(1)
    const tokenWait = b.tokens.wait(tokens)
    if (requestWait === 0 && tokenWait === 0) {
      b.requests.tokens -= 1
      b.tokens.tokens -= tokens
      return admitted
    }
    return requestWait >= tokenWait
      ? { _tag: "Limited", waitMillis: requestWait / this.timeScale, limit: "requests" }
      : { _tag: "Limited", waitMillis: tokenWait / this.timeScale, limit: "tokens" }
  }

  /** Forgets every bucket (all full again). */
  reset(): void {
    this.buckets.clear()
  }
}
