import * as HashMap from "effect/HashMap"
import type {
  Annotation,
  Choice,
  Chunk,
  ChunkChoice,
  MessageAudio,
  Response,
  ResponseToolCall,
  ToolCallDelta,
  Usage
} from "../ChatCompletion.js"
import type * as StreamAccumulator from "../StreamAccumulator.js"

// Why persistent structures: a fold must cost O(1) (amortized) per chunk whatever the choice and tool-call
// indexes (a copied and re-sorted array per chunk made 20k chunks with distinct indexes quadratic), and every
// accumulator stays valid after later ones are built from it (`Stream.scan` keeps them all).

/**
 * An append-only list shared between accumulators: each sees its own prefix of `items`. Appending to the
 * newest one pushes in place; appending to an older one copies its prefix first.
 */
class Appended<A> {
  constructor(readonly items: Array<A>, readonly length: number) {}
  append(item: A): Appended<A> {
    if (this.items.length === this.length) {
      this.items.push(item)
      return new Appended(this.items, this.length + 1)
    }
    const copy = this.items.slice(0, this.length)
    copy.push(item)
    return new Appended(copy, this.length + 1)
  }
  appendAll(items: ReadonlyArray<A>): Appended<A> {
    return items.reduce((out: Appended<A>, item) => out.append(item), this)
  }
  toArray(): ReadonlyArray<A> {
    return this.items.length === this.length ? this.items.slice() : this.items.slice(0, this.length)
  }
}

const none = new Appended<never>([], 0)

const concat = (acc: string | undefined, piece: string | null | undefined): string | undefined =>
  piece === undefined || piece === null ? acc : acc === undefined ? piece : acc + piece

const orElse = <A>(acc: A | undefined, value: A | null | undefined): A | undefined =>
  acc !== undefined ? acc : value === null || value === undefined ? undefined : value

const byIndex = <A extends { readonly index: number }>(map: HashMap.HashMap<number, A>): ReadonlyArray<A> =>
  Array.from(HashMap.values(map)).sort((a, b) => a.index - b.index)

/** A choice; its list fields are materialized (and kept) when first read. */
class ChoiceState implements StreamAccumulator.AccumulatedChoice {
  constructor(
    readonly index: number,
    readonly role: string | undefined,
    readonly content: string | undefined,
    readonly reasoning_content: string | undefined,
    readonly toolCalls: HashMap.HashMap<number, StreamAccumulator.AccumulatedToolCall>,
    readonly annotationList: Appended<Annotation>,
    readonly error_message: string | undefined,
    readonly final_text_preview: string | undefined,
    readonly audio_id: string | undefined,
    readonly audioList: Appended<string>,
    readonly audio_transcript: string | undefined,
    readonly audio_expires_at: number | undefined,
    readonly finish_reason: string | null
  ) {}
  private calls: ReadonlyArray<StreamAccumulator.AccumulatedToolCall> | undefined
  private notes: ReadonlyArray<Annotation> | undefined
  private audio: ReadonlyArray<string> | undefined
  get tool_calls(): ReadonlyArray<StreamAccumulator.AccumulatedToolCall> {
    return this.calls ??= byIndex(this.toolCalls)
  }
  get annotations(): ReadonlyArray<Annotation> {
    return this.notes ??= this.annotationList.toArray()
  }
  get audio_data(): ReadonlyArray<string> {
    return this.audio ??= this.audioList.toArray()
  }
  toJSON(): unknown {
    return { ...this, tool_calls: this.tool_calls, annotations: this.annotations, audio_data: this.audio_data }
  }
}

const emptyChoice = (index: number): ChoiceState =>
  new ChoiceState(
    index,
    undefined,
    undefined,
    undefined,
    HashMap.empty(),
    none,
    undefined,
    undefined,
    undefined,
    none,
    undefined,
    undefined,
    null
  )

