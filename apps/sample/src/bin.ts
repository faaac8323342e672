#!/usr/bin/env node
/**
 * The entry point of `mimo` (`dist/bin.js`).
 *
 * Help and version (`mimo --help`, `mimo <command> --help`, `-h`,
 * `mimo --version`) are answered from the text `@effect/cli` rendered for
 * exactly those arguments when the CLI was built (`Prerendered.ts`): Node
 * starts, this small file runs, and nothing else is loaded. Any other
 * arguments go to the CLI itself (`Main.ts`), imported here.
 */
import * as Prerendered from "./Prerendered.js"

if (!Prerendered.answer(process.argv.slice(2))) {
  await import("./Main.js")
}
