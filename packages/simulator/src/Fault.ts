/**
 * What the simulator does to a request instead of (or before) answering it
 * normally: one Schema-tagged union used by all three ways of injecting
 * faults (scripted, seeded probabilities, the `x-mimo-sim-fault` header).
 *
 * ## Short text form (header `x-mimo-sim-fault`, `MIMO_SIM_FAULTS`)
 *
 * The header holds either a fault as JSON (`{"_tag":"Latency","millis":200}`)
 * or this short form: `kind[:arg[:arg]][;option[=value]]...`
 *
 * | text | fault |
 * |---|---|
 * | `ok` | `Ok`: answer normally |
 * | `error:<code or status>` | `Error`, e.g. `error:service_unavailable`, `error:503` |
 * | `  ;retry-after=<s>` `;retry-after-ms=<ms>` `;retry-after-date=<s from now>` | its `retryAfter` |
 * | `  ;message=<text>` `;shape=seed\|xiaomi\|bare` | its message / envelope shape |
 * | `status:<status>` | `Status` with an empty body |
 * | `  ;html` `;empty` `;truncated` `;json` `;body=<text>` | proxy HTML, nothing, cut JSON, Xiaomi JSON, any text |
 * | `  ;content-type=<type>` `;retry-after=<value>` | its content type / a `Retry-After` header |
 * | `reset` | `Reset`: the socket is destroyed, no response |
 * | `hang` | `Hang`: never answer |
 * | `latency:<ms>` | `Latency`: wait, then answer normally |
 * | `cut:<n>` | `StreamCut`: n data chunks, then the socket is destroyed |
 * | `stream-error:<n>[:<code>]` | `StreamError`: n chunks, an SSE error event, the end (`internal_error`) |
 * | `tool-calls:<name>[,<name>…]` | `ToolCalls`: call these tools (in parallel), arguments from their schemas |
 * | `malformed-args[:<name>]` | `MalformedToolArguments`: call the tool (default: the first) with arguments that are not JSON |
 * | `nonconforming-json` | `NonConformingJson`: a `json_object` answer that breaks the schema in the request |
 *
 * The last three are directives rather than faults: they choose what the
 * "model" answers (the request still goes through every check).
 *
 * @since 0.1.0
 */
import { ErrorCode } from "@effect-mimo/core"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as internal from "./internal/faultText.js"

/**
 * The seed table's error codes, as a Schema.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 * import { Schema } from "effect"
 *
 * Schema.is(Fault.Code)("service_unavailable") // true
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Code: Schema.Schema<ErrorCode.Code> = Schema.Literal(
  "invalid_request",
  "authentication_failed",
  "permission_denied",
  "not_found",
  "rate_limit_exceeded",
  "internal_error",
  "service_unavailable"
)

/**
 * The envelope shape of an error body: `seed` (`{"error":{"code","message","type"}}`),
 * `xiaomi` (code = the status as a string, detail in `param`), or `bare`
 * (`{"type","message"}` without the `error` wrapper).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.error("internal_error", { shape: "xiaomi" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Shape = Schema.Literal("seed", "xiaomi", "bare")

/**
 * @since 0.1.0
 * @category models
 */
export type Shape = typeof Shape.Type

/**
 * How a 429 (or any error) says when to come back: `Retry-After` in whole
 * seconds, as an HTTP date `httpDate` seconds from now, or `retry-after-ms`.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.error("rate_limit_exceeded", { retryAfter: { httpDate: 30 } }) // Retry-After: <now + 30 s as an HTTP date>
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const RetryAfter = Schema.Union(
  Schema.Struct({ seconds: Schema.NonNegative }),
  Schema.Struct({ httpDate: Schema.NonNegative }),
  Schema.Struct({ millis: Schema.NonNegative })
)

/**
 * @since 0.1.0
 * @category models
 */
export type RetryAfter = typeof RetryAfter.Type

