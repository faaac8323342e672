import type * as MimoError from "@effect-mimo/core/MimoError"
import * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as Headers from "@effect/platform/Headers"
import type * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
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

/** What an interruption of the fiber waiting on it must stop. */
interface Stoppable {
  interrupt(): void
}

/**
 * The exchange each fiber is waiting on, if any (a fiber waits on one at a time), keyed by the fiber's id.
 *
 * Written by hand rather than with the canceler `Effect.async` takes, on purpose. On Effect 3 an
 * `Effect.async` with a canceler wraps itself in `onInterrupt`, whose continuation closes over the call's own
 * state. Under concurrency, V8 then pretenures what those calls allocate, so each call's garbage is
 * promoted to the old generation with it. Measured at 64 concurrent calls: 2.2 MB promoted per scavenge
 * against 0.2 without the canceler, and ≈ 20 µs more CPU per call (apps/bench/analysis.md, session 8). Here the
 * continuation that stops an interrupted exchange is one function for all calls (`stopWaiting`): it finds
 * the exchange by the id of the fiber it runs on. By the id, not the fiber: a `Map` keyed by the fiber object
 * itself (its identity hash) brought the same promotion back (measured).
 */
const waiting = new Map<number, Stoppable>()

/** @internal how many fibers are waiting on an exchange (the tests check that none is left behind) */
export const waitingCount = (): number => waiting.size

/** A waiting fiber's exchange is stopped; its cause goes on. */
const stopWaiting = <E>(cause: Cause.Cause<E>): Effect.Effect<never, E> =>
  Effect.withFiberRuntime((fiber) => {
    waiting.get(fiber.id().id)?.interrupt()
    return Effect.failCause(cause)
  })

/**
 * `Effect.async` for an exchange that `start` registers in `waiting` under the fiber (and that removes itself
 * when it settles): interrupted while it waits, the fiber stops it before its interruption goes on (the
 * catch runs in an uninterruptible region; interruptible are the wait and nothing else).
 */
const stoppable = <A, E>(
  start: (resume: (effect: Effect.Effect<A, E>) => void, fiber: number) => void
): Effect.Effect<A, E> =>
  Effect.suspend(() => {
    // Let go of once it has run: the fiber's frames hold what follows while it waits, and with `start` what
    // it captured (the request), which would then live as long as the wait (apps/bench/analysis.md, session 8).
    let pending: typeof start | undefined = start
    return Effect.uninterruptibleMask((restore) =>
      Effect.catchAllCause(
        restore(Effect.withFiberRuntime<A, E>((fiber) =>
          Effect.async<A, E>((resume) => {
            const run = pending!
            pending = undefined
            run(resume, fiber.id().id)
          })
        )),
        stopWaiting
      )
    )
  })

const resumed: Resume = () => {}

const noHeaders: Record<string, string | Array<string> | undefined> = {}

/**
 * One exchange as an undici dispatch handler (the controller API of undici 7).
 *
 * Written by hand on purpose: `undici.request` builds a `Readable` body stream
 * and `@effect/platform`'s `HttpClient` adds an `AbortController`, a `URL`, a
 * `FinalizationRegistry` entry and a response wrapper per request. A handler
 * that gathers the body's buffers is the cheapest exchange undici offers
 * (apps/bench measures it), and its controller aborts without an `AbortSignal`.
 *
 * Settled, it lets go of everything it held (undici's controller, the fiber's
 * callback, the body's buffers, the headers, the timer). A handler undici has
 * finished with stays referenced for a while, and whatever it still held lived
 * that long: long enough to be copied out of the young generation, which made
 * every scavenge dearer (apps/bench/analysis.md, session 8).
 */
