#!/usr/bin/env node
// Bundles the `mimo` CLI: src/bin.ts → dist/bin.js, src/Main.ts → dist/main.js
// (esbuild: bundle, minify, ESM, node20, linked source maps). `tsc -b` before
// it only type-checks (tsconfig.build.json has noEmit) and builds the
// workspace packages the CLI imports, which are bundled from their `dist`
// like any dependency.
//
// Why: a command should start at once. Unbundled, `mimo --help` made Node
// resolve, read and compile some 700 files (effect, @effect/cli, the client,
// undici, ...) before printing anything; one file with code splitting is read
// and compiled in one go, and every `import()` of src/Cli.ts's `modules` (the
// client, the simulator, the gateway's server, @effect/experimental) becomes a
// chunk loaded only when its command runs. The chunks stay next to bin.js in
// dist/: the gateway finds its page at `../web` from its own file.
//
// Help and version are prerendered (src/Prerendered.ts): a first pass bundles
// with no record, then `node dist/main.js` (the real CLI) runs for each form
// (--help, -h, --version, and `<command> --help` / `-h` for every
// command listed under COMMANDS, recursively) and what it prints is recorded;
// a second pass bundles again with that record in dist/bin.js (esbuild's
// `define`), and every form is run once more through dist/bin.js: any byte of
// difference fails the build. The record is also written to
// dist/prerendered.json, for the tests and the curious.
//
// All of it happens in .dist-next/ (beside dist/, so that relative paths in
// the source maps and the gateway's `../web` hold); only a complete, checked
// bundle replaces dist/'s: new chunks first, then main.js and bin.js (each a
// rename), then the old chunks go. A `mimo` started meanwhile (another test
// file) runs the old bundle or the new one, never half of one.
//
//   node scripts/bundle.mjs           (part of `pnpm run build`)
//   node scripts/bundle.mjs --analyze  (also prints what the start-up chunks hold)
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const dist = path.join(app, "dist")
const outdir = path.join(app, ".dist-next")
const outName = path.basename(outdir)

const esbuild = await import("esbuild")

fs.rmSync(outdir, { recursive: true, force: true })
process.on("exit", () => fs.rmSync(outdir, { recursive: true, force: true }))

/** Bundles the CLI, with `prerendered` (src/Prerendered.ts's `Table`, or null) as the record. */
const bundle = (prerendered) =>
  esbuild.build({
    entryPoints: { bin: path.join(app, "src", "bin.ts"), main: path.join(app, "src", "Main.ts") },
    outdir,
    absWorkingDir: app,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Smaller text is quicker to compile; the source maps name the original
    // files and lines (`node --enable-source-maps dist/bin.js`).
    minify: true,
    sourcemap: "linked",
    chunkNames: "[name]-[hash]",
    // Some dependencies (undici) are CommonJS: their `require` of Node's
    // built-ins needs a real `require` inside an ES module.
    banner: { js: "import { createRequire as __mimoCreateRequire } from \"node:module\"; const require = __mimoCreateRequire(import.meta.url);" },
    // As a string (its JSON), which esbuild inlines where it is used: an object would become a module of
    // its own, shared with dist/main.js. `JSON.parse` of it is also quicker than compiling an object literal.
    define: { __MIMO_PRERENDERED__: JSON.stringify(prerendered === null ? "null" : JSON.stringify(prerendered)) },
    legalComments: "none",
    metafile: true,
    logLevel: "warning"
  })

/** Runs `node <file> ...args` to its end: what it printed and its exit status. */
const run = (file, args) =>
  new Promise((resolve, reject) => {
    // The user's settings for the CLI (MIMO_*) have no say in help texts; keep them out anyway.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("MIMO_")))
    const child = spawn(process.execPath, [path.join(outdir, file), ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (s) => (stdout += s))
    child.stderr.setEncoding("utf8").on("data", (s) => (stderr += s))
    child.on("error", reject)
    child.on("close", (status, signal) =>
      signal === null
        ? resolve({ stdout, stderr, status })
        : reject(new Error(`node dist/${file} ${args.join(" ")} ended by ${signal}`)))
  })

/** Runs `f` on every item, `os.availableParallelism()` at a time, keeping the order. */
const mapParallel = async (items, f) => {
  const out = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await f(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(items.length, os.availableParallelism()) }, worker))
  return out
}

