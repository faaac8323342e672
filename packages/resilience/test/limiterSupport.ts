/**
 * A fake MiMo server behind a fake `HttpClient`, on the Effect `Clock` (so
 * that `TestClock` drives it), and the real `MimoClient` over it.
 */
import { ErrorResponse, MimoClient, MimoError, MimoTransport } from "@effect-mimo/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect, Layer, Redacted } from "effect"

export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

export interface Sent {
  /** Clock time the request reached the server. */
  readonly at: number
  readonly path: string
  readonly status: number
}

export const okBody = (totalTokens = 10): string =>
  JSON.stringify({
    id: "fake",
    object: "chat.completion",
    created: 1,
    model: "mimo-v2-flash",
    choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }],
    usage: { prompt_tokens: totalTokens / 2, completion_tokens: totalTokens / 2, total_tokens: totalTokens }
  })

export const ok = (totalTokens = 10): Reply => ({
  status: 200,
  body: okBody(totalTokens),
  headers: { "content-type": "application/json" }
})

export const fromError = (error: MimoError.ApiError): Reply => ErrorResponse.encode(error)

export const tooMany = (seconds: number): Reply =>
  fromError(new MimoError.RateLimitExceeded({ message: "slow down", retryAfter: Duration.seconds(seconds) }))

export const unavailable: Reply = fromError(new MimoError.ServiceUnavailable({ message: "busy" }))

/**
 * A fake server: `handle` decides each reply (it may sleep: that is the latency); every request is recorded with
 * the Clock time it arrived.
 */
export const fakeServer = (handle: (n: number, at: number) => Effect.Effect<Reply>) => {
  const sent: Array<Sent> = []
  /** The body of each request (JSON text), in the order they arrived. */
  const bodies: Array<string> = []
  let inFlight = 0
  let maxInFlight = 0
  const client = HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      bodies.push(request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : "")
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      const reply = yield* handle(sent.length, at).pipe(Effect.ensuring(Effect.sync(() => void inFlight--)))
      sent.push({ at, path: url.pathname, status: reply.status })
      return HttpClientResponse.fromWeb(request, new Response(reply.body, reply))
    })
  )
  return {
    sent,
    bodies,
    get maxInFlight() {
      return maxInFlight
    },
    layer: (options?: Partial<MimoClient.Options>): Layer.Layer<MimoClient.MimoClient> =>
      MimoClient.layer({ apiKey: Redacted.make("sk-test"), baseUrl: "http://fake/v1", ...options }).pipe(
        Layer.provide(MimoTransport.layerHttpClient),
        Layer.provide(Layer.succeed(HttpClient.HttpClient, client))
      )
  }
}

/**
 * A server-side token bucket on the Clock: `rate` per second, `burst` at once; a request that does not fit gets a
 * 429 with `Retry-After` in whole seconds (rounded up), as real servers do.
 */
export const bucketServer = (rate: number, burst: number, latency: Duration.DurationInput = 0) => {
  let tokens = burst
  let last: number | undefined
  let limited = 0
  const server = fakeServer((_, at) =>
    Effect.gen(function*() {
      if (last === undefined) last = at
      tokens = Math.min(burst, tokens + ((at - last) * rate) / 1000)
      last = at
      yield* Effect.sleep(latency)
      if (tokens >= 1) {
        tokens -= 1
        return ok()
      }
      limited++
      return tooMany(Math.max(1, Math.ceil((1 - tokens) / rate)))
    })
  )
  return Object.assign(server, {
    get limited() {
      return limited
    }
  })
}

export const hello = { model: "mimo-v2-flash", messages: [{ role: "user" as const, content: "Hello" }] }
