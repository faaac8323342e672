import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as MimoTransport from "@effect-mimo/core/MimoTransport"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as BrowserMimoClient from "../BrowserMimoClient.js"

// -----------------------------------------------------------------------------
// Layers
// -----------------------------------------------------------------------------

/** @internal */
export const httpClientLayer = (
  options: BrowserMimoClient.HttpOptions = {}
): Layer.Layer<HttpClient.HttpClient> =>
  options.credentials === undefined
    ? FetchHttpClient.layer
    : Layer.provide(
      FetchHttpClient.layer,
      Layer.succeed(FetchHttpClient.RequestInit, { credentials: options.credentials })
    )

/** @internal */
export const transportLayer = (
  options: BrowserMimoClient.HttpOptions = {}
): Layer.Layer<MimoTransport.MimoTransport> => Layer.provide(MimoTransport.layerHttpClient, httpClientLayer(options))

const tokenValue = (header: string, token: Redacted.Redacted<string>): string =>
  header.toLowerCase() === "authorization" ? `Bearer ${Redacted.value(token)}` : Redacted.value(token)

/** @internal */
export const make = (
  options: BrowserMimoClient.Options
): Effect.Effect<MimoClient.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { credentials: _credentials, token, tokenHeader, ...core } = options
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
      Effect.provideService(MimoTransport.MimoTransport, MimoTransport.fromHttpClient(wired))
    )
  })

/** @internal */
export const layer = (options: BrowserMimoClient.Options): Layer.Layer<MimoClient.MimoClient> =>
  Layer.effect(MimoClient.MimoClient, make(options)).pipe(
    Layer.provide(httpClientLayer({ credentials: options.credentials }))
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
  const { credentials, dangerouslyAllowApiKeyInBrowser: _flag, ...core } = options
  return MimoClient.layer(core).pipe(Layer.provide(transportLayer({ credentials })))
}
