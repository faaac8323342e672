import { MimoClient, MimoTransport } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Simulator } from "@effect-mimo/simulator"
import {
  Chunk,
  Clock,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  HashMap,
  Layer,
  List,
  Logger,
  Option,
  Redacted,
  Ref,
  type Scope,
  TestClock,
  Tracer
} from "effect"

export const apiKey = "sk-test-KEY-9f8e7d6c5b4a-DO-NOT-LEAK"

/**
 * How the client sends buffered calls: `"undici"` is `NodeMimoClient.layer` (its `NodeMimoTransport`);
 * `"httpclient"` is `MimoClient.layer` over `MimoTransport.layerHttpClient` over `NodeMimoClient.httpClientLayer`.
 */
export type Wire = "undici" | "httpclient"

export const wires: ReadonlyArray<Wire> = ["undici", "httpclient"]

export const clientLayer = (wire: Wire, options: MimoClient.Options): Layer.Layer<MimoClient.MimoClient> =>
  wire === "undici"
    ? NodeMimoClient.layer(options)
    : Layer.provide(
      MimoClient.layer(options),
      Layer.provide(MimoTransport.layerHttpClient, NodeMimoClient.httpClientLayer())
    )

/** A simulator on a random loopback port and a client (over undici) pointed at it. */
export const setup = (
  wire: Wire,
  simOptions: Simulator.Options = {},
  clientOptions: Partial<MimoClient.Options> = {}
): Effect.Effect<
  {
    readonly sim: Simulator.SimulatorService
    readonly mimo: MimoClient.Service
    readonly idle: Effect.Effect<boolean>
  },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    // The simulator is a real server: it keeps real time even inside a test
    // whose own fiber runs on the TestClock.
    const sim = yield* Simulator.make({ rateLimit: { enabled: false }, ...simOptions }).pipe(
      Effect.withClock(Clock.make()),
      Effect.orDie
    )
    const context = yield* Layer.build(
      // A long per-attempt timeout (a TestClock sleep while a request is in flight), so
      // that `runTimeline` never mistakes it for a backoff; timeout tests set their own.
      clientLayer(wire, { apiKey: Redacted.make(apiKey), baseUrl: sim.url, timeout: "1 hour", ...clientOptions })
    )
    const idle = Effect.map(sim.stats, (s) => s.active === 0)
    return { sim, mimo: Context.get(context, MimoClient.MimoClient), idle }
  })

const realPause = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))

/**
 * Runs an effect that mixes real socket I/O with TestClock sleeps: when the
 * fiber is blocked on sleeps only (the pending sleeps stay the same for a
 * while and the server has no request in flight), the TestClock jumps exactly
 * to the earliest pending wake-up. The per-attempt timeout is a sleep too, so
 * while a request is in flight we wait longer before believing it hangs.
 * Returns the exit and the TestClock times (ms since start) of the jumps.
 */
export const runTimeline = <A, E>(
  effect: Effect.Effect<A, E>,
  options: {
    readonly maxSteps?: number
    /** Whether the server side is idle (default: assume it is). */
    readonly idle?: Effect.Effect<boolean>
  } = {}
): Effect.Effect<{ readonly exit: Exit.Exit<A, E>; readonly wakeups: ReadonlyArray<number> }> =>
  Effect.gen(function*() {
    const start = yield* TestClock.currentTimeMillis
    const fiber = yield* Effect.fork(effect)
    const wakeups: Array<number> = []
    const idle = options.idle ?? Effect.succeed(true)
    let last = ""
    let stableSince = Date.now()
    for (let step = 0; step < (options.maxSteps ?? 20_000); step++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return { exit: done.value, wakeups }
      const sleeps = yield* TestClock.sleeps()
      const key = Chunk.join(Chunk.map(sleeps, String), ",")
      if (key !== last) {
        last = key
        stableSince = Date.now()
      }
      const stableFor = Date.now() - stableSince
      const next = Chunk.reduce(sleeps, Number.POSITIVE_INFINITY, (a, b) => Math.min(a, b))
      const now = yield* TestClock.currentTimeMillis
      // A wake-up more than 10 minutes away is a timeout guarding a request in flight:
      // only jump to it when nothing has moved for a long while (a real hang).
      const far = next - now > 10 * 60_000
      if (
        Chunk.isNonEmpty(sleeps) && stableFor >= 25 && (far ? stableFor >= 1500 : (yield* idle) || stableFor >= 400)
      ) {
        yield* TestClock.setTime(next)
        wakeups.push(next - start)
        last = ""
      } else {
        yield* realPause(2)
      }
    }
    return { exit: yield* Fiber.interrupt(fiber), wakeups }
  })

export interface CapturedLog {
  readonly level: string
  readonly message: unknown
  readonly annotations: Record<string, unknown>
  readonly spans: ReadonlyArray<string>
}

/** A logger that records every log line (message, level, annotations, spans). */
export const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<CapturedLog>>([])
  const logger = Logger.make<unknown, void>(({ annotations, logLevel, message, spans }) => {
    const line: CapturedLog = {
      level: logLevel.label,
      message,
      annotations: Object.fromEntries(HashMap.toEntries(annotations)),
      spans: List.toArray(spans).map((s) => s.label)
    }
    Effect.runSync(Ref.update(lines, (all) => [...all, line]))
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

export interface CapturedSpan {
  readonly name: string
  readonly attributes: Map<string, unknown>
  readonly events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
  exit: Exit.Exit<unknown, unknown> | undefined
}

/** A tracer that records every span with its attributes, events and exit. */
export const captureSpans = () => {
  const spans: Array<CapturedSpan> = []
  let ids = 0
  const tracer = Tracer.make({
    span(name, parent, context, links, _startTime, kind) {
      const record: CapturedSpan = { name, attributes: new Map(), events: [], exit: undefined }
      spans.push(record)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${++ids}`,
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime: 0n },
        attributes: record.attributes,
        links: [...links],
        sampled: true,
        kind,
        end(_endTime, exit) {
          record.exit = exit
        },
        attribute(key, value) {
          record.attributes.set(key, value)
        },
        event(name, _startTime, attributes) {
          record.events.push({ name, attributes })
        },
        addLinks() {}
      }
      return span
    },
    context: (f) => f()
  })
  return { spans, tracer }
}

export const seconds = (d: Duration.DurationInput) => Duration.toSeconds(Duration.decode(d))
