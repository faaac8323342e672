/**
 * `MimoClient` in the browser, over `fetch` (`@effect/platform`'s
 * `FetchHttpClient`): streams are read from the fetch body as they arrive,
 * and interrupting a call (or a stream) aborts its request through the
 * `AbortController` Effect gives every fetch.
 *
 * The documented default, {@link layer}, talks to **your own backend** (a
 * gateway that holds the MiMo key, such as `mimo gateway` of the sample CLI,
 * or any server using `@effect-mimo/core/ServerError`): a base URL, and either
 * no credential at all (same-origin cookies, a loopback gateway) or a
 * short-lived token of your backend's own, read before every request. No MiMo
 * key is ever sent.
 *
 * Sending a real MiMo key from a page exposes it to everyone who can open the
 * page; {@link layerDangerouslyWithApiKey} does it only with an explicit
 * `dangerouslyAllowApiKeyInBrowser: true`.
 *
 * @since 0.1.0
 */
import type * as MimoClient from "@effect-mimo/core/MimoClient"
import type * as MimoError from "@effect-mimo/core/MimoError"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as internal from "./internal/browserClient.js"

/**
 * Settings of the `fetch` transport.
 *
 * @example
 * ```ts
 * import type { BrowserMimoClient } from "@effect-mimo/platform-browser"
 *
 * const options: BrowserMimoClient.HttpOptions = { credentials: "include" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpOptions {
  /**
   * `fetch`'s credentials mode. Default: the browser's (`"same-origin"`);
   * `"include"` sends cookies to a backend on another origin (which must then
   * answer CORS with credentials allowed).
   */
  readonly credentials?: RequestCredentials | undefined
}

/**
 * Settings of {@link layer}: your backend's base URL and, optionally, a
 * short-lived token; plus the core's client settings except the key.
 *
 * @example
 * ```ts
 * import type { BrowserMimoClient } from "@effect-mimo/platform-browser"
 * import { Effect, Redacted } from "effect"
 *
 * const options: BrowserMimoClient.Options = {
 *   baseUrl: "/api/mimo/v1",
 *   token: Effect.promise(() => fetch("/api/mimo/token").then((r) => r.text())).pipe(Effect.map(Redacted.make))
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Omit<MimoClient.Options, "apiKey" | "authHeader" | "baseUrl">, HttpOptions {
  /**
   * Your backend's OpenAI-compatible base URL: absolute
   * (`https://app.example.com/mimo/v1`) or relative to the page (`/v1`).
   */
  readonly baseUrl: string
  /**
   * A credential of your backend's own (never a MiMo key): a value, or an
   * effect read before every attempt (so a token that expires is fetched
   * again). Default: none; the request carries no credential header.
   */
  readonly token?: Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>> | undefined
  /**
   * The header that carries the token: `authorization` (default, as
   * `Bearer <token>`) or any other name (the token as it is).
   */
  readonly tokenHeader?: string | undefined
}

/**
 * Settings of {@link layerDangerouslyWithApiKey}: the core's client settings,
 * the key included, and the opt-in.
 *
 * @example
 * ```ts
 * import type { BrowserMimoClient } from "@effect-mimo/platform-browser"
 * import { Redacted } from "effect"
 *
 * const options: BrowserMimoClient.DangerousOptions = {
 *   apiKey: Redacted.make("sk-..."),
 *   dangerouslyAllowApiKeyInBrowser: true
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface DangerousOptions extends MimoClient.Options, HttpOptions {
  /** Yes: this page sends the MiMo key, and anyone who can open the page can read it. */
  readonly dangerouslyAllowApiKeyInBrowser: true
}

/**
 * An `HttpClient` over `fetch`, with the given credentials mode. (Retry
 * notices a backend streams are read by the core's SSE framing: the
 * `onGatewayRetry` option of the client.)
 *
 * @example
 * ```ts
 * import { BrowserMimoClient } from "@effect-mimo/platform-browser"
 *
 * const HttpLive = BrowserMimoClient.httpClientLayer({ credentials: "include" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClientLayer: (options?: HttpOptions) => Layer.Layer<HttpClient.HttpClient> = internal.httpClientLayer

/**
 * Builds the client for your backend over the `HttpClient` in context (for
 * when you provide your own, e.g. a mock in tests). No MiMo key is sent: the
 * requests carry the token, when there is one, and nothing else.
 *
 * @example
 * ```ts
 * import { BrowserMimoClient } from "@effect-mimo/platform-browser"
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 *
 * const client = BrowserMimoClient.make({ baseUrl: "/v1" }).pipe(Effect.provide(FetchHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<MimoClient.Service, never, HttpClient.HttpClient> = internal.make

/**
 * `MimoClient` for your backend, over `fetch`: the default way to use MiMo
 * from a page.
 *
 * @example
 * ```ts
 * import { ChatCompletion, MimoClient } from "@effect-mimo/core"
 * import { BrowserMimoClient } from "@effect-mimo/platform-browser"
 * import { Console, Effect, Stream } from "effect"
 *
 * const MimoLive = BrowserMimoClient.layer({
 *   baseUrl: "/v1",
 *   onGatewayRetry: (e) => Console.log(`attempt ${e.attempt} failed (${e.error._tag}); retrying`)
 * })
 *
 * const program = Effect.gen(function*() {
 *   const mimo = yield* MimoClient.MimoClient
 *   yield* mimo.stream({ model: "mimo-v2-flash", messages: [{ role: "user", content: "Hello!" }] }).pipe(
 *     Stream.runForEach((chunk) => Console.log(chunk.choices[0]?.delta?.content ?? ""))
 *   )
 * })
 *
 * Effect.runFork(program.pipe(Effect.provide(MimoLive)))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options: Options) => Layer.Layer<MimoClient.MimoClient> = internal.layer

/**
 * `MimoClient` straight to a MiMo host from the browser, with the key. The
 * key is visible to anyone who can open the page (devtools, the network tab,
 * the bundle): only for a page that is yours alone, such as a local tool.
 * Without `dangerouslyAllowApiKeyInBrowser: true` (plain JavaScript callers)
 * the layer fails with a `ValidationError` naming that field. The host must
 * answer CORS.
 *
 * @example
 * ```ts
 * import { BrowserMimoClient } from "@effect-mimo/platform-browser"
 * import { Redacted } from "effect"
 *
 * const MimoLive = BrowserMimoClient.layerDangerouslyWithApiKey({
 *   apiKey: Redacted.make(localStorage.getItem("mimo-key") ?? ""),
 *   baseUrl: "https://api.xiaomimimo.com/v1",
 *   dangerouslyAllowApiKeyInBrowser: true
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDangerouslyWithApiKey: (
  options: DangerousOptions
) => Layer.Layer<MimoClient.MimoClient, MimoError.ValidationError> = internal.layerDangerouslyWithApiKey
