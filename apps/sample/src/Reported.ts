/**
 * The failure of a command whose error was already shown to the user.
 *
 * A module of its own, so that `Main.ts` can recognise it without loading the
 * renderers (`Output`) and the client's errors at start-up.
 */
import * as Data from "effect/Data"

/**
 * The failure of a command whose error was already shown to the user. `Main.ts`
 * turns it into a non-zero exit status without printing anything more.
 */
export class Reported extends Data.TaggedError("Reported")<{}> {}
