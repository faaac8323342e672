/**
 * `MimoClient`'s own behaviour, in core, over a fake `MimoTransport` on the
 * `TestClock`: how requests are built (one place), the time limits (per
 * attempt, to the first chunk, between events, the call's deadline), retry
 * notices in a stream, the body cap, and what a final error says. The same
 * client over real sockets: platform-node's end-to-end and hostile-server suites.
 */
import * as Headers from "@effect/platform/Headers"
import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Option,
  Queue,
  Redacted,
  Schedule,
  Stream,
  TestClock
} from "effect"
import { ChatCompletion, Speech, type Validation } from "../src/index.js"
import { MimoClient, MimoError, MimoTransport, Redaction, RetryPolicy, ServerError } from "../src/index.js"

const key = "sk-core-test-KEY-42"
const hello: ChatCompletion.Request = { model: "mimo-v2-flash", messages: [{ role: "user", content: "hi" }] }
const completion = JSON.stringify({
  id: "r1",
  object: "chat.completion",
  choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "hi" } }]
})
const chunkEvent = (content: string, finish?: string) =>
  `data: ${
    JSON.stringify({
      id: "c",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content }, ...(finish !== undefined ? { finish_reason: finish } : {}) }]
    })
  }\n\n`

type Answer =
  | { readonly _tag: "Response"; readonly status: number; readonly body: string; readonly truncated?: boolean }
  | { readonly _tag: "Stream"; readonly pieces: Queue.Queue<string | undefined> }
  | { readonly _tag: "Hang" }

/** A transport that records each request and answers from a script; its time limits run on the Clock. */
const fakeTransport = (script: Array<Answer>) => {
  const sent: Array<MimoTransport.Request> = []
  const encoder = new TextEncoder()
  const answer = (request: MimoTransport.Request) =>
    Effect.suspend(() => {
      sent.push(request)
      const next = script.shift() ?? { _tag: "Response", status: 200, body: completion }
      return next._tag === "Hang"
        ? Effect.never
        : Effect.succeed(next)
    }).pipe(
      Effect.timeoutFail({ duration: request.timeout, onTimeout: () => MimoTransport.timeoutError(request.timeout) })
    )
  const service: MimoTransport.Service = {
    send: (request) =>
      Effect.flatMap(answer(request), (a): Effect.Effect<MimoTransport.Response> =>
        a._tag === "Response"
          ? Effect.succeed({ status: a.status, headers: Headers.empty, body: a.body, truncated: a.truncated })
          : Effect.die("a stream answer to send")),
    open: (request) =>
      Effect.flatMap(answer(request), (a): Effect.Effect<MimoTransport.StreamResponse> => {
        if (a._tag === "Response") {
          return Effect.succeed({
            status: a.status,
            headers: Headers.empty,
            body: a.body,
            read: () => Effect.succeed(undefined)
          })
        }
        if (a._tag !== "Stream") return Effect.die("unreachable")
        let ended = false
        return Effect.succeed({
          status: 200,
          headers: Headers.fromInput({ "content-type": "text/event-stream" }),
          body: "",
          read: (timeout) =>
            ended ? Effect.succeed(undefined) : Queue.take(a.pieces).pipe(
              Effect.map((piece) => {
                if (piece === undefined) {
                  ended = true
                  return undefined
                }
                return [encoder.encode(piece)]
              }),
              Effect.timeoutFail({ duration: timeout, onTimeout: () => MimoTransport.timeoutError(timeout) })
            )
        })
      })
  }
  return { sent, layer: Layer.succeed(MimoTransport.MimoTransport, service) }
}

const clientWith = (script: Array<Answer>, options: Partial<MimoClient.Options> = {}) =>
  Effect.gen(function*() {
    const fake = fakeTransport(script)
    const mimo = yield* MimoClient.make({
      apiKey: Redacted.make(key),
      baseUrl: "https://api.example.test/v1",
      retry: Schedule.stop,
      ...options
    }).pipe(Effect.provide(fake.layer))
    return { mimo, sent: fake.sent }
  })

const failure = (exit: Exit.Exit<unknown, MimoError.MimoError>): MimoError.MimoError => {
  if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") throw new Error(`expected a typed failure: ${String(exit)}`)
  return exit.cause.error
}

