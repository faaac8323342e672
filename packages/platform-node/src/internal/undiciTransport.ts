import type * as MimoError from "@effect-mimo/core/MimoError"
import * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Undici from "undici"

/**
 * The `Clock` of Effect's default services: the one that is real time. A timer
 * of Node's may stand for it; any other `Clock` (a `TestClock`, a custom one)
 * keeps the time limit on Effect's side.
 */
const liveClock: Clock.Clock = Effect.runSync(Effect.clock)

/** `setTimeout` takes at most 2^31 - 1 ms; a longer limit is no limit in practice (24.8 days). */
const maxTimerMs = 2 ** 31 - 1

interface Target {
  readonly origin: string
  readonly path: string
}

type Resume = (effect: Effect.Effect<MimoTransport.Response, MimoError.TransportError>) => void

/**
 * One exchange as an undici dispatch handler (the controller API of undici 7).
 *
 * Written by hand on purpose: `undici.request` builds a `Readable` body stream
 * and `@effect/platform`'s `HttpClient` adds an `AbortController`, a `URL`, a
 * `FinalizationRegistry` entry and a response wrapper per request. A handler
 * that gathers the body's buffers is the cheapest exchange undici offers
 * (apps/bench measures it), and its controller aborts without an `AbortSignal`.
 */
class Exchange implements Undici.Dispatcher.DispatchHandler {
  private controller: Undici.Dispatcher.DispatchController | undefined = undefined
  /** Settled (answered, failed, timed out or interrupted): later callbacks are ignored. */
  private done = false
  /** undici is finished with it (the body ended, or the exchange failed). */
  private ended = false
  private status = 0
  private headers: Record<string, string | Array<string> | undefined> = {}
  private readonly chunks: Array<Buffer> = []
  private size = 0
  private limit = Infinity
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(private readonly resume: Resume) {}

  /** Arms the native timer of the time limit. */
  arm(timeout: Duration.Duration, ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.settle(Effect.fail(MimoTransport.timeoutError(timeout)))
    }, ms)
  }

  /** Settles once: clears the timer, stops the exchange if it still runs, resumes the fiber. */
  private settle(effect: Effect.Effect<MimoTransport.Response, MimoError.TransportError>): void {
    if (this.done) return
    this.done = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.resume(effect)
    this.stop()
  }

  /** Interrupted: stop without resuming. */
  interrupt(): void {
    if (this.done) return
    this.done = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.stop()
  }

  /** Aborts the request if it is not finished; one still queued for a socket is aborted when it gets one. */
  private stop(): void {
    const controller = this.controller
    if (controller !== undefined && !this.ended && !controller.aborted) controller.abort(aborted)
  }

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller
    // Settled while it waited for a socket: it must not be sent.
    if (this.done) controller.abort(aborted)
  }

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    this.status = statusCode
    this.headers = headers
    this.limit = statusCode >= 200 && statusCode < 300 ? Infinity : MimoTransport.maxErrorBody
  }

  onResponseData(_controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return
    const room = this.limit - this.size
    const taken = chunk.length <= room ? chunk : chunk.subarray(0, room)
    this.chunks.push(taken)
    this.size += taken.length
    // An error body past its cap: answer with what we have; the rest is not read.
    if (this.size >= this.limit) this.settle(Effect.succeed(this.response()))
  }

  onResponseEnd(): void {
    this.ended = true
    this.settle(Effect.succeed(this.response()))
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    this.ended = true
    this.settle(Effect.fail(MimoTransport.fromCause(error, this.status === 0 ? "request" : "response")))
  }

  private response(): MimoTransport.Response {
    const chunks = this.chunks
    const body = chunks.length === 0
      ? ""
      : chunks.length === 1
      ? chunks[0]!.toString("utf8")
      : Buffer.concat(chunks, this.size).toString("utf8")
    return new LazyResponse(this.status, this.headers, body)
  }
}

/** A response whose `Headers` are built on first read: a successful call seldom reads them. */
class LazyResponse implements MimoTransport.Response {
  private built: Headers.Headers | undefined = undefined
  constructor(
    readonly status: number,
    private readonly raw: Record<string, string | Array<string> | undefined>,
    readonly body: string
  ) {}
  get headers(): Headers.Headers {
    if (this.built === undefined) this.built = Headers.fromInput(this.raw)
    return this.built
  }
}

const aborted = new Error("the request was aborted by the client")

/** @internal */
export const make = (dispatcher: Undici.Dispatcher): MimoTransport.Service => {
  // MimoClient sends to two or three URLs: parse each once.
  const targets = new Map<string, Target | string>()
  const targetOf = (url: string): Target | string => {
    let target = targets.get(url)
    if (target === undefined) {
      try {
        const parsed = new URL(url)
        target = parsed.protocol === "http:" || parsed.protocol === "https:"
          ? { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
          : `unsupported protocol ${parsed.protocol}`
      } catch {
        target = "not a valid URL"
      }
      if (targets.size >= 64) targets.clear()
      targets.set(url, target)
    }
    return target
  }

  const exchange = (
    target: Target,
    request: MimoTransport.Request,
    timerMs: number | undefined
  ): Effect.Effect<MimoTransport.Response, MimoError.TransportError> =>
    Effect.async<MimoTransport.Response, MimoError.TransportError>((resume) => {
      const handler = new Exchange(resume)
      if (timerMs !== undefined) handler.arm(request.timeout, timerMs)
      try {
        dispatcher.dispatch({
          origin: target.origin,
          path: target.path,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null
        }, handler)
      } catch (e) {
        handler.onResponseError(undefined, e instanceof Error ? e : new Error(String(e)))
      }
      return Effect.sync(() => handler.interrupt())
    })

  return {
    send: (request) =>
      Effect.clockWith((clock) => {
        const target = targetOf(request.url)
        if (typeof target === "string") {
          return Effect.fail(MimoTransport.fromCause(new Error(`${target}: ${request.url}`), "request"))
        }
        const ms = Duration.toMillis(request.timeout)
        if (clock === liveClock) {
          // Real time: a native timer, cleared with the exchange (no fiber forked).
          return exchange(target, request, ms >= 0 && ms <= maxTimerMs ? Math.max(1, Math.ceil(ms)) : undefined)
        }
        return Effect.timeoutFail(exchange(target, request, undefined), {
          duration: request.timeout,
          onTimeout: () => MimoTransport.timeoutError(request.timeout)
        })
      })
  }
}
