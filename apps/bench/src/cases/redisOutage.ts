/**
 * One process of the resilience case's Redis outage row (issue 13: "4
 * processes on `RedisRateLimit`, Redis killed mid-run"): our client on
 * `RedisRateLimit` (the account's limit, shared through the given
 * redis-server), calls in a closed loop for `seconds`, started by the
 * runner's `go` together with the other processes. The runner stops and
 * restarts redis-server meanwhile.
 *
 * It measures, on the epoch clock (`performance.timeOrigin + performance.now()`,
 * comparable across processes): each success, and each switch of its limiter
 * to the in-process fallback and back (`RedisRateLimit.metrics.redisUp`,
 * polled every 5 ms). Logging is left as a user has it by default (nothing
 * is silenced here): whatever the client prints counts in the row.
 *
 * Usage: `node dist/cases/redisOutage.js ours '{"baseUrl":"…/v1","redisPort":6379,"prefix":"p:",…}'`
 *
 * @since 0.2.0
 */
import { MimoClient, type MimoError } from "@effect-mimo/core"
import * as NodeMimoClient from "@effect-mimo/platform-node/NodeMimoClient"
import * as RedisRateLimit from "@effect-mimo/ratelimit-redis/RedisRateLimit"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as child from "../internal/child.js"
import type * as Results from "../Results.js"

const Config = Schema.Struct({
  baseUrl: Schema.String,
  redisPort: Schema.Number,
  prefix: Schema.String,
  rps: Schema.Number,
  concurrency: Schema.Number,
  seconds: Schema.Number
})

const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
const epoch = () => performance.timeOrigin + performance.now()

child.mainOwn(Config, (c, ready) =>
  Effect.runPromise(
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const limited = RedisRateLimit.layer({
        redis: { host: "127.0.0.1", port: c.redisPort },
        redisPrefix: c.prefix,
        requestsPerSecond: c.rps,
        burst: c.rps,
        concurrency: c.concurrency
      }).pipe(Layer.provide(NodeMimoClient.layer({ apiKey: Redacted.make("sk-bench-0000"), baseUrl: c.baseUrl })))
      const mimo = Context.get(yield* Layer.buildWithScope(limited, scope), MimoClient.MimoClient)
      // Let the membership heartbeats run once (each process learns the fleet's size), then wait for `go`.
      yield* Effect.sleep("1500 millis")
      yield* Effect.promise(ready)

      const downAt: Array<number> = []
      const upAt: Array<number> = []
      let up = (yield* Metric.value(RedisRateLimit.metrics.redisUp)).value === 1
      yield* Effect.forkIn(
        Effect.repeat(
          Effect.map(Metric.value(RedisRateLimit.metrics.redisUp), (state) => {
            const now = state.value === 1
            if (now !== up) (now ? upAt : downAt).push(epoch())
            up = now
          }),
          Schedule.spaced(Duration.millis(5))
        ),
        scope
      )

      const successTimes: Array<number> = []
      const errors: Record<string, number> = {}
      let failures = 0
      const startedAt = epoch()
      const stopAt = startedAt + c.seconds * 1000
      const call = Effect.suspend(() => mimo.chat(hello)).pipe(
        Effect.matchEffect({
          onFailure: (e: MimoError.MimoError) =>
            Effect.sync(() => {
              failures++
              errors[e._tag] = (errors[e._tag] ?? 0) + 1
            }),
          onSuccess: () => Effect.sync(() => void successTimes.push(epoch()))
        })
      )
      // `concurrency` workers, each calling again as soon as its call ends, until the time is up.
      yield* Effect.forEach(
        Array.from({ length: c.concurrency }),
        () => Effect.whileLoop({ while: () => epoch() < stopAt, body: () => call, step: () => {} }),
        { concurrency: "unbounded", discard: true }
      )
      const run: Results.OutageRun = {
        kind: "outage",
        successes: successTimes.length,
        failures,
        errors,
        startedAt,
        endedAt: epoch(),
        successTimes,
        downAt,
        upAt
      }
      return run
    }).pipe(Effect.scoped)
  ))
