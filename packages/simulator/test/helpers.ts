import { expect } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import type { Simulator } from "../src/index.js"

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

export const request = (
  url: string,
  init: RequestInit = {}
): Effect.Effect<Reply, unknown> =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { signal, ...init })
      return { status: response.status, headers: response.headers, text: await response.text() }
    },
    catch: (e) => e
  })

export const chatBody = (overrides: Record<string, unknown> = {}) => ({
  model: "mimo-v2-flash",
  messages: [{ role: "user", content: "Hello there, simulator!" }],
  ...overrides
})

export const chat = (
  sim: { readonly url: string },
  body: unknown = chatBody(),
  headers: Record<string, string> = {}
): Effect.Effect<Reply, unknown> =>
  request(`${sim.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer test-key", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** Parsed JSON for assertions (tests only: shapes are checked by the assertions themselves). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const json = (reply: Reply): any => JSON.parse(reply.text)

/** The `data` payloads of an SSE body, in order (`[DONE]` included as the string). */
export const sseData = (text: string): Array<string> =>
  text.split("\n\n").filter((e) => e.trim() !== "").map((e) => {
    expect(e.startsWith("data: ")).toBe(true)
    return e.slice("data: ".length)
  })

/** Reads a streamed body until it ends or fails; keeps what arrived. */
export const readPartial = (
  url: string,
  init: RequestInit
): Effect.Effect<{ status: number; text: string; failed: boolean }, unknown> =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(url, init)
      const reader = response.body!.getReader()
      const decoder = new TextDecoder()
      let text = ""
      let failed = false
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          text += decoder.decode(value, { stream: true })
        }
      } catch {
        failed = true
      }
      return { status: response.status, text, failed }
    },
    catch: (e) => e
  })

/** Polls the stats until `predicate` holds (at most ~2 s). */
export const statsUntil = (
  sim: Simulator.SimulatorService,
  predicate: (s: Simulator.Stats) => boolean
): Effect.Effect<Simulator.Stats, string> =>
  sim.stats.pipe(
    Effect.filterOrFail(predicate, (s) => `stats never matched: ${JSON.stringify(s)}`),
    Effect.retry(Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(200))))
  )
