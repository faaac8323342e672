/**
 * Effect steps per operation: how many effects Effect's fiber runtime
 * evaluates for one chat call, one stream, and for the bare Effect
 * constructs every `Stream` run costs its consumer. Unlike CPU time on a
 * shared machine, the count is exact and the same from run to run, so it
 * shows what a change does to our own steps and what Effect takes whatever
 * we do (apps/bench/analysis.md, "Where the fixed costs go").
 *
 * In process, with a transport that answers from memory on `setImmediate`
 * (as a socket would, one wake-up per read): the steps are the client's,
 * not the network's. Counted by wrapping the op handlers of `effect`'s
 * internal `FiberRuntime` (the methods the run loop calls once per effect
 * it evaluates, named after the op: `Sync`, `OnSuccess`, `Async`, ...).
 * That module is not part of `effect`'s public API: when it moves, this case
 * fails with the reason, and the rest of `pnpm bench` is unaffected.
 *
 * Usage: `node dist/cases/effectSteps.js - '{"runs":1000}'`
 *
 * @since 0.2.0
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as RateLimit from "@effect-mimo/resilience/RateLimit"
import * as Headers from "@effect/platform/Headers"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Bodies from "../internal/bodies.js"
import * as child from "../internal/child.js"
import type * as Results from "../Results.js"

const Config = Schema.Struct({
  runs: Schema.optionalWith(Schema.Number, { default: () => 1000 })
})

/** The mock server's SSE body of `n` chunks, cut into the pieces a socket hands over (≈ 52 KB on loopback). */
const ssePieces = (n: number): ReadonlyArray<Uint8Array> => {
  const bytes = new TextEncoder().encode(Bodies.sseText(n))
  const pieces: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += 52 * 1024) pieces.push(bytes.subarray(at, at + 52 * 1024))
  return pieces
}

/** Resolves on the next turn of the event loop, as a socket's data would. */
const later = <A>(value: A): Effect.Effect<A> =>
  Effect.async<A>((resume) => {
    const timer = setImmediate(() => resume(Effect.succeed(value)))
    return Effect.sync(() => clearImmediate(timer))
  })

/** A transport answering from memory: the chat answer, or a stream of `chunks` chunks. */
const memoryTransport = (chunks: number): MimoTransport.Service => {
  const pieces = ssePieces(chunks)
  const jsonHeaders = Headers.fromInput({ "content-type": "application/json" })
  const sseHeaders = Headers.fromInput({ "content-type": "text/event-stream" })
  return {
    send: () => later<MimoTransport.Response>({ status: 200, headers: jsonHeaders, body: Bodies.answer }),
    open: () =>
      Effect.map(later(undefined), (): MimoTransport.StreamResponse => {
        let next = 0
        return {
          status: 200,
          headers: sseHeaders,
          body: "",
          read: () => later(next < pieces.length ? [pieces[next++]!] : undefined)
        }
      })
  }
}

/** The op handlers of `effect`'s `FiberRuntime`, wrapped to count; the counter, or why it cannot be had. */
const instrument = async (): Promise<{ count: number } | string> => {
  const where = new URL("./internal/fiberRuntime.js", import.meta.resolve("effect"))
  let module: unknown
  try {
    module = await import(where.href)
  } catch (e) {
    return `effect's internal FiberRuntime is not at ${where.href}: ${e instanceof Error ? e.message : String(e)}`
  }
  if (!Predicate.hasProperty(module, "FiberRuntime") || typeof module.FiberRuntime !== "function") {
    return `effect's internal module ${where.href} has no FiberRuntime class`
  }
  const proto: unknown = module.FiberRuntime.prototype
  if (!Predicate.isRecord(proto)) return "FiberRuntime has no prototype"
  const counter = { count: 0 }
  let wrapped = 0
  for (const key of Object.getOwnPropertyNames(proto)) {
    const handler = proto[key]
    // The op handlers are the methods named after the ops (`Sync`, `OnSuccess`, ...); the rest are lower case.
    if (!/^[A-Z]/.test(key) || typeof handler !== "function") continue
    proto[key] = function(this: unknown, ...args: Array<unknown>): unknown {
      counter.count++
      return Reflect.apply(handler, this, args)
    }
    wrapped++
  }
  if (wrapped === 0) return "FiberRuntime has no op handlers to count"
  await Effect.runPromise(Effect.void)
  if (counter.count === 0) return "the FiberRuntime instrumented is not the one `effect` runs (two copies of effect?)"
  return counter
}

