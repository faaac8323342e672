/**
 * Processes: the servers (mock, simulator, Redis) and the case children, each
 * with a time limit so that no case can hang the run.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as ChildProcess from "node:child_process"
import * as Net from "node:net"
import * as Results from "./Results.js"

const dist = (path: string) => new URL(path, import.meta.url)

/**
 * A running server process.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server {
  readonly url: string
  readonly origin: string
  readonly stop: () => Promise<void>
}

const Listening = Schema.parseJson(Schema.Struct({ url: Schema.String, origin: Schema.String }))

const stopProcess = (proc: ChildProcess.ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
    const kill = setTimeout(() => proc.kill("SIGKILL"), 3000)
    proc.once("exit", () => {
      clearTimeout(kill)
      resolve()
    })
    proc.kill("SIGTERM")
  })

/**
 * Starts `dist/servers/<kind>.js` with `config` and waits for its URL (15 s at most).
 *
 * @since 0.1.0
 * @category servers
 */
export const startServer = (kind: "mock" | "simulator", config: unknown): Promise<Server> =>
  new Promise((resolve, reject) => {
    const proc = ChildProcess.spawn(process.execPath, [dist(`./servers/${kind}.js`).pathname, JSON.stringify(config)], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    const timer = setTimeout(() => {
      proc.kill("SIGKILL")
      reject(new Error(`${kind} server did not start within 15 s: ${err.slice(-2000)}`))
    }, 15_000)
    proc.stderr.on("data", (b: Buffer) => {
      err = (err + b.toString()).slice(-8000)
    })
    proc.stdout.on("data", (b: Buffer) => {
      out += b.toString()
      const nl = out.indexOf("\n")
      if (nl === -1) return
      clearTimeout(timer)
      proc.stdout.removeAllListeners("data")
      proc.stdout.resume()
      try {
        const { origin, url } = Schema.decodeUnknownSync(Listening)(out.slice(0, nl))
        resolve({ url, origin, stop: () => stopProcess(proc) })
      } catch (e) {
        proc.kill("SIGKILL")
        reject(e)
      }
    })
    proc.on("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`${kind} server exited (${code}): ${err.slice(-2000)}`))
    })
  })

/**
 * Runs `f` with a fresh server, stopped afterwards.
 *
 * @since 0.1.0
 * @category servers
 */
export const withServer = async <A>(
  kind: "mock" | "simulator",
  config: unknown,
  f: (server: Server) => Promise<A>
): Promise<A> => {
  const server = await startServer(kind, config)
  try {
    return await f(server)
  } finally {
    await server.stop()
  }
}

const getJson = async (url: string): Promise<unknown> => {
  const response = await fetch(url)
  return response.json()
}

/**
 * The simulator's counters that the tables use.
 *
 * @since 0.1.0
 * @category servers
 */
export const SimStats = Schema.Struct({
  requests: Schema.Number,
  byStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
  rateLimited: Schema.Number
})

/**
 * `GET /_sim/stats`.
 *
 * @since 0.1.0
 * @category servers
 */
export const simStats = async (server: Server): Promise<typeof SimStats.Type> =>
  Schema.decodeUnknownSync(SimStats)(await getJson(`${server.origin}/_sim/stats`))

/**
 * The mock's counters: requests seen and its CPU time.
 *
 * @since 0.1.0
 * @category servers
 */
export const mockStats = async (server: Server): Promise<{ readonly requests: number; readonly cpuUs: number }> =>
  Schema.decodeUnknownSync(Schema.Struct({ requests: Schema.Number, cpuUs: Schema.Number }))(
    await getJson(`${server.origin}/_mock/stats`)
  )

/**
 * How a child ended.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly status: "ok"; readonly run: Results.Run }
  | { readonly status: "not available" | "error" | "timeout"; readonly reason: string }

/**
 * A spawned case child.
 *
 * @since 0.1.0
 * @category models
 */
export interface Child {
  /** Resolves when the child is ready (its client built), or has ended. */
  readonly ready: Promise<void>
  /** Tells a child started with a barrier to begin. */
  readonly go: () => void
  readonly outcome: Promise<Outcome>
  /** The lines the child printed (stderr; stdout too with `captureOutput`), the first 1,000. */
  readonly printed: () => ReadonlyArray<string>
}

const Message = Schema.Union(
  Schema.TaggedStruct("Ready", {}),
  Schema.TaggedStruct("Result", { run: Results.Run }),
  Schema.TaggedStruct("NotAvailable", { reason: Schema.String }),
  Schema.TaggedStruct("Error", { reason: Schema.String })
)