const streamOf = () =>
  Effect.map(Queue.unbounded<string | undefined>(), (pieces) => ({ _tag: "Stream" as const, pieces }))

describe("MimoClient over a fake transport", () => {
  it.effect("builds every request in one place: auth, content type, accept, request id, retry count, limits", () =>
    Effect.gen(function*() {
      const done = yield* streamOf()
      yield* Queue.offerAll(done.pieces, [chunkEvent("x", "stop"), "data: [DONE]\n\n"])
      const { mimo, sent } = yield* clientWith(
        [
          { _tag: "Response", status: 503, body: "{}" },
          { _tag: "Response", status: 200, body: completion },
          done,
          { _tag: "Response", status: 200, body: `{"object":"list","data":[]}` }
        ],
        { retry: Schedule.recurs(1), timeout: "30 seconds", maxBodySize: 1000, headers: { "X-Team": "a" } }
      )
      yield* mimo.chat(hello, { headers: { "x-call": "1" } })
      yield* Stream.runDrain(mimo.stream(hello))
      yield* mimo.models()
      expect(sent.map((r) => `${r.method} ${r.url}`)).toEqual([
        "POST https://api.example.test/v1/chat/completions",
        "POST https://api.example.test/v1/chat/completions",
        "POST https://api.example.test/v1/chat/completions",
        "GET https://api.example.test/v1/models"
      ])
      const [first, retry, stream, models] = sent
      expect(first.headers.authorization).toBe(`Bearer ${key}`)
      expect(first.headers["content-type"]).toBe("application/json")
      expect(first.headers["x-team"]).toBe("a")
      expect(first.headers["x-call"]).toBe("1")
      expect(first.headers[MimoClient.retryCountHeader]).toBeUndefined()
      expect(retry.headers[MimoClient.retryCountHeader]).toBe("1")
      expect(retry.headers[MimoClient.clientRequestIdHeader]).toBe(first.headers[MimoClient.clientRequestIdHeader])
      expect(stream.headers.accept).toBe("text/event-stream")
      expect(stream.headers[MimoClient.clientRequestIdHeader]).not.toBe(first.headers[MimoClient.clientRequestIdHeader])
      expect(models.body).toBeUndefined()
      for (const r of sent) {
        expect(Duration.toMillis(r.timeout)).toBe(30_000)
        expect(r.maxBodySize).toBe(1000)
      }
      expect(JSON.parse(first.body ?? "")).toMatchObject({ model: "mimo-v2-flash", stream: false })
      expect(JSON.parse(stream.body ?? "")).toMatchObject({ stream: true })
    }))

  it.effect("an operation's effect (or stream) run again is a new call: its own request id, attempts and retry count", () =>
    Effect.gen(function*() {
      const streamed = () =>
        Effect.flatMap(
          streamOf(),
          (s) => Effect.as(Queue.offerAll(s.pieces, [chunkEvent("x", "stop"), "data: [DONE]\n\n"]), s)
        )
      const first = yield* streamed()
      const second = yield* streamed()
      const unavailable = { _tag: "Response", status: 503, body: "{}" } as const
      const { mimo, sent } = yield* clientWith(
        [
          unavailable,
          unavailable,
          unavailable,
          unavailable,
          { _tag: "Response", status: 200, body: completion },
          first,
          second,
          { _tag: "Response", status: 200, body: `{"object":"list","data":[]}` },
          { _tag: "Response", status: 200, body: `{"object":"list","data":[]}` }
        ],
        { retry: Schedule.recurs(1) }
      )
      // Effects are descriptions: built once, run as often as the program says (here twice each, as
      // `Effect.repeat`, a user's own `Effect.retry` or a shared constant would).
      const chat = mimo.chat(hello)
      const failed = yield* Effect.exit(chat)
      const again = yield* Effect.exit(chat)
      const recovered = yield* Effect.exit(chat)
      const stream = mimo.stream(hello)
      const chunks = [yield* Stream.runCount(stream), yield* Stream.runCount(stream)]
      const models = mimo.models()
      yield* models
      yield* models

      const ids = sent.map((r) => r.headers[MimoClient.clientRequestIdHeader])
      const retries = sent.map((r) => r.headers[MimoClient.retryCountHeader])
      // Each run: its own id, its first attempt says no retry, its error counts its own attempts.
      expect(retries).toEqual([undefined, "1", undefined, "1", undefined, undefined, undefined, undefined, undefined])
      expect(new Set(ids).size).toBe(7)
      expect(ids[0]).toBe(ids[1])
      expect(ids[2]).toBe(ids[3])
      const [e1, e2] = [failure(failed), failure(again)]
      expect([e1._tag, e2._tag]).toEqual(["ServiceUnavailable", "ServiceUnavailable"])
      expect(e1.attempts).toBe(2)
      expect(e2.attempts).toBe(2)
      expect(e1.clientRequestId).toBe(ids[0])
      expect(e2.clientRequestId).toBe(ids[2])
      expect(Exit.isSuccess(recovered)).toBe(true)
      expect(chunks).toEqual([1, 1])
    }))

  it.effect("the deadline cuts the attempt in flight: each attempt's limit is what is left of it", () =>
    Effect.gen(function*() {
      const { mimo, sent } = yield* clientWith([{ _tag: "Hang" }, { _tag: "Hang" }], {
        timeout: "20 seconds",
        deadline: "30 seconds",
        retry: Schedule.spaced("1 second")
      })
      const fiber = yield* Effect.fork(mimo.chat(hello))
      yield* TestClock.adjust("20 seconds") // the first attempt times out
      yield* TestClock.adjust("1 second") // the wait, then the second attempt gets the 9 s left
      yield* TestClock.adjust("9 seconds")
      const error = failure(yield* Fiber.await(fiber))
      expect(sent.map((r) => Duration.toMillis(r.timeout))).toEqual([20_000, 9_000])
      expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
      expect(error.attempts).toBe(2)
    }))

  it.effect("to the first chunk the attempt's timeout applies (and it is retried); after it, the idle timeout", () =>
    Effect.gen(function*() {
      const stalled = yield* streamOf()
      const slow = yield* streamOf()
      const { mimo } = yield* clientWith([stalled, slow], {
        timeout: "5 seconds",
        idleTimeout: "60 seconds",
        retry: Schedule.recurs(1)
      })
      const got: Array<string> = []
      const fiber = yield* Effect.fork(
        mimo.stream(hello).pipe(
          Stream.runForEach((c) => Effect.sync(() => got.push(c.choices[0]?.delta?.content ?? "")))
        )
      )
      yield* Queue.offer(stalled.pieces, ": a comment is no chunk\n\n")
      yield* TestClock.adjust("5 seconds") // no first chunk within 5 s: retried
      yield* Queue.offer(slow.pieces, chunkEvent("Hel"))
      yield* TestClock.adjust("50 seconds")
      yield* Queue.offer(slow.pieces, chunkEvent("lo"))
      // Comments for 59 s after the last event are no progress...
      for (let i = 0; i < 59; i++) {
        yield* TestClock.adjust("1 second")
        yield* Queue.offer(slow.pieces, ": ping\n\n")
      }
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      // ...and at 60 s the stream fails, keeping what it delivered.
      yield* TestClock.adjust("1 second")
      const error = failure(yield* Fiber.await(fiber))
      expect(got).toEqual(["Hel", "lo"])
      expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
      expect(error._tag === "TransportError" && error.received).toBe("Hello")
      expect(error.message).toContain("idle timeout")
      expect(error.attempts).toBe(2)
    }))

  it.effect("a slow consumer is not an idle server: the time it spends on a chunk does not count", () =>
    Effect.gen(function*() {
      const stream = yield* streamOf()
      const { mimo } = yield* clientWith([stream], { idleTimeout: "60 seconds" })
      yield* Queue.offerAll(stream.pieces, [
        chunkEvent("a"),
        chunkEvent("b"),
        chunkEvent("c", "stop"),
        "data: [DONE]\n\n"
      ])
      const fiber = yield* Effect.fork(
        mimo.stream(hello).pipe(
          Stream.rechunk(1),
          Stream.mapEffect((c) => Effect.as(Effect.sleep("90 seconds"), c.choices[0]?.delta?.content)),
          Stream.runCollect
        )
      )
      for (let i = 0; i < 4; i++) yield* TestClock.adjust("90 seconds")
      expect(Chunk.toArray(yield* Fiber.join(fiber))).toEqual(["a", "b", "c"])
    }))

  it.effect("speech is validated on the caller's own fields and built once; the built request is what is sent", () =>
    Effect.gen(function*() {
      const audio = JSON.stringify({
        id: "r",
        object: "chat.completion",
        choices: [{
          index: 0,
          finish_reason: "stop",
          message: { role: "assistant", content: "", audio: { data: "UklGRg==" } }
        }]
      })
      const { mimo, sent } = yield* clientWith([{ _tag: "Response", status: 200, body: audio }])
      const clone = failure(yield* Effect.exit(mimo.speech({ model: "mimo-v2.5-tts-voiceclone", text: "hi" })))
      expect(clone._tag === "ValidationError" && clone.field).toBe("voice")
      expect(clone.attempts).toBe(0)
      expect(sent).toHaveLength(0)
      const speech = yield* mimo.speech({ text: "Hello", instructions: "Warmly.", voice: "Mia", format: "mp3" })
      expect(speech.format).toBe("mp3")
      expect(Array.from(speech.audio.slice(0, 4))).toEqual([0x52, 0x49, 0x46, 0x46])
      expect(JSON.parse(sent[0]!.body ?? "")).toMatchObject({
        model: "mimo-v2.5-tts",
        messages: [{ role: "user", content: "Warmly." }, { role: "assistant", content: "Hello" }],
        audio: { format: "mp3", voice: "Mia" }
      })
    }))

  it.effect("speech takes a Speech.Prepared: sent as built, revalidated for another profile, never a look-alike", () =>
    Effect.gen(function*() {
      const audio = JSON.stringify({
        id: "r",
        object: "chat.completion",
        choices: [{
          index: 0,
          finish_reason: "stop",
          message: { role: "assistant", content: "", audio: { data: "UklGRg==" } }
        }]
      })
      const answer: Answer = { _tag: "Response", status: 200, body: audio }
      const { mimo, sent } = yield* clientWith([answer, answer, answer])
      const input: ChatCompletion.SpeechInput = { text: "Hello", voice: "Mia", format: "mp3", maxCompletionTokens: 100 }
      // Prepared against the client's profile: its very request is sent.
      const prepared = yield* Speech.prepare(input, mimo.profile)
      expect(Either.isRight(prepared.request)).toBe(true)
      const speech = yield* mimo.speech(prepared)
      expect(speech.format).toBe("mp3")
      expect(JSON.parse(sent[0]!.body ?? "")).toEqual(
        JSON.parse(JSON.stringify(ChatCompletion.toBody({ ...Either.getOrThrow(prepared.request), stream: false })))
      )
      // A Prepared holding an error fails with it, before any attempt.
      const invalid = yield* Speech.prepare({ model: "mimo-v2.5-tts-voiceclone", text: "hi" }, mimo.profile)
      const error = failure(yield* Effect.exit(mimo.speech(invalid)))
      expect(error._tag === "ValidationError" && error.field).toBe("voice")
      expect(error.attempts).toBe(0)
      expect(sent).toHaveLength(1)
      // Prepared against another profile (where 100 tokens are too many): the client checks the input against its own.
      const strict: Validation.Profile = {
        ...mimo.profile,
        maxCompletionTokensByModel: { ...mimo.profile.maxCompletionTokensByModel, "mimo-v2.5-tts": { min: 1, max: 10 } }
      }
      const elsewhere = yield* Speech.prepare(input, strict)
      expect(Either.isLeft(elsewhere.request)).toBe(true)
      yield* mimo.speech(elsewhere)
      expect(sent).toHaveLength(2)
      // A look-alike (not made by Speech.prepare) is validated as an input, never sent as it claims.
      const forged: Speech.Prepared = {
        ...prepared,
        request: Either.right({ model: "mimo-v2.5-tts", messages: [{ role: "assistant", content: "forged" }] })
      }
      expect(Speech.isPrepared(forged)).toBe(false)
      const rejected = failure(yield* Effect.exit(mimo.speech(forged)))
      expect(rejected._tag === "ValidationError" && rejected.field).toBe("text")
      expect(sent).toHaveLength(2)
    }))

  it.effect("a 2xx body past the cap is a ResponseDecodeError, not retried", () =>
    Effect.gen(function*() {
      const { mimo, sent } = yield* clientWith([{ _tag: "Response", status: 200, body: "{\"id\":", truncated: true }], {
        retry: RetryPolicy.defaultPolicy,
        maxBodySize: 6
      })
      const error = failure(yield* Effect.exit(mimo.chat(hello)))
      expect(error._tag).toBe("ResponseDecodeError")
      expect(error.message).toContain("6-byte cap")
      expect(sent).toHaveLength(1)
    }))

  it.effect("scrubs the key from server text before errors and retry events see it", () =>
    Effect.gen(function*() {
      const echo = JSON.stringify({ error: { code: "internal_error", message: `key was ${key}` } })
      const events: Array<MimoClient.RetryEvent> = []
      const { mimo } = yield* clientWith([{ _tag: "Response", status: 500, body: echo }, {
        _tag: "Response",
        status: 500,
        body: echo
      }], { retry: Schedule.recurs(1) })
      const fiber = yield* Effect.fork(
        mimo.chat(hello, { onRetry: (e) => Effect.sync(() => void events.push(e)) })
      )
      const error = failure(yield* Fiber.await(fiber))
      expect(error.message).toBe(`key was ${Redaction.placeholder}`)
      expect(events[0]?.error.message).toBe(`key was ${Redaction.placeholder}`)
    }))

  describe("retry notices (event: mimo.retry) in a stream reach onGatewayRetry, in order", () => {
    const notice = (attempt: number) =>
      ServerError.retryNoticeFrame({
        attempt,
        delay: Duration.millis(100 * attempt),
        error: new MimoError.ServiceUnavailable({ message: `busy ${attempt}` })
      })
    /** Every way the SSE framing may vary: CRLF / CR line ends, comments, data before the event name. */
    const body = [
      ": keep-alive comment\n\n",
      notice(1),
      chunkEvent("1"),
      notice(2).replace(/\n/g, "\r\n"),
      `data: {"attempt":3,"delay_ms":300,"status":503,\ndata: "error":{"code":"service_unavailable","message":"busy 3"}}\nevent: mimo.retry\n\n`
        .replace(/\n/g, "\r"),
      "event: other\ndata: {\"attempt\":9}\n\n",
      chunkEvent("2", "stop"),
      notice(4),
      "data: [DONE]\n\n"
    ].join("")

    const run = (pieces: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const stream = yield* streamOf()
        yield* Queue.offerAll(stream.pieces, [...pieces, undefined])
        const seen: Array<string> = []
        const { mimo } = yield* clientWith([stream], {
          onGatewayRetry: (e) => Effect.sync(() => void seen.push(`client ${e.attempt} ${e.error.message}`))
        })
        const chunks = yield* Stream.runCollect(
          mimo.stream(hello, {
            onGatewayRetry: (e) => Effect.sync(() => void seen.push(`call ${e.attempt}`))
          })
        )
        return { seen, contents: Chunk.toArray(chunks).map((c) => c.choices[0]?.delta?.content) }
      })

    it.effect("finds every notice, and only those, while the chunks go on", () =>
      Effect.gen(function*() {
        const { contents, seen } = yield* run([body])
        expect(contents).toEqual(["1", "2"])
        expect(seen).toEqual([
          "client 1 busy 1",
          "call 1",
          "client 2 busy 2",
          "call 2",
          "client 3 busy 3",
          "call 3",
          "client 4 busy 4",
          "call 4"
        ])
      }))

    it.effect.prop(
      "the same notices and chunks however the body is split into network pieces",
      [fc.uniqueArray(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 30 })],
      ([cuts]) =>
        Effect.gen(function*() {
          const points = [0, ...[...cuts].sort((a, b) => a - b), body.length]
          const { contents, seen } = yield* run(points.slice(1).map((end, i) => body.slice(points[i], end)))
          expect(contents).toEqual(["1", "2"])
          expect(seen.filter((s) => s.startsWith("call"))).toEqual(["call 1", "call 2", "call 3", "call 4"])
        }),
      { fastCheck: { numRuns: 50 } }
    )
  })
})
