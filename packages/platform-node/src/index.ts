/**
 * @since 0.1.0
 */

/**
 * `MimoClient` on Node.js, over undici.
 *
 * @since 0.1.0
 */
export * as NodeMimoClient from "./NodeMimoClient.js"

/**
 * The fast path of buffered calls: a `MimoTransport` straight over undici.
 *
 * @since 0.1.0
 */
export * as NodeMimoTransport from "./NodeMimoTransport.js"

/**
 * Text-to-speech audio written to files.
 *
 * @since 0.1.0
 */
export * as SpeechFile from "./SpeechFile.js"