class Exchange implements Undici.Dispatcher.DispatchHandler {
  private controller: Undici.Dispatcher.DispatchController | undefined = undefined
  /** Settled (answered, failed, timed out or interrupted): later callbacks are ignored. */
  private done = false
  /** undici is finished with it (the body ended, or the exchange failed). */
  private ended = false
  private status = 0
  private headers: Record<string, string | Array<string> | undefined> = {}
  private chunks: Array<Buffer> = []
  private size = 0
  private limit = Infinity
  private truncated = false
  private timer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(
    private resume: Resume,
    private readonly maxBodySize: number,
    /** The id of the fiber waiting on it: its key in `waiting`. */
    private fiber: number | undefined
  ) {}

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
    const resume = this.resume
    this.finish()
    resume(effect)
    this.stop()
  }

  /** Interrupted: stop without resuming. */
  interrupt(): void {
    if (this.done) return
    this.finish()
    this.stop()
  }

  /** Done: the timer cleared, and nothing kept that undici's queue would keep alive with this handler. */
  private finish(): void {
    this.done = true
    const fiber = this.fiber
    if (fiber !== undefined) {
      if (waiting.get(fiber) === this) waiting.delete(fiber)
      this.fiber = undefined
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    this.resume = resumed
    this.chunks = []
    this.headers = noHeaders
  }

  /**
   * Aborts the request if it is not finished (one still queued for a socket is aborted when it gets one), and
   * lets go of undici's controller.
   */
  private stop(): void {
    const controller = this.controller
    this.controller = undefined
    if (controller !== undefined && !this.ended && !controller.aborted) controller.abort(aborted)
  }

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    // Settled while it waited for a socket: it must not be sent.
    if (this.done) return controller.abort(aborted)
    this.controller = controller
  }

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    this.status = statusCode
    this.headers = headers
    this.limit = statusCode >= 200 && statusCode < 300 ? this.maxBodySize : MimoTransport.maxErrorBody
  }

  onResponseData(_controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.done) return
    const room = this.limit - this.size
    if (chunk.length > room) {
      // A body past its cap: answer with what we have (marked truncated); the rest is not read.
      this.chunks.push(chunk.subarray(0, room))
      this.size += room
      this.truncated = true
      this.settle(Effect.succeed(this.response()))
      return
    }
    this.chunks.push(chunk)
    this.size += chunk.length
    // An error body at its cap: answer with what we have; the rest is not read.
    if (this.size >= this.limit && (this.status < 200 || this.status >= 300)) {
      this.settle(Effect.succeed(this.response()))
    }
  }

  onResponseEnd(): void {
    this.ended = true
    this.settle(Effect.succeed(this.response()))
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    this.ended = true
    this.settle(Effect.fail(MimoTransport.fromCause(error, this.status === 0 ? "request" : "response")))
  }

  /** The answer so far (read before `settle` lets go of the buffers and headers). */
  private response(): MimoTransport.Response {
    const chunks = this.chunks
    const body = chunks.length === 0
      ? ""
      : chunks.length === 1
      ? chunks[0]!.toString("utf8")
      : Buffer.concat(chunks, this.size).toString("utf8")
    return new LazyResponse(this.status, this.headers, body, this.truncated)
  }
}

/** A response whose `Headers` are built on first read: a successful call seldom reads them. */
class LazyResponse implements MimoTransport.Response {
  private built: Headers.Headers | undefined = undefined
  constructor(
    readonly status: number,
    private readonly raw: Record<string, string | Array<string> | undefined>,
    readonly body: string,
    readonly truncated: boolean
  ) {}
  get headers(): Headers.Headers {
    if (this.built === undefined) this.built = Headers.fromInput(this.raw)
    return this.built
  }
}

const aborted = new Error("the request was aborted by the client")

/** Bytes queued before undici is asked to pause the socket (the reader is slower than the network). */
const highWater = 1024 * 1024

/** After a stream's scope closes with its body unfinished (a server holding the connection after `[DONE]`). */
const drainMs = 500
const drainBytes = 64 * 1024

type Outcome<A> = Effect.Effect<A, MimoError.TransportError>

/**
 * One stream as an undici dispatch handler: the head settles `open`, then the
 * body's pieces are queued as they come and handed over in batches by `read`
 * (synchronously when some are waiting: no fiber or `Readable` per piece).
 * The queue is bounded: past {@link highWater} bytes undici pauses the socket
 * until the reader catches up. Written by hand for the same reasons as
 * {@link Exchange}, measured in `apps/bench` (50 concurrent streams).
 */
class StreamExchange implements Undici.Dispatcher.DispatchHandler {
  private controller: Undici.Dispatcher.DispatchController | undefined = undefined
  private head: ((effect: Outcome<MimoTransport.StreamResponse>) => void) | undefined
  private headTimer: ReturnType<typeof setTimeout> | undefined = undefined
  private status = 0
  private headers: Record<string, string | Array<string> | undefined> = {}
  /** An error status: its body's first bytes, gathered before `open` answers. */
  private errorChunks: Array<Buffer> | undefined = undefined
  private errorSize = 0
  private queue: Array<Uint8Array> = []
  private queued = 0
  private paused = false
  private ended = false
  private failure: MimoError.TransportError | undefined = undefined
  private waiter: ((effect: Outcome<ReadonlyArray<Uint8Array> | undefined>) => void) | undefined = undefined
  private waitTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /** The stream's scope closed: nothing more is handed over. */
  private released = false
  private drained = 0
  private drainTimer: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(head: (effect: Outcome<MimoTransport.StreamResponse>) => void, private readonly live: boolean) {
    this.head = head
  }

