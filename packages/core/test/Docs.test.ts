/**
 * Every public export of every package carries JSDoc with `@since`, and every
 * public value (const, class, function) an `@example`: the docs are part of
 * the API, so they are checked like it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const packages = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

const publicModules = (): ReadonlyArray<string> =>
  Fs.readdirSync(packages).flatMap((pkg) => {
    const src = Path.join(packages, pkg, "src")
    if (!Fs.existsSync(src)) return []
    return Fs.readdirSync(src)
      .filter((f) => f.endsWith(".ts") && f !== "index.ts")
      .map((f) => Path.join(src, f))
  })

const exportPattern = /^export (const|class|interface|type|function) (\w+)/gm

describe("public API docs", () => {
  it("every export has JSDoc with @since, and every value an @example", () => {
    const problems: Array<string> = []
    const modules = publicModules()
    expect(modules.length).toBeGreaterThan(10)
    for (const file of modules) {
      const source = Fs.readFileSync(file, "utf8")
      for (const match of source.matchAll(exportPattern)) {
        const [, kind, name] = match
        const before = source.slice(0, match.index).trimEnd()
        const where = `${Path.relative(packages, file)}: ${name}`
        if (!before.endsWith("*/")) {
          problems.push(`${where} has no JSDoc`)
          continue
        }
        const doc = before.slice(before.lastIndexOf("/**"))
        if (!doc.includes("@since")) problems.push(`${where} has no @since`)
        if (kind !== "interface" && kind !== "type" && !doc.includes("@example")) {
          problems.push(`${where} has no @example`)
        }
      }
    }
    expect(problems).toEqual([])
  })
})
