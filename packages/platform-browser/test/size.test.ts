/**
 * The bundle-size budget of a page that imports the client and makes one
 * call (`scripts/size.mjs`: esbuild, minified, gzip -9). The figures are in
 * the README; this keeps them from growing unnoticed, e.g. by server-side code
 * (`ServerError`'s HTTP server parts) leaking into the browser bundle.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { execFile } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "scripts", "size.mjs")

const Size = Schema.Struct({ minified: Schema.Number, gzip: Schema.Number, brotli: Schema.Number })
const Report = Schema.parseJson(Schema.Record({ key: Schema.String, value: Size }))

const measure = Effect.async<string, Error>((resume) => {
  execFile(
    process.execPath,
    [script, "--json"],
    { encoding: "utf8" },
    (error, stdout) => resume(error === null ? Effect.succeed(stdout) : Effect.fail(error))
  )
}).pipe(Effect.flatMap(Schema.decode(Report)))

describe("bundle size (esbuild, minified, gzip -9)", () => {
  it.live("a page making one call stays under 120 KiB gzipped, at most 30 KiB over Effect's own HttpClient", () =>
    Effect.gen(function*() {
      const report = yield* measure
      const chat = report["chat, deep imports"]
      const stream = report["stream, deep imports"]
      const baseline = report["baseline: Effect's FetchHttpClient, no MiMo"]
      expect(chat.gzip).toBeLessThan(120 * 1024)
      expect(stream.gzip).toBeLessThan(120 * 1024)
      expect(chat.gzip - baseline.gzip).toBeLessThan(30 * 1024)
      expect(chat.gzip).toBeLessThan(chat.minified)
    }))
})
