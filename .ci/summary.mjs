// Sums every package's vitest JSON report (test-results/vitest.json) into the one
// line CI reads: `N passed, N failed` (plus `, N skipped` when any). Exits 1 when a
// test failed, a suite failed to load, or no report was found at all.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const roots = ["packages", "apps"]
let passed = 0, failed = 0, skipped = 0, reports = 0, suiteErrors = 0
for (const root of roots) {
  if (!existsSync(root)) continue
  for (const dir of readdirSync(root)) {
    const file = join(root, dir, "test-results", "vitest.json")
    if (!existsSync(file)) continue
    reports++
    const r = JSON.parse(readFileSync(file, "utf8"))
    passed += r.numPassedTests ?? 0
    failed += r.numFailedTests ?? 0
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
    for (const s of r.testResults ?? []) {
      if (s.status === "failed" && (s.assertionResults ?? []).every((a) => a.status !== "failed")) {
        suiteErrors++
        console.log(`suite failed to run: ${s.name}: ${(s.message ?? "").split("\n")[0]}`)
      }
    }
  }
}
failed += suiteErrors
if (reports === 0) {
  console.log("no vitest report found")
  failed += 1
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(failed > 0 ? 1 : 0)
