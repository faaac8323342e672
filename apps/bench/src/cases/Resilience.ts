/**
 * The resilience case (issue 13): the decorators of `@effect-mimo/resilience`
 * and core's default retry quota in the situations where they used to make a
 * small problem large. Our client runs in this process (these rows measure
 * behaviour, not CPU); the simulator runs in its own process, redis-server
 * too (stopped and restarted by the case).
 *
 * @since 0.2.0
 */
import { MimoClient, type MimoError } from "@effect-mimo/core"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import { CircuitBreaker, RateLimit, RetryBudget } from "@effect-mimo/resilience"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import type * as Results from "../Results.js"
import * as Runner from "../Runner.js"

type Row = { -readonly [K in keyof Results.Row]: Results.Row[K] }

const apiKey = Redacted.make("sk-bench-0000")
const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const now = () => performance.now()
/** A full GC when the process runs with --expose-gc. */
const gc = () => {
  const collect: unknown = Reflect.get(globalThis, "gc")
  if (typeof collect === "function") collect()
}

/**
 * The sizes of the case; `quick` shrinks them.
 *
 * @since 0.2.0
 * @category parameters
 */
export const parameters = (quick: boolean) => ({
  stray: { requests: quick ? 200 : 2000, concurrency: 50, rps: 50 },
  limit: { requests: quick ? 120 : 600, concurrency: 100, rps: 50 },
  redis: { processes: 4, rps: 50, concurrency: 25, seconds: quick ? 9 : 18 },
  outage: { rate: 40, seconds: quick ? 5 : 20, after: quick ? 3 : 8 },
  breaker: { rate: 150, seconds: quick ? 8 : 50, outage: quick ? 5 : 20 }
})

/** The client against `baseUrl` (decorated by `layer`, if any); a `MimoClient.Service` living in `scope`. */
const build = (
  layer: Layer.Layer<MimoClient.MimoClient, never, MimoClient.MimoClient> | undefined,
  baseUrl: string,
  scope: Scope.Scope,
  options: Partial<MimoClient.Options> = {}
): Effect.Effect<MimoClient.Service> => {
  const client = NodeMimoClient.layer({ apiKey, baseUrl, ...options })
  const built = layer === undefined ? client : layer.pipe(Layer.provide(client))
  return Effect.map(Layer.buildWithScope(built, scope), (context) => Context.get(context, MimoClient.MimoClient))
}

const quiet = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.None)))

interface Tally {
  successes: number
  failures: number
  readonly errors: Record<string, number>
  readonly successTimes: Array<number>
}

const tally = (): Tally => ({ successes: 0, failures: 0, errors: {}, successTimes: [] })

const call = (mimo: MimoClient.Service, t: Tally) =>
  Effect.suspend(() => mimo.chat(hello)).pipe(
    Effect.matchEffect({
      onFailure: (e: MimoError.MimoError) =>
        Effect.sync(() => {
          t.failures++
          t.errors[e._tag] = (t.errors[e._tag] ?? 0) + 1
        }),
      onSuccess: () =>
        Effect.sync(() => {
          t.successes++
          t.successTimes.push(now())
        })
    })
  )

/** `n` calls at `concurrency` (closed loop). */
const closedLoop = (mimo: MimoClient.Service, n: number, concurrency: number, t: Tally) =>
  Effect.forEach(range(n), () => call(mimo, t), { concurrency, discard: true })

/** Calls started at `rate` per second for `seconds` (open loop: arrivals do not wait for answers). */
const openLoop = (mimo: MimoClient.Service, rate: number, seconds: number, t: Tally) =>
  Effect.forEach(
    range(Math.round(rate * seconds)),
    (i) => Effect.delay(call(mimo, t), Duration.millis((i * 1000) / rate)),
    { concurrency: "unbounded", discard: true }
  )

const post = async (url: string, body?: unknown) => {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? "" : JSON.stringify(body)
  })
  await r.text()
}

