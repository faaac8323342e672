/**
 * Mutable counters behind `Simulator.stats` (one JS thread: plain numbers).
 *
 * @internal
 */
import type * as Simulator from "../Simulator.js"

const maxPaths = 64

/** The simulator's counters. */
export class Counters {
  requests = 0
  byPath = new Map<string, number>()
  byStatus = new Map<number, number>()
  byFault = new Map<string, number>()
  rateLimited = 0
  promptTokens = 0
  completionTokens = 0
  streamsOpened = 0
  streamsClosed = 0
  streamsCut = 0
  streamsErrored = 0
  streamsAborted = 0
  clientClosed = 0
  active = 0

  request(path: string): void {
    this.requests++
    const key = this.byPath.has(path) || this.byPath.size < maxPaths ? path : "(other)"
    this.byPath.set(key, (this.byPath.get(key) ?? 0) + 1)
  }

  status(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1)
  }

  fault(kind: string): void {
    this.byFault.set(kind, (this.byFault.get(kind) ?? 0) + 1)
  }

  reset(): void {
    this.requests = 0
    this.byPath.clear()
    this.byStatus.clear()
    this.byFault.clear()
    this.rateLimited = 0
    this.promptTokens = 0
    this.completionTokens = 0
    this.streamsOpened = 0
    this.streamsClosed = 0
    this.streamsCut = 0
    this.streamsErrored = 0
    this.streamsAborted = 0
    this.clientClosed = 0
    // `active` is a gauge of requests in flight: it is not reset.
  }

  snapshot(): Simulator.Stats {
    const byStatus: Record<string, number> = {}
    for (const [k, v] of [...this.byStatus].sort((a, b) => a[0] - b[0])) byStatus[String(k)] = v
    return {
      requests: this.requests,
      byPath: Object.fromEntries(this.byPath),
      byStatus,
      byFault: Object.fromEntries(this.byFault),
      rateLimited: this.rateLimited,
      tokens: {
        prompt: this.promptTokens,
        completion: this.completionTokens,
        total: this.promptTokens + this.completionTokens
      },
      streams: {
        opened: this.streamsOpened,
        closed: this.streamsClosed,
        cut: this.streamsCut,
        errored: this.streamsErrored,
        aborted: this.streamsAborted
      },
      clientClosed: this.clientClosed,
      active: this.active
    }
  }
}
