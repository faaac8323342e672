#!/usr/bin/env node
// `pnpm mimo <args>` and `pnpm start` (the root package.json): bring the CLI
// and the packages it uses up to date, quietly, then run it in this process.
//
// - turbo builds what changed (a cache hit otherwise). Its output is kept from
//   the user: on success nothing of it is shown (no run summary, no telemetry
//   notice: TURBO_TELEMETRY_DISABLED is set for this run), on failure all of
//   it goes to stderr and the exit status is turbo's.
// - The CLI then runs here, by importing dist/bin.js: no second Node process to
//   start. `process.argv` keeps the user's arguments from index 2, as the CLI
//   expects; exit status and signals are the CLI's own.
//
// Why a script, not a shell one-liner: `turbo ... > /dev/null` also hid the
// build's errors, and a shell redirect is not portable.
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const root = path.resolve(app, "..", "..")

// The workspace's own turbo (pnpm puts it on PATH for scripts; run directly, this finds it too).
const local = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "turbo.cmd" : "turbo")
const turbo = fs.existsSync(local) ? local : "turbo"

const build = spawnSync(turbo, ["run", "build", "--filter=@effect-mimo/sample...", "--output-logs=errors-only"], {
  cwd: root,
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  stdio: ["ignore", "pipe", "pipe"],
  encoding: "utf8",
  shell: process.platform === "win32",
  maxBuffer: 64 * 1024 * 1024
})
if (build.status !== 0) {
  process.stderr.write(build.stdout ?? "")
  process.stderr.write(build.stderr ?? "")
  process.stderr.write(`mimo: the build failed (${build.error?.message ?? `turbo exited with ${build.status}`})\n`)
  process.exit(build.status ?? 1)
}

await import(pathToFileURL(path.join(app, "dist", "bin.js")).href)
