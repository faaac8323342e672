/**
 * The hand-written fast guard for streamed text chunks must accept only what
 * the chunk Schema accepts (it is a shortcut, never a loosening), and must
 * accept the common chunks so that the shortcut is actually taken.
 */
import { ChatCompletion } from "@effect-mimo/core"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import { isTextChunk } from "../src/internal/chunkGuard.js"
import { anyValue, envelope, stringish } from "./guardArbitraries.js"

const isChunk = Schema.is(ChatCompletion.Chunk)

const delta = fc.oneof(
  anyValue,
  fc.dictionary(
    fc.constantFrom("content", "role", "reasoning_content", "tool_calls", "audio", "other"),
    stringish,
    { maxKeys: 4 }
  )
)
const choice = fc.oneof(
  anyValue,
  fc.record(
    { index: fc.oneof(fc.integer(), anyValue), delta, finish_reason: stringish },
    { requiredKeys: [] }
  )
)
const chunk = envelope(choice, fc.oneof(anyValue, fc.record({ total_tokens: fc.integer() })))

describe("the fast text-chunk guard", () => {
  it.prop("accepts nothing the chunk Schema rejects", [chunk], ([u]) => {
    if (isTextChunk(u)) expect(isChunk(u)).toBe(true)
  }, { fastCheck: { numRuns: 2000 } })

  it("accepts the common chunks of mimo-api §4, and leaves the rest to the Schema", () => {
    const base = { id: "c1", object: "chat.completion.chunk", created: 1776848906, model: "mimo-v2.5-pro" }
    expect(isTextChunk({ ...base, choices: [{ index: 0, delta: { role: "assistant", reasoning_content: "Hm" } }] }))
      .toBe(true)
    expect(isTextChunk({ ...base, choices: [{ index: 0, delta: { content: "Hello" }, finish_reason: null }] }))
      .toBe(true)
    expect(isTextChunk({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null })).toBe(true)
    // Tool calls and usage take the Schema's path (and are still valid chunks).
    const tool = { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "call_1" }] } }] }
    const usage = { ...base, choices: [], usage: { prompt_tokens: 57, completion_tokens: 40, total_tokens: 97 } }
    expect(isTextChunk(tool)).toBe(false)
    expect(isTextChunk(usage)).toBe(false)
    expect(isChunk(tool) && isChunk(usage)).toBe(true)
    expect(ChatCompletion.decodeChunkFast(usage)._tag).toBe("Right")
  })
})
