/**
 * The clients under test, each driven the way its users drive it:
 *
 * - `undici`: raw `undici.request` on undici's default dispatcher, `JSON.parse`
 *   of the body; the 1.0 reference. Where a case needs retries (rate limit,
 *   faults) it runs the seed's own loop: 5 attempts, `min(2^n + U[0,1), 60)` s,
 *   at least `Retry-After`, retryable statuses only.
 * - `openai` / `openai-r4`: openai-node with its default fetch, `maxRetries` 2
 *   (the default) or 4.
 * - `effect-undici`: raw undici's own requests and SSE loop run the way an Effect
 *   program runs them — `Effect.tryPromise` per call, and a `Stream` per streamed
 *   call (one element per event, each piece's events as one `Chunk`, in the
 *   cheapest `Stream` of pieces: one channel, one effect per piece) counted by
 *   `Stream.runCount` — with no client logic at all (no validation, no typed
 *   errors, no retries, no timeouts): the floor of any Effect client driven as
 *   ours is, on this Effect version.
 * - `ours`: `MimoClient` over `NodeMimoClient.layer` (undici), default settings.
 * - `ours+limiter` / `ours+redis`: the same, decorated by the client-side
 *   limiter (in memory, or shared through Redis), when those modules are there.
 *
 * The promise clients run their calls (streams) in `pool`: `concurrency` async
 * workers, each making its calls one after the other. The Effect clients run
 * theirs as Effect programs usually do, one fiber per call forked by
 * `Effect.forEach` with `concurrency`, or (`LoadShape` `"workers"`, as the wire
 * case asks, to compare like with like) as `concurrency` fibers shaped as the
 * pool is.
 *
 * @since 0.1.0
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import OpenAI from "openai"
import * as Undici from "undici"
import * as SseReader from "./internal/sseReader.js"
import { count, errorKey, pool, sleep } from "./Load.js"
import * as Plugins from "./Plugins.js"

/**
 * The client ids, in table order.
 *
 * @since 0.1.0
 * @category models
 */
export const ids = ["undici", "openai", "openai-r4", "effect-undici", "ours", "ours+limiter", "ours+redis"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type Id = typeof ids[number]

/**
 * @since 0.1.0
 * @category models
 */
export const isId = (s: string): s is Id => ids.some((id) => id === s)

/**
 * How each client is named in the tables.
 *
 * @since 0.1.0
 * @category models
 */
export const labels: Readonly<Record<Id, string>> = {
  undici: "raw undici",
  openai: "openai-node (default, maxRetries 2)",
  "openai-r4": "openai-node (maxRetries 4)",
  "effect-undici": "raw undici inside Effect (no client logic)",
  ours: "ours (platform-node)",
  "ours+limiter": "ours + limiter",
  "ours+redis": "ours + Redis limiter"
}

/**
 * What a chat load returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChatOutcome {
  readonly successes: number
  readonly failures: number
  readonly errors: Record<string, number>
  /** Latencies of the successful calls (ms); the first `successes` entries are set. */
  readonly latencies: Float64Array
}

/**
 * What a stream load returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamOutcome {
  readonly chunks: number
  readonly failures: number
  readonly errors: Record<string, number>
}

/**
 * A client under test.
 *
 * @since 0.1.0
 * @category models
 */
export interface BenchClient {
  readonly id: Id
  /**
   * `total` non-streaming chat calls, at most `concurrency` in flight, in the given shape (an Effect client's
   * default `"fiber-per-call"`; a promise client has only `"workers"`).
   */
  readonly chatLoad: (total: number, concurrency: number, shape?: LoadShape) => Promise<ChatOutcome>
  /** `streams` streaming calls, at most `concurrency` in flight, counting chunks. */
  readonly streamLoad: (streams: number, concurrency: number, shape?: LoadShape) => Promise<StreamOutcome>
  readonly close: () => Promise<void>
}

/**
 * How a client's calls are run at a concurrency: `"workers"`, as many workers as the concurrency, each making
 * its calls one after the other (the promise clients' only shape); `"fiber-per-call"`, for an Effect client,
 * one fiber per call forked by `Effect.forEach` with `concurrency` (its default: what Effect programs usually
 * write).
 *
 * @since 0.1.0
 * @category models
 */
export const LoadShape = Schema.Literal("workers", "fiber-per-call")

/**
 * @since 0.1.0
 * @category models
 */
