/**
 * `mimo agent "<task>"`: a tool loop over `@effect/ai` with MiMo as the
 * provider (`@effect-mimo/ai`). Three small local tools (a clock, a
 * calculator, a file-size lookup in the current folder); each tool call and
 * its result is printed as it happens (the answer is streamed), then the
 * answer. `--json` prints one object with the whole transcript instead.
 *
 * The loop: stream a turn with the toolkit (`@effect/ai` runs the handlers of
 * the calls MiMo makes, in parallel), append the turn and its results to the
 * history (`Prompt.fromResponseParts`, reasoning included, so thinking models
 * keep MiMo's replay rule), and go again until MiMo answers without calling a
 * tool. Tool arguments that are not JSON are a typed `MalformedOutput`: they
 * are sent back to the model (`MimoAiError.toolCallFeedback`) for another try.
 *
 * With no `MIMO_API_KEY`, the embedded simulator plays the model: it calls a
 * tool named in the task (`call calculator`, or a word such as "clock"), takes
 * `key=value` pairs of the task as arguments, and answers with the results.
 */
import * as MimoAiError from "@effect-mimo/ai/MimoAiError"
import * as MimoLanguageModel from "@effect-mimo/ai/MimoLanguageModel"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Prompt from "@effect/ai/Prompt"
import type * as Response from "@effect/ai/Response"
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type * as Terminal from "@effect/platform/Terminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Environment from "./Environment.js"
import * as Output from "./Output.js"
import * as Retry from "./Retry.js"

// -----------------------------------------------------------------------------
// the tools
// -----------------------------------------------------------------------------

/** The current time; no parameters. */
export const ClockTool = Tool.make("clock", {
  description: "The current date and time in UTC, as ISO 8601",
  success: Schema.String
})

/** Arithmetic on an expression; a bad expression is a result the model sees, not a failure of the loop. */
export const Calculator = Tool.make("calculator", {
  description: "Evaluates an arithmetic expression: numbers, + - * / %, ^ (power) and parentheses",
  parameters: { expression: Schema.String },
  success: Schema.Number,
  failure: Schema.String,
  failureMode: "return"
})

/** The size of a file in the current folder (nothing outside it). */
export const FileSize = Tool.make("file_size", {
  description: "The size in bytes of a file in the current folder, by its relative path",
  parameters: { path: Schema.String },
  success: Schema.Number,
  failure: Schema.String,
  failureMode: "return"
})

/** The agent's toolkit. */
export const Tools = Toolkit.make(ClockTool, Calculator, FileSize)

/**
 * Evaluates `+ - * / % ^`, unary minus and parentheses over decimal numbers.
 * Hand-written (a small recursive-descent parser) because `eval` would run
 * any JavaScript the model sends; the input is bounded to 200 characters, so
 * the recursion is too.
 */
export const evaluate = (input: string): Either.Either<number, string> => {
  if (input.length > 200) return Either.left("the expression is longer than 200 characters")
  const tokens = input.match(/\d+(?:\.\d+)?|[-+*/%^()]|\S/g) ?? []
  let i = 0
  const fail = (message: string): never => {
    throw new SyntaxError(message)
  }
  const primary = (): number => {
    const t = tokens[i++]
    if (t === undefined) return fail("the expression ends too early")
    if (t === "(") {
      const v = sum()
      if (tokens[i++] !== ")") fail("a ) is missing")
      return v
    }
    if (t === "-") return -primary()
    if (/^\d/.test(t)) return Number(t)
    return fail(`unexpected "${t}"`)
  }
  const power = (): number => {
    const base = primary()
    if (tokens[i] === "^") {
      i++
      return base ** power()
    }
    return base
  }
  const product = (): number => {
    let v = power()
    while (tokens[i] === "*" || tokens[i] === "/" || tokens[i] === "%") {
      const op = tokens[i++]
      const r = power()
      v = op === "*" ? v * r : op === "/" ? v / r : v % r
    }
    return v
  }
  const sum = (): number => {
    let v = product()
    while (tokens[i] === "+" || tokens[i] === "-") v = tokens[i++] === "+" ? v + product() : v - product()
    return v
  }
  try {
    const v = sum()
    if (i < tokens.length) fail(`unexpected "${tokens[i]}"`)
    return Number.isFinite(v) ? Either.right(v) : Either.left("the result is not a finite number")
  } catch (e) {
    return Either.left(e instanceof SyntaxError ? e.message : String(e))
  }
}

