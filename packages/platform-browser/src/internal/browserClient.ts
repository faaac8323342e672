import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as ServerError from "@effect-mimo/core/ServerError"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as BrowserMimoClient from "../BrowserMimoClient.js"

// -----------------------------------------------------------------------------
// Retry notices: a tap on SSE response bodies
// -----------------------------------------------------------------------------

/** Only this much of one event's `data` is kept while looking for notices (chunks can be larger; they are not ours). */
const maxNoticeSize = 64 * 1024

/**
 * Finds the `data` of every `event: mimo.retry` in an SSE byte stream, without
 * touching the bytes: they go on, unchanged, to the client's own SSE decoder
 * (which ignores named events). A line scanner as small as the SSE format
 * allows (`event:` / `data:` fields, optional space, CR / LF / CRLF, blank
 * line dispatches); everything else is skipped.
 *
 * @internal
 */
export const noticeScanner = (onNotice: (data: string) => void) => {
  let pending = ""
  let event = ""
  let data: Array<string> = []
  let size = 0
  let overflow = false
  const dispatch = () => {
    if (event === ServerError.retryNoticeEvent && data.length > 0 && !overflow) onNotice(data.join("\n"))
    event = ""
    data = []
    size = 0
    overflow = false
  }
  const field = (line: string, name: string) =>
    line.charCodeAt(name.length) === 32 ? line.slice(name.length + 1) : line.slice(name.length)
  const line = (text: string) => {
    if (text === "") dispatch()
    else if (text.startsWith("event:")) event = field(text, "event:")
    else if (text.startsWith("data:") && !overflow) {
      const value = field(text, "data:")
      size += value.length
      if (size > maxNoticeSize) overflow = true
      else data.push(value)
    }
  }
  return {
    feed: (text: string) => {
      const input = pending + text
      let start = 0
      for (let i = 0; i < input.length; i++) {
        const c = input.charCodeAt(i)
        if (c !== 10 && c !== 13) continue
        // A CR at the very end may be the first half of a CRLF: wait for the next piece.
        if (c === 13 && i === input.length - 1) break
        line(input.slice(start, i))
        if (c === 13 && input.charCodeAt(i + 1) === 10) i++
        start = i + 1
      }
      pending = input.slice(start)
      if (pending.length > maxNoticeSize) {
        // A very long line (a big chunk): not a notice; drop what was buffered of it.
        pending = ""
        overflow = true
      }
    },
    end: () => {
      if (pending !== "") line(pending)
      pending = ""
      dispatch()
    }
  }
}

const isEventStream = (response: Response): boolean =>
  (response.headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream")

/**
 * `fetch`, with SSE response bodies passed through a `TransformStream` that
 * reports the backend's retry notices. Cancelling the body (an interrupted
 * stream) cancels the underlying fetch body, as before.
 *
 * @internal
 */
export const fetchWithNotices = (onNotice: (data: string) => void): typeof globalThis.fetch => (input, init) =>
  globalThis.fetch(input, init).then((response) => {
    if (response.body === null || !isEventStream(response)) return response
    const decoder = new TextDecoder()
    const scanner = noticeScanner(onNotice)
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk)
        scanner.feed(decoder.decode(chunk, { stream: true }))
      },
      flush() {
        scanner.feed(decoder.decode())
        scanner.end()
      }
    })
    return new Response(response.body.pipeThrough(tap), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers
    })
  })

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

/** @internal */
export const httpClientLayer = (
  options: BrowserMimoClient.HttpOptions = {}
): Layer.Layer<HttpClient.HttpClient> => {
  const init: Layer.Layer<never> | Layer.Layer<FetchHttpClient.RequestInit> = options.credentials === undefined
    ? Layer.empty
    : Layer.succeed(FetchHttpClient.RequestInit, { credentials: options.credentials })
  const onGatewayRetry = options.onGatewayRetry
  const fetch: Layer.Layer<never> | Layer.Layer<FetchHttpClient.Fetch> = onGatewayRetry === undefined
    ? Layer.empty
    : Layer.effect(
      FetchHttpClient.Fetch,
      Effect.map(Effect.runtime<never>(), (runtime) => {
        const runFork = Runtime.runFork(runtime)
        return fetchWithNotices((data) => {
          const event = ServerError.decodeRetryNotice(data)
          if (Option.isSome(event)) runFork(onGatewayRetry(event.value))
        })
      })
    )
  return Layer.provide(FetchHttpClient.layer, Layer.merge(init, fetch))
}

const tokenValue = (header: string, token: Redacted.Redacted<string>): string =>
  header.toLowerCase() === "authorization" ? `Bearer ${Redacted.value(token)}` : Redacted.value(token)

/** @internal */
export const make = (
  options: BrowserMimoClient.Options
): Effect.Effect<MimoClient.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { credentials: _credentials, onGatewayRetry: _onGatewayRetry, token, tokenHeader, ...core } = options
    const header = tokenHeader ?? "authorization"
    const readToken: Effect.Effect<Redacted.Redacted<string>> | undefined = token === undefined
      ? undefined
      : Redacted.isRedacted(token)
      ? Effect.succeed(token)
      : token
    const http = yield* HttpClient.HttpClient
    // No MiMo key in a browser: the core client sends no auth header ("none"), and the
    // backend's short-lived token, when there is one, is read before every attempt.
    const wired = readToken === undefined
      ? http
      : HttpClient.mapRequestEffect(http, (request) =>
        Effect.map(readToken, (value) =>
          HttpClientRequest.setHeader(request, header, tokenValue(header, value))))
    return yield* MimoClient.make({ ...core, authHeader: "none" }).pipe(
      Effect.provideService(HttpClient.HttpClient, wired)
    )
  })

/** @internal */
export const layer = (options: BrowserMimoClient.Options): Layer.Layer<MimoClient.MimoClient> =>
  Layer.effect(MimoClient.MimoClient, make(options)).pipe(
    Layer.provide(httpClientLayer({ credentials: options.credentials, onGatewayRetry: options.onGatewayRetry }))
  )

/** @internal */
export const layerDangerouslyWithApiKey = (
  options: BrowserMimoClient.DangerousOptions
): Layer.Layer<MimoClient.MimoClient, MimoError.ValidationError> => {
  // The type demands the flag; plain JavaScript callers are checked here.
  const flag: unknown = options.dangerouslyAllowApiKeyInBrowser
  if (flag !== true) {
    return Layer.fail(
      new MimoError.ValidationError({
        field: "dangerouslyAllowApiKeyInBrowser",
        value: String(flag),
        expected: "true",
        message: "dangerouslyAllowApiKeyInBrowser: sending a MiMo API key from a browser exposes it to every " +
          "visitor; set it to true only for a page that is yours alone, or use BrowserMimoClient.layer with a backend"
      })
    )
  }
  const { credentials, dangerouslyAllowApiKeyInBrowser: _flag, onGatewayRetry, ...core } = options
  return MimoClient.layer(core).pipe(Layer.provide(httpClientLayer({ credentials, onGatewayRetry })))
}
