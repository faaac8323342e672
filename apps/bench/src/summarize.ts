/**
 * Prints the top self-time frames and packages of a `.cpuprofile`.
 *
 * Usage: `node dist/summarize.js <file.cpuprofile> [--from <µs>] [--to <µs>] [--top <n>]`
 * (`--from` / `--to` on the profile's monotonic clock, as the chat case reports them).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import { parseArgs } from "node:util"
import * as Profile from "./Profile.js"

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string" } }
})
const file = positionals[0]
if (file === undefined) {
  process.stderr.write("usage: node dist/summarize.js <file.cpuprofile> [--from <µs>] [--to <µs>] [--top <n>]\n")
  process.exit(2)
}
const summary = Profile.summarize(Profile.decode(Fs.readFileSync(file, "utf8")), {
  fromUs: values.from === undefined ? undefined : Number(values.from),
  toUs: values.to === undefined ? undefined : Number(values.to),
  top: values.top === undefined ? 25 : Number(values.top)
})
const lines = [`sampled (idle excluded): ${summary.totalMs} ms`, "", "self ms  self %  function  location"]
for (const f of summary.top) {
  lines.push(
    `${f.selfMs.toFixed(1).padStart(7)}  ${f.percent.toFixed(1).padStart(5)}%  ${f.functionName}  ${f.location}`
  )
}
lines.push("", "self ms  self %  package")
for (const p of summary.byPackage) {
  lines.push(`${p.selfMs.toFixed(1).padStart(7)}  ${p.percent.toFixed(1).padStart(5)}%  ${p.name}`)
}
process.stdout.write(`${lines.join("\n")}\n`)
