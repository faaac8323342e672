/**
 * The `mimo` CLI itself: `@effect/cli` parses the arguments and runs the
 * matching command (`Program.ts`). `bin.ts`, the entry point, answers
 * `--help`, `-h` and `--version` from text this module rendered when the CLI
 * was built (`Prerendered.ts`), and imports this module for everything else;
 * the build also emits it as `dist/main.js`, which runs the CLI with no
 * prerendered answer (the build renders those answers with it, and the tests
 * compare the two).
 *
 * - Start-up loads this file, `Cli.ts` (the declarations) and `@effect/cli`
 *   only: each command's code is imported when it runs (`Cli.ts`, `modules`),
 *   and `pnpm run build` bundles it all with esbuild (`scripts/bundle.mjs`).
 * - `NodeRuntime.runMain` runs the program, and turns SIGINT / SIGTERM into an
 *   interruption: a backoff wait (`Effect.sleep` inside the retry Schedule)
 *   stops at once, scopes close (sockets, the embedded simulator), and the
 *   process exits with 130.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Program from "./Program.js"

NodeRuntime.runMain(Program.program(process.argv), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // 0 on success, 130 when interrupted (Ctrl-C), 1 on any failure.
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? 0 : Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
})
