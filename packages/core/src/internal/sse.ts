import * as Sse from "@effect/experimental/Sse"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as MimoError from "../MimoError.js"
import * as Utf8 from "./utf8.js"

/** @internal */
export const excerpt = (text: string, max = 512): string => text.length > max ? `${text.slice(0, max)}…` : text

/** @internal */
export interface Framer {
  /** Feeds decoded text (any split); the error of an oversized event, if any. */
  readonly feed: (text: string) => Sse.SseError | undefined
  /** The end of the text: a CR held back from the last piece is a line end after all. */
  readonly end: () => Sse.SseError | undefined
}

/**
 * The SSE framing: text in, the `data` of each unnamed (`message`) or `error`
 * event out, in order. Other named events (e.g. the `mimo.retry` notices of
 * `ServerError.sseStreamWithRetries`) go to `onNamed`, when given, and are
 * otherwise skipped, as `EventSource.onmessage` would.
 *
 * `@effect/experimental`'s `Sse.makeParser` does the framing (lines, `data:`
 * with or without a space, multi-line data, comments, CR/CRLF, BOM, event
 * size). Two things are ours, both measured in `apps/bench`:
 *
 * - it is fed one line at a time: given a whole network chunk (often 64 KiB of
 *   small events) it re-scans its buffer from the start for every line, which
 *   made streaming cost ~250 µs per event; line by line it is linear;
 * - the event almost every stream is made of, one `data:` line and a blank
 *   line, is taken without it when the parser stands between two events (its
 *   state then is empty): the parser reads character by character and builds
 *   the data by concatenation, ≈ 0.9 µs of the ≈ 3.3 µs an event cost. Anything
 *   else (CR, several data lines, fields, comments, a line split across
 *   network chunks) goes to the parser. A property test checks that the events
 *   are those the parser alone finds, for any text and any split.
 *
 * @internal
 */
export const makeFramer = (
  onData: (data: string) => void,
  maxEventSize: number,
  onNamed?: (event: string, data: string) => void
): Framer => {
  const parser = Sse.makeParser((event) => {
    if (event._tag !== "Event") return
    if (event.event === "message" || event.event === "error") onData(event.data)
    else if (onNamed !== undefined) onNamed(event.event, event.data)
  }, { maxEventSize })
  /**
   * The parser holds nothing: no partial line, no field of an undispatched event. False at first, so that the
   * parser sees the first line (it strips a leading BOM only from its first input).
   */
  let clean = false
  /** The last text the parser got did not end a line: it holds part of one. */
  let partial = false
  /**
   * A piece that ended with CR: the CR is held back, since the LF of a CRLF may start the next piece (the
   * parser pairs them only within one input; fed apart, the pair would be two line ends and split an event).
   */
  let heldCr = false
  const feed = (input: string): Sse.SseError | undefined => {
    let text = heldCr ? "\r" + input : input
    heldCr = text.charCodeAt(text.length - 1) === 13
    if (heldCr) text = text.slice(0, -1)
    return feedLines(text)
  }
  const feedLines = (text: string): Sse.SseError | undefined => {
    let start = 0
    const length = text.length
    while (start < length) {
      const newline = text.indexOf("\n", start)
      if (
        clean && newline !== -1 && text.charCodeAt(newline + 1) === 10 && text.startsWith("data:", start)
      ) {
        const from = text.charCodeAt(start + 5) === 32 ? start + 6 : start + 5
        const data = text.slice(from, newline)
        // A CR, or an event too large (the parser then says so), is the parser's.
        if (data.indexOf("\r") === -1 && data.length <= maxEventSize) {
          onData(data)
          start = newline + 2
          continue
        }
      }
      const end = newline === -1 ? length : newline + 1
      // The part of a line left at the end of a piece stays in the parser until the next read: sliced, it would
      // keep the whole decoded piece (≈ 64 KiB) alive across garbage collections; a copy keeps only itself.
      const line = start === 0 && end === length
        ? text
        : newline === -1
        ? (" " + text.slice(start)).slice(1)
        : text.slice(start, end)
      const error = parser.feed(line)
      if (error !== undefined) return error
      // Between two events again only after a whole blank line: "\n" that does not end a partial line
      // (which may also be a "\r" whose "\n" this is).
      clean = line === "\n" && !partial
      partial = newline === -1
      start = end
    }
    return undefined
  }
  return {
    feed,
    end: () => {
      if (!heldCr) return undefined
      heldCr = false
      return feedLines("\r")
    }
  }
}

