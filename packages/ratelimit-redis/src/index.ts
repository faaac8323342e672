/**
 * @since 0.1.0
 */

/**
 * The core's rate limiter, shared by every process through Redis.
 *
 * @since 0.1.0
 */
export * as RedisRateLimit from "./RedisRateLimit.js"