  armHead(timeout: Duration.Duration, ms: number): void {
    this.headTimer = setTimeout(() => {
      this.headTimer = undefined
      this.settleHead(Effect.fail(MimoTransport.timeoutError(timeout)))
      this.abort()
    }, ms)
  }

  private settleHead(effect: Outcome<MimoTransport.StreamResponse>): void {
    const head = this.head
    if (head === undefined) return
    this.head = undefined
    if (this.headTimer !== undefined) clearTimeout(this.headTimer)
    head(effect)
  }

  private abort(): void {
    const controller = this.controller
    if (controller !== undefined && !this.ended && !controller.aborted) controller.abort(aborted)
  }

  /**
   * The scope closed. After a normal end (`[DONE]` read, or the caller stopped), a body still open is read
   * and dropped for a moment, so that the connection can go back to the pool; a server that holds it past
   * {@link drainMs} or {@link drainBytes} has it aborted. After a failure or an interruption: aborted at once.
   */
  release(drain: boolean): void {
    if (this.released) return
    this.released = true
    if (this.head !== undefined) this.settleHead(Effect.fail(MimoTransport.fromCause(aborted, "request")))
    if (this.waiter !== undefined) this.wake(Effect.succeed(undefined))
    this.queue = []
    this.queued = 0
    if (this.ended || this.failure !== undefined) return
    if (!drain || this.controller === undefined || this.status === 0) return this.abort()
    if (this.paused) {
      this.paused = false
      this.controller.resume()
    }
    this.drainTimer = setTimeout(() => this.abort(), drainMs)
    this.drainTimer.unref?.()
  }

