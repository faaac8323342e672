/**
 * The hand-written fast guard for non-streaming text responses must accept
 * only what the response Schema accepts (a shortcut, never a loosening), and
 * must accept the common responses so that the shortcut is actually taken.
 */
import { ChatCompletion } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import { isTextResponse } from "../src/internal/responseGuard.js"
import { anyValue, envelope, numberish, stringish } from "./guardArbitraries.js"

const isResponse = Schema.is(ChatCompletion.Response)

const numbers = (keys: ReadonlyArray<string>) =>
  fc.oneof(anyValue, fc.dictionary(fc.constantFrom(...keys, "other"), numberish, { maxKeys: 4 }))
const message = fc.oneof(
  anyValue,
  fc.dictionary(
    fc.constantFrom(
      "role",
      "content",
      "reasoning_content",
      "error_message",
      "final_text_preview",
      "tool_calls",
      "audio",
      "annotations",
      "other"
    ),
    stringish,
    { maxKeys: 5 }
  )
)
const choice = fc.oneof(
  anyValue,
  fc.record({ index: numberish, message, finish_reason: stringish }, { requiredKeys: [] })
)
const usage = fc.oneof(
  anyValue,
  fc.record({
    prompt_tokens: numberish,
    completion_tokens: numberish,
    total_tokens: numberish,
    seconds: numberish,
    completion_tokens_details: numbers(["reasoning_tokens"]),
    prompt_tokens_details: numbers(["cached_tokens", "audio_tokens", "image_tokens", "video_tokens"]),
    web_search_usage: anyValue
  }, { requiredKeys: [] })
)
const response = envelope(choice, usage)

describe("the fast text-response guard", () => {
  it.prop("accepts nothing the response Schema rejects", [response], ([u]) => {
    if (isTextResponse(u)) expect(isResponse(u)).toBe(true)
  }, { fastCheck: { numRuns: 3000 } })

  it("accepts the common responses of mimo-api §3.5, and leaves the rest to the Schema", () => {
    const base = { id: "8b51f9e0", object: "chat.completion", created: 1776848906, model: "mimo-v2.5-pro" }
    const text = {
      ...base,
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: "Hi", tool_calls: null } }],
      usage: {
        prompt_tokens: 57,
        completion_tokens: 40,
        total_tokens: 97,
        completion_tokens_details: { reasoning_tokens: 30 },
        prompt_tokens_details: { cached_tokens: 0 }
      },
      system_fingerprint: "fp"
    }
    expect(isTextResponse(text)).toBe(true)
    expect(isTextResponse({ ...base, choices: [] })).toBe(true)
    // Tool calls and audio take the Schema's path (and are still valid responses).
    const tool = {
      ...base,
      choices: [{
        index: 0,
        message: { role: "assistant", tool_calls: [{ id: "call_1", function: { name: "f", arguments: "{}" } }] }
      }]
    }
    const audio = { ...base, choices: [{ index: 0, message: { audio: { data: "UklGRg==" } } }] }
    expect(isTextResponse(tool)).toBe(false)
    expect(isTextResponse(audio)).toBe(false)
    expect(isResponse(tool) && isResponse(audio)).toBe(true)
    expect(ChatCompletion.decodeResponseFast(tool)._tag).toBe("Right")
    // The answer is the parsed object itself: unknown fields survive without a copy.
    const decoded = ChatCompletion.decodeResponseFast(text)
    expect(decoded._tag === "Right" && decoded.right).toBe(text)
  })
})