const base = (variant: string, t: Tally, requests: number): Row => ({
  client: "ours",
  label: variant,
  variant,
  status: "ok",
  requests,
  successes: t.successes,
  failures: t.failures,
  errors: t.errors
})

const extra = (row: Row, values: Record<string, number>): Row => ({ ...row, extra: { ...row.extra, ...values } })

// -----------------------------------------------------------------------------
// the rows
// -----------------------------------------------------------------------------

/** The limiter at 50 req/s on a server that is not rate-limited but sends 5 % 429s (and 15 % 5xx). */
const stray = async (ctx: { readonly quick: boolean }, withErrors: boolean): Promise<Row> => {
  const p = parameters(ctx.quick).stray
  const mix = [
    { fault: { _tag: "Error", code: "rate_limit_exceeded", retryAfter: { seconds: 1 } }, probability: 0.05 },
    ...(withErrors
      ? [
        { fault: { _tag: "Error", code: "service_unavailable" }, probability: 0.1 },
        { fault: { _tag: "Error", code: "internal_error" }, probability: 0.05 }
      ]
      : [])
  ]
  return Runner.withServer(
    "simulator",
    { rateLimit: { enabled: false }, faults: { seed: 20260101, mix } },
    (server) =>
      quiet(Effect.gen(function*() {
        const t = tally()
        let paused = 0
        const mimo = yield* build(
          RateLimit.layer({
            requestsPerSecond: p.rps,
            burst: p.rps,
            concurrency: p.concurrency,
            onThrottled: (e) => Effect.sync(() => void (e.pausedAll && paused++))
          }),
          server.url,
          yield* Effect.scope
        )
        const start = now()
        yield* closedLoop(mimo, p.requests, p.concurrency, t)
        const wall = (now() - start) / 1000
        const stats = yield* Effect.promise(() => Runner.simStats(server))
        const floor = p.requests / p.rps
        return extra({
          ...base(withErrors ? "5 % 429 + 15 % 5xx, not rate-limited" : "5 % 429, not rate-limited", t, p.requests),
          concurrency: p.concurrency,
          wallSeconds: round(wall, 1),
          wallRatio: round(wall / floor, 2),
          received429: stats.byStatus["429"] ?? 0,
          serverRequests: stats.requests
        }, {
          "floor s": floor,
          "attempt floor s": round((stats.requests - p.rps) / p.rps, 1),
          "429s that paused the queue": paused
        })
      }))
  )
}

/** The limiter against a real 50 req/s limit, told the truth or 4 × too much. */
const realLimit = async (ctx: { readonly quick: boolean }, factor: number): Promise<Row> => {
  const p = parameters(ctx.quick).limit
  return Runner.withServer(
    "simulator",
    { rateLimit: { requestsPerSecond: p.rps, burst: p.rps, retryAfter: "seconds" } },
    (server) =>
      quiet(Effect.gen(function*() {
        const t = tally()
        const told = p.rps * factor
        let start = now()
        const throttledAt: Array<number> = []
        const mimo = yield* build(
          RateLimit.layer({
            requestsPerSecond: told,
            burst: told,
            concurrency: p.concurrency,
            onThrottled: () => Effect.sync(() => void throttledAt.push(now() - start))
          }),
          server.url,
          yield* Effect.scope
        )
        yield* Effect.promise(() => fetch(`${server.url}/models`, { headers: { authorization: "Bearer sk-x" } }))
        start = now()
        yield* closedLoop(mimo, p.requests, p.concurrency, t)
        const wall = (now() - start) / 1000
        const stats = yield* Effect.promise(() => Runner.simStats(server))
        const floor = p.requests / p.rps
        return {
          ...base(
            factor === 1 ? "real 50/s limit, told 50/s" : `real 50/s limit, told ${told}/s (adaptive)`,
            t,
            p.requests
          ),
          concurrency: p.concurrency,
          wallSeconds: round(wall, 2),
          wallRatio: round(wall / floor, 2),
          received429: stats.byStatus["429"] ?? 0,
          serverRequests: stats.requests,
          extra: {
            "429s in the first 1 s": throttledAt.filter((x) => x < 1000).length,
            "429s after": throttledAt.filter((x) => x >= 1000).length
          }
        }
      }))
  )
}

