/**
 * A minimal `node:http` mock of `POST /v1/chat/completions`, run in its own
 * process so that the bench process's CPU is the client's alone.
 *
 * Used where the simulator's own per-request cost (routing, validation, answer
 * generation, Effect's HttpServer) would dominate the client's: the overhead,
 * streaming and memory cases. Keep-alive is on.
 *
 * - a request whose body holds `"stream":true` gets a pre-built SSE body of
 *   `chunks` chat.completion.chunk events and `data: [DONE]`, written at once;
 * - any other gets a fixed tiny `chat.completion` JSON;
 * - after `POST /_mock/hold`, non-streaming requests are held until `POST /_mock/release`;
 * - `GET /_mock/stats` tells the requests seen, the requests held and the server's CPU.
 *
 * Usage: `node dist/servers/mock.js '{"chunks":2000}'`; prints
 * `{"url":"http://127.0.0.1:<port>/v1","origin":"http://127.0.0.1:<port>"}` once listening.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Http from "node:http"
import * as Bodies from "../internal/bodies.js"

const Options = Schema.parseJson(Schema.Struct({
  chunks: Schema.optionalWith(Schema.Number, { default: () => 2000 })
}))

const options = Schema.decodeUnknownSync(Options)(process.argv[2] ?? "{}")

/** The tiny answer of the overhead case. */
const answer = Buffer.from(Bodies.answer)

const sse = Buffer.from(Bodies.sseText(Math.max(2, options.chunks)))

let requests = 0
let holding = false
const held: Array<Http.ServerResponse> = []

const sendAnswer = (res: Http.ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": answer.length })
  res.end(answer)
}

const release = () => {
  holding = false
  const all = held.splice(0, held.length)
  for (const res of all) if (!res.destroyed) sendAnswer(res)
  return all.length
}

const json = (res: Http.ServerResponse, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const server = Http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const url = req.url ?? ""
  if (url.startsWith("/_mock/")) {
    req.resume()
    req.on("end", () => {
      if (url === "/_mock/stats") {
        const cpu = process.cpuUsage()
        json(res, { requests, held: held.length, cpuUs: cpu.user + cpu.system })
      } else if (url === "/_mock/release") {
        json(res, { released: release() })
      } else if (url === "/_mock/hold") {
        holding = true
        json(res, { holding })
      } else {
        json(res, { error: "unknown" })
      }
    })
    return
  }
  requests++
  const body: Array<Buffer> = []
  req.on("data", (b: Buffer) => body.push(b))
  req.on("end", () => {
    const text = body.length === 1 ? body[0].toString("latin1") : Buffer.concat(body).toString("latin1")
    if (text.includes("\"stream\":true")) {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "content-length": sse.length
      })
      res.end(sse)
    } else if (holding) {
      held.push(res)
    } else {
      sendAnswer(res)
    }
  })
})
server.keepAliveTimeout = 60_000
server.headersTimeout = 0
server.requestTimeout = 0
server.maxRequestsPerSocket = 0

server.listen(0, "127.0.0.1", () => {
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  const origin = `http://127.0.0.1:${port}`
  process.stdout.write(`${JSON.stringify({ url: `${origin}/v1`, origin })}\n`)
})

const stop = () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