/**
 * Spawns `node [nodeArgs] dist/cases/<name>.js <client> <config JSON>` with an
 * IPC channel; killed after `timeoutMs`.
 *
 * @since 0.1.0
 * @category children
 */
export const spawnCase = (
  name: "chat" | "stream" | "memory" | "redisOutage" | "effectSteps",
  client: string,
  config: unknown,
  options: {
    readonly timeoutMs: number
    readonly nodeArgs?: ReadonlyArray<string> | undefined
    /** Also read the child's stdout (left unread otherwise) into `printed`. */
    readonly captureOutput?: boolean | undefined
  }
): Child => {
  const proc = ChildProcess.spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), dist(`./cases/${name}.js`).pathname, client, JSON.stringify(config)],
    { stdio: ["ignore", options.captureOutput === true ? "pipe" : "ignore", "pipe", "ipc"] }
  )
  let err = ""
  const printed: Array<string> = []
  const partial = { stdout: "", stderr: "" }
  const collect = (stream: "stdout" | "stderr") => (b: Buffer) => {
    const lines = (partial[stream] + b.toString()).split("\n")
    partial[stream] = lines.pop() ?? ""
    for (const line of lines) if (printed.length < 1000) printed.push(line)
  }
  proc.stdout?.on("data", collect("stdout"))
  proc.stderr?.on("data", collect("stderr"))
  proc.stderr?.on("data", (b: Buffer) => {
    err = (err + b.toString()).slice(-4000)
  })
  let markReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    markReady = resolve
  })
  const outcome = new Promise<Outcome>((resolve) => {
    let settled: Outcome | undefined
    const timer = setTimeout(() => {
      settled = { status: "timeout", reason: `no result within ${Math.round(options.timeoutMs / 1000)} s` }
      proc.kill("SIGKILL")
    }, options.timeoutMs)
    proc.on("message", (raw) => {
      const decoded = Schema.decodeUnknownEither(Message)(raw)
      if (decoded._tag === "Left") {
        settled ??= { status: "error", reason: `bad message from the child: ${String(decoded.left)}` }
        return
      }
      const m = decoded.right
      switch (m._tag) {
        case "Ready":
          markReady()
          break
        case "Result":
          settled ??= { status: "ok", run: m.run }
          break
        case "NotAvailable":
          settled ??= { status: "not available", reason: m.reason }
          break
        case "Error":
          settled ??= { status: "error", reason: m.reason }
          break
      }
    })
    proc.on("exit", (code, signal) => {
      clearTimeout(timer)
      markReady()
      resolve(
        settled ?? { status: "error", reason: `exited (${code ?? signal}) without a result: ${err.slice(-1500)}` }
      )
    })
  })
  return {
    ready,
    outcome,
    go: () => {
      if (proc.connected) proc.send("go")
    },
    printed: () => [...printed, ...[partial.stdout, partial.stderr].filter((line) => line !== "")]
  }
}

/**
 * Runs one child to its end.
 *
 * @since 0.1.0
 * @category children
 */
export const runCase = (
  name: "chat" | "stream" | "memory",
  client: string,
  config: unknown,
  options: { readonly timeoutMs: number; readonly nodeArgs?: ReadonlyArray<string> | undefined }
): Promise<Outcome> => spawnCase(name, client, config, options).outcome

/**
 * A free TCP port on 127.0.0.1.
 *
 * @since 0.1.0
 * @category servers
 */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/**
 * Starts `redis-server` (`REDIS_SERVER_PATH`, else the one on `PATH`) on a
 * free port without persistence; or says why it could not.
 *
 * @since 0.1.0
 * @category servers
 */
export const startRedis = async (): Promise<{ readonly url: string; readonly stop: () => Promise<void> } | string> => {
  const binary = process.env["REDIS_SERVER_PATH"] ?? "redis-server"
  const port = await freePort()
  return new Promise((resolve) => {
    const proc = ChildProcess.spawn(
      binary,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let out = ""
    let done = false
    const finish = (value: { readonly url: string; readonly stop: () => Promise<void> } | string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(value)
    }
    const timer = setTimeout(() => {
      proc.kill("SIGKILL")
      finish(`redis-server did not start within 10 s: ${out.slice(-500)}`)
    }, 10_000)
    proc.on("error", (e) => finish(`cannot run ${binary}: ${e.message}`))
    const onData = (b: Buffer) => {
      out = (out + b.toString()).slice(-4000)
      if (out.includes("Ready to accept connections")) {
        finish({ url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(proc) })
      }
    }
    proc.stdout.on("data", onData)
    proc.stderr.on("data", onData)
    proc.on("exit", (code) => finish(`redis-server exited (${code}): ${out.slice(-500)}`))
  })
}