/** The subcommands a help text lists: the first word of each `  - ` line under COMMANDS. */
const subcommands = (help) => {
  // eslint-disable-next-line no-control-regex
  const lines = help.replace(/\x1b\[[0-9;]*m/g, "").split("\n")
  const at = lines.indexOf("COMMANDS")
  if (at === -1) return []
  const names = []
  for (const line of lines.slice(at + 1)) {
    if (line !== "" && !line.startsWith("  ")) break
    const m = /^ {2}- (\S+)/.exec(line)
    if (m) names.push(m[1])
  }
  return names
}

// Pass 1: the CLI with nothing prerendered; then what it prints for each form.
await bundle(null)
const recorded = new Map()
const record = async (forms) => {
  const outputs = await mapParallel(forms, (args) => run("main.js", args))
  forms.forEach((args, i) => recorded.set(JSON.stringify(args), outputs[i]))
  return outputs
}
// Flags only: `mimo` with no arguments prints the help today, but it runs the root command's handler should
// it ever get one, which a build must not do.
const [rootHelp] = await record([["--help"], ["-h"], ["--version"]])
let parents = [{ path: [], help: rootHelp }]
while (parents.length > 0) {
  const paths = parents.flatMap((p) => subcommands(p.help.stdout).map((name) => [...p.path, name]))
  const outputs = await record(paths.flatMap((p) => [[...p, "--help"], [...p, "-h"]]))
  parents = paths.map((p, i) => ({ path: p, help: outputs[2 * i] }))
}
for (const [key, output] of recorded) {
  if (output.status !== 0) {
    throw new Error(`node dist/main.js ${JSON.parse(key).join(" ")} exited ${output.status}: ${output.stderr}`)
  }
}
const texts = []
const prerendered = { forms: [], outputs: [] }
for (const [key, output] of recorded) {
  const same = JSON.stringify(output)
  let index = texts.indexOf(same)
  if (index === -1) {
    index = texts.push(same) - 1
    prerendered.outputs.push(output)
  }
  prerendered.forms.push([key, index])
}

// Pass 2: the same CLI, with the record in dist/bin.js; each form must come out of it byte for byte.
const result = await bundle(prerendered)
fs.writeFileSync(path.join(outdir, "prerendered.json"), JSON.stringify(prerendered, null, 2) + "\n")
const keys = [...recorded.keys()]
const answered = await mapParallel(keys, (key) => run("bin.js", JSON.parse(key)))
keys.forEach((key, i) => {
  if (JSON.stringify(answered[i]) !== JSON.stringify(recorded.get(key))) {
    throw new Error(`dist/bin.js ${JSON.parse(key).join(" ")}: not what dist/main.js printed`)
  }
})

// The metafile, its paths as they will be: dist/..., for test/Cli.test.ts (start-up loads no command's code)
// and for anyone curious.
const metafile = JSON.parse(JSON.stringify(result.metafile).replaceAll(`"${outName}/`, "\"dist/"))
fs.writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(metafile))

// Into dist/: hashed chunks (new names) first, then main.js, then bin.js; then what the old bundle had besides.
fs.mkdirSync(dist, { recursive: true })
const fresh = [
  ...Object.keys(metafile.outputs).map((file) => path.relative("dist", file)),
  "meta.json",
  "prerendered.json"
]
const order = (name) => (name.startsWith("bin.") ? 2 : name.startsWith("main.") ? 1 : 0)
for (const name of [...fresh].sort((a, b) => order(a) - order(b))) {
  fs.renameSync(path.join(outdir, name), path.join(dist, name))
}
for (const name of fs.readdirSync(dist)) {
  if (/\.js(\.map)?$|^(meta|prerendered)\.json$/.test(name) && !fresh.includes(name)) fs.rmSync(path.join(dist, name))
}

/** The outputs a file loads before it runs (static imports), itself included. */
const staticClosure = (file, seen = new Set()) => {
  if (seen.has(file)) return seen
  seen.add(file)
  for (const i of metafile.outputs[file]?.imports ?? []) {
    if (i.kind === "import-statement" && !i.external) staticClosure(i.path, seen)
  }
  return seen
}

const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith(".js"))
const bin = "dist/bin.js"
const main = "dist/main.js"
const startup = [...staticClosure(main)]
const kib = (files) => (files.reduce((n, f) => n + metafile.outputs[f].bytes, 0) / 1024).toFixed(0)
console.log(
  `dist/bin.js: ${kib([...staticClosure(bin)])} KiB loaded for help and version (${prerendered.forms.length} forms), ` +
    `${kib(startup)} KiB before any command runs (dist/main.js, ${startup.length} files), ${
      kib(outputs.map(([f]) => f))
    } KiB in all (${outputs.length} files)`
)

if (process.argv.includes("--analyze")) {
  const byPackage = new Map()
  for (const file of startup) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[file].inputs)) {
      const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input)
      const name = m ? m[1] : input.startsWith("src/") ? "(the CLI)" : input.replace(/\/dist\/.*/, "")
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput)
    }
  }
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) {
    console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${name}`)
  }
}
