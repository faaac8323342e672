/**
 * `StreamAccumulator`: folds the chunks of a stream into the `Response` they
 * amount to.
 *
 * Per choice `index`, `content` and `reasoning_content` are concatenated,
 * tool-call fragments are grouped by their `index` (the `id` and name kept
 * from the first fragment that had them, `arguments` concatenated),
 * annotations appended, audio fragments collected; `usage` is taken from any
 * chunk that has one, `finish_reason` from the last chunk that set one.
 *
 * The fold is linear in the length of the stream whatever the indexes (each
 * chunk costs O(1), amortized: the choices and tool calls live in persistent
 * maps, the lists grow in place), and it is pure: every accumulator stays
 * valid after later ones were built from it (`Stream.scan` may keep them all).
 *
 * @since 0.1.0
 */
import type { Annotation, Chunk, Response, Usage } from "./ChatCompletion.js"
import * as internal from "./internal/streamAccumulator.js"

/**
 * A tool call being assembled from fragments.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccumulatedToolCall {
  readonly index: number
  /** From the first fragment that carried one. */
  readonly id: string | undefined
  readonly type: string | undefined
  /** From the first fragment that carried one. */
  readonly name: string | undefined
  /** All `arguments` fragments, concatenated. */
  readonly arguments: string
}

/**
 * A choice being assembled from deltas.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccumulatedChoice {
  readonly index: number
  readonly role: string | undefined
  /** Concatenated `content` deltas; `undefined` until one arrives. */
  readonly content: string | undefined
  /** Concatenated `reasoning_content` deltas; `undefined` until one arrives. */
  readonly reasoning_content: string | undefined
  /** Sorted by `index`. */
  readonly tool_calls: ReadonlyArray<AccumulatedToolCall>
  readonly annotations: ReadonlyArray<Annotation>
  readonly error_message: string | undefined
  readonly final_text_preview: string | undefined
  readonly audio_id: string | undefined
  /** The base64 audio fragments, in order. */
  readonly audio_data: ReadonlyArray<string>
  readonly audio_transcript: string | undefined
  readonly audio_expires_at: number | undefined
  /** The last non-null `finish_reason`. */
  readonly finish_reason: string | null
}

/**
 * The state of a fold over a stream's chunks. Immutable: {@link add} returns
 * a new one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accumulator {
  /** From the first chunk. */
  readonly id: string | undefined
  readonly created: number | undefined
  readonly model: string | undefined
  /** Sorted by `index`. */
  readonly choices: ReadonlyArray<AccumulatedChoice>
  /** The last non-null `usage` of any chunk (the usage-only chunk included). */
  readonly usage: Usage | undefined
  /** How many chunks were folded in. */
  readonly chunks: number
}

/**
 * The starting point of a fold.
 *
 * @example
 * ```ts
 * import { ChatCompletion, StreamAccumulator } from "@effect-mimo/core"
 * import { Effect, Stream } from "effect"
 *
 * declare const chunks: Stream.Stream<ChatCompletion.Chunk>
 * const response = chunks.pipe(
 *   Stream.runFold(StreamAccumulator.empty, StreamAccumulator.add),
 *   Effect.map(StreamAccumulator.toResponse)
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Accumulator = internal.empty

/**
 * Folds one chunk into the accumulator.
 *
 * @example
 * ```ts
 * import { ChatCompletion, StreamAccumulator } from "@effect-mimo/core"
 *
 * const acc = StreamAccumulator.add(StreamAccumulator.empty, {
 *   id: "c1",
 *   object: "chat.completion.chunk",
 *   choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: "stop" }]
 * })
 * ChatCompletion.text(StreamAccumulator.toResponse(acc)) // "Hi"
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const add: (acc: Accumulator, chunk: Chunk) => Accumulator = internal.add

/**
 * The `Response` a stream amounts to: `object: "chat.completion"`, the
 * stream's `id`, `created` and `model`, one choice per `index` (content `null`
 * when no content delta came), and the usage, when any chunk carried it.
 *
 * @example
 * ```ts
 * import { StreamAccumulator } from "@effect-mimo/core"
 *
 * StreamAccumulator.toResponse(StreamAccumulator.empty).choices // []
 * ```
 *
 * @since 0.1.0
 * @category destructors
 */
export const toResponse: (acc: Accumulator) => Response = internal.toResponse

/**
 * Folds a whole sequence of chunks into a `Response`.
 *
 * @example
 * ```ts
 * import { StreamAccumulator } from "@effect-mimo/core"
 *
 * StreamAccumulator.accumulate([
 *   { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hi" } }] }
 * ]).choices[0].message.content // "Hi"
 * ```
 *
 * @since 0.1.0
 * @category destructors
 */
export const accumulate: (chunks: Iterable<Chunk>) => Response = internal.accumulate