/**
 * Answer with the seed envelope of `code` (its table status), optionally with
 * a message, a `Retry-After`, and another envelope shape.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.Error.make({ code: "service_unavailable", retryAfter: { seconds: 2 } })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Error = Schema.TaggedStruct("Error", {
  code: Code,
  message: Schema.optional(Schema.String),
  retryAfter: Schema.optional(RetryAfter),
  shape: Schema.optional(Shape)
})

/**
 * Answer with any status and any body: an HTML 502 from a proxy, an empty
 * 503, truncated JSON, a 402 without the `error` wrapper...
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.Status.make({ status: 502, body: "<html>Bad Gateway</html>", contentType: "text/html" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Status = Schema.TaggedStruct("Status", {
  status: Schema.Int.pipe(Schema.between(100, 599)),
  body: Schema.optionalWith(Schema.String, { default: () => "" }),
  contentType: Schema.optional(Schema.String),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})

/**
 * Destroy the connection without any response (the client sees a reset).
 * `Fault.Reset.make({})` is the value `Fault.reset`, whose example shows it in use
 * (docgen names example files by export, and `Reset`/`reset` differ only in case).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Reset = Schema.TaggedStruct("Reset", {})

/**
 * Never answer, until the client goes away (counted in `clientClosed`).
 * `Fault.Hang.make({})` is the value `Fault.hang`, whose example shows it in use.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Hang = Schema.TaggedStruct("Hang", {})

/**
 * Wait `millis`, then answer normally.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.Latency.make({ millis: 250 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Latency = Schema.TaggedStruct("Latency", { millis: Schema.NonNegative })

/**
 * Stream `afterChunks` data chunks, then destroy the connection (no
 * `[DONE]`). On a non-streaming request: send the headers and half of the
 * JSON body, then destroy the connection.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.StreamCut.make({ afterChunks: 5 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamCut = Schema.TaggedStruct("StreamCut", { afterChunks: Schema.NonNegativeInt })

/**
 * Stream `afterChunks` data chunks, then one SSE event
 * `data: {"error":{...}}` for `code`, then end the response normally (no
 * `[DONE]`). On a non-streaming request: answer with the error itself.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.StreamError.make({ afterChunks: 3, code: "internal_error" })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const StreamError = Schema.TaggedStruct("StreamError", {
  afterChunks: Schema.NonNegativeInt,
  code: Code
})

/**
 * No fault: answer normally. Useful in a script ("fail, then succeed") and as
 * an explicit header value that skips the script and the probabilities.
 * `Fault.Ok.make({})` is the value `Fault.ok`, whose example shows it in a script.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ok = Schema.TaggedStruct("Ok", {})

/**
 * A directive: answer with these tool calls (several: in parallel, one
 * `tool_calls` entry each), whatever the prompt says. `arguments` is sent as
 * its JSON; without it, arguments are generated from the tool's `parameters`
 * in the request.
 *
 * Its constructor in use is the value `Fault.toolCalls`, whose example shows it
 * (docgen names example files by export, and `ToolCalls`/`toolCalls` differ only in case).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolCalls = Schema.TaggedStruct("ToolCalls", {
  calls: Schema.NonEmptyArray(Schema.Struct({
    name: Schema.String,
    arguments: Schema.optional(Schema.Unknown)
  }))
})

/**
 * A directive: answer with a call of the named tool (default: the first
 * function tool of the request) whose `arguments` are not valid JSON.
 *
 * Its constructor in use is the value `Fault.malformedToolArguments`, whose example shows it
 * (docgen names example files by export, and `MalformedToolArguments`/`malformedToolArguments` differ only in case).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MalformedToolArguments = Schema.TaggedStruct("MalformedToolArguments", {
  name: Schema.optional(Schema.String)
})

/**
 * A directive: a `json_object` answer that is JSON but does not conform to
 * the JSON Schema in the request (a required property left out, or one of the
 * wrong type).
 *
 * Its constructor in use is the value `Fault.nonConformingJson`, whose example shows it
 * (docgen names example files by export, and `NonConformingJson`/`nonConformingJson` differ only in case).
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonConformingJson = Schema.TaggedStruct("NonConformingJson", {})

/**
 * Every fault, as a Schema (its JSON form is the encoded side).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 * import { Schema } from "effect"
 *
 * Schema.decodeUnknownSync(Fault.Fault)({ _tag: "Latency", millis: 200 })
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Union(
  Error,
  Status,
  Reset,
  Hang,
  Latency,
  StreamCut,
  StreamError,
  Ok,
  ToolCalls,
  MalformedToolArguments,
  NonConformingJson
)

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * The JSON (encoded) form of a fault.
 *
 * @since 0.1.0
 * @category models
 */
export type Encoded = typeof Fault.Encoded

