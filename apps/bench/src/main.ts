/**
 * `pnpm bench`: every case, for every client, in one run; writes
 * `BENCHMARKS.md` (repository root) and `apps/bench/results.json`.
 *
 * Options (after `pnpm bench --`):
 * - `--quick`: small counts, a smoke run (written to a temporary folder unless `--out`);
 * - `--only overhead,streaming`: some cases (overhead, ratelimit, faults, streaming, shared, memory, wire, startup,
 *   resilience, steps);
 * - `--clients undici,ours`: some clients (undici, openai, openai-r4, ours, ours+limiter, ours+redis);
 * - `--out <dir>`: write `results.json` and `BENCHMARKS.md` there;
 * - `--no-profile`: skip the CPU profile of our client;
 * - `--render`: only write `BENCHMARKS.md` again from `results.json` (and `apps/bench/analysis.md`), no run.
 *
 * `BENCH_RESILIENCE_ROWS=told,5xx` (environment) runs only the resilience rows whose step name contains one of
 * the words, in any case (stray, 5xx, real, told, redis, 503, quota, breaker): one row measured alone, with `--out`.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Cases from "./Cases.js"
import * as Resilience from "./cases/Resilience.js"
import * as Startup from "./cases/Startup.js"
import * as Steps from "./cases/Steps.js"
import * as Wire from "./cases/Wire.js"
import * as Clients from "./Clients.js"
import * as Machine from "./Machine.js"
import * as Report from "./Report.js"
import * as Results from "./Results.js"

const args = process.argv.slice(2).filter((a) => a !== "--")
const { values } = parseArgs({
  args,
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    clients: { type: "string" },
    out: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    render: { type: "boolean", default: false }
  }
})

const list = <A extends string>(
  text: string | undefined,
  all: ReadonlyArray<A>,
  is: (s: string) => s is A,
  what: string
): ReadonlyArray<A> => {
  if (text === undefined) return all
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  const bad = items.filter((s) => !is(s))
  if (bad.length > 0) {
    process.stderr.write(`unknown ${what}: ${bad.join(", ")} (known: ${all.join(", ")})\n`)
    process.exit(2)
  }
  return items.filter(is)
}

const isCase = (s: string): s is Cases.Name => Cases.names.some((n) => n === s)

const main = async () => {
  const quick = values.quick
  const only = list(values.only, Cases.names, isCase, "case")
  const clients = list(values.clients, Clients.ids, Clients.isId, "client")
  const benchDir = fileURLToPath(new URL("..", import.meta.url))
  const repoRoot = Path.resolve(benchDir, "../..")
  const out = values.out !== undefined
    ? Path.resolve(values.out)
    : quick
    ? Fs.mkdtempSync(Path.join(Os.tmpdir(), "mimo-bench-quick-"))
    : undefined
  const jsonPath = out !== undefined ? Path.join(out, "results.json") : Path.join(benchDir, "results.json")
  const mdPath = out !== undefined ? Path.join(out, "BENCHMARKS.md") : Path.join(repoRoot, "BENCHMARKS.md")
  const analysisPath = Path.join(benchDir, "analysis.md")
  const readAnalysis = (quick: boolean) =>
    !quick && Fs.existsSync(analysisPath) ? Fs.readFileSync(analysisPath, "utf8") : undefined
  if (values.render) {
    const results = Schema.decodeUnknownSync(Schema.parseJson(Results.Results))(Fs.readFileSync(jsonPath, "utf8"))
    Fs.writeFileSync(mdPath, Report.markdown(results, readAnalysis(results.quick)))
    process.stdout.write(`wrote ${mdPath} from ${jsonPath}\n`)
    return
  }
  const started = performance.now()
  const log = (line: string) =>
    process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`)

  const ctx: Cases.Context = {
    quick,
    parameters: Cases.parameters(quick),
    clients,
    profile: !values["no-profile"],
    log
  }
  const cases: Array<Results.CaseResult> = []
  let profile: Cases.ProfileResult | undefined
  const profiles: Array<Wire.ProfileResult> = []
  for (const name of only) {
    switch (name) {
      case "overhead": {
        const r = await Cases.overhead(ctx)
        cases.push(r.result)
        profile = r.profile
        break
      }
      case "ratelimit":
        cases.push(await Cases.ratelimit(ctx))
        break
      case "faults":
        cases.push(await Cases.faults(ctx))
        break
      case "streaming":
        cases.push(await Cases.streaming(ctx))
        break
      case "shared":
        cases.push(await Cases.shared(ctx))
        break
      case "memory":
        cases.push(await Cases.memory(ctx))
        break
      case "wire": {
        const r = await Wire.run(ctx)
        cases.push(r.result)
        profiles.push(...r.profiles)
        break
      }
      case "startup":
        cases.push(await Startup.run(ctx))
        break
      case "resilience":
        cases.push(await Resilience.resilience(ctx))
        break
      case "steps":
        cases.push(await Steps.run(ctx))
        break
    }
  }

  const results: Results.Results = {
    generatedAt: new Date().toISOString(),
    command: `pnpm bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`,
    quick,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine: Machine.machine(),
    versions: Machine.versions(),
    cases,
    targets: Report.targets(cases),
    ...(profile !== undefined ? { profile } : {}),
    ...(profiles.length > 0 ? { profiles } : {})
  }
  // Encode through the Schema: what is written is what the test decodes.
  const json = Schema.encodeSync(Results.Results)(results)
  Fs.mkdirSync(Path.dirname(jsonPath), { recursive: true })
  Fs.writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`)
  Fs.writeFileSync(mdPath, Report.markdown(results, readAnalysis(quick)))
  log(`wrote ${jsonPath}`)
  log(`wrote ${mdPath}`)
  for (const t of results.targets) {
    log(`${t.pass === "n/a" ? "n/a " : t.pass ? "pass" : "MISS"}  ${t.case}: ${t.target} — ${t.measured}`)
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(1)
})
