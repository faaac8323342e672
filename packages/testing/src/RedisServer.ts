/**
 * A throwaway `redis-server` (Debian's `redis-server` package) on a random
 * loopback port, as a child process of the test run, with persistence off.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as net from "node:net"
import * as SystemProgram from "./SystemProgram.js"

/**
 * The program: `$REDIS_SERVER_PATH`, else `redis-server` on the PATH.
 *
 * @example
 * ```ts
 * import { RedisServer, SystemProgram } from "@effect-mimo/testing"
 *
 * SystemProgram.find(RedisServer.program)
 * ```
 *
 * @since 0.1.0
 */
export const program: SystemProgram.Program = {
  name: "redis-server",
  env: "REDIS_SERVER_PATH",
  debianPackage: "redis-server"
}

/**
 * `describe` for tests that need redis-server (see `SystemProgram.describeWith`).
 *
 * @example
 * ```ts
 * import { RedisServer } from "@effect-mimo/testing"
 *
 * RedisServer.describe("shared limiter", (executablePath) => {
 *   // start servers with RedisServer.start(executablePath)
 * })
 * ```
 *
 * @since 0.1.0
 */
export const describe = (name: string, body: (executablePath: string) => void): void =>
  SystemProgram.describeWith(program, name, body)

/**
 * Where a started server listens.
 *
 * @since 0.1.0
 */
export interface Address {
  readonly host: string
  readonly port: number
}

const freePort = Effect.async<number, Error>((resume) => {
  const server = net.createServer()
  server.once("error", (e) => resume(Effect.fail(e)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** One `PING` over a raw socket: ready when the answer is `+PONG`. */
const ping = (port: number) =>
  Effect.async<void, Error>((resume) => {
    const socket = net.connect(port, "127.0.0.1")
    socket.setTimeout(500)
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (data) => {
      socket.destroy()
      resume(data.toString().startsWith("+PONG") ? Effect.void : Effect.fail(new Error(`unexpected: ${data}`)))
    })
    socket.once("timeout", () => {
      socket.destroy()
      resume(Effect.fail(new Error("PING timed out")))
    })
    socket.once("error", (e) => resume(Effect.fail(e)))
  })

/**
 * Starts `redis-server` on 127.0.0.1 and a free port, waits until it answers
 * `PING`, and stops it when the scope closes.
 *
 * @example
 * ```ts
 * import { RedisServer } from "@effect-mimo/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const { host, port } = yield* RedisServer.start("/usr/bin/redis-server")
 *   return `${host}:${port}`
 * }))
 * ```
 *
 * Pass `port` to start it again where a stopped one listened (a test that
 * kills Redis and brings it back).
 *
 * @since 0.1.0
 */
export const start = (
  executablePath: string,
  options?: { readonly port?: number | undefined }
): Effect.Effect<Address, never, Scope.Scope> =>
  Effect.gen(function*() {
    const port = options?.port ?? (yield* freePort)
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(
          executablePath,
          ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
          { stdio: "ignore" }
        )
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGTERM")
        })
    )
    yield* ping(port).pipe(Effect.retry(Schedule.spaced("50 millis").pipe(Schedule.intersect(Schedule.recurs(100)))))
    return { host: "127.0.0.1", port }
  }).pipe(Effect.orDie)
