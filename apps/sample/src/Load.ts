/**
 * `mimo load`: many requests at once against the embedded simulator with a
 * rate limit (a token bucket answering 429 with a whole-second Retry-After),
 * with or without the client-side limiter (`RateLimit.layer`), so that the
 * difference shows: failures, 429s, and the wall time against the physical
 * limit (`requests / rps`).
 *
 * A progress bar goes to stderr: rewritten in place when stderr is a
 * terminal, one line a second otherwise. The summary goes to stdout, with
 * the limiter's metrics (Effect `Metric`s: queue, allowed rate, waits, 429s).
 *
 * It never talks to a real host: a load test against the account's limits
 * would only spend them.
 */
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as RateLimit from "@effect-mimo/resilience/RateLimit"
import * as Simulator from "@effect-mimo/simulator/Simulator"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"

/** The command's options (parsed by `Cli.load`). */
export interface Options {
  readonly requests: number
  readonly concurrency: number
  readonly rps: number
  readonly burst: Option.Option<number>
  readonly limiter: boolean
  readonly model: string
}

/** What the progress line shows. */
export interface Progress {
  readonly done: number
  readonly total: number
  readonly successes: number
  readonly failures: number
  /** 429s the simulator gave. */
  readonly rateLimited: number
  /** The limiter's state (none without it). */
  readonly limiter: Option.Option<RateLimit.Snapshot>
  readonly elapsedMs: number
  readonly now: number
}

/** What a run measured. */
export interface Summary {
  readonly options: Options
  readonly successes: number
  readonly failures: number
  /** 429s the simulator gave. */
  readonly rateLimited: number
  /** Requests the simulator received (attempts, retries included). */
  readonly attempts: number
  readonly wallMs: number
  /** `requests / rps`, in ms: the physical limit the issue measures against. */
  readonly limitMs: number
  readonly limiter: Option.Option<RateLimit.Snapshot>
  /** The limiter's waits (from its histogram): how many, their mean and their maximum, in ms. */
  readonly waits: Option.Option<{ readonly count: number; readonly meanMs: number; readonly maxMs: number }>
}

const request = (model: string) => ({
  model,
  messages: [{ role: "user" as const, content: "Load test: say something short." }],
  max_completion_tokens: 64
})

/**
 * Runs the load: a simulator limited to `rps` requests per second (burst `burst`, default `rps`), and
 * `requests` chats at `concurrency`, through the limiter or not. `onProgress` is called every `every` ms.
 */
