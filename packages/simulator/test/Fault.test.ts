import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Fault from "../src/Fault.js"

const parsed = (text: string) => Either.getOrThrowWith(Fault.parse(text), (e) => new Error(e))

describe("Fault", () => {
  it("parses every short form", () => {
    expect(parsed("ok")).toEqual({ _tag: "Ok" })
    expect(parsed("reset")).toEqual({ _tag: "Reset" })
    expect(parsed("hang")).toEqual({ _tag: "Hang" })
    expect(parsed("latency:200")).toEqual({ _tag: "Latency", millis: 200 })
    expect(parsed("cut:5")).toEqual({ _tag: "StreamCut", afterChunks: 5 })
    expect(parsed("stream-error:3:internal_error")).toEqual({
      _tag: "StreamError",
      afterChunks: 3,
      code: "internal_error"
    })
    expect(parsed("stream-error:0")).toEqual({ _tag: "StreamError", afterChunks: 0, code: "internal_error" })
    expect(parsed("error:service_unavailable")).toEqual({ _tag: "Error", code: "service_unavailable" })
    expect(parsed("error:503")).toEqual({ _tag: "Error", code: "service_unavailable" })
    expect(parsed("error:rate_limit_exceeded;retry-after=3")).toEqual({
      _tag: "Error",
      code: "rate_limit_exceeded",
      retryAfter: { seconds: 3 }
    })
    expect(parsed("error:429;retry-after-ms=1500;message=slow down;shape=xiaomi")).toEqual({
      _tag: "Error",
      code: "rate_limit_exceeded",
      retryAfter: { millis: 1500 },
      message: "slow down",
      shape: "xiaomi"
    })
    expect(parsed("error:429;retry-after-date=60")).toMatchObject({ retryAfter: { httpDate: 60 } })
    expect(parsed("status:503")).toEqual({ _tag: "Status", status: 503, body: "" })
    const html = parsed("status:502;html")
    expect(html).toMatchObject({ _tag: "Status", status: 502, contentType: "text/html" })
    expect(html._tag === "Status" && html.body).toContain("502 Bad Gateway")
    expect(parsed("status:200;truncated")).toMatchObject({ status: 200, contentType: "application/json" })
    expect(parsed("status:418;body=I'm a teapot;content-type=text/plain;retry-after=9")).toEqual({
      _tag: "Status",
      status: 418,
      body: "I'm a teapot",
      contentType: "text/plain",
      headers: { "retry-after": "9" }
    })
  })

  it("parses JSON, and encodes to JSON that parses back", () => {
    const faults = [
      Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 2 }, shape: "bare" }),
      Fault.status(502, "<html/>", { contentType: "text/html", headers: { "x-a": "b" } }),
      Fault.reset,
      Fault.hang,
      Fault.ok,
      Fault.latency(10),
      Fault.streamCut(4),
      Fault.streamError(1, "service_unavailable")
    ]
    for (const fault of faults) {
      const json = Fault.toJson(fault)
      expect(JSON.parse(json)._tag).toBe(fault._tag)
      expect(parsed(json)).toEqual(fault)
    }
    expect(Schema.decodeUnknownSync(Fault.Fault)({ _tag: "Status", status: 500 })).toEqual({
      _tag: "Status",
      status: 500,
      body: ""
    })
  })

  it("says what is wrong with a bad fault", () => {
    const message = (text: string) => Either.match(Fault.parse(text), { onLeft: (e) => e, onRight: () => "parsed" })
    expect(message("explode")).toContain("unknown fault \"explode\"")
    expect(message("latency:soon")).toContain("latency: expected a non-negative number")
    expect(message("cut:-1")).toContain("expected a whole number")
    expect(message("error:teapot")).toContain("unknown error code \"teapot\"")
    expect(message("error:500;colour=red")).toContain("unknown option \"colour\"")
    expect(message("status:1000")).not.toBe("parsed")
    expect(message("{\"_tag\":\"Latency\"}")).toContain("millis")
    expect(message("{oops")).toContain("invalid fault JSON")
    expect(message("reset:now")).toContain("takes no argument")
  })
})
