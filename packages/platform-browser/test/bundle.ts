/**
 * Bundles a browser program with esbuild. Workspace packages resolve to their
 * sources (as vitest's aliases do), so no build is needed first.
 */
import * as esbuild from "esbuild"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

/** `@effect-mimo/<pkg>` and `@effect-mimo/<pkg>/<Module>` → `packages/<pkg>/src/...ts`. */
export const workspaceSources: esbuild.Plugin = {
  name: "workspace-sources",
  setup(build) {
    build.onResolve({ filter: /^@effect-mimo\/[a-z-]+(\/[A-Za-z]+)?$/ }, (args) => {
      const [, pkg, module] = args.path.split("/")
      return { path: path.join(root, "packages", pkg, "src", `${module ?? "index"}.ts`) }
    })
  }
}

/** The bundle of `entry` (ESM, for browsers), as text. */
export const bundle = async (entry: string, options: { readonly minify?: boolean } = {}): Promise<string> => {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: options.minify ?? false,
    write: false,
    logLevel: "silent",
    plugins: [workspaceSources]
  })
  return result.outputFiles[0].text
}