const mergeToolCalls = (
  calls: HashMap.HashMap<number, StreamAccumulator.AccumulatedToolCall>,
  deltas: ReadonlyArray<ToolCallDelta>
): HashMap.HashMap<number, StreamAccumulator.AccumulatedToolCall> => {
  let out = calls
  for (let i = 0; i < deltas.length; i++) {
    const delta = deltas[i]!
    const index = delta.index ?? i
    const found = HashMap.get(out, index)
    const current: StreamAccumulator.AccumulatedToolCall = found._tag === "Some"
      ? found.value
      : { index, id: undefined, type: undefined, name: undefined, arguments: "" }
    out = HashMap.set(out, index, {
      index,
      id: current.id !== undefined && current.id !== "" ? current.id : (delta.id ?? current.id),
      type: orElse(current.type, delta.type),
      name: current.name !== undefined && current.name !== "" ? current.name : (delta.function?.name ?? current.name),
      arguments: current.arguments + (delta.function?.arguments ?? "")
    })
  }
  return out
}

const mergeChoice = (choice: ChoiceState, chunk: ChunkChoice): ChoiceState => {
  const delta = chunk.delta
  const finish_reason = chunk.finish_reason ?? choice.finish_reason
  if (delta === undefined || delta === null) {
    if (finish_reason === choice.finish_reason) return choice
    return new ChoiceState(
      choice.index,
      choice.role,
      choice.content,
      choice.reasoning_content,
      choice.toolCalls,
      choice.annotationList,
      choice.error_message,
      choice.final_text_preview,
      choice.audio_id,
      choice.audioList,
      choice.audio_transcript,
      choice.audio_expires_at,
      finish_reason
    )
  }
  const audio = delta.audio
  return new ChoiceState(
    choice.index,
    orElse(choice.role, delta.role),
    concat(choice.content, delta.content),
    concat(choice.reasoning_content, delta.reasoning_content),
    delta.tool_calls ? mergeToolCalls(choice.toolCalls, delta.tool_calls) : choice.toolCalls,
    delta.annotations && delta.annotations.length > 0
      ? choice.annotationList.appendAll(delta.annotations)
      : choice.annotationList,
    concat(choice.error_message, delta.error_message),
    concat(choice.final_text_preview, delta.final_text_preview),
    audio ? orElse(choice.audio_id, audio.id) : choice.audio_id,
    audio && typeof audio.data === "string" && audio.data !== ""
      ? choice.audioList.append(audio.data)
      : choice.audioList,
    audio ? concat(choice.audio_transcript, audio.transcript) : choice.audio_transcript,
    audio ? orElse(choice.audio_expires_at, audio.expires_at) : choice.audio_expires_at,
    finish_reason
  )
}

/** An accumulator; `choices` is materialized (and kept) when first read. */
class State implements StreamAccumulator.Accumulator {
  constructor(
    readonly id: string | undefined,
    readonly created: number | undefined,
    readonly model: string | undefined,
    readonly byIndex: HashMap.HashMap<number, ChoiceState>,
    readonly usage: Usage | undefined,
    readonly chunks: number
  ) {}
  private sorted: ReadonlyArray<StreamAccumulator.AccumulatedChoice> | undefined
  get choices(): ReadonlyArray<StreamAccumulator.AccumulatedChoice> {
    return this.sorted ??= byIndex(this.byIndex)
  }
  toJSON(): unknown {
    return { ...this, choices: this.choices }
  }
}

/** @internal */
export const empty: StreamAccumulator.Accumulator = new State(
  undefined,
  undefined,
  undefined,
  HashMap.empty(),
  undefined,
  0
)

/** Any `Accumulator` (one of ours, or a plain object of the same shape) as a `State`. */
const stateOf = (acc: StreamAccumulator.Accumulator): State => {
  if (acc instanceof State) return acc
  let map = HashMap.empty<number, ChoiceState>()
  for (const c of acc.choices) {
    let calls = HashMap.empty<number, StreamAccumulator.AccumulatedToolCall>()
    for (const t of c.tool_calls) calls = HashMap.set(calls, t.index, t)
    map = HashMap.set(
      map,
      c.index,
      new ChoiceState(
        c.index,
        c.role,
        c.content,
        c.reasoning_content,
        calls,
        new Appended(c.annotations.slice(), c.annotations.length),
        c.error_message,
        c.final_text_preview,
        c.audio_id,
        new Appended(c.audio_data.slice(), c.audio_data.length),
        c.audio_transcript,
        c.audio_expires_at,
        c.finish_reason
      )
    )
  }
  return new State(acc.id, acc.created, acc.model, map, acc.usage, acc.chunks)
}

