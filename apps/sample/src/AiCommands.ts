/**
 * The `@effect/ai` commands, `mimo agent` and `mimo extract`. Declared here,
 * run from `Agent.ts` / `Extract.ts`, which are loaded on demand: only these
 * commands need `@effect/ai` and the provider at startup.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as CliValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import type * as Extract from "./Extract.js"

const model = Options.text("model").pipe(
  Options.withDefault("mimo-v2-flash"),
  Options.withDescription("The model id.")
)

/** `mimo agent [--model m] [--max-turns n] [--json] <task>` */
export const agent = Command.make("agent", {
  model,
  maxTurns: Options.integer("max-turns").pipe(
    Options.mapEffect((n) =>
      n >= 1
        ? Effect.succeed(n)
        : Effect.fail(CliValidationError.invalidValue(HelpDoc.p(`--max-turns: expected at least 1, got ${n}`)))
    ),
    Options.withDefault(5),
    Options.withDescription("Model turns at most (each may call several tools).")
  ),
  json: Options.boolean("json").pipe(
    Options.withDescription("Print one JSON object with the transcript (tool calls, results, answer) instead.")
  ),
  task: Args.text({ name: "task" }).pipe(Args.withDescription("What to do."))
}, (options) => Effect.flatMap(Effect.promise(() => import("./Agent.js")), (module) => module.run(options))).pipe(
  Command.withDescription(
    "A tool loop over @effect/ai with three local tools (clock, calculator, file_size in the current folder): " +
      "each call and result is printed as it happens, then the answer. On the embedded simulator, name a tool " +
      "in the task (e.g. \"check the clock and use the calculator on expression=2*21\")."
  )
)

const schemaNames = ["contact", "event", "product"] as const satisfies ReadonlyArray<Extract.SchemaName>

/** `mimo extract --schema <name> [--model m] <text>` */
export const extract = Command.make("extract", {
  schema: Options.choice("schema", schemaNames).pipe(
    Options.withDescription(
      "What to extract: contact {name, email, company?}, event {title, date, location}, " +
        "product {name, price, currency}."
    )
  ),
  model,
  text: Args.text({ name: "text" }).pipe(Args.withDescription("The text to read."))
}, (options) => Effect.flatMap(Effect.promise(() => import("./Extract.js")), (module) => module.run(options))).pipe(
  Command.withDescription(
    "Structured output: the object described in the text, decoded with a Schema, printed as JSON."
  )
)
