/**
 * The short text form of a fault (the `x-mimo-sim-fault` header and the
 * `MIMO_SIM_FAULTS` variable). The grammar is documented on `Fault.ts` and in
 * the README.
 *
 * @internal
 */
import { ErrorCode } from "@effect-mimo/core"
import * as Either from "effect/Either"

/** The encoded (JSON) form of a fault, as the short text form describes it. */
export type Encoded = { readonly _tag: string; readonly [key: string]: unknown }

const proxyHtml = (status: number) => {
  const reason = reasons[status] ?? "Error"
  return [
    "<html>",
    `<head><title>${status} ${reason}</title></head>`,
    "<body>",
    `<center><h1>${status} ${reason}</h1></center>`,
    "<hr><center>nginx</center>",
    "</body>",
    "</html>",
    ""
  ].join("\r\n")
}

const reasons: Record<number, string> = {
  400: "Bad Request",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  413: "Request Entity Too Large",
  421: "Misdirected Request",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out"
}

const truncatedJson = "{\"id\":\"8b51f9e0515949cb8207fbd35ea6ea5c\",\"object\":\"chat.completion\",\"created\":17768489"

const nonNegative = (text: string, what: string): Either.Either<number, string> => {
  const n = Number(text)
  return text.trim() !== "" && Number.isFinite(n) && n >= 0
    ? Either.right(n)
    : Either.left(`${what}: expected a non-negative number, got "${text}"`)
}

const count = (text: string, what: string): Either.Either<number, string> => {
  const n = Number(text)
  return /^\d+$/.test(text.trim()) ? Either.right(n) : Either.left(`${what}: expected a whole number, got "${text}"`)
}

const code = (text: string): Either.Either<ErrorCode.Code, string> => {
  const t = text.trim()
  if (ErrorCode.isCode(t)) return Either.right(t)
  const byStatus = /^\d+$/.test(t) ? ErrorCode.fromStatus(Number(t)) : undefined
  return byStatus !== undefined
    ? Either.right(byStatus.code)
    : Either.left(`unknown error code "${text}" (expected one of ${ErrorCode.codes.join(", ")}, or its status)`)
}

const option = (segment: string): readonly [string, string | undefined] => {
  const eq = segment.indexOf("=")
  return eq === -1
    ? [segment.trim().toLowerCase(), undefined]
    : [segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1)]
}

/** Parses the short text form into the encoded (JSON) form of a fault. */
export const parse = (input: string): Either.Either<Encoded, string> => {
  const segments = input.split(";")
  const head = segments[0].trim()
  const options = segments.slice(1).filter((s) => s.trim() !== "").map(option)
  const parts = head.split(":").map((s) => s.trim())
  const kind = parts[0].toLowerCase()
  const args = parts.slice(1)
  const noArgs = (tag: string): Either.Either<Encoded, string> =>
    args.length === 0 ? Either.right({ _tag: tag }) : Either.left(`"${kind}" takes no argument`)
  switch (kind) {
    case "ok":
    case "none":
      return noArgs("Ok")
    case "reset":
      return noArgs("Reset")
    case "hang":
      return noArgs("Hang")
    case "latency":
    case "delay":
      return args.length === 1
        ? Either.map(nonNegative(args[0], "latency"), (millis) => ({ _tag: "Latency", millis }))
        : Either.left("latency: expected latency:<milliseconds>")
    case "cut":
    case "stream-cut":
      return args.length === 1
        ? Either.map(count(args[0], "cut"), (afterChunks) => ({ _tag: "StreamCut", afterChunks }))
        : Either.left("cut: expected cut:<chunks>")
    case "stream-error":
      if (args.length < 1 || args.length > 2) {
        return Either.left("stream-error: expected stream-error:<chunks>[:<code>]")
      }
      return Either.flatMap(count(args[0], "stream-error"), (afterChunks): Either.Either<Encoded, string> =>
        Either.map(
          args.length === 2 ? code(args[1]) : Either.right<ErrorCode.Code>("internal_error"),
          (c): Encoded => ({ _tag: "StreamError", afterChunks, code: c })
        ))
    case "error":
      return args.length === 1 ? errorFault(args[0], options) : Either.left("error: expected error:<code>[;options]")
    case "status":
      return args.length === 1
        ? statusFault(args[0], options)
        : Either.left("status: expected status:<status>[;options]")
    case "tool-calls":
    case "tools": {
      const names = args.length === 1 ? args[0].split(",").map((n) => n.trim()).filter((n) => n !== "") : []
      return names.length > 0
        ? Either.right({ _tag: "ToolCalls", calls: names.map((name) => ({ name })) })
        : Either.left("tool-calls: expected tool-calls:<name>[,<name>...]")
    }
    case "malformed-args":
      return args.length === 0
        ? Either.right({ _tag: "MalformedToolArguments" })
        : args.length === 1
        ? Either.right({ _tag: "MalformedToolArguments", name: args[0] })
        : Either.left("malformed-args: expected malformed-args[:<name>]")
    case "nonconforming-json":
      return noArgs("NonConformingJson")
    default:
      return Either.left(
        `unknown fault "${kind}" (expected ok, error, status, reset, hang, latency, cut, stream-error, ` +
          "tool-calls, malformed-args or nonconforming-json)"
      )
  }
}

