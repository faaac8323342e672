/**
 * Request validation: core's `Validation`, as a gate. The generator reads
 * the raw wire-form body, so only the verdict is used.
 *
 * @internal
 */
import { type MimoError, Validation } from "@effect-mimo/core"
import * as Effect from "effect/Effect"
import type * as generate from "./generate.js"

// Model ids are checked by the simulator first (404 for an unknown id), so
// anything that reaches validation is served: known, listed or allowed.
const profile: Validation.Profile = { ...Validation.xiaomi, allowUnknownModels: true }

const isObject = (u: unknown): u is generate.Json => typeof u === "object" && u !== null && !Array.isArray(u)

/** Validates a chat request body (already parsed JSON); gives back the body itself. */
export const chatRequest = (body: unknown): Effect.Effect<generate.Json, MimoError.ValidationError> =>
  Effect.as(Validation.validateChatRequest(body, profile), isObject(body) ? body : {})
