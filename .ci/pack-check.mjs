#!/usr/bin/env node
// The packed-tarball check: what `npm install @effect-mimo/...` gives a user, tried as a user would.
//
// For every public package (each packages/*/package.json without "private": true, so a package added
// later is checked without touching this file) it
//   1. packs the package with `pnpm pack` (the manifest pnpm publishes: workspace: ranges rewritten,
//      .pnpmfile.cjs's beforePacking hook applied) and reads the tarball: the fields npm shows
//      (repository with directory, homepage, bugs, keywords, engines, publishConfig), `./package.json`
//      exported, LICENSE and README inside, no .tsbuildinfo, no devDependencies/scripts, no dependency
//      on a private workspace package, Effect's packages and ioredis only as peerDependencies with ranges,
//      a README that starts with the npm install line (the package and all its peers) and whose complete
//      examples import only the package, its dependencies and its peers;
//   2. runs publint (strict) and @arethetypeswrong/cli --profile esm-only on each tarball (every module
//      of `dist/` as an entrypoint);
//   3. installs all tarballs with npm into fresh projects outside the workspace (under the OS temp dir),
//      once with every peer at the lowest version its range allows, once at the highest, and once with
//      `effect` one patch below the workspace's (other peers highest); in each: `npm ls effect` and one
//      copy on disk of every peer, strict `tsc` (nodenext) over a program that imports every package and
//      every module, the README examples, and a program that runs against the simulator on 127.0.0.1
//      (a 429 caught with `catchTag("RateLimitExceeded")`, a chat, a stream); then node runs it;
//   4. asks npm to install the tarballs with the newest `effect` major (outside our range): it must stop
//      with ERESOLVE naming `effect`, not install quietly.
// Any problem is printed and the script exits 1 after all checks ran (a failed pack or install stops it
// at once). Run it with `pnpm pack-check` (builds first), or `node .ci/pack-check.mjs` after a build;
// PACK_CHECK_KEEP=1 keeps the temp dir.
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const started = Date.now()
const work = mkdtempSync(join(tmpdir(), "mimo-pack-check-"))
const problems = []
const timings = []

process.on("uncaughtException", (error) => {
  console.log(`\npack-check: FAILED: ${error?.stack ?? error}`)
  finish(1)
})
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`
const log = (line) => console.log(line)
const problem = (where, what) => {
  problems.push(`${where}: ${what}`)
  console.log(`  FAIL ${where}: ${what}`)
}
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"))

// npm and node run as in a user's shell: without the npm_config_* / npm_package_* variables that
// `pnpm pack-check` (a pnpm script) exports, which npm would read as its own settings.
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(config|package|lifecycle)_/i.test(k) && k !== "INIT_CWD")
)
/** Runs a command; returns { status, stdout, out } (out: stdout and stderr together). */
const run = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, {
    cwd: options.cwd ?? root,
    encoding: "utf8",
    timeout: options.timeout ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...cleanEnv, FORCE_COLOR: "0", NO_COLOR: "1", ...options.env }
  })
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`
  return { status: r.error ? -1 : r.status, stdout: r.stdout ?? "", out: r.error ? `${r.error.message}\n${out}` : out }
}
/** Runs a command that must succeed, or stops the whole check. */
const must = (what, cmd, args, options) => {
  const r = run(cmd, args, options)
  if (r.status !== 0) {
    console.log(r.out)
    fatal(`${what} failed (${cmd} ${args.join(" ")}, exit ${r.status})`)
  }
  return options?.stdoutOnly ? r.stdout : r.out
}
const fatal = (message) => {
  console.log(`\npack-check: FAILED: ${message}`)
  finish(1)
}
const finish = (code) => {
  if (process.env.PACK_CHECK_KEEP === "1") console.log(`(kept ${work})`)
  else rmSync(work, { recursive: true, force: true })
  process.exit(code)
}
const timed = (label, f) => {
  const t = Date.now()
  const result = f()
  timings.push([label, Date.now() - t])
  return result
}

// ---------------------------------------------------------------- the packages
const rootManifest = readJson(join(root, "package.json"))
const repositoryUrl = rootManifest.repository?.url
const engines = rootManifest.engines?.node
const workspace = readdirSync(join(root, "packages"))
  .filter((dir) => existsSync(join(root, "packages", dir, "package.json")))
  .map((dir) => ({ dir, manifest: readJson(join(root, "packages", dir, "package.json")) }))
