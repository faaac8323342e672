#!/usr/bin/env node
// Bundles the `mimo` CLI: src/bin.ts → dist/bin.js (esbuild: bundle, minify,
// ESM, node20, linked source maps). `tsc -b` before it only type-checks
// (tsconfig.build.json has noEmit) and builds the workspace packages the CLI
// imports, which are bundled from their `dist` like any dependency.
//
// Why: a command should start at once. Unbundled, `mimo --help` made Node
// resolve, read and compile some 700 files (effect, @effect/cli, the client,
// undici, ...) before printing anything; one file with code splitting is read
// and compiled in one go, and every `import()` of src/Cli.ts's `modules` (the
// client, the simulator, the gateway's server, @effect/experimental) becomes a
// chunk loaded only when its command runs. The chunks stay next to bin.js in
// dist/: the gateway finds its page at `../web` from its own file.
//
//   node scripts/bundle.mjs           (part of `pnpm run build`)
//   node scripts/bundle.mjs --analyze  (also prints what the start-up chunk holds)
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const outdir = path.join(app, "dist")

const esbuild = await import("esbuild")

// Old chunks (their names carry a content hash) would pile up otherwise.
for (const name of fs.existsSync(outdir) ? fs.readdirSync(outdir) : []) {
  if (/\.js(\.map)?$|^meta\.json$/.test(name)) fs.rmSync(path.join(outdir, name))
}

const result = await esbuild.build({
  entryPoints: [path.join(app, "src", "bin.ts")],
  outdir,
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
  legalComments: "none",
  metafile: true,
  logLevel: "warning"
})

/** The outputs a file loads before it runs (static imports), itself included. */
const staticClosure = (file, seen = new Set()) => {
  if (seen.has(file)) return seen
  seen.add(file)
  for (const i of result.metafile.outputs[file]?.imports ?? []) {
    if (i.kind === "import-statement" && !i.external) staticClosure(i.path, seen)
  }
  return seen
}

// What went where, for test/Cli.test.ts (start-up loads no command's code) and for anyone curious.
fs.writeFileSync(path.join(outdir, "meta.json"), JSON.stringify(result.metafile))

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"))
const [bin] = outputs.find(([, o]) => o.entryPoint !== undefined) ?? []
const startup = [...staticClosure(bin)]
const kib = (files) => (files.reduce((n, f) => n + result.metafile.outputs[f].bytes, 0) / 1024).toFixed(0)
console.log(
  `dist/bin.js: ${kib(startup)} KiB loaded at start-up (${startup.length} files), ${
    kib(outputs.map(([f]) => f))
  } KiB in all (${outputs.length} files)`
)

if (process.argv.includes("--analyze")) {
  const byPackage = new Map()
  for (const file of startup) {
    for (const [input, { bytesInOutput }] of Object.entries(result.metafile.outputs[file].inputs)) {
      const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input)
      const name = m ? m[1] : input.startsWith("src/") ? "(the CLI)" : input.replace(/\/dist\/.*/, "")
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput)
    }
  }
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) {
    console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${name}`)
  }
}
