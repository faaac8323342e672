import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, Redacted } from "effect"
import { MimoError, Redaction } from "../src/index.js"

const p = Redaction.placeholder

describe("Redaction.make", () => {
  it("is <redacted>", () => {
    expect(p).toBe("<redacted>")
  })

  it("replaces a key in its raw, Bearer, URL-encoded and JSON-escaped forms, and base-URL secrets", () => {
    const redact = Redaction.make({
      secrets: [Redacted.make("sk-a/b+c\"d")],
      baseUrls: ["https://user:pa%24%24word@host.test/v1?token=qs-123456"]
    })
    expect(redact("raw sk-a/b+c\"d, Bearer sk-a/b+c\"d")).toBe(`raw ${p}, Bearer ${p}`)
    expect(redact(`enc ${encodeURIComponent("sk-a/b+c\"d")} json ${JSON.stringify("sk-a/b+c\"d")}`)).toBe(
      `enc ${p} json "${p}"`
    )
    expect(redact("https://user:pa%24%24word@host.test/v1?token=qs-123456")).not.toContain("pa%24%24word")
    expect(redact("the password pa$$word and qs-123456")).toBe(`the password ${p} and ${p}`)
    expect(redact("nothing here")).toBe("nothing here")
  })

  it("scrubs raw, Bearer, URL-encoded and base-URL forms (credentials, query, fragment)", () => {
    const key = "sk-HOSTILE-echo-5f4e3d2c1b0a"
    const proxy = "https://gw-user:pw-s3cret-99@proxy.example/v1?token=tok-77aa88bb#frag-00ff"
    const echo = `key ${key}, header Bearer ${key}, url ${proxy}, encoded ${encodeURIComponent(key)}`
    const redact = Redaction.make({ secrets: [Redacted.make(key)], baseUrls: [new URL(proxy)] })
    const secretsIn = (text: string) =>
      [key, "pw-s3cret-99", "tok-77aa88bb", "gw-user", "frag-00ff"].filter((s) =>
        text.includes(s) || text.includes(encodeURIComponent(s))
      )
    expect(secretsIn(redact(echo))).toEqual([])
    expect(redact(`Bearer ${key}`)).toBe(`Bearer ${p}`)
    expect(redact("nothing secret")).toBe("nothing secret")
    const withProto = Redaction.deep(JSON.parse(`{"__proto__":{"x":"${key}"}}`), redact)
    expect(Object.getPrototypeOf(withProto)).toBe(Object.prototype)
    expect(JSON.stringify(withProto)).toBe(`{"__proto__":{"x":"${p}"}}`)
  })

  it("leaves secrets shorter than 4 characters alone, but not a short user info as a whole", () => {
    expect(Redaction.make({ secrets: ["abc"] })("abc")).toBe("abc")
    expect(Redaction.make({ secrets: ["abc"] })).toBe(Redaction.none)
    const redact = Redaction.make({ baseUrls: ["https://a:b@host.test/v1"] })
    expect(redact("a b https://a:b@host.test/v1")).toBe(`a b https://${p}host.test/v1`)
  })

  it("reads a relative base URL's query, and never throws on odd input", () => {
    expect(Redaction.make({ baseUrls: ["/v1?token=rel-secret-1"] })("token rel-secret-1")).toBe(`token ${p}`)
    // a lone surrogate has no URL-encoded form; a malformed escape no decoded one
    const odd = Redaction.make({ secrets: ["sk-\ud800-odd"], baseUrls: ["https://u%zz:p%zzzz@h.test/", "::"] })
    expect(odd("sk-\ud800-odd p%zzzz")).toBe(`${p} ${p}`)
  })

  it.prop("a secret of 4 characters or more never survives, in any of its forms", [
    // no character of the placeholder, so that the placeholder next to the text cannot spell it
    fc.string({ minLength: 4, maxLength: 24 }).filter((s) => ![...p].some((c) => s.includes(c))),
    fc.string({ maxLength: 16 })
  ], ([secret, around]) => {
    const redact = Redaction.make({ secrets: [secret] })
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      expect(redact(`${around}${form}${around}`).includes(secret)).toBe(false)
    }
  }, { fastCheck: { numRuns: 100 } })
})

describe("Redaction.none, combine, deep", () => {
  it("none changes nothing; combine applies each in order", () => {
    expect(Redaction.none("sk-abc123")).toBe("sk-abc123")
    expect(Redaction.combine()).toBe(Redaction.none)
    const redact = Redaction.combine(Redaction.make({ secrets: ["sk-one1"] }), Redaction.make({ secrets: ["sk-two2"] }))
    expect(redact("sk-one1 sk-two2")).toBe(`${p} ${p}`)
  })

  it("deep redacts every string of a JSON value, keys included, without changing the input", () => {
    const redact = Redaction.make({ secrets: ["sk-abc123"] })
    const input = { choices: [{ delta: { content: "key: sk-abc123" } }], "sk-abc123": 1 }
    expect(Redaction.deep(input, redact)).toEqual({ choices: [{ delta: { content: `key: ${p}` } }], [p]: 1 })
    expect(input.choices[0].delta.content).toBe("key: sk-abc123")
  })
})

describe("Redaction.error", () => {
  it("scrubs every text field of an error, keeping its class", () => {
    const redact = Redaction.make({ secrets: ["sk-secret-123"] })
    const error = Redaction.error(
      redact,
      new MimoError.UnknownApiError({ status: 502, message: "sk-secret-123", body: "<p>sk-secret-123</p>" })
    )
    expect(error).toBeInstanceOf(MimoError.UnknownApiError)
    expect(error.message).toBe(p)
    expect(error.body).toBe(`<p>${p}</p>`)
    const untouched = new MimoError.NotFound({ message: "no such model" })
    expect(Redaction.error(redact, untouched)).toBe(untouched)
  })

  it("never breaks an error whose constant fields contain a secret: those keep their value", () => {
    const redact = Redaction.make({ secrets: ["Time"] })
    const error = Redaction.error(
      redact,
      new MimoError.TransportError({ reason: "Timeout", message: "Time is up" })
    )
    expect(error).toBeInstanceOf(MimoError.TransportError)
    expect(error.reason).toBe("Timeout")
    expect(error.message).toBe(`${p} is up`)
  })
})