/** @internal */
export interface ChunkReaderOptions<A> {
  /** Decodes parsed JSON (`size`: the length of its text). */
  readonly decode: (u: unknown, size: number) => Either.Either<A, string>
  /**
   * A guard tried first (`size`: the length of the text): when it accepts, the value is the chunk as it is and
   * `decode` is not called. It must accept only what `decode` would return unchanged. It spares the common
   * chunk the two `Either`s of `decode` (allocations per chunk on the hot path).
   */
  readonly guard?: ((u: unknown, size: number) => u is A) | undefined
  readonly chunkError: (u: unknown) => Option.Option<MimoError.ApiError | MimoError.UnknownApiError>
  /** The text a chunk adds (kept, so that a later failure says what was delivered). */
  readonly text: (a: A) => string
  /** Whether a chunk carries a finish reason. */
  readonly finished: (a: A) => boolean
  readonly parse: (text: string) => unknown
  readonly requestId: string | undefined
  /** The largest event (and line) accepted, in characters. */
  readonly maxEventSize: number
  /** Named events other than `message` and `error` (e.g. `mimo.retry` notices). */
  readonly onNamed?: ((event: string, data: string) => void) | undefined
}

/** @internal */
export interface ChunkReader<A> {
  /** Frames and decodes pieces of the body, pushing chunks to `out`; the error that ends the stream, if any. */
  readonly feed: (pieces: ReadonlyArray<Uint8Array>, out: Array<A>) => MimoError.MimoError | undefined
  /** The end of the body: the last event, then whether the stream ended as it must. */
  readonly end: (out: Array<A>) => MimoError.MimoError | undefined
  /** `data: [DONE]` arrived: nothing after it is read. */
  readonly done: boolean
  /** How many `message`/`error` events arrived (comments and other named events are no progress). */
  readonly events: number
  /** How many chunks were decoded. */
  readonly chunks: number
  /** The text of the chunks so far. */
  readonly received: string
}

/**
 * The reading of an SSE chat stream, synchronous and in batches (the hot loop
 * of streaming: no fiber and no `Stream` step per event): bytes in, decoded
 * chunks out, until `data: [DONE]`.
 *
 * The SSE framing is {@link makeFramer} over `@effect/experimental`'s
 * synchronous `Sse.makeParser`, rather than `Sse.makeChannel`, because the
 * channel turns an oversized event into a defect and sleeps on `retry:`
 * fields, while a client must fail with a typed error and never sleep on the
 * server's behalf.
 *
 * A stream must end with `[DONE]`, or at least after a chunk that carries a
 * finish reason (lenient, `mimo-api.md` §4): a body that ends before either
 * (no event at all, or a clean close in the middle) is a `"StreamCut"`.
 *
 * @internal
 */
