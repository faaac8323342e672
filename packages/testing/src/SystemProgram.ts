/**
 * Tests that need a program from Debian (Chromium, redis-server) find it the
 * same way everywhere: `$<ENV>` (e.g. `CHROMIUM_PATH`), else the PATH. When
 * it is missing, the tests are reported skipped with the package to install;
 * under `CI=true` a missing program is a failing test, so CI never passes by
 * skipping.
 *
 * @since 0.1.0
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"

/**
 * A program the tests need, and the Debian package that provides it.
 *
 * @since 0.1.0
 */
export interface Program {
  /** The executable's name on the PATH, e.g. `chromium`. */
  readonly name: string
  /** The environment variable that may point at it, e.g. `CHROMIUM_PATH`. */
  readonly env: string
  /** The Debian package, e.g. `chromium`. */
  readonly debianPackage: string
}

const which = (name: string): string | undefined => {
  try {
    const found = execFileSync("which", [name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
    return found === "" ? undefined : found
  } catch {
    return undefined
  }
}

/**
 * Where the program is, or `undefined`.
 *
 * @example
 * ```ts
 * import { SystemProgram } from "@effect-mimo/testing"
 *
 * SystemProgram.find({ name: "redis-server", env: "REDIS_SERVER_PATH", debianPackage: "redis-server" })
 * ```
 *
 * @since 0.1.0
 */
export const find = (program: Program): string | undefined => {
  const fromEnv = process.env[program.env]
  if (fromEnv !== undefined && fromEnv !== "") return fs.existsSync(fromEnv) ? fromEnv : undefined
  return which(program.name)
}

/**
 * Why the tests cannot run here.
 *
 * @example
 * ```ts
 * import { SystemProgram } from "@effect-mimo/testing"
 *
 * SystemProgram.missingMessage({ name: "chromium", env: "CHROMIUM_PATH", debianPackage: "chromium" })
 * ```
 *
 * @since 0.1.0
 */
export const missingMessage = (program: Program): string =>
  `${program.name} not found (set ${program.env}, or install Debian's package: apt-get install ${program.debianPackage})`

/**
 * `describe` for tests that need a program: runs them with its path when it is
 * installed; otherwise skips them naming the package, or, under `CI=true`,
 * fails.
 *
 * @example
 * ```ts
 * import { SystemProgram } from "@effect-mimo/testing"
 * import { expect, it } from "vitest"
 *
 * SystemProgram.describeWith(
 *   { name: "redis-server", env: "REDIS_SERVER_PATH", debianPackage: "redis-server" },
 *   "shared limiter",
 *   (path) => it("has a path", () => expect(path).not.toBe(""))
 * )
 * ```
 *
 * @since 0.1.0
 */
export const describeWith = (program: Program, name: string, body: (executablePath: string) => void): void => {
  const executablePath = find(program)
  if (executablePath !== undefined) {
    describe(name, () => body(executablePath))
    return
  }
  const message = missingMessage(program)
  if (process.env.CI === "true") {
    describe(name, () => {
      it(`has ${program.name} (required when CI=true)`, () => {
        expect.fail(message)
      })
    })
    return
  }
  console.warn(`[${name}] skipped: ${message}`)
  describe.skip(`${name} — skipped: ${message}`, () => body(""))
}