  private wake(effect: Outcome<ReadonlyArray<Uint8Array> | undefined>): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    if (this.waitTimer !== undefined) {
      clearTimeout(this.waitTimer)
      this.waitTimer = undefined
    }
    waiter(effect)
  }

  private take(): ReadonlyArray<Uint8Array> {
    const out = this.queue
    this.queue = []
    this.queued = 0
    if (this.paused && this.controller !== undefined) {
      this.paused = false
      this.controller.resume()
    }
    return out
  }

  private wait(timeout: Duration.Duration): Outcome<ReadonlyArray<Uint8Array> | undefined> {
    const waiting = Effect.async<ReadonlyArray<Uint8Array> | undefined, MimoError.TransportError>((resume) => {
      this.waiter = resume
      if (this.live) {
        const ms = Duration.toMillis(timeout)
        if (ms <= maxTimerMs) {
          this.waitTimer = setTimeout(() => {
            this.waitTimer = undefined
            this.wake(Effect.fail(MimoTransport.timeoutError(timeout)))
          }, Math.max(1, Math.ceil(ms)))
        }
      }
      return Effect.sync(() => {
        this.waiter = undefined
        if (this.waitTimer !== undefined) {
          clearTimeout(this.waitTimer)
          this.waitTimer = undefined
        }
      })
    })
    return this.live
      ? waiting
      : Effect.timeoutFail(waiting, { duration: timeout, onTimeout: () => MimoTransport.timeoutError(timeout) })
  }

  readonly read = (timeout: Duration.Duration): Outcome<ReadonlyArray<Uint8Array> | undefined> =>
    Effect.suspend(() => {
      if (this.queue.length > 0) return Effect.succeed(this.take())
      if (this.failure !== undefined) return Effect.fail(this.failure)
      if (this.ended || this.released || this.status < 200 || this.status >= 300) return Effect.succeed(undefined)
      return this.wait(timeout)
    })

  onRequestStart(controller: Undici.Dispatcher.DispatchController): void {
    this.controller = controller
    // Released while it waited for a socket: it must not be sent.
    if (this.released) controller.abort(aborted)
  }

  onResponseStart(
    _controller: Undici.Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    this.status = statusCode
    this.headers = headers
    if (statusCode >= 200 && statusCode < 300) {
      this.settleHead(Effect.succeed(this.response("")))
    } else {
      this.errorChunks = []
    }
  }

  onResponseData(controller: Undici.Dispatcher.DispatchController, chunk: Buffer): void {
    const errorChunks = this.errorChunks
    if (errorChunks !== undefined) {
      if (this.head === undefined) return
      const room = MimoTransport.maxErrorBody - this.errorSize
      errorChunks.push(chunk.length <= room ? chunk : chunk.subarray(0, room))
      this.errorSize += Math.min(room, chunk.length)
      if (this.errorSize >= MimoTransport.maxErrorBody) {
        this.settleHead(Effect.succeed(this.errorResponse()))
        this.abort()
      }
      return
    }
    if (this.released) {
      this.drained += chunk.length
      if (this.drained > drainBytes) this.abort()
      return
    }
    if (this.waiter !== undefined) return this.wake(Effect.succeed([chunk]))
    this.queue.push(chunk)
    this.queued += chunk.length
    if (this.queued >= highWater && !this.paused) {
      this.paused = true
      controller.pause()
    }
  }

  onResponseEnd(): void {
    this.ended = true
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer)
    if (this.errorChunks !== undefined) this.settleHead(Effect.succeed(this.errorResponse()))
    this.wake(Effect.succeed(undefined))
  }

  onResponseError(_controller: Undici.Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer)
    if (this.released) {
      this.ended = true
      return
    }
    const failure = MimoTransport.fromCause(error, this.status === 0 ? "request" : "response")
    this.failure = failure
    if (this.errorChunks !== undefined) this.settleHead(Effect.succeed(this.errorResponse()))
    else this.settleHead(Effect.fail(failure))
    this.wake(Effect.fail(failure))
  }

  private errorResponse(): MimoTransport.StreamResponse {
    const chunks = this.errorChunks ?? []
    return this.response(chunks.length === 0 ? "" : Buffer.concat(chunks, this.errorSize).toString("utf8"))
  }

  private response(body: string): MimoTransport.StreamResponse {
    return {
      status: this.status,
      headers: Headers.fromInput(this.headers),
      body,
      read: this.read
    }
  }
}

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

  /** A URL `targetOf` refused: the request fails before anything is sent. */
  const badTarget = (reason: string, url: string): Effect.Effect<never, MimoError.TransportError> =>
    Effect.fail(MimoTransport.fromCause(new Error(`${reason}: ${url}`), "request"))

  /** A time limit a native timer can keep (at least 1 ms), or `undefined` when it cannot. */
  const timerMs = (ms: number): number | undefined =>
    ms >= 0 && ms <= maxTimerMs ? Math.max(1, Math.ceil(ms)) : undefined

  /** Hands one exchange to undici; a synchronous throw fails it through its handler. */
  const dispatch = (
    target: Target,
    request: MimoTransport.Request,
    handler: Exchange | StreamExchange
  ): void => {
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
  }

  const exchange = (
    target: Target,
    request: MimoTransport.Request,
    armMs: number | undefined
  ): Effect.Effect<MimoTransport.Response, MimoError.TransportError> =>
    stoppable<MimoTransport.Response, MimoError.TransportError>((resume, fiber) => {
      const handler = new Exchange(resume, request.maxBodySize ?? MimoTransport.defaultMaxBodySize, fiber)
      if (armMs !== undefined) handler.arm(request.timeout, armMs)
      // Registered before it is dispatched: a dispatch that fails at once settles it, which removes it.
      waiting.set(fiber, handler)
      dispatch(target, request, handler)
    })

  const open = (
    request: MimoTransport.Request
  ): Effect.Effect<MimoTransport.StreamResponse, MimoError.TransportError, Scope.Scope> =>
    Effect.clockWith((clock) => {
      const target = targetOf(request.url)
      if (typeof target === "string") return badTarget(target, request.url)
      const live = clock === liveClock
      const ms = Duration.toMillis(request.timeout)
      let exchange: StreamExchange | undefined = undefined
      const head = Effect.async<MimoTransport.StreamResponse, MimoError.TransportError>((resume) => {
        const handler = new StreamExchange(resume, live)
        exchange = handler
        const armMs = live ? timerMs(ms) : undefined
        if (armMs !== undefined) handler.armHead(request.timeout, armMs)
        dispatch(target, request, handler)
        return Effect.sync(() => handler.release(false))
      })
      return Effect.zipRight(
        Effect.addFinalizer((exit) =>
          Effect.sync(() => {
            if (exchange !== undefined) exchange.release(Exit.isSuccess(exit))
          })
        ),
        live
          ? head
          : Effect.timeoutFail(head, {
            duration: request.timeout,
            onTimeout: () => MimoTransport.timeoutError(request.timeout)
          })
      )
    })

  return {
    open,
    send: (request) =>
      Effect.clockWith((clock) => {
        const target = targetOf(request.url)
        if (typeof target === "string") return badTarget(target, request.url)
        const ms = Duration.toMillis(request.timeout)
        if (clock === liveClock) {
          // Real time: a native timer, cleared with the exchange (no fiber forked).
          return exchange(target, request, timerMs(ms))
        }
        return Effect.timeoutFail(exchange(target, request, undefined), {
          duration: request.timeout,
          onTimeout: () => MimoTransport.timeoutError(request.timeout)
        })
      })
  }
}
