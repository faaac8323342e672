/**
 * The provider against a hostile loopback server: whatever comes back, the
 * answer is a typed AiError within a bound (never a defect, never a hang), and
 * the key never shows up in it.
 */
import { MimoAiError, MimoLanguageModel } from "@effect-mimo/ai"
import { NodeMimoClient } from "@effect-mimo/platform-node"
import * as AiError from "@effect/ai/AiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Option, Redacted, Schema, Stream } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { apiKey, noRetry } from "./support.js"

type Handler = (request: Http.IncomingMessage, response: Http.ServerResponse) => void

/** A server on 127.0.0.1 that answers every request with `handler`; closed (connections too) with the scope. */
const hostile = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<Http.Server>((resume) => {
      const server = Http.createServer((request, response) => {
        request.resume()
        request.on("end", () => handler(request, response))
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => {
    const layer = MimoLanguageModel.layer({
      model: "mimo-v2-flash",
      config: { callOptions: { retry: noRetry } }
    }).pipe(Layer.provide(NodeMimoClient.layer({
      apiKey: Redacted.make(apiKey),
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      timeout: "500 millis"
    })))
    return layer
  }))

const json = (body: unknown, status = 200): Handler => (_, response) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

const sse =
  (events: ReadonlyArray<unknown>, options: { readonly keepOpen?: boolean } = {}): Handler => (_, response) => {
    response.writeHead(200, { "content-type": "text/event-stream" })
    for (const e of events) response.write(`data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`)
    if (!options.keepOpen) response.end()
  }

const chunk = (delta: unknown, finish: string | null = null) => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 1,
  model: "mimo-v2-flash",
  choices: [{ index: 0, delta, finish_reason: finish }]
})

const Echo = Tool.make("echo", { parameters: { text: Schema.String }, success: Schema.String })
const EchoKit = Toolkit.make(Echo)
const EchoLive = EchoKit.toLayer({ echo: ({ text }) => Effect.succeed(text) })

/** The typed failure of an exit (a defect or an interruption fails the test). */
const typedFailure = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure.value
}

const bounded = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(Effect.timeoutFail({
    duration: "10 seconds",
    // Typed as an AiError so the assertions stay on one type; its module says it is the test's.
    onTimeout: () =>
      new AiError.UnknownError({ module: "test", method: "bounded", description: "not within the bound" })
  }))

describe("MimoLanguageModel against a hostile server", () => {
  it.scopedLive("a response with no choices: MalformedOutput", () =>
    Effect.gen(function*() {
      const layer = yield* hostile(json({ id: "x", object: "chat.completion", choices: [] }))
      const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), bounded, Effect.exit)
      const error = typedFailure(exit)
      expect(error._tag).toBe("MalformedOutput")
    }))

  it.scopedLive("tool arguments nested 100 000 deep: a MalformedOutput to feed back, not a defect", () =>
    Effect.gen(function*() {
      const layer = yield* hostile(json({
        id: "x",
        object: "chat.completion",
        choices: [{
          index: 0,
          finish_reason: "tool_calls",
          message: {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "c1", type: "function", function: { name: "echo", arguments: "[".repeat(100_000) } }]
          }
        }]
      }))
      const toolkit = yield* EchoKit
      const exit = yield* LanguageModel.generateText({ prompt: "hi", toolkit }).pipe(
        Effect.provide(layer),
        bounded,
        Effect.exit
      )
      const error = typedFailure(exit)
      expect(error._tag).toBe("MalformedOutput")
      expect(Option.getOrThrow(MimoAiError.malformedToolCall(error)).toolCalls[0].name).toBe("echo")
    }).pipe(Effect.provide(EchoLive)))

  it.scopedLive("a streamed tool call that never names its function: MalformedOutput", () =>
    Effect.gen(function*() {
      const layer = yield* hostile(sse([
        chunk({ tool_calls: [{ index: 0, id: "c1", function: { arguments: "{}" } }] }),
        chunk({}, "tool_calls"),
        "[DONE]"
      ]))
      const toolkit = yield* EchoKit
      const exit = yield* LanguageModel.streamText({ prompt: "hi", toolkit }).pipe(
        Stream.runDrain,
        Effect.provide(layer),
        bounded,
        Effect.exit
      )
      expect(typedFailure(exit)._tag).toBe("MalformedOutput")
    }).pipe(Effect.provide(EchoLive)))

  it.scopedLive("an HTML page with status 200 (a lying proxy): MalformedOutput", () =>
    Effect.gen(function*() {
      const layer = yield* hostile((_, response) => {
        response.writeHead(200, { "content-type": "application/json" })
        response.end("<html><body>Welcome to the captive portal</body></html>")
      })
      const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), bounded, Effect.exit)
      const error = typedFailure(exit)
      expect(error._tag).toBe("MalformedOutput")
      expect(Option.getOrThrow(MimoAiError.toMimoError(error))._tag).toBe("ResponseDecodeError")
    }))

  it.scopedLive("a server that stalls: HttpRequestError (a timeout) within the bound", () =>
    Effect.gen(function*() {
      const layer = yield* hostile(() => {})
      const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), bounded, Effect.exit)
      const error = typedFailure(exit)
      expect(error._tag).toBe("HttpRequestError")
      const back = Option.getOrThrow(MimoAiError.toMimoError(error))
      expect(back._tag === "TransportError" && back.reason).toBe("Timeout")
    }))

  it.scopedLive("a server that echoes the key in its headers: the AiError carries neither request nor echo headers", () =>
    Effect.gen(function*() {
      const layer = yield* hostile((request, response) => {
        response.writeHead(429, {
          "content-type": "application/json",
          "retry-after": "3",
          "x-echo": String(request.headers.authorization),
          "set-cookie": `k=${request.headers.authorization}`
        })
        response.end(JSON.stringify({ error: { code: "429", message: "Too many requests", type: "" } }))
      })
      const exit = yield* LanguageModel.generateText({ prompt: "hi" }).pipe(Effect.provide(layer), bounded, Effect.exit)
      const error = typedFailure(exit)
      expect(error._tag).toBe("HttpResponseError")
      if (error._tag !== "HttpResponseError") return
      expect(error.request.headers).toEqual({})
      expect(error.response.headers).toEqual({
        "content-type": "application/json",
        "retry-after": "3",
        "retry-after-ms": "3000"
      })
      for (const text of [JSON.stringify(error), String(error), error.message]) expect(text).not.toContain(apiKey)
    }))
})
