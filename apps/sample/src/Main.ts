/**
 * The `mimo` CLI itself: `@effect/cli` parses the arguments and runs the
 * matching command. `bin.ts`, the entry point, answers `--help`, `-h` and
 * `--version` from text this module rendered when the CLI was built
 * (`Prerendered.ts`), and imports this module for everything else; the build
 * also emits it as `dist/main.js`, which runs the CLI with no prerendered
 * answer (the build renders those answers with it, and the tests compare
 * the two).
 *
 * - `@effect/platform-node` provides the platform services `@effect/cli` and
 *   the commands use: FileSystem, Path, Terminal. (`NodeContext.layer` would
 *   add CommandExecutor and workers, which no command uses, and load
 *   `node:child_process` at every start; a command that needs one provides it
 *   in its own, lazily loaded, module.)
 * - Start-up loads this file, `Cli.ts` (the declarations) and `@effect/cli`
 *   only: each command's code is imported when it runs (`Cli.ts`, `modules`),
 *   and `pnpm run build` bundles it all with esbuild (`scripts/bundle.mjs`).
 * - Logs go to stderr, and are off unless `--log-level` asks for them: the
 *   commands print retries and failures themselves, and stdout is kept for
 *   answers and `--json`.
 * - `NodeRuntime.runMain` runs the program, and turns SIGINT / SIGTERM into an
 *   interruption: a backoff wait (`Effect.sleep` inside the retry Schedule)
 *   stops at once, scopes close (sockets, the embedded simulator), and the
 *   process exits with 130.
 */
import * as CliValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Cli from "./Cli.js"
import * as Reported from "./Reported.js"

/** Every log line to stderr (`--log-level debug` shows the client's per-attempt logs; they never hold the key). */
const StderrLogger = Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true, colors: false }))

/** Whether a failure was already shown: by a command (`Reported`) or by `@effect/cli` (bad arguments, help). */
const alreadyShown = (error: unknown) =>
  error instanceof Reported.Reported || CliValidationError.isValidationError(error)

const program = Cli.run(process.argv).pipe(
  // Anything else is unexpected: show it, so a failure is never silent.
  Effect.tapErrorCause((cause) =>
    Cause.isInterruptedOnly(cause) || Option.exists(Cause.failureOption(cause), alreadyShown)
      ? Effect.void
      : Console.error(`mimo: unexpected failure\n${Cause.pretty(cause)}`)
  ),
  // The default level for library logs is "None"; `--log-level` sets another inside `Cli.run`.
  Logger.withMinimumLogLevel(LogLevel.None),
  Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer, StderrLogger))
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  // 0 on success, 130 when interrupted (Ctrl-C), 1 on any failure.
  teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? 0 : Cause.isInterruptedOnly(exit.cause) ? 130 : 1)
})
