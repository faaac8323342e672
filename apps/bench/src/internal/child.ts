/**
 * The child side of a case: `node dist/cases/<case>.js <client> '<config JSON>'`,
 * spawned by the runner with an IPC channel. The result goes back over IPC
 * (stdout is left to the client's own logging); with `barrier`, the child says
 * `ready` once its client is built and waits for `go` (the shared-limit case
 * starts its processes together).
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import * as Http from "node:http"
import * as Clients from "../Clients.js"
import type * as Results from "../Results.js"

/** What a child sends back. */
export type Message =
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Result"; readonly run: Results.Run }
  | { readonly _tag: "NotAvailable"; readonly reason: string }
  | { readonly _tag: "Error"; readonly reason: string }

const send = (message: Message): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) {
      process.stderr.write(`${JSON.stringify(message)}\n`)
      resolve()
    } else process.send(message, undefined, {}, () => resolve())
  })

/** Waits for the runner's `go`. */
const barrier = (): Promise<void> =>
  new Promise((resolve) => {
    process.on("message", (m) => {
      if (m === "go") resolve()
    })
    void send({ _tag: "Ready" })
  })

/** A JSON request to the server's control endpoints, outside any client's pool. */
export const control = (origin: string, path: string, method = "POST"): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const req = Http.request(`${origin}${path}`, { method, agent: false }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (b: Buffer) => parts.push(b))
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(parts).toString("utf8")))
        } catch (e) {
          reject(e)
        }
      })
    })
    req.on("error", reject)
    req.end()
  })

/**
 * Runs `run` as the child's whole life: sends the message it ends with (an error if it throws, a deadlock if the
 * event loop empties first) and exits.
 */
const serve = (run: () => Promise<Message>): void => {
  // A case whose fibers all wait on nothing (a deadlock) empties the event loop: Node would exit 0 silently.
  let finished = false
  process.on("beforeExit", () => {
    if (finished) return
    finished = true
    void send({
      _tag: "Error",
      reason: "deadlock: the event loop emptied while calls were still pending (every fiber waiting, no timer or " +
        "socket left)"
    }).finally(() => process.exit(0))
  })
  run().then(
    (message) => {
      finished = true
      return send(message)
    },
    (e: unknown) => send({ _tag: "Error", reason: e instanceof Error ? (e.stack ?? e.message) : String(e) })
  ).finally(() => process.exit(0))
}

/**
 * Runs a case in this process: decodes the client id and the config, builds
 * the client, calls `body`, sends the result and exits.
 */
export const main = <A, I>(
  config: Schema.Schema<A, I>,
  clientOptions: (config: A) => Clients.Options,
  hasBarrier: (config: A) => boolean,
  body: (client: Clients.BenchClient, config: A) => Promise<Results.Run>
): void =>
  serve(async (): Promise<Message> => {
    const id = process.argv[2] ?? ""
    if (!Clients.isId(id)) return { _tag: "Error", reason: `unknown client ${id}` }
    const decoded = Schema.decodeUnknownEither(Schema.parseJson(config))(process.argv[3] ?? "{}")
    if (decoded._tag === "Left") return { _tag: "Error", reason: String(decoded.left) }
    let client: Clients.BenchClient
    try {
      client = await Clients.make(id, clientOptions(decoded.right))
    } catch (e) {
      if (e instanceof Clients.NotAvailable) return { _tag: "NotAvailable", reason: e.message }
      throw e
    }
    if (hasBarrier(decoded.right)) await barrier()
    try {
      return { _tag: "Result", run: await body(client, decoded.right) }
    } finally {
      await client.close()
    }
  })

/**
 * Runs a case that builds its own client (not one of `Clients`): decodes the config and calls `body`, which
 * calls `ready` once it is ready to start (the runner's barrier: it resolves on `go`); sends the result and exits.
 */
export const mainOwn = <A, I>(
  config: Schema.Schema<A, I>,
  body: (config: A, ready: () => Promise<void>) => Promise<Results.Run>
): void =>
  serve(async (): Promise<Message> => {
    const decoded = Schema.decodeUnknownEither(Schema.parseJson(config))(process.argv[3] ?? "{}")
    if (decoded._tag === "Left") return { _tag: "Error", reason: String(decoded.left) }
    return { _tag: "Result", run: await body(decoded.right, barrier) }
  })
