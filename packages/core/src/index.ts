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