// --- Redis outage --------------------------------------------------------------

const startRedisAt = (port: number): Promise<ChildProcess.ChildProcess> =>
  new Promise((resolve, reject) => {
    const proc = ChildProcess.spawn(
      process.env["REDIS_SERVER_PATH"] ?? "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out.slice(-300)}`)), 10_000)
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-4000)
      if (out.includes("Ready to accept connections")) {
        clearTimeout(timer)
        resolve(proc)
      }
    }
    proc.stdout.on("data", onData)
    proc.stderr.on("data", onData)
    proc.on("error", (e) => reject(e))
  })

const stopRedis = (proc: ChildProcess.ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
    proc.once("exit", () => resolve())
    proc.kill("SIGKILL")
  })

/** Whether Redis holds a key matching `pattern` (one `KEYS` over a raw connection: the bench has no Redis client). */
const hasKeys = (port: number, pattern: string): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect(port, "127.0.0.1")
    let reply = ""
    const done = (value: boolean) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(500, () => done(false))
    socket.once("error", () => done(false))
    socket.once("connect", () => socket.write(`*2\r\n$4\r\nKEYS\r\n$${pattern.length}\r\n${pattern}\r\n`))
    socket.on("data", (b) => {
      reply += b.toString()
      if (reply.includes("\r\n")) done(!reply.startsWith("*0"))
    })
  })

/** The earliest of `times` at or after `from`, as milliseconds after `from` (`undefined` if none). */
const firstAfter = (times: ReadonlyArray<number>, from: number): number | undefined => {
  const after = times.filter((x) => x >= from)
  return after.length === 0 ? undefined : Math.min(...after) - from
}

/**
 * 4 OS processes (`dist/cases/redisOutage.js`, spawned as the other cases' children are), each our client on
 * `RedisRateLimit` sharing 50 req/s through a real redis-server, which is killed a third of the way in and
 * restarted at two thirds.
 */
