#!/usr/bin/env node
// The bundle size of a browser program that imports the client and makes one
// call: esbuild (bundle, minify, ESM, es2022), then gzip -9 and brotli via
// node:zlib. Workspace packages are bundled from their sources.
//
//   node scripts/size.mjs          a table
//   node scripts/size.mjs --json   one JSON object
import * as esbuild from "esbuild"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as zlib from "node:zlib"

const here = path.dirname(fileURLToPath(import.meta.url))
const packageDir = path.resolve(here, "..")
const root = path.resolve(packageDir, "..", "..")

const workspaceSources = {
  name: "workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@effect-mimo\/[a-z-]+(\/[A-Za-z]+)?$/ }, (args) => {
      const [, pkg, module] = args.path.split("/")
      return { path: path.join(root, "packages", pkg, "src", `${module ?? "index"}.ts`) }
    })
  }
}

// Each program makes one call. "deep" imports name each module
// (`@effect-mimo/core/MimoClient`, `effect/Effect`), which bundlers tree-shake
// best; "index" imports go through the packages' index files; the baseline is
// the same request made with Effect's own HttpClient and no MiMo code at all.
const programs = {
  "chat, deep imports": `
    import * as MimoClient from "@effect-mimo/core/MimoClient"
    import * as BrowserMimoClient from "@effect-mimo/platform-browser/BrowserMimoClient"
    import * as Effect from "effect/Effect"

    const program = Effect.flatMap(MimoClient.MimoClient, (mimo) =>
      mimo.chat({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Hello!" }] }))

    Effect.runPromise(program.pipe(Effect.provide(BrowserMimoClient.layer({ baseUrl: "/v1" }))))
      .then((response) => console.log(response.choices[0]?.message?.content))
  `,
  "stream, deep imports": `
    import * as MimoClient from "@effect-mimo/core/MimoClient"
    import * as BrowserMimoClient from "@effect-mimo/platform-browser/BrowserMimoClient"
    import * as Effect from "effect/Effect"
    import * as Stream from "effect/Stream"

    const program = Effect.flatMap(MimoClient.MimoClient, (mimo) =>
      mimo.stream({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Hello!" }] }).pipe(
        Stream.runForEach((chunk) => Effect.sync(() => console.log(chunk.choices[0]?.delta?.content ?? "")))
      ))

    Effect.runPromise(program.pipe(Effect.provide(BrowserMimoClient.layer({ baseUrl: "/v1" }))))
  `,
  "chat, index imports": `
    import { MimoClient } from "@effect-mimo/core"
    import { BrowserMimoClient } from "@effect-mimo/platform-browser"
    import { Effect } from "effect"

    const program = Effect.flatMap(MimoClient.MimoClient, (mimo) =>
      mimo.chat({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Hello!" }] }))

    Effect.runPromise(program.pipe(Effect.provide(BrowserMimoClient.layer({ baseUrl: "/v1" }))))
      .then((response) => console.log(response.choices[0]?.message?.content))
  `,
  "baseline: Effect's FetchHttpClient, no MiMo": `
    import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
    import * as HttpClient from "@effect/platform/HttpClient"
    import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
    import * as Effect from "effect/Effect"
    import * as Stream from "effect/Stream"

    const request = HttpClientRequest.post("/v1/chat/completions").pipe(
      HttpClientRequest.bodyUnsafeJson({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Hello!" }] })
    )
    const program = Effect.flatMap(HttpClient.HttpClient, (http) =>
      Effect.flatMap(http.execute(request), (response) => Stream.runCollect(response.stream)))

    Effect.runPromise(program.pipe(Effect.provide(FetchHttpClient.layer))).then(console.log)
  `
}

const measure = async (contents) => {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: packageDir, loader: "ts", sourcefile: "program.ts" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
    plugins: [workspaceSources]
  })
  const code = result.outputFiles[0].contents
  return {
    minified: code.length,
    gzip: zlib.gzipSync(code, { level: 9 }).length,
    brotli: zlib.brotliCompressSync(code, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 }
    }).length
  }
}

const results = {}
for (const [name, contents] of Object.entries(programs)) results[name] = await measure(contents)

if (process.argv.includes("--json")) {
  console.log(JSON.stringify(results))
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`
  console.log("| program | minified | gzip -9 | brotli -11 |")
  console.log("|---|---|---|---|")
  for (const [name, r] of Object.entries(results)) {
    console.log(`| ${name} | ${kb(r.minified)} | ${kb(r.gzip)} | ${kb(r.brotli)} |`)
  }
}
