// Run by scripts/docgen.sh after @effect/docgen, in a package: every exported value (const, function,
// class) of the generated reference has an @example, as the team's standard asks. docgen itself can only
// demand one on every export, interfaces and types included (`enforceExamples`), so this reads what docgen
// parsed (docs/modules/*.md: one `## name` section per export, its `**Signature**` and its `**Example**`).
//
// One exception: docgen writes each example to a file named after its export, so two exports whose names
// differ only in case (`Fault.Reset` and `Fault.reset`) cannot both have one; the value without an example
// passes when its namesake has one.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"

const modules = join(process.cwd(), "docs", "modules")
if (!existsSync(modules)) {
  console.error(`docgen-examples: ${modules} not found (run docgen first)`)
  process.exit(1)
}
const files = (dir) =>
  readdirSync(dir).flatMap((f) => {
    const path = join(dir, f)
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".md") ? [path] : []
  })

const missing = []
let values = 0
for (const file of files(modules)) {
  const sections = readFileSync(file, "utf8").split(/^## /m).slice(1).map((text) => {
    const name = text.slice(0, text.indexOf("\n")).replace(/ \(.*\)$/, "").trim()
    const signature = /\*\*Signature\*\*\s*```ts\n([^\n]*)/.exec(text)?.[1] ?? ""
    return {
      name,
      isValue: /^export declare (abstract )?(const|function|class) /.test(signature),
      hasExample: text.includes("**Example**")
    }
  })
  for (const s of sections.filter((s) => s.isValue)) {
    values++
    if (s.hasExample) continue
    const namesake = sections.find((o) => o !== s && o.name.toLowerCase() === s.name.toLowerCase() && o.hasExample)
    if (!namesake) missing.push(`${relative(process.cwd(), file)}: ${s.name}`)
  }
}
if (missing.length > 0) {
  console.error(`docgen-examples: ${missing.length} exported value(s) without an @example:`)
  for (const m of missing) console.error(`  ${m}`)
  process.exit(1)
}
console.log(`docgen-examples: all ${values} exported values have an @example`)
