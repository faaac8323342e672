import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc } from "effect"
import { ChatCompletion, Speech, Validation } from "../src/index.js"

describe("Speech.prepare", () => {
  it.effect("keeps the input, the profile and the request one build makes; a Prepared of the profile is kept", () =>
    Effect.gen(function*() {
      const input: Speech.Input = { text: "Hello", instructions: "Warmly.", voice: "Mia", format: "wav" }
      const prepared = yield* Speech.prepare(input)
      expect(Speech.isPrepared(prepared)).toBe(true)
      expect(prepared.input).toBe(input)
      expect(prepared.profile).toBe(Validation.xiaomi)
      expect(prepared.request).toEqual(Either.right(Speech.toRequest(input)))
      expect(yield* Speech.prepare(prepared)).toBe(prepared)
      // Another profile: prepared anew from the input.
      const again = yield* Speech.prepare(prepared, Validation.mimoV2)
      expect(again).not.toBe(prepared)
      expect(again.input).toBe(input)
      expect(again.profile).toBe(Validation.mimoV2)
    }))

  it.effect("holds the error that names the input's own field, as validateSpeechRequest fails with it", () =>
    Effect.gen(function*() {
      const inputs: ReadonlyArray<Speech.Input> = [
        { model: "mimo-v2.5-tts-voiceclone", text: "hi" },
        { model: "mimo-v2.5-tts-voicedesign", text: "hi" },
        { model: "mimo-v2.5-tts-voicedesign", text: "hi", instructions: "Calm.", style: "sing" },
        { text: "" }
      ]
      const fields = []
      for (const input of inputs) {
        const prepared = yield* Speech.prepare(input)
        const error = yield* Effect.flip(Validation.validateSpeechRequest(input))
        expect(prepared.request).toEqual(Either.left(error))
        fields.push(error.field)
      }
      expect(fields).toEqual(["voice", "instructions", "style", "text"])
    }))

  it.effect.prop(
    "agrees with validateSpeechRequest on any input",
    [fc.record({
      text: fc.string(),
      voice: fc.option(fc.string(), { nil: undefined }),
      model: fc.constantFrom(...["mimo-v2.5-tts", "mimo-v2-tts", "mimo-v2.5-tts-voicedesign"])
    })],
    ([input]) =>
      Effect.gen(function*() {
        const clean: Speech.Input = input.voice === undefined ? { text: input.text, model: input.model } : input
        const prepared = yield* Speech.prepare(clean)
        const direct = yield* Effect.either(Validation.validateSpeechRequest(clean))
        expect(prepared.request).toEqual(direct)
        if (Either.isRight(direct)) expect(direct.right).toEqual(ChatCompletion.speechRequest(clean))
      })
  )
})
