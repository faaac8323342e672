import { ChatCompletion, MimoClient, Speech, Validation } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Stream } from "effect"
import { CircuitBreaker, RateLimit, RetryBudget } from "../src/index.js"
import { decorate } from "../src/internal/decorate.js"
import { fakeServer } from "./limiterSupport.js"

/** A service that records what reached it and answers a fixed speech. */
const fakeService = () => {
  const received: Array<ChatCompletion.SpeechInput | Speech.Prepared> = []
  const service: MimoClient.Service = {
    baseUrl: "http://127.0.0.1:1",
    profile: Validation.xiaomi,
    chat: () => Effect.die("not used"),
    stream: () => Stream.die("not used"),
    models: () => Effect.die("not used"),
    speech: (input) =>
      Effect.sync(() => {
        received.push(input)
        return { audio: new Uint8Array([1]), format: "wav", response: {} as never }
      })
  }
  return { service, received }
}

/**
 * A speech input that counts how often its `text` is read: one validation and build of it reads `text` a fixed
 * number of times (measured with `Speech.prepare` alone), so a call that reads it more often built or validated it
 * again.
 */
const counted = (input: ChatCompletion.SpeechInput) => {
  const counter = { reads: 0 }
  const { text, ...rest } = input
  const value: ChatCompletion.SpeechInput = Object.defineProperty({ ...rest, text }, "text", {
    enumerable: true,
    get: () => {
      counter.reads++
      return text
    }
  })
  return { value, counter }
}

/** The reads of `text` of one validation and build. */
const readsOfOneBuild = (input: ChatCompletion.SpeechInput) =>
  Effect.gen(function*() {
    const { counter, value } = counted(input)
    const prepared = yield* Speech.prepare(value)
    expect(Either.isRight(prepared.request)).toBe(true)
    return counter.reads
  })

describe("decorate: speech", () => {
  it.effect("a stack of decorators receives one built request, and the service the Prepared it came from", () =>
    Effect.gen(function*() {
      const { received, service } = fakeService()
      const seen: Array<ChatCompletion.Request> = []
      const recording = (s: MimoClient.Service) =>
        decorate(s, {
          speech: (request, call, send) => Effect.zipRight(Effect.sync(() => void seen.push(request)), send(call))
        })
      const stacked = recording(recording(recording(service)))
      const input: ChatCompletion.SpeechInput = { text: "Hello", voice: "Mia" }
      const speech = yield* stacked.speech(input)
      expect(speech.format).toBe("wav")
      expect(seen).toHaveLength(3)
      expect(seen[1]).toBe(seen[0])
      expect(seen[2]).toBe(seen[0])
      expect(seen[0]!.model).toBe("mimo-v2.5-tts")
      // The service gets the Prepared: the caller's own input, as it was, and the very request the decorators saw.
      expect(received).toHaveLength(1)
      const prepared = received[0]!
      expect(Speech.isPrepared(prepared)).toBe(true)
      if (!Speech.isPrepared(prepared)) return
      expect(prepared.input).toBe(input)
      expect(Either.getOrUndefined(prepared.request)).toBe(seen[0])
      // A second call builds anew (nothing is cached across calls).
      yield* stacked.speech({ ...input, text: "Bye" })
      expect(seen[3]).not.toBe(seen[0])
      expect(seen[4]).toBe(seen[3])
      expect(JSON.stringify(seen[3]!.messages)).toContain("Bye")
    }))

  it.effect("an invalid input reaches no decorator: the service gets the Prepared holding the error", () =>
    Effect.gen(function*() {
      const { received, service } = fakeService()
      let hooks = 0
      const stacked = decorate(
        decorate(service, { speech: (_, call, send) => Effect.zipRight(Effect.sync(() => void hooks++), send(call)) }),
        { speech: (_, call, send) => Effect.zipRight(Effect.sync(() => void hooks++), send(call)) }
      )
      yield* stacked.speech({ model: "mimo-v2.5-tts-voiceclone", text: "hi" })
      expect(hooks).toBe(0)
      const prepared = received[0]
      expect(prepared !== undefined && Speech.isPrepared(prepared) && Either.isLeft(prepared.request)).toBe(true)
      if (prepared === undefined || !Speech.isPrepared(prepared) || Either.isRight(prepared.request)) return
      expect(prepared.request.left.field).toBe("voice")
    }))
})

describe("speech through RateLimit + RetryBudget + CircuitBreaker", () => {
  const audioReply = {
    status: 200,
    body: JSON.stringify({
      id: "r",
      object: "chat.completion",
      created: 1,
      model: "mimo-v2.5-tts",
      choices: [{
        index: 0,
        finish_reason: "stop",
        message: { role: "assistant", content: "", audio: { data: "UklGRg==" } }
      }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 }
    }),
    headers: { "content-type": "application/json" }
  }

  const stack = (server: ReturnType<typeof fakeServer>) =>
    CircuitBreaker.layer().pipe(
      Layer.provide(RetryBudget.layer()),
      Layer.provide(RateLimit.layer({ requestsPerSecond: 100 })),
      Layer.provide(server.layer())
    )

  it.scoped("is built and validated once, end to end (the input's text is read as often as by one build)", () =>
    Effect.gen(function*() {
      const input: ChatCompletion.SpeechInput = {
        text: "Hello",
        instructions: "Warmly.",
        style: "whispering",
        voice: "Mia",
        format: "mp3"
      }
      const once = yield* readsOfOneBuild(input)
      expect(once).toBeGreaterThan(0)
      const server = fakeServer(() => Effect.succeed(audioReply))
      const mimo = Context.get(yield* Layer.build(stack(server)), MimoClient.MimoClient)
      const { counter, value } = counted(input)
      const speech = yield* mimo.speech(value)
      expect(speech.format).toBe("mp3")
      expect(server.sent).toHaveLength(1)
      expect(counter.reads).toBe(once)
      // What was sent is the request one build makes.
      expect(JSON.parse(server.bodies[0] ?? "")).toEqual(
        JSON.parse(JSON.stringify(ChatCompletion.toBody({ ...ChatCompletion.speechRequest(input), stream: false })))
      )
    }))

  it.scoped("an invalid input fails with the error naming its own field, validated once, nothing sent", () =>
    Effect.gen(function*() {
      const server = fakeServer(() => Effect.succeed(audioReply))
      const mimo = Context.get(yield* Layer.build(stack(server)), MimoClient.MimoClient)
      const cases: ReadonlyArray<readonly [ChatCompletion.SpeechInput, string]> = [
        [{ model: "mimo-v2.5-tts-voiceclone", text: "hi" }, "voice"],
        [{ model: "mimo-v2.5-tts-voicedesign", text: "hi" }, "instructions"],
        [{ model: "mimo-v2.5-tts-voicedesign", text: "hi", instructions: "A calm voice.", voice: "Mia" }, "voice"],
        [{ text: "  ", voice: "Mia" }, "text"]
      ]
      for (const [input, field] of cases) {
        const once = yield* Effect.gen(function*() {
          const { counter, value } = counted(input)
          yield* Speech.prepare(value)
          return counter.reads
        })
        const { counter, value } = counted(input)
        const error = yield* Effect.flip(mimo.speech(value))
        expect(error._tag).toBe("ValidationError")
        if (error._tag !== "ValidationError") return
        expect(error.field).toBe(field)
        expect(error.message.startsWith(`${field}:`)).toBe(true)
        expect(error.attempts).toBe(0)
        expect(counter.reads).toBe(once)
      }
      expect(server.sent).toHaveLength(0)
    }))
})
