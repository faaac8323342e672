/**
 * The `mimo` program for an argument list: `@effect/cli` parses it and runs
 * the matching command, with the platform services, the logger and the
 * handling of unexpected failures around it. `Main.ts` runs it on
 * `process.argv`; the tests run it in-process on the help forms.
 *
 * - `@effect/platform-node` provides the platform services `@effect/cli` and
 *   the commands use: FileSystem, Path, Terminal. (`NodeContext.layer` would
 *   add CommandExecutor and workers, which no command uses, and load
 *   `node:child_process` at every start; a command that needs one provides it
 *   in its own, lazily loaded, module.)
 * - Logs go to stderr, and are off unless `--log-level` asks for them: the
 *   commands print retries and failures themselves, and stdout is kept for
 *   answers and `--json`.
 */
import * as CliValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
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

/** Runs the CLI on `argv` (`process.argv`: the runtime and the script first, then the user's arguments). */
export const program = (argv: ReadonlyArray<string>) =>
  Cli.run(argv).pipe(
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
