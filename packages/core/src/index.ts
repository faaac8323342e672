/**
 * @since 0.1.0
 */

/**
 * The MiMo error table, as data.
 *
 * @since 0.1.0
 */
export * as ErrorCode from "./ErrorCode.js"

/**
 * The error model.
 *
 * @since 0.1.0
 */
export * as MimoError from "./MimoError.js"

/**
 * The `POST /chat/completions` request, response and chunk Schemas, and the
 * helpers around them (accumulating a stream, reading the answer, TTS requests).
 *
 * @since 0.1.0
 */
export * as ChatCompletion from "./ChatCompletion.js"

/**
 * Text-to-speech in plain terms: the input, and the chat request it is built into.
 *
 * @since 0.1.0
 */
export * as Speech from "./Speech.js"

/**
 * Folding a stream's chunks into the `Response` they amount to (linear in the stream's length).
 *
 * @since 0.1.0
 */
export * as StreamAccumulator from "./StreamAccumulator.js"

/**
 * The known MiMo models and their facts, and the `GET /models` Schema.
 *
 * @since 0.1.0
 */
export * as Model from "./Model.js"

/**
 * Local request validation, with per-host profiles.
 *
 * @since 0.1.0
 */
export * as Validation from "./Validation.js"

/**
 * The retry policy, as composable Schedules.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Reading and writing `Retry-After` / `retry-after-ms`.
 *
 * @since 0.1.0
 */
export * as RetryAfter from "./RetryAfter.js"

/**
 * HTTP error responses to typed errors and back.
 *
 * @since 0.1.0
 */
export * as ErrorResponse from "./ErrorResponse.js"

/**
 * `MimoClient`: the MiMo API as an Effect service.
 *
 * @since 0.1.0
 */
export * as MimoClient from "./MimoClient.js"

/**
 * The one wire service of `MimoClient` (buffered calls and streams): over any
 * `HttpClient`, or an adapter's own.
 *
 * @since 0.1.0
 */
export * as MimoTransport from "./MimoTransport.js"

/**
 * MiMo errors rendered by any `@effect/platform` HTTP server: responses, a
 * middleware, SSE forwarding with error events and retry notices.
 *
 * @since 0.1.0
 */
export * as ServerError from "./ServerError.js"

/**
 * Scrubbing our own secrets (the key, the base URL's credentials, query and
 * fragment) out of text that came from a server: strings, JSON values and
 * `MimoError`s.
 *
 * @since 0.2.0
 */
export * as Redaction from "./Redaction.js"

/**
 * The client's retry quota: a token bucket of retries (AWS's standard retry quota), so that an outage is not
 * multiplied by retries.
 *
 * @since 0.2.0
 */
export * as RetryQuota from "./RetryQuota.js"
