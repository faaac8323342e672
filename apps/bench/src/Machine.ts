/**
 * The machine and the versions under test, for the report.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Os from "node:os"

/**
 * CPU model, cores, memory, Node version, OS.
 *
 * @since 0.1.0
 * @category info
 */
export const machine = () => {
  const cpus = Os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((Os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${Os.type()} ${Os.release()} ${Os.arch()}`
  }
}

const PackageJson = Schema.parseJson(Schema.Struct({ version: Schema.String }))

const versionAt = (path: string): string => {
  try {
    return Schema.decodeUnknownSync(PackageJson)(Fs.readFileSync(new URL(path, import.meta.url), "utf8")).version
  } catch {
    return "not found"
  }
}

/**
 * The versions of the packages in the tables (read from the installed package.json files).
 *
 * @since 0.1.0
 * @category info
 */
export const versions = (): Record<string, string> => ({
  "@effect-mimo/core": versionAt("../node_modules/@effect-mimo/core/package.json"),
  "@effect-mimo/platform-node": versionAt("../node_modules/@effect-mimo/platform-node/package.json"),
  "@effect-mimo/simulator": versionAt("../node_modules/@effect-mimo/simulator/package.json"),
  effect: versionAt("../node_modules/effect/package.json"),
  "@effect/platform": versionAt("../node_modules/@effect/platform/package.json"),
  "@effect/platform-node": versionAt("../node_modules/@effect/platform-node/package.json"),
  "undici (raw reference)": versionAt("../node_modules/undici/package.json"),
  "undici (under ours)": versionAt("../../../packages/platform-node/node_modules/undici/package.json"),
  openai: versionAt("../node_modules/openai/package.json"),
  "undici (Node's fetch, under openai)": process.versions["undici"] ?? "unknown"
})