/** @internal */
export const add = (acc: StreamAccumulator.Accumulator, chunk: Chunk): StreamAccumulator.Accumulator => {
  const state = stateOf(acc)
  let map = state.byIndex
  for (const c of chunk.choices) {
    const found = HashMap.get(map, c.index)
    map = HashMap.set(map, c.index, mergeChoice(found._tag === "Some" ? found.value : emptyChoice(c.index), c))
  }
  return new State(
    state.id ?? chunk.id,
    orElse(state.created, chunk.created),
    orElse(state.model, chunk.model),
    map,
    chunk.usage === undefined || chunk.usage === null ? state.usage : chunk.usage,
    state.chunks + 1
  )
}

const base64Alphabet = /^[A-Za-z0-9+/]*$/

/** Joins base64 fragments into one valid base64 string (re-encoding when a fragment carries padding). */
const joinBase64 = (parts: ReadonlyArray<string>): string => {
  if (parts.length <= 1) return parts[0] ?? ""
  const simple = parts.every((p, i) => i === parts.length - 1 || (p.length % 4 === 0 && base64Alphabet.test(p)))
  if (simple) return parts.join("")
  let binary = ""
  for (const p of parts) {
    try {
      binary += atob(p)
    } catch {
      // not base64: keep the fragments as they came
      return parts.join("")
    }
  }
  return btoa(binary)
}

const toChoice = (c: StreamAccumulator.AccumulatedChoice): Choice => {
  const message: {
    role: string
    content: string | null
    reasoning_content?: string
    tool_calls?: ReadonlyArray<ResponseToolCall>
    annotations?: ReadonlyArray<Annotation>
    error_message?: string
    audio?: MessageAudio
    final_text_preview?: string
  } = { role: c.role ?? "assistant", content: c.content ?? null }
  if (c.reasoning_content !== undefined) message.reasoning_content = c.reasoning_content
  if (c.tool_calls.length > 0) {
    message.tool_calls = c.tool_calls.map((t) => ({
      id: t.id ?? "",
      type: t.type ?? "function",
      function: { name: t.name ?? "", arguments: t.arguments }
    }))
  }
  if (c.annotations.length > 0) message.annotations = c.annotations
  if (c.error_message !== undefined) message.error_message = c.error_message
  if (c.final_text_preview !== undefined) message.final_text_preview = c.final_text_preview
  if (c.audio_id !== undefined || c.audio_data.length > 0 || c.audio_transcript !== undefined) {
    message.audio = {
      id: c.audio_id ?? null,
      data: joinBase64(c.audio_data),
      expires_at: c.audio_expires_at ?? null,
      transcript: c.audio_transcript ?? null
    }
  }
  return { index: c.index, finish_reason: c.finish_reason, message }
}

/** @internal */
export const toResponse = (acc: StreamAccumulator.Accumulator): Response => {
  const response: {
    id: string
    object: string
    created?: number
    model?: string
    choices: ReadonlyArray<Choice>
    usage?: Usage
  } = { id: acc.id ?? "", object: "chat.completion", choices: acc.choices.map(toChoice) }
  if (acc.created !== undefined) response.created = acc.created
  if (acc.model !== undefined) response.model = acc.model
  if (acc.usage !== undefined) response.usage = acc.usage
  return response
}

/** @internal */
export const accumulate = (chunks: Iterable<Chunk>): Response => {
  let acc = empty
  for (const chunk of chunks) acc = add(acc, chunk)
  return toResponse(acc)
}
