import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, JSONSchema, Schema } from "effect"
import { Fault, Simulator } from "../src/index.js"
import { chat, chatBody, json, sseData } from "./helpers.js"

const noLimits = { rateLimit: { enabled: false } } as const

const tools = [
  {
    type: "function",
    function: {
      name: "clock",
      parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] }
    }
  },
  {
    type: "function",
    function: {
      name: "add",
      parameters: {
        type: "object",
        properties: { a: { type: "integer", minimum: 1, maximum: 9 }, b: { type: "number" } },
        required: ["a", "b"]
      }
    }
  }
]

const Person = Schema.Struct({
  name: Schema.String,
  age: Schema.Int.pipe(Schema.between(0, 150)),
  tags: Schema.Array(Schema.Literal("friend", "colleague")),
  address: Schema.optional(Schema.Struct({ city: Schema.String }))
}).annotations({ identifier: "Person" })

const schemaPrompt = (schema: unknown) => ({
  role: "system",
  content: `Answer with a JSON object conforming to this JSON Schema:\n${JSON.stringify(schema)}`
})

describe("Simulator conversations", () => {
  it.scopedLive("a ToolCalls directive (header) calls several tools in parallel, given or generated arguments", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      const fault = JSON.stringify({
        _tag: "ToolCalls",
        calls: [{ name: "clock" }, { name: "add", arguments: { a: 2, b: 3 } }]
      })
      const body = chatBody({ tools })
      const plain = json(yield* chat(sim, body, { "x-mimo-sim-fault": fault }))
      expect(plain.choices[0].finish_reason).toBe("tool_calls")
      const calls = plain.choices[0].message.tool_calls
      expect(calls.map((c: { function: { name: string } }) => c.function.name)).toEqual(["clock", "add"])
      expect(new Set(calls.map((c: { id: string }) => c.id)).size).toBe(2)
      expect(typeof JSON.parse(calls[0].function.arguments).zone).toBe("string")
      expect(JSON.parse(calls[1].function.arguments)).toEqual({ a: 2, b: 3 })

      const streamed = sseData(
        (yield* chat(sim, { ...body, stream: true }, { "x-mimo-sim-fault": "tool-calls:clock,add" }))
          .text
      ).slice(0, -1).map((d) => JSON.parse(d))
      const deltas = streamed.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      const byIndex = (i: number) => deltas.filter((d) => d.index === i)
      expect(byIndex(0)[0].function.name).toBe("clock")
      expect(byIndex(1)[0].function.name).toBe("add")
      const args1 = JSON.parse(byIndex(1).map((d) => d.function.arguments).join(""))
      expect(Number.isInteger(args1.a) && args1.a >= 1 && args1.a <= 9).toBe(true)
      expect(typeof args1.b).toBe("number")
    }))

  it.scopedLive("scripted directives: malformed arguments, then the prompt's `call <name>` with key=value arguments", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      yield* sim.script([Fault.malformedToolArguments("add")])
      const bad = json(yield* chat(sim, chatBody({ tools })))
      const call = bad.choices[0].message.tool_calls[0]
      expect(call.function.name).toBe("add")
      expect(() => JSON.parse(call.function.arguments)).toThrow()

      const asked = json(
        yield* chat(
          sim,
          chatBody({
            tools,
            messages: [{ role: "user", content: "call clock with zone=\"Asia/Shanghai\" and call add with a=4 b=1.5" }]
          })
        )
      )
      const args = asked.choices[0].message.tool_calls.map((c: { function: { arguments: string } }) =>
        JSON.parse(c.function.arguments)
      )
      expect(args).toEqual([{ zone: "Asia/Shanghai" }, { a: 4, b: 1.5 }])
    }))

  it.scopedLive("a tool named as a word of the message is called too (names of 4+ characters)", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      const reply = json(
        yield* chat(
          sim,
          chatBody({ tools, messages: [{ role: "user", content: "Check the clock, then add zone=UTC" }] })
        )
      )
      const calls = reply.choices[0].message.tool_calls
      expect(calls.map((c: { function: { name: string } }) => c.function.name)).toEqual(["clock"])
      expect(JSON.parse(calls[0].function.arguments)).toEqual({ zone: "UTC" })
      const none = json(yield* chat(sim, chatBody({ tools, messages: [{ role: "user", content: "clockwork adder" }] })))
      expect(none.choices[0].message.tool_calls).toBeNull()
    }))

  it.scopedLive("answers the follow-up tool messages in text, naming each tool", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      const body = chatBody({
        tools,
        messages: [
          { role: "user", content: "call clock" },
          {
            role: "assistant",
            content: "",
            tool_calls: [
              { id: "c1", type: "function", function: { name: "clock", arguments: "{}" } },
              { id: "c2", type: "function", function: { name: "add", arguments: "{\"a\":1,\"b\":2}" } }
            ]
          },
          { role: "tool", tool_call_id: "c1", content: "12:00" },
          { role: "tool", tool_call_id: "c2", content: "3" }
        ]
      })
      const answer = json(yield* chat(sim, body))
      expect(answer.choices[0].finish_reason).toBe("stop")
      expect(answer.choices[0].message.content).toBe("The clock tool returned 12:00. The add tool returned 3.")
      expect(answer.choices[0].message.tool_calls).toBeNull()
    }))

  it.scopedLive("with thinking on, a tool-call turn without its reasoning_content is MiMo's 400; with it, an answer", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      const history = (reasoning: string | undefined) => ({
        model: "mimo-v2.5-pro",
        tools,
        messages: [
          { role: "user", content: "call clock" },
          {
            role: "assistant",
            content: "",
            ...(reasoning === undefined ? {} : { reasoning_content: reasoning }),
            tool_calls: [{ id: "c1", type: "function", function: { name: "clock", arguments: "{}" } }]
          },
          { role: "tool", tool_call_id: "c1", content: "12:00" }
        ]
      })
      const rejected = yield* chat(sim, history(undefined))
      expect(rejected.status).toBe(400)
      expect(json(rejected).error.param).toBe(
        "The reasoning_content in the thinking mode must be passed back to the API."
      )
      const ok = json(yield* chat(sim, history("The user wants the time")))
      expect(ok.choices[0].message.reasoning_content.length).toBeGreaterThan(0)
      expect(ok.choices[0].message.content).toBe("The clock tool returned 12:00.")
      // Thinking off: no rule.
      expect((yield* chat(sim, { ...history(undefined), thinking: { type: "disabled" } })).status).toBe(200)
    }))

  it.scopedLive("json_object answers conform to the JSON Schema in the prompt; NonConformingJson breaks it", () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make(noLimits)
      const schema = JSONSchema.make(Person)
      const body = chatBody({
        response_format: { type: "json_object" },
        messages: [schemaPrompt(schema), { role: "user", content: "Ada, 36, a colleague" }]
      })
      const decode = Schema.decodeUnknownEither(Schema.parseJson(Person))
      for (const stream of [false, true]) {
        const reply = yield* chat(sim, { ...body, stream })
        const text = stream
          ? sseData(reply.text).slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta?.content ?? "").join("")
          : json(reply).choices[0].message.content
        expect(decode(text)._tag).toBe("Right")
      }
      const broken = json(yield* chat(sim, body, { "x-mimo-sim-fault": "nonconforming-json" }))
      const text = broken.choices[0].message.content
      expect(typeof JSON.parse(text)).toBe("object")
      expect(decode(text)._tag).toBe("Left")
    }))

  it("parses the directives' short forms and rejects bad ones", () => {
    expect(Fault.parse("tool-calls:clock, add")).toEqual(
      Either.right({ _tag: "ToolCalls", calls: [{ name: "clock" }, { name: "add" }] })
    )
    expect(Fault.parse("malformed-args").pipe((e) => e._tag === "Right" && e.right._tag)).toBe(
      "MalformedToolArguments"
    )
    expect(Fault.parse("nonconforming-json").pipe((e) => e._tag === "Right" && e.right._tag)).toBe(
      "NonConformingJson"
    )
    expect(Fault.parse("tool-calls:")._tag).toBe("Left")
    expect(Fault.parse("nonconforming-json:x")._tag).toBe("Left")
  })
})