const redisOutage = async (ctx: { readonly quick: boolean }): Promise<Row> => {
  const p = parameters(ctx.quick).redis
  const port = await Runner.freePort()
  let redis: ChildProcess.ChildProcess
  try {
    redis = await startRedisAt(port)
  } catch (e) {
    return {
      client: "ours",
      label: "Redis outage",
      variant: "Redis outage",
      status: "not available",
      reason: e instanceof Error ? e.message : String(e)
    }
  }
  const epoch = () => performance.timeOrigin + performance.now()
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
  try {
    return await Runner.withServer(
      "simulator",
      { rateLimit: { requestsPerSecond: p.rps, burst: p.rps, retryAfter: "seconds" } },
      async (server) => {
        const prefix = `bench-outage-${process.pid}-${Date.now()}:`
        const config = {
          baseUrl: server.url,
          redisPort: port,
          prefix,
          rps: p.rps,
          concurrency: p.concurrency,
          seconds: p.seconds
        }
        const children = range(p.processes).map(() =>
          Runner.spawnCase("redisOutage", "ours", config, { timeoutMs: (p.seconds + 60) * 1000, captureOutput: true })
        )
        await Promise.all(children.map((c) => c.ready))
        const start = epoch()
        for (const c of children) c.go()
        const third = (p.seconds * 1000) / 3
        await sleep(start + third - epoch())
        const killedAt = epoch()
        await stopRedis(redis)
        // The server's own count of 429s while Redis is down: the fleet went over the account's limit only if the
        // server (which enforces it) refused requests.
        const atKill = await Runner.simStats(server)
        await sleep(start + 2 * third - epoch())
        const atRestart = await Runner.simStats(server)
        redis = await startRedisAt(port)
        const restartedAt = epoch()
        // The first bucket written in the new Redis (a cross-check of the processes' own "back to shared").
        let firstKeyAt = 0
        while (epoch() < start + p.seconds * 1000) {
          if (await hasKeys(port, `${prefix}*requests*`)) {
            firstKeyAt = epoch()
            break
          }
          await sleep(20)
        }
        const outcomes = await Promise.all(children.map((c) => c.outcome))
        const runs: Array<Results.OutageRun> = []
        for (const o of outcomes) {
          if (o.status !== "ok") return { ...base("Redis outage, 4 processes sharing 50/s", tally(), 0), ...o }
          if (o.run.kind !== "outage") {
            return {
              ...base("Redis outage, 4 processes sharing 50/s", tally(), 0),
              status: "error",
              reason: `expected an outage result, got ${o.run.kind}`
            }
          }
          runs.push(o.run)
        }
        const t = tally()
        for (const r of runs) {
          t.successes += r.successes
          t.failures += r.failures
          for (const [k, v] of Object.entries(r.errors)) t.errors[k] = (t.errors[k] ?? 0) + v
          t.successTimes.push(...r.successTimes)
        }
        const wall = (Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt))) / 1000
        const inWindow = (from: number, to: number) => t.successTimes.filter((x) => x >= from && x < to).length
        // Skip the first second after each switch: the rate while down and while shared.
        const downRate = inWindow(killedAt + 1000, restartedAt) / ((restartedAt - killedAt - 1000) / 1000)
        const sharedRate = inWindow(start + 1000, killedAt) / ((killedAt - start - 1000) / 1000)
        const afterRate = inWindow(restartedAt + 1000, start + p.seconds * 1000) /
          ((start + p.seconds * 1000 - restartedAt - 1000) / 1000)
        // Each process's own switch (its limiter's `redisUp` gauge); the fleet's is its slowest process's.
        const fallbacks = runs.map((r) => firstAfter(r.downAt, killedAt))
        const returns = runs.map((r) => firstAfter(r.upAt, restartedAt))
        const slowest = (xs: ReadonlyArray<number | undefined>) =>
          xs.some((x) => x === undefined) ? -1 : round(Math.max(...xs.map((x) => x ?? 0)), 0)
        const firstDown = firstAfter(t.successTimes, killedAt)
        const printed = children.flatMap((c) => c.printed()).filter((line) => line.trim() !== "")
        const stats = await Runner.simStats(server)
        return extra({
          ...base("Redis outage, 4 processes sharing 50/s", t, t.successes + t.failures),
          concurrency: p.concurrency * p.processes,
          wallSeconds: round(wall, 1),
          received429: stats.byStatus["429"] ?? 0,
          serverRequests: stats.requests
        }, {
          processes: runs.length,
          "req/s shared": round(sharedRate, 1),
          "req/s while Redis down": round(downRate, 1),
          "share of the limit while down": round(downRate / p.rps, 2),
          "429s while Redis down": (atRestart.byStatus["429"] ?? 0) - (atKill.byStatus["429"] ?? 0),
          "requests while Redis down": atRestart.requests - atKill.requests,
          "req/s after the restart": round(afterRate, 1),
          "fallback after the kill (ms, slowest process)": slowest(fallbacks),
          "first success after the kill (ms)": firstDown === undefined ? -1 : round(firstDown, 0),
          "back to shared after restart (ms, slowest process)": slowest(returns),
          "first bucket in the new Redis (ms)": firstKeyAt === 0 ? -1 : round(firstKeyAt - restartedAt, 0),
          "lines printed": printed.length
        })
      }
    )
  } finally {
    await stopRedis(redis!)
  }
}

