import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as MimoError from "../MimoError.js"
import type * as MimoTransport from "../MimoTransport.js"
import { maxScan, readPrefix } from "./errorResponse.js"
import * as TransportError from "./transportError.js"

/** @internal */
export const maxErrorBody = maxScan

/** @internal */
export const defaultMaxBodySize = 32 * 1024 * 1024

/** @internal */
export const timeoutError = (timeout: Duration.Duration): MimoError.TransportError =>
  new MimoError.TransportError({ reason: "Timeout", message: `no response within ${Duration.format(timeout)}` })

/** @internal */
export const fromCause = (cause: unknown, stage: "request" | "response"): MimoError.TransportError =>
  stage === "request"
    ? TransportError.fromCause(cause, "request failed")
    : TransportError.fromCause(cause, "response failed", "ConnectionReset")

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

const isOk = (status: number) => status >= 200 && status < 300

/** Reads at most `cap` bytes of a body; whether there was more (the rest is not read). */
const readCapped = (
  response: HttpClientResponse.HttpClientResponse,
  cap: number
): Effect.Effect<{ readonly body: string; readonly truncated: boolean }, MimoError.TransportError> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    let truncated = false
    return response.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          const room = cap - size
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room))
            size += room
            truncated = true
            return false
          }
          chunks.push(chunk)
          size += chunk.length
          return true
        })
      ),
      Effect.mapError((e) => TransportError.fromHttpClientError(e, "ConnectionReset")),
      Effect.map(() => {
        const out = new Uint8Array(size)
        let offset = 0
        for (const c of chunks) {
          out.set(c, offset)
          offset += c.length
        }
        return { body: new TextDecoder().decode(out), truncated }
      })
    )
  })

/** @internal */
export const fromHttpClient = (client: HttpClient.HttpClient): MimoTransport.Service => {
  // MimoClient's own spans replace the HTTP client's: they carry the MiMo
  // attributes, never a header (`api-key` is not in the platform's redaction list).
  const http = client.pipe(HttpClient.withTracerDisabledWhen(() => true))
  // Streams: the request is aborted when the stream's scope closes.
  const scoped = HttpClient.withScope(http)
  return {
    send: (request) =>
      http.execute(toHttpClientRequest(request)).pipe(
        Effect.mapError((e) => TransportError.fromHttpClientError(e)),
        Effect.flatMap((response) => {
          const body = isOk(response.status)
            ? readCapped(response, request.maxBodySize ?? defaultMaxBodySize)
            : Effect.map(readPrefix(response.stream, maxErrorBody), (body) => ({ body, truncated: false }))
          return Effect.map(body, (read): MimoTransport.Response => ({
            status: response.status,
            headers: response.headers,
            body: read.body,
            truncated: read.truncated
          }))
        }),
        Effect.timeoutFail({ duration: request.timeout, onTimeout: () => timeoutError(request.timeout) })
      ),
    open: (request) =>
      scoped.execute(toHttpClientRequest(request)).pipe(
        Effect.mapError((e) => TransportError.fromHttpClientError(e)),
        Effect.flatMap((response) => {
          if (!isOk(response.status)) {
            return Effect.map(readPrefix(response.stream, maxErrorBody), (body): MimoTransport.StreamResponse => ({
              status: response.status,
              headers: response.headers,
              body,
              read: () => Effect.succeed(undefined)
            }))
          }
          return Effect.map(Stream.toPull(response.stream), (pull): MimoTransport.StreamResponse => {
            let ended = false
            const read = (timeout: Duration.Duration) =>
              ended ? Effect.succeed(undefined) : pull.pipe(
                Effect.map((chunk): ReadonlyArray<Uint8Array> | undefined => Chunk.toReadonlyArray(chunk)),
                Effect.catchAll((e) => {
                  if (Option.isNone(e)) {
                    ended = true
                    return Effect.succeed(undefined)
                  }
                  return Effect.fail(TransportError.fromHttpClientError(e.value, "ConnectionReset"))
                }),
                Effect.timeoutFail({ duration: timeout, onTimeout: () => timeoutError(timeout) })
              )
            return { status: response.status, headers: response.headers, body: "", read }
          })
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
