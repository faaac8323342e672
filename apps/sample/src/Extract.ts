/**
 * `mimo extract --schema <name> "<text>"`: structured output with
 * `@effect/ai`'s `generateObject` on MiMo. MiMo has `json_object` and no
 * `json_schema`, so the provider sends the Schema's JSON Schema as an
 * instruction and decodes the answer with the Schema; an answer that does not
 * conform is a typed failure that shows the text MiMo sent.
 */
import * as MimoAiError from "@effect-mimo/ai/MimoAiError"
import * as LanguageModel from "@effect/ai/LanguageModel"
import type * as Terminal from "@effect/platform/Terminal"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Agent from "./Agent.js"
import * as Output from "./Output.js"

/** The Schemas `--schema` can name. */
export const schemas = {
  contact: Schema.Struct({
    name: Schema.String,
    email: Schema.String,
    company: Schema.optional(Schema.String)
  }).annotations({ description: "A person and how to reach them" }),
  event: Schema.Struct({
    title: Schema.String,
    date: Schema.String,
    location: Schema.String
  }).annotations({ description: "Something that happens at a time and a place" }),
  product: Schema.Struct({
    name: Schema.String,
    price: Schema.Number.pipe(Schema.nonNegative()),
    currency: Schema.String
  }).annotations({ description: "A product and its price" })
} as const

/** A name of {@link schemas}. */
export type SchemaName = keyof typeof schemas

/** The names, for `Options.choice`. */
export const schemaNames = Object.keys(schemas) as ReadonlyArray<SchemaName>

/** What `mimo extract` was asked to do. */
export interface Options {
  readonly schema: SchemaName
  readonly text: string
  readonly model: string
}

const generate = <A, I extends Record<string, unknown>>(schema: Schema.Schema<A, I>, name: SchemaName, text: string) =>
  Effect.map(
    LanguageModel.generateObject({
      prompt: [
        { role: "system", content: `Extract the ${name} described in the user's text.` },
        { role: "user", content: text }
      ],
      schema,
      objectName: name
    }),
    (response): unknown => response.value
  )

/** The object of the text, decoded with the named Schema. */
export const extract = (name: SchemaName, text: string) => {
  switch (name) {
    case "contact":
      return generate(schemas.contact, name, text)
    case "event":
      return generate(schemas.event, name, text)
    case "product":
      return generate(schemas.product, name, text)
  }
}

/** `mimo extract`: prints the object as JSON on stdout; a failure (with MiMo's text, if any) on stderr. */
export const run = (options: Options): Effect.Effect<void, Output.Reported, Terminal.Terminal> =>
  Effect.gen(function*() {
    const outcome = yield* extract(options.schema, options.text).pipe(
      // A failure below the AiError boundary is shown as the MimoError it is (with the table's solution).
      MimoAiError.withMimoErrors,
      Effect.provide(Agent.modelLayer(options.model)),
      Effect.either
    )
    if (Either.isRight(outcome)) {
      yield* Console.log(JSON.stringify(outcome.right))
      return
    }
    const answered = MimoAiError.structuredOutput(outcome.left)
    yield* Console.error(Output.failureBlock(Output.describe(outcome.left)))
    if (Option.isSome(answered)) yield* Console.error(`  answer:      ${answered.value.text}`)
    return yield* new Output.Reported()
  })

/** The demo's step: one extraction on the demo's simulator. */
export const demoStep = (schema: SchemaName, text: string) =>
  Effect.flatMap(extract(schema, text), (value) => Console.log(`   ${schema}: ${JSON.stringify(value)}`))