/** A 20 s full 503 outage at 40 calls/s, the default client (core's retry quota), then recovery. */
const outage = async (ctx: { readonly quick: boolean }, label: string, options: Partial<MimoClient.Options>) => {
  const p = parameters(ctx.quick).outage
  return Runner.withServer("simulator", { rateLimit: { enabled: false } }, (server) =>
    quiet(Effect.gen(function*() {
      const mimo = yield* build(undefined, server.url, yield* Effect.scope, options)
      const t = tally()
      yield* Effect.promise(() =>
        post(
          `${server.origin}/_sim/script`,
          Array.from({ length: 10_000 }, () => ({ _tag: "Error", code: "service_unavailable" }))
        )
      )
      const start = now()
      const during = yield* Effect.fork(openLoop(mimo, p.rate, p.seconds, t))
      yield* Effect.sleep(Duration.seconds(p.seconds))
      const atRecovery = yield* Effect.promise(() => Runner.simStats(server))
      yield* Effect.promise(() => post(`${server.origin}/_sim/reset`))
      const recoveredAt = now()
      // After recovery: the same arrivals go on; the server sees them and what retries are left.
      const after = tally()
      yield* Effect.fork(openLoop(mimo, p.rate, p.after, after))
      yield* Effect.sleep("1 second")
      const firstSecond = yield* Effect.promise(() => Runner.simStats(server))
      yield* Effect.sleep(Duration.seconds(p.after - 1))
      yield* Effect.fiberIdWith(() => Effect.void)
      const calls = Math.round(p.rate * p.seconds)
      const total = yield* Effect.promise(() => Runner.simStats(server))
      yield* during.await.pipe(Effect.timeout("70 seconds"), Effect.ignore)
      return extra({
        ...base(label, t, calls),
        wallSeconds: round((recoveredAt - start) / 1000, 1),
        serverRequests: atRecovery.requests
      }, {
        "requests ÷ calls during the outage": round(atRecovery.requests / calls, 2),
        "req/s in the first second after recovery": firstSecond.requests,
        "req/s after recovery (mean)": round(total.requests / p.after, 1),
        "calls after recovery that failed": after.failures
      })
    })))
}

/** The breaker's defaults, with the limiter and a retry budget: the faults mix at 150 calls/s, then an outage. */
const breaker = async (ctx: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const p = parameters(ctx.quick).breaker
  const mix = [
    { fault: { _tag: "Error", code: "service_unavailable" }, probability: 0.1 },
    { fault: { _tag: "Error", code: "internal_error" }, probability: 0.05 }
  ]
  const decorators = CircuitBreaker.layer().pipe(
    Layer.provide(RetryBudget.layer()),
    Layer.provide(RateLimit.layer({ requestsPerSecond: 400, burst: 400, concurrency: 400 }))
  )
  const opened = () => Effect.map(Metric.value(CircuitBreaker.metrics.opened), (s) => s.count)
  const faults = await Runner.withServer(
    "simulator",
    { rateLimit: { enabled: false }, faults: { seed: 20260102, mix } },
    (server) =>
      quiet(Effect.gen(function*() {
        const mimo = yield* build(decorators, server.url, yield* Effect.scope)
        const openedBefore = yield* opened()
        const t = tally()
        gc()
        const heapBefore = process.memoryUsage().heapUsed
        const start = now()
        yield* openLoop(mimo, p.rate, p.seconds, t)
        const wall = (now() - start) / 1000
        gc()
        const heapAfter = process.memoryUsage().heapUsed
        const stats = yield* Effect.promise(() => Runner.simStats(server))
        return extra({
          ...base("CircuitBreaker defaults (+ RateLimit + RetryBudget), 15 % random 5xx", t, t.successes + t.failures),
          wallSeconds: round(wall, 1),
          serverRequests: stats.requests
        }, {
          "times opened": (yield* opened()) - openedBefore,
          "heap Δ MiB": round((heapAfter - heapBefore) / 2 ** 20, 1)
        })
      }))
  )
  const outageRow = await Runner.withServer(
    "simulator",
    { rateLimit: { enabled: false } },
    (server) =>
      quiet(Effect.gen(function*() {
        const mimo = yield* build(decorators, server.url, yield* Effect.scope)
        yield* Effect.promise(() =>
          post(
            `${server.origin}/_sim/script`,
            Array.from({ length: 10_000 }, () => ({ _tag: "Error", code: "service_unavailable" }))
          )
        )
        const during = tally()
        const fiber = yield* Effect.fork(openLoop(mimo, 40, p.outage, during))
        yield* Effect.sleep(Duration.seconds(p.outage))
        const atRecovery = yield* Effect.promise(() => Runner.simStats(server))
        yield* Effect.promise(() => post(`${server.origin}/_sim/reset`))
        const recoveredAt = now()
        const after = tally()
        yield* openLoop(mimo, 40, 5, after)
        yield* fiber.await.pipe(Effect.timeout("70 seconds"), Effect.ignore)
        const firstOk = after.successTimes.length > 0 ? Math.min(...after.successTimes) : Number.NaN
        return extra({
          ...base("CircuitBreaker defaults, 20 s outage then healthy", after, Math.round(40 * 5)),
          serverRequests: atRecovery.requests
        }, {
          "requests during the outage": atRecovery.requests,
          "calls during the outage": Math.round(40 * p.outage),
          "traffic back after (ms)": round(firstOk - recoveredAt, 0),
          "CircuitOpen after recovery": after.errors["CircuitOpen"] ?? 0
        })
      }))
  )
  return [faults, outageRow]
}