const privateNames = new Set(workspace.filter((p) => p.manifest.private).map((p) => p.manifest.name))
const packages = workspace.filter((p) => !p.manifest.private).sort((a, b) => a.dir.localeCompare(b.dir))
const ourNames = new Set(packages.map((p) => p.manifest.name))
// Packages a user must share one copy of with us: declared as peers, never as dependencies.
const mustBePeer = (name) => name === "effect" || name.startsWith("@effect/") || name === "ioredis"
if (packages.length === 0) fatal("no public package under packages/")
log(`pack-check: ${packages.length} public packages: ${packages.map((p) => p.manifest.name).join(", ")}`)
log(`work dir: ${work}`)

// ---------------------------------------------------------------- 1. pack and read
const tarballs = join(work, "tarballs")
mkdirSync(tarballs)
timed("pack", () => {
  for (const p of packages) {
    const cwd = join(root, "packages", p.dir)
    if (!existsSync(join(cwd, "dist", "index.js"))) fatal(`${p.manifest.name} is not built (run pnpm build first)`)
    const out = must(`pnpm pack ${p.manifest.name}`, "pnpm", ["pack", "--pack-destination", tarballs], { cwd })
    const tgz = out.split("\n").map((l) => l.trim()).find((l) => l.endsWith(".tgz"))
    if (!tgz || !existsSync(tgz)) fatal(`pnpm pack ${p.manifest.name}: no tarball in its output`)
    p.tgz = tgz
    p.unpacked = join(work, "unpacked", p.dir)
    mkdirSync(p.unpacked, { recursive: true })
    must("tar", "tar", ["-xzf", tgz, "-C", p.unpacked])
    p.files = must("tar", "tar", ["-tzf", tgz]).split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""))
    p.packed = readJson(join(p.unpacked, "package", "package.json"))
  }
})

const sectionNames = ["dependencies", "peerDependencies", "optionalDependencies"]
const peersOf = (p) => p.packed.peerDependencies ?? {}
// Everything a user installs next to a package: its peers, and the peers of our packages among them.
const requiredWith = (p, seen = new Set()) => {
  for (const name of Object.keys(peersOf(p))) {
    if (seen.has(name)) continue
    seen.add(name)
    const ours = packages.find((q) => q.manifest.name === name)
    if (ours) requiredWith(ours, seen)
  }
  return seen
}
const importedPackage = (specifier) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]
const readmeExamples = (readme) =>
  [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => /^import /.test(code))