export type LoadShape = typeof LoadShape.Type

/** An Effect client's load shape unless said: one fiber per call. */
const defaultLoadShape: LoadShape = "fiber-per-call"

/**
 * A child case's `shape` setting: an Effect client's load shape, one fiber per call unless said.
 *
 * @since 0.1.0
 * @category models
 */
export const loadShapeSetting = Schema.optionalWith(LoadShape, { default: () => defaultLoadShape })

/**
 * Settings of a client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The OpenAI-compatible base URL (`…/v1`). */
  readonly baseUrl: string
  /** For raw undici: run the seed's retry loop. */
  readonly retries?: boolean | undefined
  /** For the limiter variants: the limit configured on the client side. */
  readonly limit?: Plugins.Limit | undefined
  /** For `ours+redis`: the Redis URL and the key the processes share. */
  readonly redisUrl?: string | undefined
  readonly limitKey?: string | undefined
}

/**
 * Thrown by `make` when a client's module is not there (yet).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotAvailable extends Error {
  readonly _tag = "NotAvailable"
}

const apiKey = "sk-bench-0000"
const model = "mimo-v2-flash"
const content = "Say ok."

// -----------------------------------------------------------------------------
// raw undici
// -----------------------------------------------------------------------------

const retryable = (status: number) => status === 408 || status === 429 || status >= 500

const retryAfterMs = (headers: Undici.Dispatcher.ResponseData["headers"]): number => {
  const ms = headers["retry-after-ms"]
  if (typeof ms === "string" && Number.isFinite(Number(ms))) return Number(ms)
  const s = headers["retry-after"]
  if (typeof s !== "string") return 0
  const n = Number(s)
  if (Number.isFinite(n)) return n * 1000
  const date = Date.parse(s)
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : 0
}

class StatusError extends Error {
  constructor(readonly status: number) {
    super(`status ${status}`)
  }
}

/**
 * The load loops of a promise-based client (raw undici, openai-node): the same
 * pool, timing and error counting for every peer, so that they are measured
 * alike.
 */
const chatLoadOf = (call: () => Promise<unknown>): BenchClient["chatLoad"] => async (total, concurrency) => {
  const latencies = new Float64Array(total)
  const errors: Record<string, number> = {}
  let successes = 0
  let failures = 0
  await pool(total, concurrency, async () => {
    const t0 = performance.now()
    try {
      await call()
      latencies[successes++] = performance.now() - t0
    } catch (e) {
      failures++
      count(errors, errorKey(e))
    }
  })
  return { successes, failures, errors, latencies }
}

const streamLoadOf = (streamOnce: () => Promise<number>): BenchClient["streamLoad"] => async (streams, concurrency) => {
  const errors: Record<string, number> = {}
  let chunks = 0
  let failures = 0
  await pool(streams, concurrency, async () => {
    try {
      // Not `chunks += await …`: that reads `chunks` before the await and loses concurrent updates.
      const n = await streamOnce()
      chunks += n
    } catch (e) {
      failures++
      count(errors, errorKey(e))
    }
  })
  return { chunks, failures, errors }
}