/**
 * Runs every row of the case.
 *
 * @since 0.2.0
 * @category cases
 */
export const resilience = async (ctx: {
  readonly quick: boolean
  readonly log: (line: string) => void
}): Promise<Results.CaseResult> => {
  const rows: Array<Row> = []
  // `BENCH_RESILIENCE_ROWS=told,real` runs only the rows whose step name contains one of the words, in any case (to measure
  // one row alone); unset, every row.
  const only = (process.env["BENCH_RESILIENCE_ROWS"] ?? "").split(",").map((w) => w.trim()).filter((w) => w !== "")
  const step = async (name: string, f: () => Promise<Row | ReadonlyArray<Row>>) => {
    if (only.length > 0 && !only.some((w) => name.toLowerCase().includes(w.toLowerCase()))) return
    ctx.log(`resilience: ${name}`)
    try {
      const r = await f()
      rows.push(...(Array.isArray(r) ? r : [r as Row]))
    } catch (e) {
      rows.push({
        client: "ours",
        label: name,
        variant: name,
        status: "error",
        reason: e instanceof Error ? e.message : String(e)
      })
    }
  }
  await step("stray 429s", () => stray(ctx, false))
  await step("stray 429s and 5xx", () => stray(ctx, true))
  await step("real limit", () => realLimit(ctx, 1))
  await step("told 4 ×", () => realLimit(ctx, 4))
  await step("Redis outage", () => redisOutage(ctx))
  await step("503 outage (default client)", () => outage(ctx, "20 s 503 outage at 40 calls/s, default client", {}))
  await step(
    "503 outage (no quota)",
    () => outage(ctx, "the same without the retry quota", { retryQuota: false })
  )
  await step("circuit breaker", () => breaker(ctx))
  const p = parameters(ctx.quick)
  return {
    name: "resilience",
    title: "Resilience: the decorators and the retry quota in trouble (issue 13)",
    server: "simulator (own process, fresh per row), with seeded faults, a token bucket, or a scripted 100 % 503 " +
      "outage; redis-server (own process, killed and restarted by the case); our client in the bench process (4 " +
      "child processes for the Redis outage)",
    parameters: {
      "stray: calls": p.stray.requests,
      "stray: limit (req/s)": p.stray.rps,
      "limit: calls": p.limit.requests,
      "outage: calls/s": p.outage.rate,
      "outage: s": p.outage.seconds,
      "breaker: calls/s": p.breaker.rate,
      "breaker: s": p.breaker.seconds
    },
    rows,
    notes: [
      "The default retry policy everywhere (5 attempts, 1 s × 2ⁿ + U[0, 1 s), Retry-After honoured).",
      "Stray 429s: the simulator is not rate-limited; 5 % of attempts get 429 with Retry-After: 1 (and 10 % 503 " +
      "+ 5 % 500 in the second row). The limiter's ceiling is a hard bound on attempts, retries included, so the " +
      "attempt floor ((requests sent − burst) ÷ rate) is shown beside the 40 s call floor.",
      "Redis outage: 4 OS processes (dist/cases/redisOutage.js, spawned as the other cases' children), each our " +
      "client on RedisRateLimit (50 req/s shared, burst 50, concurrency 25, a closed loop) against a simulator " +
      "limited to 50 req/s and a real redis-server, which the case kills (SIGKILL) after a third of the run and " +
      "restarts on the same port after two thirds. \"fallback\" and \"back to shared\" are each process's own " +
      "switch (its limiter's mimo_ratelimit_redis_up gauge, polled every 5 ms), the slowest of the 4; the rates " +
      "skip the first second after each switch; \"429s while Redis down\" is the simulator's count between the kill " +
      "and the restart. \"lines printed\" counts every line the 4 processes wrote to " +
      "stdout or stderr, with logging as a user has it by default.",
      "503 outage: calls start at 40/s (open loop) for the outage, the simulator answers every request 503 " +
      "(a script), then it is reset (healthy) and calls go on at 40/s; requests ÷ calls counts what reached the " +
      "server during the outage.",
      "Circuit breaker: CircuitBreaker.layer() with its defaults, over RetryBudget.layer() and a 400/s limiter " +
      "(RateLimit + RetryBudget + CircuitBreaker together); heap Δ is after a GC when run with --expose-gc."
    ]
  }
}

