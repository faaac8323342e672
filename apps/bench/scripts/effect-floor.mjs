#!/usr/bin/env node
/**
 * What Effect itself costs around raw undici, for any `effect` version: the data behind issue 14's note that the
 * calls and stream targets lie beyond Effect 3's own floor (apps/bench/analysis.md, "the floor of an Effect
 * client"). Not part of `pnpm bench` or of the tests: the workspace holds one `effect` (3.x), and this compares
 * versions.
 *
 * Each variant against the bench's mock (`dist/servers/mock.js`, own process), raw undici and the same requests
 * in Effect, one after the other, 3 rounds, each run in a fresh process after a warm-up:
 * - calls: `undici.request` + `JSON.parse` in a promise pool, against `Effect.forEach(…, { concurrency })` of
 *   `Effect.promise` of the same function;
 * - streams: the bench's minimal `data:` loop, against one `Stream` per call (`Stream.fromAsyncIterable` of the
 *   body, each piece's parsed events one element) folded by `Stream.runFold`.
 *
 * Usage (after `pnpm build`; the effect version under test installed anywhere, e.g. `npm i effect@4.1.0` in
 * /tmp/e4):
 *
 *   node apps/bench/scripts/effect-floor.mjs                                            # the workspace's effect
 *   node apps/bench/scripts/effect-floor.mjs /tmp/e4/node_modules/effect/dist/index.js  # another one
 *
 * Written by hand (a scratch harness kept for the record): the bench's own cases run clients of this workspace.
 */
import { execFileSync } from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const benchDir = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
/** A module of the built bench (`pnpm build` first): its mock server, its SSE reader. */
const fromBench = (file) => import(pathToFileURL(Path.join(benchDir, "dist", file)).href)

const variants = [
  { name: "calls at concurrency 64", kind: "calls", chunks: 2, units: 20000, warmup: 4000, concurrency: 64 },
  { name: "1 stream × 20000 chunks", kind: "streams", chunks: 20000, units: 20, warmup: 5, concurrency: 1 },
  { name: "50 streams × 2000 chunks", kind: "streams", chunks: 2000, units: 300, warmup: 50, concurrency: 50 }
]

const child = async ([, effectEntry, mode, baseUrl, units, warmup, concurrency]) => {
  const { Effect, Stream } = await import(effectEntry === "-" ? "effect" : pathToFileURL(effectEntry).href)
  const Undici = await import("undici")
  const SseReader = await fromBench("internal/sseReader.js")
  const url = `${baseUrl}/chat/completions`
  const headers = { authorization: "Bearer sk-bench-0000", "content-type": "application/json" }
  const body = (stream) =>
    JSON.stringify({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Say ok." }], stream })
  const call = async () => {
    const r = await Undici.request(url, { method: "POST", headers, body: body(false) })
    JSON.parse(await r.body.text())
  }
  const open = async () => {
    const r = await Undici.request(url, { method: "POST", headers, body: body(true) })
    if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`)
    return r.body
  }
  const rawStream = async () => {
    const read = SseReader.make()
    let n = 0
    for await (const bytes of await open()) n += read(bytes, undefined)
    return n
  }
  /** Each piece's parsed events, as one array. */
  const events = () => {
    const read = SseReader.make()
    return (bytes) => {
      const out = []
      read(bytes, out)
      return out
    }
  }
  const effectStream = () =>
    Stream.unwrap(Effect.map(Effect.promise(open), (b) => Stream.map(Stream.fromAsyncIterable(b, (e) => e), events())))
  // Effect 4's runFold takes the initial value as a function.
  const zero = Effect.callback !== undefined ? () => 0 : 0
  const pool = async (n, c, f) => {
    let i = 0
    let total = 0
    await Promise.all(Array.from({ length: c }, async () => {
      while (i++ < n) {
        const v = await f()
        total += v
      }
    }))
    return total
  }
  const run = {
    "calls:raw": (n) => pool(n, +concurrency, async () => (await call(), 1)),
    "calls:effect": (n) =>
      Effect.runPromise(Effect.forEach(Array.from({ length: n }), () => Effect.promise(call), {
        concurrency: +concurrency,
        discard: true
      })).then(() => n),
    "streams:raw": (n) => pool(n, +concurrency, rawStream),
    "streams:effect": (n) =>
      Effect.runPromise(
        Effect.forEach(Array.from({ length: n }), () => Stream.runFold(effectStream(), zero, (a, xs) => a + xs.length), {
          concurrency: +concurrency
        })
      ).then((xs) => xs.reduce((a, b) => a + b, 0))
  }[mode]
  await run(+warmup)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const done = await run(+units)
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  process.stdout.write(JSON.stringify({ rate: done / seconds, cpu: (cpu.user + cpu.system) / done }) + "\n")
  process.exit(0)
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const main = async (effectEntry) => {
  const version = effectEntry === "-"
    ? "the workspace's"
    : JSON.parse(
      execFileSync(process.execPath, [
        "-p",
        `JSON.stringify(require(${JSON.stringify(Path.resolve(Path.dirname(effectEntry), "../package.json"))}).version)`
      ]).toString()
    )
  const Runner = await fromBench("Runner.js")
  console.log(`effect ${version}; rounds 3; ratios are the medians of each round's effect ÷ raw`)
  for (const v of variants) {
    const rounds = await Runner.withServer("mock", { chunks: v.chunks }, async (mock) => {
      const rounds = []
      for (let r = 0; r < 3; r++) {
        const one = (side) =>
          JSON.parse(execFileSync(process.execPath, [
            fileURLToPath(import.meta.url),
            "--child",
            effectEntry,
            `${v.kind}:${side}`,
            mock.url,
            String(v.units),
            String(v.warmup),
            String(v.concurrency)
          ], { cwd: benchDir }).toString())
        const raw = one("raw")
        const effect = one("effect")
        rounds.push({ raw, effect })
      }
      return rounds
    })
    const rate = median(rounds.map((r) => r.effect.rate / r.raw.rate))
    const cpu = median(rounds.map((r) => r.effect.cpu / r.raw.cpu))
    const unit = v.kind === "calls" ? "call" : "chunk"
    console.log(
      `${v.name}: Effect ${rate.toFixed(2)} × raw undici's rate, ${cpu.toFixed(2)} × its CPU per ${unit} ` +
        `(raw ${median(rounds.map((r) => r.raw.cpu)).toFixed(2)} µs, Effect ${
          median(rounds.map((r) => r.effect.cpu)).toFixed(2)
        } µs)`
    )
  }
}

if (process.argv[2] === "--child") await child(process.argv.slice(2))
else await main(process.argv[2] ?? "-")