/** Raw undici's requests: one chat call (the body parsed), and a stream opened (its body, to be read). */
const undiciRequests = (options: Options) => {
  const url = `${options.baseUrl}/chat/completions`
  const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` }
  const retryAfter = new WeakMap<StatusError, number>()
  const once = async (): Promise<void> => {
    const { body, headers: h, statusCode } = await Undici.request(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ model, messages: [{ role: "user", content }], max_completion_tokens: 16 })
    })
    const text = await body.text()
    if (statusCode < 200 || statusCode >= 300) {
      const error = new StatusError(statusCode)
      retryAfter.set(error, retryAfterMs(h))
      throw error
    }
    JSON.parse(text)
  }
  const openStream = async (): Promise<Undici.Dispatcher.ResponseData["body"]> => {
    const { body, statusCode } = await Undici.request(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ model, messages: [{ role: "user", content }], stream: true })
    })
    if (statusCode !== 200) {
      await body.dump()
      throw new StatusError(statusCode)
    }
    return body
  }
  return { once, openStream, retryAfter }
}

const makeUndici = (options: Options): BenchClient => {
  const { once, openStream, retryAfter } = undiciRequests(options)
  // The seed's loop: 5 attempts; before retry n wait max(min(2^n + U[0,1), 60) s, Retry-After).
  const withSeedLoop = async (): Promise<void> => {
    for (let attempt = 0;; attempt++) {
      try {
        return await once()
      } catch (e) {
        if (!(e instanceof StatusError) || !retryable(e.status) || attempt >= 4) throw e
        const backoff = Math.min(2 ** attempt * 1000 + Math.random() * 1000, 60_000)
        await sleep(Math.max(backoff, retryAfter.get(e) ?? 0))
      }
    }
  }
  const call = options.retries === true ? withSeedLoop : once

  const streamOnce = async (): Promise<number> => {
    const body = await openStream()
    const read = SseReader.make()
    let chunks = 0
    for await (const bytes of body) chunks += read(bytes, undefined)
    return chunks
  }

  return {
    id: "undici",
    chatLoad: chatLoadOf(call),
    streamLoad: streamLoadOf(streamOnce),
    close: () => Promise.resolve()
  }
}

// -----------------------------------------------------------------------------
// openai-node
// -----------------------------------------------------------------------------

const makeOpenAI = (options: Options, id: "openai" | "openai-r4"): BenchClient => {
  const client = new OpenAI({
    apiKey,
    baseURL: options.baseUrl,
    ...(id === "openai-r4" ? { maxRetries: 4 } : {})
  })
  const chatOnce = () =>
    client.chat.completions.create({
      model,
      messages: [{ role: "user", content }],
      max_completion_tokens: 16
    })
  const streamOnce = async (): Promise<number> => {
    let chunks = 0
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content }],
      stream: true
    })
    for await (const _ of stream) chunks++
    return chunks
  }
  return {
    id,
    chatLoad: chatLoadOf(chatOnce),
    streamLoad: streamLoadOf(streamOnce),
    close: () => Promise.resolve()
  }
}

// -----------------------------------------------------------------------------
// ours
// -----------------------------------------------------------------------------

/**
 * Runs `one` `total` times, at most `concurrency` at once, in the given shape: `concurrency` fibers each running
 * it until `total` runs have started (the shape of `pool`, and of a worker pool in an Effect program), or
 * one fiber per run forked by `Effect.forEach`.
 */
const effectPool = (
  total: number,
  concurrency: number,
  shape: LoadShape,
  one: Effect.Effect<void>
): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (shape === "fiber-per-call") {
      return Effect.forEach(Array.from({ length: total }), () => one, { concurrency, discard: true })
    }
    let started = 0
    const worker = Effect.whileLoop({
      while: () => started < total,
      body: () => {
        started++
        return one
      },
      step: () => {}
    })
    return Effect.forEach(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }), () => worker, {
      concurrency: "unbounded",
      discard: true
    })
  })

/**
 * The load loops of an Effect client (ours, `effect-undici`), the same for both: `effectPool` in the shape asked
 * (default: a fiber per call). `run` runs an effect to a promise (in the client's runtime).
 */
const effectLoads = (
  run: <A>(effect: Effect.Effect<A>) => Promise<A>,
  chat: Effect.Effect<unknown, unknown>,
  stream: Stream.Stream<unknown, unknown>
): Pick<BenchClient, "chatLoad" | "streamLoad"> => {
  const keyOf = (cause: Cause.Cause<unknown>): string => {
    const failure = Cause.failureOption(cause)
    return failure._tag === "Some" ? errorKey(failure.value) : Cause.isInterruptedOnly(cause) ? "Interrupted" : "Defect"
  }
  return {
    chatLoad: (total, concurrency, shape = defaultLoadShape) =>
      run(Effect.suspend(() => {
        const latencies = new Float64Array(total)
        const errors: Record<string, number> = {}
        let successes = 0
        let failures = 0
        const one = Effect.suspend(() => {
          const t0 = performance.now()
          return Effect.matchCause(chat, {
            onFailure: (cause) => {
              failures++
              count(errors, keyOf(cause))
            },
            onSuccess: () => {
              latencies[successes++] = performance.now() - t0
            }
          })
        })
        return effectPool(total, concurrency, shape, one).pipe(
          Effect.map(() => ({ successes, failures, errors, latencies }))
        )
      })),
    streamLoad: (streams, concurrency, shape = defaultLoadShape) =>
      run(Effect.suspend(() => {
        const errors: Record<string, number> = {}
        let chunks = 0
        let failures = 0
        const one = Effect.matchCause(Stream.runCount(stream), {
          onFailure: (cause) => {
            failures++
            count(errors, keyOf(cause))
          },
          onSuccess: (n) => {
            chunks += n
          }
        })
        return effectPool(streams, concurrency, shape, one).pipe(
          Effect.map(() => ({ chunks, failures, errors }))
        )
      }))
  }
}

// -----------------------------------------------------------------------------
// effect-undici: raw undici inside Effect, no client logic
// -----------------------------------------------------------------------------

const makeEffectUndici = (options: Options): BenchClient => {
  const { once, openStream } = undiciRequests(options)
  type Events = Channel.Channel<Chunk.Chunk<unknown>, unknown, unknown, unknown, void, unknown>
  // The cheapest `Stream` of a body's pieces on this Effect version: one channel that runs one effect per piece
  // (the body iterator's `next`) and writes that piece's events as one `Chunk`, and gives the body back when it
  // ends (`return`, as `Stream.fromAsyncIterable` does). With `Stream.runCount` it takes ≈ 550 Effect steps per
  // 2,000-chunk stream, ≈ 480 of them the run's own. `Stream.fromAsyncIterable` + `mapConcatChunk`, its shape
  // before session 10, took ≈ 1,100 (two layers more per piece and per run): it measured more than the floor
  // (apps/bench/analysis.md, "Issue 14, session 10").
  const events = (body: Undici.Dispatcher.ResponseData["body"]): Events => {
    const read = SseReader.make()
    const iterator: AsyncIterator<unknown> = body[Symbol.asyncIterator]()
    const next = Effect.tryPromise(() => iterator.next())
    const loop: Events = Channel.flatMap(Channel.fromEffect(next), (result): Events => {
      if (result.done === true) return Channel.void
      if (!(result.value instanceof Uint8Array)) {
        return Channel.fail(new Error("the body gave a piece that is not bytes"))
      }
      const out: Array<unknown> = []
      read(result.value, out)
      return out.length === 0 ? loop : Channel.flatMap(Channel.write(Chunk.unsafeFromArray(out)), () => loop)
    })
    return Channel.ensuring(loop, Effect.promise(async () => void (await iterator.return?.())))
  }
  return {
    id: "effect-undici",
    ...effectLoads(
      Effect.runPromise,
      Effect.tryPromise(once),
      Stream.fromChannel(Channel.unwrap(Effect.map(Effect.tryPromise(openStream), events)))
    ),
    close: () => Promise.resolve()
  }
}

// -----------------------------------------------------------------------------
// ours
// -----------------------------------------------------------------------------

const makeOurs = async (
  id: Id,
  layer: Layer.Layer<MimoClient.MimoClient, unknown>
): Promise<BenchClient> => {
  const runtime = ManagedRuntime.make(layer)
  const mimo = await runtime.runPromise(MimoClient.MimoClient)
  const messages = [{ role: "user" as const, content }]
  return {
    id,
    ...effectLoads(
      (effect) => runtime.runPromise(effect),
      mimo.chat({ model, messages, max_completion_tokens: 16 }),
      mimo.stream({ model, messages })
    ),
    close: () => runtime.dispose()
  }
}

const oursLayer = (options: Options): Layer.Layer<MimoClient.MimoClient> =>
  NodeMimoClient.layer({ apiKey: Redacted.make(apiKey), baseUrl: options.baseUrl })

/**
 * Builds a client; rejects with `NotAvailable` when its module is not there.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = async (id: Id, options: Options): Promise<BenchClient> => {
  switch (id) {
    case "undici":
      return makeUndici(options)
    case "effect-undici":
      return makeEffectUndici(options)
    case "openai":
    case "openai-r4":
      return makeOpenAI(options, id)
    case "ours":
      return makeOurs(id, oursLayer(options))
    case "ours+limiter": {
      const decorate = await Plugins.limiter(options.limit ?? Plugins.unlimited)
      if (typeof decorate === "string") throw new NotAvailable(decorate)
      return makeOurs(id, decorate(oursLayer(options)))
    }
    case "ours+redis": {
      if (options.redisUrl === undefined) throw new NotAvailable("no Redis server")
      const decorate = await Plugins.redisLimiter(
        options.limit ?? Plugins.unlimited,
        options.redisUrl,
        options.limitKey ?? "bench"
      )
      if (typeof decorate === "string") throw new NotAvailable(decorate)
      return makeOurs(id, decorate(oursLayer(options)))
    }
  }
}
