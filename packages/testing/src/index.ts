/**
 * @since 0.1.0
 */

/**
 * Programs from Debian that tests need: found, or skipped / failed uniformly.
 *
 * @since 0.1.0
 */
export * as SystemProgram from "./SystemProgram.js"

/**
 * Debian's Chromium through Playwright.
 *
 * @since 0.1.0
 */
export * as Chromium from "./Chromium.js"

/**
 * A throwaway redis-server on loopback.
 *
 * @since 0.1.0
 */
export * as RedisServer from "./RedisServer.js"