/**
 * The table's columns.
 *
 * @since 0.2.0
 * @category report
 */
export const columns: ReadonlyArray<readonly [string, (row: Results.Row) => string]> = [
  ["situation", (r) => r.variant],
  ["successes", (r) => String(r.successes ?? "–")],
  ["failures", (r) => String(r.failures ?? "–")],
  ["wall s", (r) => String(r.wallSeconds ?? "–")],
  ["wall ÷ limit", (r) => String(r.wallRatio ?? "–")],
  ["429s", (r) => String(r.received429 ?? "–")],
  ["requests sent", (r) => String(r.serverRequests ?? "–")],
  ["failed with", (r) => Object.entries(r.errors ?? {}).map(([k, v]) => `${k} × ${v}`).join(", ")],
  ["more", (r) => Object.entries(r.extra ?? {}).map(([k, v]) => `${k}: ${v}`).join("; ")]
]

/**
 * The targets for this case.
 *
 * @since 0.2.0
 * @category report
 */
export const targets = (cases: ReadonlyArray<Results.CaseResult>): Array<Results.Target> => {
  const rows = cases.find((c) => c.name === "resilience")?.rows ?? []
  const out: Array<Results.Target> = []
  const row = (prefix: string) => rows.find((r) => r.variant.startsWith(prefix))
  const check = (
    prefix: string,
    target: string,
    measure: (r: Results.Row, x: Readonly<Record<string, number>>) => readonly [string, boolean]
  ) => {
    const r = row(prefix)
    if (r === undefined || r.status !== "ok") {
      out.push({ case: "resilience", target, measured: r === undefined ? "not run" : `${r.status}`, pass: "n/a" })
      return
    }
    const [measured, pass] = measure(r, r.extra ?? {})
    out.push({ case: "resilience", target, measured, pass })
  }
  for (const prefix of ["5 % 429, not", "5 % 429 + 15 % 5xx"]) {
    check(prefix, `limiter 50/s, ${prefix}…: 0 failures, wall ≤ 1.25 × 40 s`, (r, x) => [
      `${r.failures} failed, ${r.wallSeconds} s (${r.wallRatio} ×; attempt floor ${x["attempt floor s"]} s), ` +
      `${x["429s that paused the queue"]} pauses`,
      r.failures === 0 && (r.wallRatio ?? 99) <= 1.25
    ])
  }
  check("real 50/s limit, told 50", "real 50/s limit: 0 failed, ≤ 1.05 × the 12 s floor, ≤ 30 429s", (r) => [
    `${r.failures} failed, ${r.wallRatio} ×, ${r.received429} 429s`,
    r.failures === 0 && (r.wallRatio ?? 99) <= 1.05 && (r.received429 ?? 999) <= 30
  ])
  check("real 50/s limit, told 200", "told 4 × the limit: 0 failed, ≤ 1.05 ×, ≤ 60 429s", (r) => [
    `${r.failures} failed, ${r.wallRatio} ×, ${r.received429} 429s`,
    r.failures === 0 && (r.wallRatio ?? 99) <= 1.05 && (r.received429 ?? 999) <= 60
  ])
  check(
    "Redis outage",
    "4 processes on RedisRateLimit, Redis killed: fallback within 1 s, ≥ 80 % of the 50/s limit (and within it: no " +
      "429 while down) while down, shared within 1 s of its return, nothing printed, 0 failed",
    (r, x) => {
      const fallback = x["fallback after the kill (ms, slowest process)"] ?? -1
      const back = x["back to shared after restart (ms, slowest process)"] ?? -1
      const share = x["share of the limit while down"] ?? 0
      return [
        `fallback ${fallback} ms after the kill, ${x["req/s while Redis down"]} req/s down (${share} of 50; ` +
        `${x["429s while Redis down"]} 429s of ${x["requests while Redis down"]} requests), shared again ${back} ms ` +
        `after the restart, ${x["lines printed"]} lines printed, ${r.failures} failed (${x["processes"]} processes)`,
        // Within the limit: the server, which enforces it, refused nothing while Redis was down; the success rate
        // (completions are timed, not admissions) within 5 % of it.
        fallback >= 0 && fallback <= 1000 && share >= 0.8 && share <= 1.05 && x["429s while Redis down"] === 0 &&
        back >= 0 && back <= 1000 && x["lines printed"] === 0 && r.failures === 0
      ]
    }
  )
  check("20 s 503 outage", "20 s 503 outage at 40 calls/s, default client: ≤ 1.6 × requests of calls", (_, x) => [
    `${x["requests ÷ calls during the outage"]} ×; ${x["req/s in the first second after recovery"]} req/s in the ` +
    "first second after recovery",
    (x["requests ÷ calls during the outage"] ?? 99) <= 1.6
  ])
  check("CircuitBreaker defaults (+", "CircuitBreaker defaults never open under the faults mix", (r, x) => [
    `opened ${x["times opened"]} times; ${
      r.errors?.["CircuitOpen"] ?? 0
    } CircuitOpen; ${r.failures} failed of ${r.requests}; heap Δ ${x["heap Δ MiB"]} MiB`,
    x["times opened"] === 0 && (r.errors?.["CircuitOpen"] ?? 0) === 0
  ])
  check("CircuitBreaker defaults, 20 s", "after a 20 s outage, traffic back within 2 s", (_, x) => [
    `traffic back ${x["traffic back after (ms)"]} ms after recovery; ${
      x["CircuitOpen after recovery"]
    } CircuitOpen after; ${x["requests during the outage"]} requests for ${x["calls during the outage"]} calls`,
    (x["traffic back after (ms)"] ?? 1e9) <= 2000
  ])
  return out
}
