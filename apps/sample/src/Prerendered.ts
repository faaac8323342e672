/**
 * What `mimo` prints for its help and its version, rendered by `@effect/cli`
 * when the CLI is built, and answered from that text without loading it.
 *
 * `mimo --help` used to cost some 130 ms for a constant text: compiling and
 * evaluating `effect` and `@effect/cli` (≈ 400 KiB), then `@effect/printer`'s
 * layout. `scripts/bundle.mjs` therefore bundles the CLI once, runs the real
 * one (`dist/main.js`) for each of these argument lists and records exactly
 * what it printed (stdout, stderr, exit status), then bundles again with that
 * record in place of {@link table}:
 *
 * - `--help`, `-h`, `--version`;
 * - `<command> --help` and `<command> -h`, for every command (the build finds
 *   them in the COMMANDS section of the help, recursively).
 *
 * `bin.ts` calls {@link answer} first: the exact argument list of one of
 * those forms is answered from the record (no `effect`, no `@effect/cli`
 * loaded); any other, even one more flag, goes to the real CLI. The record
 * never drifts from the CLI: it is rendered from the same build, the build
 * checks `dist/bin.js` against it, and `test/Cli.test.ts` compares it with
 * what `Program.ts` renders from the sources, and `dist/bin.js` with
 * `dist/main.js` byte for byte for every form, under
 * `NO_COLOR`, `FORCE_COLOR`, `TERM=dumb`, `COLUMNS` and on a terminal
 * (`@effect/cli` renders its help the same under all of them: 80 columns,
 * ANSI styles; if it ever does not, that test fails).
 *
 * Plain TypeScript, no Effect: the point of this module is to answer before
 * `effect` is loaded.
 */

/**
 * What the real CLI printed for one argument list.
 *
 * @since 0.1.0
 */
export interface Output {
  readonly stdout: string
  readonly stderr: string
  /** The exit status. */
  readonly status: number
}

/**
 * The record the build embeds: each argument list (its {@link key}) and the
 * index of its output in `outputs` (`-h` and `--help` share one).
 *
 * @since 0.1.0
 */
export interface Table {
  readonly forms: ReadonlyArray<readonly [key: string, output: number]>
  readonly outputs: ReadonlyArray<Output>
}

// Replaced by the record's JSON when `scripts/bundle.mjs` bundles the CLI (esbuild's `define`); undefined elsewhere.
declare const __MIMO_PRERENDERED__: string | undefined

/**
 * The embedded record: `null` in the build's first pass and when this file
 * runs from source (the tests), where nothing is prerendered.
 */
const table: Table | null = typeof __MIMO_PRERENDERED__ === "undefined"
  ? null
  // The build's own output, checked by the build: trusted as it is, no decoding (that would need Schema, i.e. `effect`).
  : JSON.parse(__MIMO_PRERENDERED__)

/**
 * The key of an argument list (the arguments after the script): its JSON.
 */
const key = (args: ReadonlyArray<string>): string => JSON.stringify(args)

const byKey = new Map(table?.forms ?? [])

/**
 * The recorded output for these arguments, if they are one of the prerendered forms.
 */
const lookup = (args: ReadonlyArray<string>): Output | undefined => {
  const index = byKey.get(key(args))
  return index === undefined ? undefined : table?.outputs[index]
}

/**
 * Prints the recorded output for `args` and sets the exit status, if `args`
 * is one of the prerendered forms; returns whether it did.
 *
 * @since 0.1.0
 */
export const answer = (args: ReadonlyArray<string>): boolean => {
  const output = lookup(args)
  if (output === undefined) return false
  print(output.stdout, process.stdout, console.log)
  print(output.stderr, process.stderr, console.error)
  process.exitCode = output.status
  return true
}

/**
 * Writes `text` as `@effect/cli` did: through `console` (one line, a newline
 * added), so that a closed pipe (`mimo --help | head -1`) is no error either.
 */
const print = (text: string, stream: NodeJS.WriteStream, line: (text: string) => void) => {
  if (text === "") return
  if (text.endsWith("\n")) line(text.slice(0, -1))
  else stream.write(text)
}
