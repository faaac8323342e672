/**
 * `@effect-mimo/resilience`: the decorators that wrap a `MimoClient` to keep
 * a fleet of callers well-behaved: a client-side rate limiter, a retry
 * budget and a circuit breaker. Each is one `Layer` over the client.
 *
 * @since 0.2.0
 */

/**
 * A client-side rate limiter in front of the wire, as a `MimoClient` decorator.
 *
 * @since 0.2.0
 */
export * as RateLimit from "./RateLimit.js"

/**
 * A retry budget: a token bucket of retries, as a Schedule combinator and a decorator.
 *
 * @since 0.2.0
 */
export * as RetryBudget from "./RetryBudget.js"

/**
 * A circuit breaker with half-open probing, as an Effect wrapper and a decorator.
 *
 * @since 0.2.0
 */
export * as CircuitBreaker from "./CircuitBreaker.js"
