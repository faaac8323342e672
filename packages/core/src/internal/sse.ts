import * as Sse from "@effect/experimental/Sse"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Chunk from "effect/Chunk"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as MimoError from "../MimoError.js"

/** @internal */
export const excerpt = (text: string, max = 512): string => text.length > max ? `${text.slice(0, max)}…` : text

/** @internal */
export interface Framer {
  /** Feeds decoded text (any split); the error of an oversized event, if any. */
  readonly feed: (text: string) => Sse.SseError | undefined
}

/**
 * The SSE framing: text in, the `data` of each unnamed (`message`) or `error`
 * event out, in order. Other named events are skipped: a server may interleave
 * its own (e.g. the `mimo.retry` notices of `ServerError.sseStreamWithRetries`),
 * which a client reading chunks ignores, as `EventSource.onmessage` would.
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
export const makeFramer = (onData: (data: string) => void, maxEventSize: number): Framer => {
  const parser = Sse.makeParser((event) => {
    if (event._tag === "Event" && (event.event === "message" || event.event === "error")) onData(event.data)
  }, { maxEventSize })
  /**
   * The parser holds nothing: no partial line, no field of an undispatched event. False at first, so that the
   * parser sees the first line (it strips a leading BOM only from its first input).
   */
  let clean = false
  /** The last text the parser got did not end a line: it holds part of one. */
  let partial = false
  return {
    feed: (text) => {
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
        const line = start === 0 && end === length ? text : text.slice(start, end)
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
  }
}

/** @internal */
export interface ChunkDecoders<A> {
  readonly decode: (u: unknown) => Either.Either<A, string>
  readonly chunkError: (u: unknown) => Option.Option<MimoError.ApiError | MimoError.UnknownApiError>
}

/**
 * Turns the bytes of an SSE response into decoded chunks.
 *
 * The SSE framing is {@link makeFramer} over `@effect/experimental`'s
 * synchronous `Sse.makeParser`, rather than `Sse.makeChannel`, because the
 * channel turns an oversized event into a defect and sleeps on `retry:`
 * fields, while a client must fail with a typed error and never sleep on the
 * server's behalf. A whole batch of network chunks is parsed in one
 * synchronous step: this is the hot loop of streaming.
 *
 * After `data: [DONE]` the rest of the body is drained (not aborted), so the
 * connection goes back to the keep-alive pool.
 *
 * @internal
 */
export const decodeEvents = <A, E>(
  bytes: Stream.Stream<Uint8Array, E>,
  decoders: ChunkDecoders<A>,
  onError: (e: E) => MimoError.MimoError,
  options: { readonly requestId?: string | undefined; readonly maxEventSize?: number | undefined } = {}
): Stream.Stream<A, MimoError.MimoError> =>
  Stream.suspend(() => {
    const decoder = new TextDecoder()
    const pending: Array<string> = []
    let done = false
    const framer = makeFramer((data) => {
      if (!done) pending.push(data)
    }, options.maxEventSize ?? 8 * 1024 * 1024)

    const drain = (out: Array<A>): MimoError.MimoError | undefined => {
      for (let i = 0; i < pending.length; i++) {
        const data = pending[i]
        if (done) break
        if (data === "[DONE]") {
          done = true
          break
        }
        if (data === "") continue
        let json: unknown
        try {
          json = JSON.parse(data)
        } catch (e) {
          pending.length = 0
          return new MimoError.ResponseDecodeError({
            status: 200,
            message: `stream chunk is not JSON: ${e instanceof Error ? e.message : String(e)}`,
            body: excerpt(data),
            ...(options.requestId !== undefined ? { requestId: options.requestId } : {})
          })
        }
        if (Predicate.hasProperty(json, "error") && json.error !== null && json.error !== undefined) {
          const error = decoders.chunkError(json)
          if (Option.isSome(error)) {
            pending.length = 0
            return error.value
          }
        }
        const decoded = decoders.decode(json)
        if (Either.isLeft(decoded)) {
          pending.length = 0
          return new MimoError.ResponseDecodeError({
            status: 200,
            message: `stream chunk does not match the chunk schema: ${decoded.left}`,
            body: excerpt(data),
            ...(options.requestId !== undefined ? { requestId: options.requestId } : {})
          })
        }
        out.push(decoded.right)
      }
      pending.length = 0
      return undefined
    }

    const feed = (text: string, out: Array<A>): MimoError.MimoError | undefined => {
      const sseError = framer.feed(text)
      if (sseError !== undefined) {
        return new MimoError.ResponseDecodeError({
          status: 200,
          message: sseError.message,
          body: "",
          ...(options.requestId !== undefined ? { requestId: options.requestId } : {})
        })
      }
      return drain(out)
    }

    // A hand-written channel rather than `Stream.mapChunksEffect`: when a batch
    // holds good chunks and then an error event, the good chunks must be
    // emitted before the stream fails (nothing delivered is lost).
    const emitThen = (
      out: Array<A>,
      next: Channel.Channel<Chunk.Chunk<A>, Chunk.Chunk<Uint8Array>, MimoError.MimoError, E, unknown, unknown>
    ) => out.length === 0 ? next : Channel.zipRight(Channel.write(Chunk.unsafeFromArray(out)), next)

    // After `[DONE]`, read the rest of the body and ignore it.
    const discard: Channel.Channel<never, Chunk.Chunk<Uint8Array>, never, E, unknown, unknown> = Channel
      .readWithCause({
        onInput: () => discard,
        onFailure: () => Channel.void,
        onDone: () => Channel.void
      })

    const loop: Channel.Channel<
      Chunk.Chunk<A>,
      Chunk.Chunk<Uint8Array>,
      MimoError.MimoError,
      E,
      unknown,
      unknown
    > = Channel.readWithCause({
      onInput: (chunk: Chunk.Chunk<Uint8Array>) => {
        const out: Array<A> = []
        for (const bytes of chunk) {
          const error = feed(decoder.decode(bytes, { stream: true }), out)
          if (error !== undefined) return emitThen(out, Channel.fail(error))
          if (done) return emitThen(out, discard)
        }
        return emitThen(out, loop)
      },
      onFailure: (cause) =>
        Channel.failCause(
          Cause.map(cause, onError)
        ),
      onDone: () => {
        // At the end of the body, dispatch a last event that lacked its blank
        // line (lenient: mimo-api.md §4 asks to accept streams that end early).
        const out: Array<A> = []
        const error = feed(decoder.decode() + "\n\n", out)
        return emitThen(out, error !== undefined ? Channel.fail(error) : Channel.void)
      }
    })
    return Stream.pipeThroughChannel(bytes, loop)
  })