const errorFault = (
  codeText: string,
  options: ReadonlyArray<readonly [string, string | undefined]>
): Either.Either<Encoded, string> =>
  Either.flatMap(code(codeText), (c): Either.Either<Encoded, string> => {
    const out: Record<string, unknown> = { _tag: "Error", code: c }
    for (const [key, value] of options) {
      if (value === undefined) return Either.left(`error: option "${key}" needs a value`)
      switch (key) {
        case "retry-after":
        case "retry-after-seconds": {
          const n = nonNegative(value, key)
          if (Either.isLeft(n)) return Either.left(n.left)
          out.retryAfter = { seconds: n.right }
          break
        }
        case "retry-after-ms": {
          const n = nonNegative(value, key)
          if (Either.isLeft(n)) return Either.left(n.left)
          out.retryAfter = { millis: n.right }
          break
        }
        case "retry-after-date": {
          const n = nonNegative(value, key)
          if (Either.isLeft(n)) return Either.left(n.left)
          out.retryAfter = { httpDate: n.right }
          break
        }
        case "message":
          out.message = value
          break
        case "shape":
          out.shape = value.trim()
          break
        default:
          return Either.left(`error: unknown option "${key}"`)
      }
    }
    return Either.right({ ...out, _tag: "Error" })
  })

const statusFault = (
  statusText: string,
  options: ReadonlyArray<readonly [string, string | undefined]>
): Either.Either<Encoded, string> =>
  Either.flatMap(count(statusText, "status"), (status): Either.Either<Encoded, string> => {
    let body = ""
    let contentType: string | undefined = undefined
    const headers: Record<string, string> = {}
    for (const [key, value] of options) {
      switch (key) {
        case "html":
          body = proxyHtml(status)
          contentType ??= "text/html"
          break
        case "empty":
          body = ""
          break
        case "truncated":
          body = truncatedJson
          contentType ??= "application/json"
          break
        case "json":
          body = JSON.stringify({ error: { code: String(status), message: reasons[status] ?? "Error", type: "" } })
          contentType ??= "application/json"
          break
        case "body":
        case "text":
          if (value === undefined) return Either.left(`status: option "${key}" needs a value`)
          body = value
          break
        case "content-type":
          if (value === undefined) return Either.left("status: option \"content-type\" needs a value")
          contentType = value.trim()
          break
        case "retry-after":
          if (value === undefined) return Either.left("status: option \"retry-after\" needs a value")
          headers["retry-after"] = value.trim()
          break
        default:
          return Either.left(`status: unknown option "${key}"`)
      }
    }
    const out: Record<string, unknown> = { status, body }
    if (contentType !== undefined) out.contentType = contentType
    if (Object.keys(headers).length > 0) out.headers = headers
    return Either.right({ ...out, _tag: "Status" })
  })