/** The handlers. `file_size` answers only for paths inside the current folder. */
export const ToolsLive = Tools.toLayer(Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  return {
    clock: () => Effect.sync(() => new Date().toISOString()),
    calculator: ({ expression }) =>
      Either.match(evaluate(expression), { onLeft: Effect.fail, onRight: Effect.succeed }),
    file_size: ({ path: relative }) => {
      const cwd = process.cwd()
      const resolved = path.resolve(cwd, relative)
      if (path.isAbsolute(relative) || !resolved.startsWith(cwd + path.sep)) {
        return Effect.fail(`only files inside the current folder, by a relative path (got ${relative})`)
      }
      return fs.stat(resolved).pipe(
        Effect.flatMap((info) =>
          info.type === "File" ? Effect.succeed(Number(info.size)) : Effect.fail(`${relative} is not a file`)
        ),
        Effect.catchTag(
          "SystemError",
          (e) => Effect.fail(`${relative}: ${e.reason === "NotFound" ? "no such file" : e.message}`)
        ),
        Effect.catchTag("BadArgument", (e) => Effect.fail(`${relative}: ${e.message}`))
      )
    }
  }
}))

// -----------------------------------------------------------------------------
// the loop
// -----------------------------------------------------------------------------

/** What `mimo agent` was asked to do (parsed by `@effect/cli` in `Cli.ts`). */
export interface Options {
  readonly task: string
  readonly model: string
  readonly maxTurns: number
  readonly json: boolean
}

/** One line of the transcript. */
export type Entry =
  | {
    readonly type: "tool-call"
    readonly turn: number
    readonly id: string
    readonly name: string
    readonly params: unknown
  }
  | {
    readonly type: "tool-result"
    readonly turn: number
    readonly id: string
    readonly name: string
    readonly result: unknown
    readonly isFailure: boolean
  }
  | { readonly type: "malformed-tool-call"; readonly turn: number; readonly name: string; readonly arguments: string }
  | { readonly type: "answer"; readonly turn: number; readonly text: string }

/** The outcome of a run. */
export interface Result {
  readonly answer: string
  readonly turns: number
  readonly transcript: ReadonlyArray<Entry>
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number }
}

const system = "You are a careful assistant. Use the tools when they help; answer briefly once you have what you need."

type Part = Response.StreamPart<Toolkit.Tools<typeof Tools>>

