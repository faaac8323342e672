/**
 * Arbitraries shared by the property tests of the hand-written fast guards
 * (chunks, responses): almost-right JSON values, so that every field is
 * sometimes of the right type and sometimes not.
 */
import { FastCheck as fc } from "effect"

/** Any JSON-ish value of the wrong kind for most fields. */
export const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.boolean(),
  fc.constant({}),
  fc.constant([])
)

export const stringish = fc.oneof(fc.string({ maxLength: 6 }), fc.constant(null), fc.constant(undefined), anyValue)

export const numberish = fc.oneof(fc.integer(), anyValue)

/** The envelope a chunk and a response share: id, object, created, model, choices, usage, and an unknown field. */
export const envelope = <C, U>(choice: fc.Arbitrary<C>, usage: fc.Arbitrary<U>) =>
  fc.record(
    {
      id: stringish,
      object: stringish,
      created: numberish,
      model: stringish,
      choices: fc.oneof(fc.array(choice, { maxLength: 3 }), anyValue),
      usage,
      extra: anyValue
    },
    { requiredKeys: [] }
  )