export const runLoad = (
  options: Options,
  onProgress: (progress: Progress) => Effect.Effect<void>,
  every: number
): Effect.Effect<Summary, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const burst = Option.getOrElse(options.burst, () => options.rps)
    const simulator = yield* Simulator.make({ rateLimit: { requestsPerSecond: options.rps, burst } })
    const client = NodeMimoClient.layer({
      apiKey: Environment.simulatorKey,
      baseUrl: simulator.url,
      agent: { connections: Math.max(16, options.concurrency) }
    })
    const limited = RateLimit.layer({
      requestsPerSecond: options.rps,
      burst,
      concurrency: options.concurrency
    }).pipe(Layer.provide(client))
    const built = options.limiter
      ? Effect.map(Layer.build(limited), (context) => ({
        mimo: Context.get(context, MimoClient.MimoClient),
        limiter: Option.some(Context.get(context, RateLimit.Limiter))
      }))
      : Effect.map(Layer.build(client), (context) => ({
        mimo: Context.get(context, MimoClient.MimoClient),
        limiter: Option.none<RateLimit.Limiter>()
      }))
    const { limiter, mimo } = yield* built
    const snapshot = Option.match(limiter, {
      onNone: () => Effect.succeed(Option.none<RateLimit.Snapshot>()),
      onSome: (l) => Effect.map(l.snapshot, (all) => Option.fromNullable(all.find((s) => s.model === options.model)))
    })

    // Warm the connection pool and the code paths (GET /models is not rate-limited).
    yield* Effect.ignore(mimo.models())
    let successes = 0
    let failures = 0
    const start = yield* Clock.currentTimeMillis
    const progress = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return {
        done: successes + failures,
        total: options.requests,
        successes,
        failures,
        rateLimited: (yield* simulator.stats).rateLimited,
        limiter: yield* snapshot,
        elapsedMs: now - start,
        now
      } satisfies Progress
    })
    const reporter = yield* Effect.fork(
      Effect.forever(Effect.zipRight(Effect.sleep(every), Effect.flatMap(progress, onProgress)))
    )
    yield* Effect.forEach(
      Array.from({ length: options.requests }),
      () =>
        Effect.either(mimo.chat(request(options.model))).pipe(
          Effect.map((r) => Either.isRight(r) ? successes++ : failures++)
        ),
      { concurrency: options.concurrency, discard: true }
    )
    const wallMs = (yield* Clock.currentTimeMillis) - start
    yield* Fiber.interrupt(reporter)
    yield* Effect.flatMap(progress, onProgress)
    const stats = yield* simulator.stats
    const waits = options.limiter
      ? yield* Effect.map(
        Metric.value(RateLimit.metrics.waitMillis.pipe(Metric.tagged("model", options.model))),
        (h) => Option.some({ count: h.count, meanMs: h.count === 0 ? 0 : h.sum / h.count, maxMs: h.max })
      )
      : Option.none()
    return {
      options,
      successes,
      failures,
      rateLimited: stats.rateLimited,
      attempts: stats.byPath["/v1/chat/completions"] ?? stats.requests,
      wallMs,
      limitMs: (options.requests / options.rps) * 1000,
      limiter: yield* snapshot,
      waits
    } satisfies Summary
  })

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The progress line: a bar, the counts, and the limiter's state when there is one. */
export const progressLine = (p: Progress): string => {
  const width = 24
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width)
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
  const limiter = Option.match(p.limiter, {
    onNone: () => "",
    onSome: (s) =>
      `  queue ${s.queued}  in flight ${s.inFlight}  allowed ${s.allowedRate.toFixed(1)}/s` +
      (s.pausedUntil > p.now ? `  paused ${seconds(s.pausedUntil - p.now)}` : "")
  })
  return `${bar} ${p.done}/${p.total}  ok ${p.successes}  failed ${p.failures}  429s ${p.rateLimited}${limiter}  ${
    seconds(p.elapsedMs)
  }`
}

/** The summary, for people. */
export const summaryText = (s: Summary): string => {
  const o = s.options
  const ratio = s.wallMs / s.limitMs
  const lines = [
    `mimo load: ${o.requests} requests to ${o.model} at concurrency ${o.concurrency}, against the embedded simulator ` +
    `(${o.rps} req/s, burst ${Option.getOrElse(o.burst, () => o.rps)}), ${
      o.limiter ? "through the client-side rate limiter" : "without the rate limiter"
    }`,
    `  successes:  ${s.successes}`,
    `  failures:   ${s.failures}`,
    `  429s:       ${s.rateLimited} (attempts sent: ${s.attempts})`,
    `  wall time:  ${Output.formatDuration(s.wallMs)} = ${ratio.toFixed(3)} x the physical limit ` +
    `(${o.requests} / ${o.rps} req/s = ${Output.formatDuration(s.limitMs)})`
  ]
  Option.map(s.limiter, (l) =>
    lines.push(
      `  limiter:    allowed ${l.allowedRate.toFixed(1)} req/s now (max ${l.maxRate}); ${l.throttled} 429s seen; ` +
        `${l.admitted} attempts let through`
    ))
  Option.map(s.waits, (w) =>
    lines.push(
      `  waits:      ${w.count} attempts waited ${Output.formatDuration(w.meanMs)} on average, ` +
        `${Output.formatDuration(w.maxMs)} at most (metric mimo_ratelimit_wait_ms)`
    ))
  return lines.join("\n")
}

const clearLine = "\u001b[K"

/** `mimo load`: the run, the progress on stderr, the summary on stdout. */
export const run = (options: Options): Effect.Effect<void, Output.Reported> => {
  const tty = process.stderr.isTTY === true
  const write = (text: string) => Effect.sync(() => void process.stderr.write(text))
  const onProgress = (p: Progress) => tty ? write(`\r${progressLine(p)}${clearLine}`) : write(`${progressLine(p)}\n`)
  return runLoad(options, onProgress, tty ? 100 : 1000).pipe(
    Effect.tap(() => tty ? write("\n") : Effect.void),
    Effect.flatMap((summary) => Console.log(summaryText(summary))),
    Effect.scoped,
    Output.reportFailure
  )
}
