import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { UserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))
const alias = (pkg: string, dir: string) => [
  { find: new RegExp(`^@effect-mimo/${pkg}$`), replacement: path.join(root, dir, "src", "index.ts") },
  { find: new RegExp(`^@effect-mimo/${pkg}/(.*)$`), replacement: path.join(root, dir, "src", "$1.ts") }
]

/**
 * Shared Vitest settings: workspace packages resolve to their sources (as in
 * Effect's own repo), so unit tests never need a prior build; each package
 * writes a JSON report that `.ci/run` sums into one `N passed, N failed` line.
 */
export const shared: UserConfig = {
  resolve: {
    alias: [
      ...alias("core", "packages/core"),
      ...alias("platform-node", "packages/platform-node"),
      ...alias("platform-browser", "packages/platform-browser"),
      ...alias("simulator", "packages/simulator"),
      ...alias("ratelimit-redis", "packages/ratelimit-redis"),
      ...alias("testing", "packages/testing"),
      ...alias("ai", "packages/ai")
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    sequence: { concurrent: false }
  }
}