export const makeChunkReader = <A>(options: ChunkReaderOptions<A>): ChunkReader<A> => {
  const decoder = Utf8.makeUtf8Decoder()
  const pending: Array<string> = []
  let done = false
  let events = 0
  let chunks = 0
  let finished = false
  /**
   * The text of the chunks so far, one string per piece of the body read (all joined when asked, on a failure).
   * Not a string concatenated per chunk (a rope node per chunk, kept for the whole stream), nor each chunk's own
   * string: a stream outlives many scavenges, so what it keeps is promoted to the old generation, and a few thousand small
   * strings per stream were a sixth of what 50 concurrent streams promoted (apps/bench/analysis.md, "Issue 14,
   * session 9").
   */
  const texts: Array<string> = []
  /** The texts of the piece being read, joined into one of {@link texts} when it is done (empty between pieces). */
  const batch: Array<string> = []
  const keepBatch = (): void => {
    if (batch.length === 0) return
    texts.push(batch.length === 1 ? batch[0]! : batch.join(""))
    batch.length = 0
  }
  const requestId = options.requestId !== undefined ? { requestId: options.requestId } : {}
  const guard = options.guard
  const framer = makeFramer(
    (data) => {
      if (!done) pending.push(data)
    },
    options.maxEventSize,
    options.onNamed
  )

  const drain = (out: Array<A>): MimoError.MimoError | undefined => {
    const error = drainEvents(out)
    keepBatch()
    return error
  }

  const drainEvents = (out: Array<A>): MimoError.MimoError | undefined => {
    for (let i = 0; i < pending.length; i++) {
      const data = pending[i]!
      events++
      if (data === "[DONE]") {
        done = true
        break
      }
      if (data === "") continue
      let json: unknown
      try {
        json = options.parse(data)
      } catch (e) {
        pending.length = 0
        return new MimoError.ResponseDecodeError({
          status: 200,
          message: `stream chunk is not JSON: ${e instanceof Error ? e.message : String(e)}`,
          body: excerpt(data),
          ...requestId
        })
      }
      if (
        typeof json === "object" && json !== null && "error" in json && json.error !== null && json.error !== undefined
      ) {
        const error = options.chunkError(json)
        if (Option.isSome(error)) {
          pending.length = 0
          return error.value
        }
      }
      let chunk: A
      if (guard !== undefined && guard(json, data.length)) {
        chunk = json
      } else {
        const decoded = options.decode(json, data.length)
        if (Either.isLeft(decoded)) {
          pending.length = 0
          return new MimoError.ResponseDecodeError({
            status: 200,
            message: `stream chunk does not match the chunk schema: ${decoded.left}`,
            body: excerpt(data),
            ...requestId
          })
        }
        chunk = decoded.right
      }
      chunks++
      const text = options.text(chunk)
      if (text !== "") batch.push(text)
      if (!finished && options.finished(chunk)) finished = true
      out.push(chunk)
    }
    pending.length = 0
    return undefined
  }

  const feedText = (text: string, out: Array<A>): MimoError.MimoError | undefined => {
    const sseError = framer.feed(text)
    if (sseError !== undefined) {
      pending.length = 0
      return new MimoError.ResponseDecodeError({
        status: 200,
        message: `${sseError.message} (maxEventSize); the rest of the stream was not read`,
        body: "",
        ...requestId
      })
    }
    return drain(out)
  }

  return {
    feed: (pieces, out) => {
      for (const piece of pieces) {
        const error = feedText(decoder.decode(piece), out)
        if (error !== undefined || done) return error
      }
      return undefined
    },
    end: (out) => {
      // A last event that lacked its blank line is dispatched (lenient: mimo-api.md §4).
      const error = feedText(decoder.end() + "\n\n", out)
      if (error !== undefined || done) return error
      if (events === 0) {
        return new MimoError.TransportError({
          reason: "StreamCut",
          message: "the stream ended without any event (no chunk, no [DONE])",
          ...requestId
        })
      }
      if (!finished) {
        return new MimoError.TransportError({
          reason: "StreamCut",
          message: `the stream ended before [DONE] and before a finish_reason, after ${chunks} chunk(s)`,
          ...requestId
        })
      }
      return undefined
    },
    get done() {
      return done
    },
    get events() {
      return events
    },
    get chunks() {
      return chunks
    },
    get received() {
      if (texts.length > 1) texts.splice(0, texts.length, texts.join(""))
      return texts.length === 0 ? "" : texts[0]!
    }
  }
}
