/**
 * Debian's Chromium, driven by Playwright with an explicit `executablePath`:
 * Playwright never downloads a browser here.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BrowserContext, chromium } from "playwright"
import * as SystemProgram from "./SystemProgram.js"

/**
 * The program: `$CHROMIUM_PATH`, else `chromium` on the PATH (Debian's `chromium` package).
 *
 * @example
 * ```ts
 * import { Chromium, SystemProgram } from "@effect-mimo/testing"
 *
 * SystemProgram.find(Chromium.program)
 * ```
 *
 * @since 0.1.0
 */
export const program: SystemProgram.Program = { name: "chromium", env: "CHROMIUM_PATH", debianPackage: "chromium" }

/**
 * The flags of every launch: headless, and none of Chromium's background
 * networking (this machine's network is closed; those connections only fail).
 *
 * @example
 * ```ts
 * import { Chromium } from "@effect-mimo/testing"
 *
 * Chromium.flags.includes("--headless") // true
 * ```
 *
 * @since 0.1.0
 */
export const flags: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/**
 * `describe` for tests that need Chromium (see `SystemProgram.describeWith`).
 *
 * @example
 * ```ts
 * import { Chromium } from "@effect-mimo/testing"
 *
 * Chromium.describe("in a browser", (executablePath) => {
 *   // launch with Chromium.launch(executablePath)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const describe = (name: string, body: (executablePath: string) => void): void =>
  SystemProgram.describeWith(program, name, body)

/**
 * A running headless Chromium with a fresh profile.
 *
 * @since 0.1.0
 */
export interface Running {
  readonly context: BrowserContext
  readonly close: () => Promise<void>
}

/**
 * Launches Chromium headless with a fresh `--user-data-dir` (removed on close).
 *
 * @example
 * ```ts
 * import { Chromium } from "@effect-mimo/testing"
 *
 * const browser = await Chromium.launch("/usr/bin/chromium")
 * const page = await browser.context.newPage()
 * await browser.close()
 * ```
 *
 * @since 0.1.0
 */
export const launch = async (executablePath: string): Promise<Running> => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-mimo-chromium-"))
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...flags],
      timeout: 20_000
    })
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined)
        fs.rmSync(userDataDir, { recursive: true, force: true })
      }
    }
  } catch (error) {
    fs.rmSync(userDataDir, { recursive: true, force: true })
    throw error
  }
}
