import { describe, expect, it } from "@effect/vitest"
import { Duration, Schema } from "effect"
import { ErrorCode, MimoError } from "../src/index.js"

describe("MimoError", () => {
  it("has one class per row of the seed table, with the row's status and code", () => {
    for (const row of ErrorCode.rows) {
      const decoded = Schema.decodeUnknownSync(MimoError.ApiError)({
        _tag: row.tag,
        status: row.status,
        code: row.code,
        message: "m"
      })
      expect(decoded._tag).toBe(row.tag)
      expect(decoded.status).toBe(row.status)
      expect(decoded.code).toBe(row.code)
      expect(MimoError.isRetryable(decoded)).toBe(row.retryable)
    }
  })

  it("RateLimitExceeded carries retryAfter as a Duration", () => {
    const e = new MimoError.RateLimitExceeded({ message: "slow", retryAfter: Duration.seconds(3) })
    expect(Duration.toMillis(e.retryAfter!)).toBe(3000)
    const encoded = Schema.encodeSync(MimoError.MimoError)(e)
    expect(encoded).toMatchObject({ _tag: "RateLimitExceeded", retryAfter: 3000, status: 429 })
    expect(Schema.decodeUnknownSync(MimoError.MimoError)(encoded)).toEqual(e)
  })

  it("classifies retryability beyond the table", () => {
    const unknown = (status: number) => new MimoError.UnknownApiError({ status, message: "x", body: "" })
    expect(MimoError.isRetryable(unknown(502))).toBe(true)
    expect(MimoError.isRetryable(unknown(504))).toBe(true)
    expect(MimoError.isRetryable(unknown(408))).toBe(true)
    expect(MimoError.isRetryable(unknown(402))).toBe(false)
    expect(MimoError.isRetryable(unknown(422))).toBe(false)
    expect(MimoError.isRetryable(new MimoError.TransportError({ reason: "Timeout", message: "t" }))).toBe(true)
    expect(
      MimoError.isRetryable(new MimoError.ResponseDecodeError({ status: 200, message: "bad", body: "{" }))
    ).toBe(false)
    expect(
      MimoError.isRetryable(
        new MimoError.ValidationError({ field: "temperature", value: "3", expected: "[0, 1.5]", message: "m" })
      )
    ).toBe(false)
  })

  it("gives the table's solution text and the error message", () => {
    const e = new MimoError.AuthenticationFailed({ message: "Invalid API Key" })
    expect(MimoError.solution(e)).toBe(ErrorCode.table.authentication_failed.solution)
    expect(e.message).toBe("Invalid API Key")
    expect(e).toBeInstanceOf(Error)
    expect(MimoError.isMimoError(e)).toBe(true)
    expect(MimoError.isMimoError(new Error("x"))).toBe(false)
  })
})