/**
 * The tag of each fault kind.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = Fault["_tag"]

const decodeEncoded = ParseResult.decodeUnknownEither(Schema.encodedSchema(Fault))

const EncodedFromShortText: Schema.Schema<Encoded, string> = Schema.transformOrFail(
  Schema.String,
  Schema.encodedSchema(Fault),
  {
    strict: true,
    decode: (text, _, ast) => {
      const trimmed = text.trim()
      const raw: Either.Either<unknown, ParseResult.ParseIssue> = trimmed.startsWith("{")
        ? Either.try({
          try: (): unknown => JSON.parse(trimmed),
          catch: (e) => new ParseResult.Type(ast, text, `invalid fault JSON: ${String(e)}`)
        })
        : Either.mapLeft(internal.parse(trimmed), (message) => new ParseResult.Type(ast, text, message))
      return Either.flatMap(raw, decodeEncoded)
    },
    encode: (encoded) => ParseResult.succeed(JSON.stringify(encoded))
  }
)

/**
 * A fault from its text: JSON (`{"_tag":"Hang"}`) or the short form
 * (`error:rate_limit_exceeded;retry-after=3`). Encodes to JSON.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 * import { Schema } from "effect"
 *
 * Schema.decodeSync(Fault.FromString)("stream-error:3:internal_error")
 * // { _tag: "StreamError", afterChunks: 3, code: "internal_error" }
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const FromString: Schema.Schema<Fault, string> = Schema.compose(EncodedFromShortText, Fault)

const decodeText = Schema.decodeEither(FromString)

/**
 * Parses a fault from its text (JSON or short form); the message says what
 * is wrong.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.parse("latency:200") // Either.right({ _tag: "Latency", millis: 200 })
 * Fault.parse("latency:soon") // Either.left("latency: expected a non-negative number, got \"soon\"")
 * ```
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): Either.Either<Fault, string> =>
  Either.mapLeft(decodeText(text), (error) => ParseResult.TreeFormatter.formatErrorSync(error))

/**
 * The JSON text of a fault (what `POST /_sim/script` and the header accept).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.toJson(Fault.streamCut(3)) // '{"_tag":"StreamCut","afterChunks":3}'
 * ```
 *
 * @since 0.1.0
 * @category formatting
 */
export const toJson: (fault: Fault) => string = Schema.encodeSync(FromString)

/**
 * Answer with the seed envelope of `code`.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.error("rate_limit_exceeded", { retryAfter: { seconds: 3 } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const error = (
  code: ErrorCode.Code,
  options?: {
    readonly message?: string | undefined
    readonly retryAfter?: RetryAfter | undefined
    readonly shape?: Shape | undefined
  }
): Fault =>
  Error.make({
    code,
    ...(options?.message !== undefined ? { message: options.message } : {}),
    ...(options?.retryAfter !== undefined ? { retryAfter: options.retryAfter } : {}),
    ...(options?.shape !== undefined ? { shape: options.shape } : {})
  })

/**
 * Answer with any status and body.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.status(502, "<html>Bad Gateway</html>", { contentType: "text/html" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const status = (
  status: number,
  body: string = "",
  options?: {
    readonly contentType?: string | undefined
    readonly headers?: Readonly<Record<string, string>> | undefined
  }
): Fault =>
  Status.make({
    status,
    body,
    ...(options?.contentType !== undefined ? { contentType: options.contentType } : {}),
    ...(options?.headers !== undefined ? { headers: options.headers } : {})
  })

/**
 * Destroy the connection without a response.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * const faults = [Fault.reset, Fault.ok]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const reset: Fault = Reset.make({})

/**
 * Never answer.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * const faults = [Fault.hang]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const hang: Fault = Hang.make({})

/**
 * Answer normally.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * const faults = [Fault.error("internal_error"), Fault.ok]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const ok: Fault = Ok.make({})

/**
 * Wait, then answer normally.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.latency(200)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const latency = (millis: number): Fault => Latency.make({ millis })

/**
 * Stream n data chunks, then destroy the connection.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.streamCut(5)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamCut = (afterChunks: number): Fault => StreamCut.make({ afterChunks })

/**
 * Stream n data chunks, then an SSE error event, then end.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.streamError(3, "internal_error")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamError = (afterChunks: number, code: ErrorCode.Code = "internal_error"): Fault =>
  StreamError.make({ afterChunks, code })

/**
 * Answer with calls of these tools, in parallel (see {@link ToolCalls}).
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.toolCalls({ name: "clock" }, { name: "add", arguments: { a: 1, b: 2 } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const toolCalls = (
  first: { readonly name: string; readonly arguments?: unknown },
  ...rest: ReadonlyArray<{ readonly name: string; readonly arguments?: unknown }>
): Fault => ToolCalls.make({ calls: [first, ...rest] })

/**
 * Answer with a tool call whose arguments are not valid JSON.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * Fault.malformedToolArguments("clock")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const malformedToolArguments = (name?: string): Fault =>
  MalformedToolArguments.make(name === undefined ? {} : { name })

/**
 * Answer `json_object` requests with JSON that breaks the request's schema.
 *
 * @example
 * ```ts
 * import { Fault } from "@effect-mimo/simulator"
 *
 * const script = [Fault.nonConformingJson, Fault.ok]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const nonConformingJson: Fault = NonConformingJson.make({})
