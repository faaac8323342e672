import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Predicate from "effect/Predicate"
import * as MimoError from "../MimoError.js"

const codeOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "code") && typeof u.code === "string" ? u.code : undefined

const messageOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" ? u.message : undefined

/**
 * Walks an error's `cause` chain (undici and fetch wrap the socket error one or
 * two levels deep) and collects the error codes and messages found on the way.
 */
const chain = (u: unknown): { readonly codes: Array<string>; readonly messages: Array<string> } => {
  const codes: Array<string> = []
  const messages: Array<string> = []
  let current: unknown = u
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    const code = codeOf(current)
    if (code !== undefined) codes.push(code)
    const message = messageOf(current)
    if (message !== undefined && message !== "") messages.push(message)
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return { codes, messages }
}

const reasonFrom = (codes: ReadonlyArray<string>, messages: ReadonlyArray<string>): MimoError.TransportReason => {
  for (const code of codes) {
    switch (code) {
      case "ECONNREFUSED":
        return "ConnectionRefused"
      case "ECONNRESET":
      case "EPIPE":
      case "UND_ERR_SOCKET":
      case "UND_ERR_CLOSED":
        return "ConnectionReset"
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return "Dns"
      case "ETIMEDOUT":
      case "UND_ERR_CONNECT_TIMEOUT":
      case "UND_ERR_HEADERS_TIMEOUT":
      case "UND_ERR_BODY_TIMEOUT":
        return "Timeout"
    }
  }
  const text = messages.join(" ").toLowerCase()
  if (text.includes("other side closed") || text.includes("socket hang up") || text.includes("terminated")) {
    return "ConnectionReset"
  }
  if (text.includes("failed to fetch") || text.includes("networkerror") || text.includes("fetch failed")) {
    return "ConnectionRefused"
  }
  return "Other"
}

/** @internal */
export const fromCause = (
  cause: unknown,
  context: string,
  fallback: MimoError.TransportReason = "Other"
): MimoError.TransportError => {
  const { codes, messages } = chain(cause)
  const reason = reasonFrom(codes, messages)
  const detail = messages.length > 0 ? messages[messages.length - 1] : "unknown transport failure"
  return new MimoError.TransportError({
    reason: reason === "Other" ? fallback : reason,
    message: `${context}: ${detail}${codes.length > 0 ? ` (${codes.join(", ")})` : ""}`
  })
}

/**
 * Maps an `HttpClientError` to a `TransportError`. Only the cause's codes and
 * messages are kept: never the request, whose headers hold the API key.
 *
 * @internal
 */
export const fromHttpClientError = (
  error: HttpClientError.HttpClientError,
  fallback: MimoError.TransportReason = "Other"
): MimoError.TransportError =>
  fromCause(
    error.cause,
    error._tag === "RequestError" ? `request failed (${error.reason})` : `response failed (${error.reason})`,
    fallback
  )