log("\n== manifests, files, READMEs")
for (const p of packages) {
  const m = p.packed
  const where = m.name
  const expectDir = `packages/${p.dir}`
  if (m.license !== "MIT") problem(where, `license is ${m.license}, not MIT`)
  if (m.type !== "module") problem(where, `type is not "module"`)
  if (m.repository?.url !== repositoryUrl || m.repository?.directory !== expectDir) {
    problem(where, `repository must be { url: ${repositoryUrl}, directory: ${expectDir} }`)
  }
  if (typeof m.homepage !== "string" || !m.homepage.startsWith("https://")) problem(where, "no homepage")
  if (typeof m.bugs?.url !== "string") problem(where, "no bugs.url")
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) problem(where, "no keywords")
  if (m.engines?.node !== engines) problem(where, `engines.node is ${m.engines?.node}, the workspace's is ${engines}`)
  if (m.publishConfig?.access !== "public" || m.publishConfig?.provenance !== true) {
    problem(where, "publishConfig must be { access: public, provenance: true }")
  }
  if (m.exports?.["./package.json"] !== "./package.json") problem(where, `"./package.json" is not exported`)
  if (m.devDependencies) problem(where, "devDependencies left in the packed manifest")
  if (m.scripts) problem(where, "scripts left in the packed manifest")
  for (const section of sectionNames) {
    for (const [name, range] of Object.entries(m[section] ?? {})) {
      if (String(range).startsWith("workspace:")) problem(where, `${section}.${name} is ${range}`)
      if (privateNames.has(name)) problem(where, `${section} names the private package ${name}`)
      if (section !== "peerDependencies" && (mustBePeer(name) || ourNames.has(name))) {
        problem(where, `${name} is in ${section}: it must be a peerDependency (one copy per app)`)
      }
    }
  }
  for (const [name, range] of Object.entries(peersOf(p))) {
    if (!/^\^\d/.test(range)) problem(where, `peer ${name}@${range} is not a caret range`)
  }
  // The API reference: every public package takes part in `pnpm run docs` (see scripts/docgen.sh).
  if (!existsSync(join(root, "packages", p.dir, "docgen.json")) || !p.manifest.scripts?.docs) {
    problem(where, "no docgen.json or no \"docs\" script: copy them from packages/core")
  }
  if (!p.files.includes("LICENSE")) problem(where, "no LICENSE in the tarball")
  if (!p.files.includes("README.md")) problem(where, "no README.md in the tarball")
  for (const f of p.files.filter((f) => f.endsWith(".tsbuildinfo"))) problem(where, `${f} is in the tarball`)

  const readme = existsSync(join(p.unpacked, "package", "README.md"))
    ? readFileSync(join(p.unpacked, "package", "README.md"), "utf8")
    : ""
  const firstBlock = /```(\w*)\n([\s\S]*?)```/.exec(readme)
  const install = firstBlock && firstBlock[2].split("\n").find((l) => l.startsWith("npm install "))
  if (!install) problem(where, "README does not start with an `npm install` block")
  else {
    const words = new Set(install.split(/\s+/))
    for (const name of [m.name, ...requiredWith(p)]) {
      if (!words.has(name)) problem(where, `README's install line does not install ${name}`)
    }
  }
  for (const link of readme.matchAll(/\]\((?!https?:|#|mailto:)([^)]+)\)/g)) {
    problem(where, `README link ${link[1]} is relative (it breaks on the npm page)`)
  }
  // An example may import the package, what it declares, and what the README tells the reader to install.
  const installed = [...readme.matchAll(/^npm install (.+)$/gm)].flatMap((l) => l[1].split(/\s+/))
  const declared = new Set([m.name, ...sectionNames.flatMap((s) => Object.keys(m[s] ?? {})), ...installed])
  p.examples = readmeExamples(readme)
  p.examples.forEach((code, i) => {
    for (const spec of code.matchAll(/^import[^"]*"([^"]+)"/gm)) {
      const name = importedPackage(spec[1])
      if (!name.startsWith("node:") && !declared.has(name)) {
        problem(where, `README example ${i + 1} imports ${spec[1]}: neither declared by ${m.name} nor installed by the README`)
      }
    }
  })
  log(`  ${m.name}: ${p.files.length} files, peers ${JSON.stringify(peersOf(p))}, ${p.examples.length} README examples`)
}

// ---------------------------------------------------------------- 2. publint, attw
log("\n== publint, @arethetypeswrong/cli --profile esm-only")
const bin = (name) => join(root, "node_modules", ".bin", name)
timed("publint + attw", () => {
  for (const p of packages) {
    const lint = run(bin("publint"), ["run", p.tgz, "--strict", "--level", "suggestion"])
    if (lint.status !== 0 || !/No issues? found|All good!/i.test(lint.out)) {
      problem(p.manifest.name, `publint:\n${lint.out.trim()}`)
    } else log(`  publint ${p.manifest.name}: clean`)
    const modules = readdirSync(join(p.unpacked, "package", "dist"))
      .filter((f) => f.endsWith(".js") && f !== "index.js")
      .map((f) => `./${f.slice(0, -3)}`)
    const attw = run(bin("attw"), [
      p.tgz,
      "--profile",
      "esm-only",
      "--format",
      "ascii",
      "--no-emoji",
      "--no-color",
      ...(modules.length > 0 ? ["--include-entrypoints", ...modules] : [])
    ])
    if (attw.status !== 0) problem(p.manifest.name, `attw:\n${attw.out.trim()}`)
    else log(`  attw ${p.manifest.name}: clean (${modules.length + 1} entrypoints)`)
  }
})

// ---------------------------------------------------------------- 3. the install matrix
// Every external peer, with one range across the packages.
const peerRanges = new Map()
for (const p of packages) {
  for (const [name, range] of Object.entries(peersOf(p))) {
    if (ourNames.has(name)) continue
    if (peerRanges.has(name) && peerRanges.get(name) !== range) {
      problem(p.manifest.name, `peer ${name}@${range}, another package says ${peerRanges.get(name)}`)
    }
    peerRanges.set(name, range)
  }
}
const compare = (a, b) => {
  const pa = a.split(/[.-]/).map(Number)
  const pb = b.split(/[.-]/).map(Number)
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i]
  return 0
}
const versionsOf = (spec) => {
  const out = must(`npm view ${spec}`, "npm", ["view", spec, "version", "--json"], { cwd: work, stdoutOnly: true })
  const parsed = JSON.parse(out)
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(compare)
}
const lowest = {}
const highest = {}
timed("npm view (peer versions)", () => {
  for (const [name, range] of peerRanges) {
    const versions = versionsOf(`${name}@${range}`)
    if (versions.length === 0) fatal(`no published version of ${name} matches ${range}`)
    lowest[name] = versions[0]
    highest[name] = versions[versions.length - 1]
  }
})
const ours = readJson(join(root, "packages", packages.find((p) => peersOf(p).effect)?.dir ?? "core", "package.json"))
  .devDependencies?.effect
const [major, minor, patch] = String(ours).split(".").map(Number)
const scenarios = [
  { name: "lowest", peers: lowest },
  { name: "highest", peers: highest }
]
if (patch > 0) {
  scenarios.push({ name: `effect ${major}.${minor}.${patch - 1} (one patch below ours)`, peers: { ...highest, effect: `${major}.${minor}.${patch - 1}` } })
}
const typescript = rootManifest.devDependencies.typescript
const typesNode = rootManifest.devDependencies["@types/node"]

// The consumer program: every package and every module imported (their types checked against the installed
// peers, and loaded by node), and a run against the simulator.
const moduleImports = () => {
  const lines = []
  const names = []
  packages.forEach((p, i) => {
    lines.push(`import * as P${i} from "${p.manifest.name}"`)
    names.push(`P${i}`)
    for (const f of readdirSync(join(p.unpacked, "package", "dist")).filter((f) => f.endsWith(".d.ts") && f !== "index.d.ts")) {
      const mod = f.slice(0, -5)
      lines.push(`import * as P${i}_${mod.replace(/\W/g, "_")} from "${p.manifest.name}/${mod}"`)
      names.push(`P${i}_${mod.replace(/\W/g, "_")}`)
    }
  })
  return `${lines.join("\n")}\n\nexport const modules: ReadonlyArray<object> = [${names.join(", ")}]\n`
}
const mainProgram = `import { MimoClient, RetryPolicy } from "@effect-mimo/core"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import { Fault, Simulator } from "@effect-mimo/simulator"
import { Effect, Redacted, Stream } from "effect"
import { modules } from "./modules.js"

const request = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Say hello." }] }

const program = Effect.gen(function*() {
  const sim = yield* Simulator.make({ seed: 7 })
  const MimoLive = NodeMimoClient.layer({ apiKey: Redacted.make("sk-pack-check"), baseUrl: sim.url })
  return yield* Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    yield* sim.script([Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 3 } })])
    const limited = yield* mimo.chat(request, { retry: RetryPolicy.attempts(1) }).pipe(
      Effect.as("answered"),
      Effect.catchTag("RateLimitExceeded", (e) => Effect.succeed(\`caught \${e._tag}\`))
    )
    const answer = yield* mimo.chat(request)
    const chunks = yield* Stream.runCollect(mimo.stream(request))
    return { limited, content: answer.choices[0]?.message?.content ?? "", chunks: chunks.length }
  }).pipe(Effect.provide(MimoLive))
})

Effect.runPromise(Effect.scoped(program)).then(
  (result) => {
    const ok = result.limited === "caught RateLimitExceeded" && result.content.length > 0 && result.chunks > 1 &&
      modules.length > 0
    console.log(\`pack-check-program: \${ok ? "ok" : "WRONG"} \${JSON.stringify(result)}\`)
    process.exit(ok ? 0 : 1)
  },
  (error) => {
    console.error("pack-check-program: failed", error)
    process.exit(1)
  }
)
`
const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2022", "DOM", "DOM.Iterable"],
    types: ["node"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    outDir: "dist",
    rootDir: "src"
  },
  include: ["src"]
}

const copiesOf = (dir, name) => {
  // Every node_modules/<name>/package.json under dir: one per installed copy.
  const found = []
  const walk = (nm) => {
    if (!existsSync(nm)) return
    const here = join(nm, name, "package.json")
    if (existsSync(here)) found.push(`${here.slice(dir.length + 1)} (${readJson(here).version})`)
    for (const entry of readdirSync(nm)) {
      if (entry.startsWith(".")) continue
      if (entry.startsWith("@")) {
        for (const sub of readdirSync(join(nm, entry))) walk(join(nm, entry, sub, "node_modules"))
      } else walk(join(nm, entry, "node_modules"))
    }
  }
  walk(join(dir, "node_modules"))
  return found
}

for (const scenario of scenarios) {
  const label = `[${scenario.name}]`
  log(`\n== install ${label}: ${Object.entries(scenario.peers).map(([n, v]) => `${n}@${v}`).join(" ")}`)
  const dir = join(work, `app-${scenarios.indexOf(scenario)}`)
  mkdirSync(join(dir, "src"), { recursive: true })
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pack-check-app", private: true, type: "module" }, null, 2))
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
  timed(`npm install ${label}`, () =>
    must(`npm install ${label}`, "npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
      ...packages.map((p) => p.tgz),
      ...Object.entries(scenario.peers).map(([n, v]) => `${n}@${v}`),
      `typescript@${typescript}`,
      `@types/node@${typesNode}`
    ], { cwd: dir }))

  const ls = run("npm", ["ls", "effect", "--all"], { cwd: dir })
  log(`  npm ls effect ${label}:\n${ls.out.trim().split("\n").map((l) => `    ${l}`).join("\n")}`)
  if (ls.status !== 0) problem(label, "npm ls effect reports a problem")
  for (const name of peerRanges.keys()) {
    const copies = copiesOf(dir, name)
    const want = scenario.peers[name]
    if (copies.length !== 1 || !copies[0].endsWith(`(${want})`)) {
      problem(label, `${name}: want one copy at ${want}, found ${copies.length}: ${copies.join(", ")}`)
    }
  }
  log(`  one copy each of ${[...peerRanges.keys()].join(", ")}: ${problems.some((x) => x.startsWith(label)) ? "NO" : "yes"}`)

  writeFileSync(join(dir, "src", "modules.ts"), moduleImports())
  writeFileSync(join(dir, "src", "main.ts"), mainProgram)
  for (const p of packages) {
    p.examples.forEach((code, i) => writeFileSync(join(dir, "src", `readme-${p.dir}-${i + 1}.ts`), `${code}\nexport {}\n`))
  }
  const tsc = timed(`tsc ${label}`, () => run(join(dir, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], { cwd: dir }))
  if (tsc.status !== 0) problem(label, `tsc (strict, nodenext):\n${tsc.out.trim()}`)
  else log(`  tsc (strict, nodenext, skipLibCheck false): clean`)
  if (tsc.status === 0) {
    const node = timed(`node ${label}`, () => run("node", ["dist/main.js"], { cwd: dir, timeout: 60_000 }))
    if (node.status !== 0 || !node.out.includes("pack-check-program: ok")) {
      problem(label, `the program against the simulator:\n${node.out.trim()}`)
    } else log(`  ${node.out.trim().split("\n").find((l) => l.startsWith("pack-check-program:"))}`)
  }
  // ESM only: CommonJS code loads every package through require(esm) on the Node versions of `engines`.
  const cjs = run("node", [
    "--input-type=commonjs",
    "-e",
    `for (const name of ${JSON.stringify(packages.map((p) => p.manifest.name))}) {
      const m = require(name)
      if (Object.keys(m).length === 0) throw new Error(name + ": require() gave no exports")
    }`
  ], { cwd: dir, timeout: 60_000 })
  if (cjs.status !== 0) problem(label, `require() of the packages (Node ${process.version}):\n${cjs.out.trim()}`)
  else log(`  require() from CommonJS (Node ${process.version}): every package loads`)
}

// ---------------------------------------------------------------- 4. effect outside our range
const effectLatest = versionsOf("effect@latest").at(-1)
if (effectLatest && Number(effectLatest.split(".")[0]) > major) {
  const label = `[effect ${effectLatest}]`
  log(`\n== install ${label} (outside ${peerRanges.get("effect")}): must stop with ERESOLVE`)
  const dir = join(work, "app-outside")
  mkdirSync(dir)
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "pack-check-outside", private: true }, null, 2))
  const r = timed(`npm install ${label}`, () =>
    run("npm", [
      "install",
      "--dry-run",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...packages.map((p) => p.tgz),
      `effect@${effectLatest}`
    ], { cwd: dir }))
  const firstLines = r.out.trim().split("\n").slice(0, 8).map((l) => `    ${l}`).join("\n")
  if (r.status === 0 || !/ERESOLVE/.test(r.out) || !/effect@/.test(r.out)) {
    problem(label, `npm did not refuse with ERESOLVE naming effect:\n${firstLines}`)
  } else log(`  refused, as it should be:\n${firstLines}`)
}

// ---------------------------------------------------------------- summary
log("\n== timings")
for (const [label, ms] of timings) log(`  ${label}: ${seconds(ms)}`)
log(`  total: ${seconds(Date.now() - started)}`)
if (problems.length > 0) {
  log(`\npack-check: FAILED, ${problems.length} problem(s):`)
  for (const p of problems) log(`  - ${p.split("\n")[0]}`)
  finish(1)
}
log(`\npack-check: ok (${packages.length} packages, ${scenarios.length} installs)`)
finish(0)
