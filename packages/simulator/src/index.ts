/**
 * @since 0.1.0
 */

/**
 * Faults the simulator can inject: one Schema-tagged union, its short text form.
 *
 * @since 0.1.0
 */
export * as Fault from "./Fault.js"

/**
 * A MiMo-compatible HTTP server with fault injection and rate limits.
 *
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.js"
