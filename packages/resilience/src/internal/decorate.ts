/**
 * Decorating a `MimoClient` service with per-attempt hooks: the machinery
 * shared by `RateLimit`, `RetryBudget` and `CircuitBreaker`.
 *
 * @internal
 */
import { Speech } from "@effect-mimo/core"
import type { ChatCompletion, MimoClient, MimoError } from "@effect-mimo/core"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Stream from "effect/Stream"

/** `outer` wraps `inner`: the caller's hook sees the decorator's work (waits, refusals) as part of the attempt. */
export const composeAround = (
  outer: MimoClient.AroundAttempt | undefined,
  inner: MimoClient.AroundAttempt
): MimoClient.AroundAttempt =>
  outer === undefined ? inner : <A>(
    attempt: Effect.Effect<A, MimoError.MimoError>,
    info: MimoClient.AttemptInfo
  ) => outer(inner(attempt, info), info)

/** The call's options with `around` added inside the caller's own `aroundAttempt`. */
export const withAround = (
  call: MimoClient.CallOptions | undefined,
  around: MimoClient.AroundAttempt
): MimoClient.CallOptions => ({ ...call, aroundAttempt: composeAround(call?.aroundAttempt, around) })

/** What a decorator does to each call. Each hook defaults to passing the call through. */
export interface Decorator {
  readonly chat?: (
    request: ChatCompletion.Request,
    call: MimoClient.CallOptions | undefined,
    send: (call: MimoClient.CallOptions | undefined) => Effect.Effect<ChatCompletion.Response, MimoError.MimoError>
  ) => Effect.Effect<ChatCompletion.Response, MimoError.MimoError>
  readonly stream?: (
    request: ChatCompletion.Request,
    call: MimoClient.CallOptions | undefined,
    send: (call: MimoClient.CallOptions | undefined) => Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>
  ) => Stream.Stream<ChatCompletion.Chunk, MimoError.MimoError>
  readonly speech?: (
    request: ChatCompletion.Request,
    call: MimoClient.CallOptions | undefined,
    send: (call: MimoClient.CallOptions | undefined) => Effect.Effect<MimoClient.Speech, MimoError.MimoError>
  ) => Effect.Effect<MimoClient.Speech, MimoError.MimoError>
  /** `models` has no model: the decorator may only change its call options. */
  readonly models?: (call: MimoClient.CallOptions | undefined) => MimoClient.CallOptions | undefined
}

/** A service whose calls go through `decorator` before reaching `service`. */
export const decorate = (service: MimoClient.Service, decorator: Decorator): MimoClient.Service => ({
  baseUrl: service.baseUrl,
  profile: service.profile,
  chat: decorator.chat === undefined
    ? service.chat
    : (request, call) => decorator.chat!(request, call, (c) => service.chat(request, c)),
  stream: decorator.stream === undefined
    ? service.stream
    : (request, call) => decorator.stream!(request, call, (c) => service.stream(request, c)),
  speech: decorator.speech === undefined
    ? service.speech
    // Validated and built once for the whole stack (`Speech.prepare` returns a `Prepared` it is given as it is),
    // and sent by the core as built. An invalid input reaches no decorator: the core fails the call with its
    // `ValidationError` before any attempt, as it does for chat.
    : (input, call) =>
      Effect.flatMap(Speech.prepare(input, service.profile), (prepared) =>
        Either.isLeft(prepared.request)
          ? service.speech(prepared, call)
          : decorator.speech!(prepared.request.right, call, (c) => service.speech(prepared, c))),
  models: decorator.models === undefined
    ? service.models
    : (call) => service.models(decorator.models!(call))
})
