#!/usr/bin/env node
// Builds the gateway's page: web/main.ts → web/dist/app.js (esbuild: bundle,
// minify, ESM, es2022, with a source map). Workspace packages are bundled
// from their sources, as the tests resolve them.
//
//   node web/build.mjs
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "..", "..", "..")

const workspaceSources = {
  name: "workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@effect-mimo\/[a-z-]+(\/[A-Za-z]+)?$/ }, (args) => {
      const [, pkg, module] = args.path.split("/")
      return { path: path.join(root, "packages", pkg, "src", `${module ?? "index"}.ts`) }
    })
  }
}

const esbuild = await import("esbuild")
const result = await esbuild.build({
  entryPoints: [path.join(here, "main.ts")],
  outfile: path.join(here, "dist", "app.js"),
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  platform: "browser",
  target: "es2022",
  metafile: true,
  logLevel: "warning",
  plugins: [workspaceSources]
})
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)?.bytes ?? 0
console.log(`web/dist/app.js: ${(bytes / 1024).toFixed(1)} KiB minified`)
