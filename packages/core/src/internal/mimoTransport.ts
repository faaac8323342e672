import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as MimoError from "../MimoError.js"
import type * as MimoTransport from "../MimoTransport.js"
import { maxScan, readPrefix } from "./errorResponse.js"
import * as Transport from "./transport.js"

/** @internal */
export const maxErrorBody = maxScan

/** @internal */
export const timeoutError = (timeout: Duration.Duration): MimoError.TransportError =>
  new MimoError.TransportError({ reason: "Timeout", message: `no response within ${Duration.format(timeout)}` })

/** @internal */
export const fromCause = (cause: unknown, stage: "request" | "response"): MimoError.TransportError =>
  stage === "request"
    ? Transport.fromCause(cause, "request failed")
    : Transport.fromCause(cause, "response failed", "ConnectionReset")

/**
 * A transport request as an `HttpClientRequest` (the body's content type from its headers, JSON by default).
 *
 * @internal
 */
export const toHttpClientRequest = (
  request: Pick<MimoTransport.Request, "method" | "url" | "headers" | "body">
): HttpClientRequest.HttpClientRequest => {
  const base = request.method === "GET" ? HttpClientRequest.get(request.url) : HttpClientRequest.post(request.url)
  const withHeaders = HttpClientRequest.setHeaders(base, request.headers)
  return request.body === undefined
    ? withHeaders
    : HttpClientRequest.bodyText(withHeaders, request.body, request.headers["content-type"] ?? "application/json")
}

/** @internal */
export const fromHttpClient = (client: HttpClient.HttpClient): MimoTransport.Service => {
  // MimoClient's own spans replace the HTTP client's: they carry the MiMo
  // attributes, never a header (`api-key` is not in the platform's redaction list).
  const http = client.pipe(HttpClient.withTracerDisabledWhen(() => true))
  return {
    send: (request) =>
      http.execute(toHttpClientRequest(request)).pipe(
        Effect.mapError((e) => Transport.fromHttpClientError(e)),
        Effect.flatMap((response) => {
          const body = response.status >= 200 && response.status < 300
            ? Effect.mapError(response.text, (e) => Transport.fromHttpClientError(e, "ConnectionReset"))
            : readPrefix(response.stream, maxErrorBody)
          return Effect.map(body, (text): MimoTransport.Response => ({
            status: response.status,
            headers: response.headers,
            body: text
          }))
        }),
        Effect.timeoutFail({ duration: request.timeout, onTimeout: () => timeoutError(request.timeout) })
      )
  }
}

/** @internal */
export const fromHttpClientEffect: Effect.Effect<MimoTransport.Service, never, HttpClient.HttpClient> = Effect.map(
  HttpClient.HttpClient,
  fromHttpClient
)
