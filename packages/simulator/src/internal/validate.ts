/**
 * Request validation: core's `Validation`, as a gate. The generator reads
 * the raw wire-form body, so only the verdict is used.
 *
 * @internal
 */
import { MimoError, Validation } from "@effect-mimo/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import type * as generate from "./generate.js"

// Model ids are checked by the simulator first (404 for an unknown id), so
// anything that reaches validation is served: known, listed or allowed. Like
// the real server, it takes any `tool_choice` (and acts as `auto`): the
// client refuses the ones a host ignores, the server does not.
const profile: Validation.Profile = {
  ...Validation.xiaomi,
  allowUnknownModels: true,
  toolChoices: ["auto", "none", "required", "function"]
}

const isObject = (u: unknown): u is generate.Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** Validates a chat request body (already parsed JSON); gives back the body itself. */
export const chatRequest = (body: unknown): Either.Either<generate.Json, MimoError.ValidationError> => {
  // the client-side warnings (unknown ids, ignored sampling) are not the server's to log
  const exit = Effect.runSyncExit(
    Validation.validateChatRequest(body, profile).pipe(Logger.withMinimumLogLevel(LogLevel.None))
  )
  if (Exit.isSuccess(exit)) return Either.right(isObject(body) ? body : {})
  return Either.left(
    Option.getOrElse(Cause.failureOption(exit.cause), () =>
      new MimoError.ValidationError({
        field: "body",
        value: "",
        expected: "a chat completion request",
        message: `body: the request could not be validated: ${Cause.pretty(exit.cause)}`
      }))
  )
}
