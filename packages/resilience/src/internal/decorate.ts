/**
 * Decorating a `MimoClient` service with per-attempt hooks: the machinery
 * shared by `RateLimit`, `RetryBudget` and `CircuitBreaker`.
 *
 * @internal
 */
import { ChatCompletion } from "@effect-mimo/core"
import type { MimoClient, MimoError } from "@effect-mimo/core"
import type * as Effect from "effect/Effect"
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

/**
 * The speech request a decorator built, carried down the stack in the call options it passes on (under a symbol
 * the core ignores): the next decorator takes it instead of building it again. Per call, and only for the very
 * input object it was built from.
 */
const builtSpeech: unique symbol = Symbol.for("@effect-mimo/resilience/builtSpeech")

interface Carried {
  readonly input: ChatCompletion.SpeechInput
  readonly request: ChatCompletion.Request
}

type Carrying = MimoClient.CallOptions & { readonly [builtSpeech]?: Carried }

/** @internal */
export const speechRequest = (input: ChatCompletion.SpeechInput, call: MimoClient.CallOptions | undefined) => {
  const carried = (call as Carrying | undefined)?.[builtSpeech]
  return carried !== undefined && carried.input === input ? carried.request : ChatCompletion.speechRequest(input)
}

/** `call` carrying the request built from `input`. */
const carrying = (
  call: MimoClient.CallOptions | undefined,
  input: ChatCompletion.SpeechInput,
  request: ChatCompletion.Request
): Carrying => ({ ...call, [builtSpeech]: { input, request } })

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
    : (input, call) => {
      const request = speechRequest(input, call)
      return decorator.speech!(request, call, (c) => service.speech(input, carrying(c, input, request)))
    },
  models: decorator.models === undefined
    ? service.models
    : (call) => service.models(decorator.models!(call))
})
