import { type ChatCompletion, type MimoClient, Validation } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { decorate } from "../src/internal/decorate.js"

/** A service that records what reached it and answers a fixed speech. */
const fakeService = () => {
  const inputs: Array<ChatCompletion.SpeechInput> = []
  const service: MimoClient.Service = {
    baseUrl: "http://127.0.0.1:1",
    profile: Validation.xiaomi,
    chat: () => Effect.die("not used"),
    stream: () => Stream.die("not used"),
    models: () => Effect.die("not used"),
    speech: (input) =>
      Effect.sync(() => {
        inputs.push(input)
        return { audio: new Uint8Array([1]), format: "wav", response: {} as never }
      })
  }
  return { service, inputs }
}

describe("decorate: speech", () => {
  it.effect("a stack of decorators receives one built request: the inner ones reuse the outer's", () =>
    Effect.gen(function*() {
      const { inputs, service } = fakeService()
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
      // The service gets the caller's own input, as it was.
      expect(inputs).toEqual([input])
      // A second call builds anew (the request is carried per call, never cached across calls).
      yield* stacked.speech({ ...input, text: "Bye" })
      expect(seen[3]).not.toBe(seen[0])
      expect(seen[4]).toBe(seen[3])
      expect(JSON.stringify(seen[3]!.messages)).toContain("Bye")
    }))
})