/** Runs the loop; `onEntry` sees each entry as it happens. */
export const agent = (
  options: Options,
  onEntry: (entry: Entry) => Effect.Effect<void>
) =>
  Effect.gen(function*() {
    const toolkit = yield* Tools
    let history = Prompt.make([{ role: "system", content: system }, { role: "user", content: options.task }])
    const transcript: Array<Entry> = []
    const usage = { inputTokens: 0, outputTokens: 0 }
    const record = (entry: Entry) => Effect.zipRight(Effect.sync(() => transcript.push(entry)), onEntry(entry))
    for (let turn = 1; turn <= options.maxTurns; turn++) {
      const parts: Array<Part> = []
      const outcome = yield* LanguageModel.streamText({ prompt: history, toolkit }).pipe(
        Stream.runForEach((part) =>
          Effect.suspend(() => {
            parts.push(part)
            switch (part.type) {
              case "tool-call":
                return record({ type: "tool-call", turn, id: part.id, name: part.name, params: part.params })
              case "tool-result":
                return record({
                  type: "tool-result",
                  turn,
                  id: part.id,
                  name: part.name,
                  result: part.encodedResult,
                  isFailure: part.isFailure
                })
              case "finish":
                return Effect.sync(() => {
                  usage.inputTokens += part.usage.inputTokens ?? 0
                  usage.outputTokens += part.usage.outputTokens ?? 0
                })
              default:
                return Effect.void
            }
          })
        ),
        Effect.either
      )
      if (Either.isLeft(outcome)) {
        const malformed = MimoAiError.malformedToolCall(outcome.left)
        if (Option.isNone(malformed)) return yield* Effect.fail(outcome.left)
        for (const call of malformed.value.toolCalls.filter((c) => c.error !== undefined)) {
          yield* record({ type: "malformed-tool-call", turn, name: call.name, arguments: call.arguments })
        }
        history = Prompt.merge(history, MimoAiError.toolCallFeedback(malformed.value))
        continue
      }
      history = Prompt.merge(history, Prompt.fromResponseParts(parts))
      if (!parts.some((p) => p.type === "tool-call")) {
        const text = parts.flatMap((p) => p.type === "text-delta" ? [p.delta] : []).join("")
        yield* record({ type: "answer", turn, text })
        return { answer: text, turns: turn, transcript, usage } satisfies Result
      }
    }
    const text = `(no answer after ${options.maxTurns} turns)`
    yield* record({ type: "answer", turn: options.maxTurns, text })
    return { answer: text, turns: options.maxTurns, transcript, usage } satisfies Result
  })

const show = (value: unknown): string => typeof value === "string" ? value : JSON.stringify(value)

/** How a person sees an entry. */
export const line = (entry: Entry): string => {
  switch (entry.type) {
    case "tool-call":
      return `→ ${entry.name}(${JSON.stringify(entry.params)})`
    case "tool-result":
      return entry.isFailure
        ? `← ${entry.name} failed: ${show(entry.result)}`
        : `← ${entry.name}: ${show(entry.result)}`
    case "malformed-tool-call":
      return `✗ ${entry.name}: arguments that are not JSON (${entry.arguments}); sent back to the model`
    case "answer":
      return `\n${entry.text}`
  }
}

/** The language model for a command: `@effect-mimo/ai` over the CLI's `MimoClient` (`Environment.layer`). */
export const modelLayer = (model: string) =>
  Layer.unwrapEffect(Effect.map(Retry.base, (base) =>
    MimoLanguageModel.layer({
      model,
      config: {
        callOptions: { retry: Retry.policy({ maxAttempts: 5, base }), onRetry: Output.printRetry(5) }
      }
    }))).pipe(Layer.provide(Environment.layer))

/** `mimo agent`: runs the loop and prints it (or one JSON object); a failure becomes `Output.Reported`. */
export const run = (
  options: Options
): Effect.Effect<void, Output.Reported, Terminal.Terminal | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const outcome = yield* agent(options, (entry) => options.json ? Effect.void : Console.log(line(entry))).pipe(
      MimoAiError.withMimoErrors,
      Effect.provide(Layer.merge(modelLayer(options.model), ToolsLive)),
      Effect.either
    )
    if (Either.isRight(outcome)) {
      if (options.json) {
        yield* Console.log(JSON.stringify({ ok: true, task: options.task, model: options.model, ...outcome.right }))
      }
      return
    }
    const failure = Output.describe(outcome.left)
    if (options.json) {
      yield* Console.log(JSON.stringify({ ok: false, task: options.task, model: options.model, ...failure }))
    } else {
      yield* Console.error(Output.failureBlock(failure))
    }
    return yield* new Output.Reported()
  })

/** The demo's step: a tool loop on the demo's simulator, with the calls scripted by the caller. */
export const demoStep = (task: string) =>
  agent({ task, model: "mimo-v2-flash", maxTurns: 4, json: false }, (entry) => Console.log(`   ${line(entry).trim()}`))
    .pipe(Effect.provide(ToolsLive))