const layerOf = (chunks: number) =>
  MimoClient.layer({ apiKey: Redacted.make("sk-bench"), baseUrl: "http://127.0.0.1:9/v1" }).pipe(
    Layer.provide(Layer.succeed(MimoTransport.MimoTransport, memoryTransport(chunks)))
  )

const request = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Say ok." }] }

child.mainOwn(Config, async (config): Promise<Results.Run> => {
  const counter = await instrument()
  // A child's failure is reported by throwing: `mainOwn` sends it to the runner as the row's error (its reason).
  if (typeof counter === "string") throw new Error(counter)

  /** Steps per run of `operation`, `runs` of them at concurrency 50 after 100 warm-up runs. */
  const steps = async <A, E>(
    runtime: ManagedRuntime.ManagedRuntime<MimoClient.MimoClient, unknown>,
    operation: Effect.Effect<A, E, MimoClient.MimoClient>,
    check: (a: A) => boolean
  ): Promise<number> => {
    const all = (n: number) =>
      Effect.forEach(
        Array.from({ length: n }),
        () =>
          Effect.flatMap(
            operation,
            (a) => check(a) ? Effect.void : Effect.dieMessage(`unexpected result ${JSON.stringify(a)}`)
          ),
        { concurrency: 50, discard: true }
      )
    await runtime.runPromise(all(100))
    counter.count = 0
    await runtime.runPromise(all(config.runs))
    return counter.count / config.runs
  }

  const plain = ManagedRuntime.make(layerOf(2))
  const long = ManagedRuntime.make(layerOf(2000))
  /**
   * The limiter's row, its runtime disposed before the next row is counted: the limiter may leave a fiber of its
   * own waiting on a timer (its slow start, a dispatcher), and on a loaded machine that fiber woke while the next
   * row was counted (CI counted 588.2 steps for a 2-chunk stream, 588 alone).
   */
  const limitedSteps = async <A, E>(
    operation: Effect.Effect<A, E, MimoClient.MimoClient>,
    check: (a: A) => boolean
  ): Promise<number> => {
    const limited = ManagedRuntime.make(
      Layer.provide(RateLimit.layer({ requestsPerSecond: 1_000_000, burst: 1_000_000 }), layerOf(2))
    )
    try {
      return await steps(limited, operation, check)
    } finally {
      await limited.dispose()
    }
  }
  try {
    const chat = Effect.flatMap(MimoClient.MimoClient, (c) => c.chat(request))
    const stream = Effect.flatMap(MimoClient.MimoClient, (c) => Stream.runCount(c.stream(request)))
    const items: Array<{ readonly client: string; readonly operation: string; readonly steps: number }> = []
    const harness = await steps(plain, Effect.void, () => true)
    const add = (client: string, operation: string, total: number) =>
      items.push({ client, operation, steps: Math.round((total - harness) * 10) / 10 })
    items.push({
      client: "effect",
      operation: "the harness: Effect.forEach of Effect.void",
      steps: Math.round(harness * 10) / 10
    })
    add("effect", "Channel.runDrain(Channel.void)", await steps(plain, Channel.runDrain(Channel.void), () => true))
    add(
      "effect",
      "Stream.runCount of a 2-element Chunk",
      await steps(plain, Stream.runCount(Stream.fromChunk(Chunk.make(1, 2))), (n) => n === 2)
    )
    add("ours", "chat", await steps(plain, chat, (r) => r.id === "chatcmpl-bench"))
    add("ours+limiter", "chat", await limitedSteps(chat, (r) => r.id === "chatcmpl-bench"))
    add("ours", "Stream.runCount(stream), 2 chunks", await steps(plain, stream, (n) => n === 2))
    add("ours", "Stream.runCount(stream), 2,000 chunks", await steps(long, stream, (n) => n === 2000))
    return { kind: "steps", runs: config.runs, items }
  } finally {
    await Promise.all([plain.dispose(), long.dispose()])
  }
})
