/**
 * @since 0.1.0
 */

/**
 * `MimoClient` in the browser, over `fetch`: your backend by default, a MiMo
 * key only with an explicit, dangerous opt-in.
 *
 * @since 0.1.0
 */
export * as BrowserMimoClient from "./BrowserMimoClient.js"
