import { ChatCompletion, MimoClient, RetryPolicy } from "@effect-mimo/core"
import { NodeMimoClient, SpeechFile } from "@effect-mimo/platform-node"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Duration, Effect, Layer, Schedule, Stream } from "effect"

// A custom policy, composed from the core's parts and Effect's own combinators:
// three attempts, 500 ms × 2^n with full jitter, at least 2 s apart, Retry-After honoured.
const patient = RetryPolicy.exponential("500 millis").pipe(
  RetryPolicy.jitterFull,
  Schedule.union(Schedule.spaced("2 seconds")),
  Schedule.intersect(RetryPolicy.attempts(3)),
  Schedule.intersect(RetryPolicy.whileRetryable),
  RetryPolicy.retryAfterAware()
)

export const program = Effect.gen(function*() {
  const mimo = yield* MimoClient.MimoClient

  // 1. A chat completion (validated before anything is sent).
  const answer = yield* mimo.chat({
    model: "mimo-v2-flash",
    messages: [{ role: "user", content: "Say hello in five words." }],
    max_completion_tokens: 256
  }, { retry: patient })
  yield* Console.log("chat:", ChatCompletion.text(answer))

  // 2. A streamed answer: typed chunks, printed as they arrive.
  const streamed = yield* mimo.stream({
    model: "mimo-v2-flash",
    messages: [{ role: "user", content: "Count to three." }]
  }).pipe(
    Stream.tap((chunk) => Effect.sync(() => process.stdout.write(chunk.choices[0]?.delta?.content ?? ""))),
    Stream.runFold(ChatCompletion.emptyAccumulator, ChatCompletion.accumulateChunk),
    Effect.map(ChatCompletion.toResponse)
  )
  yield* Console.log("\nstream usage:", streamed.usage?.total_tokens)

  // 3. Text-to-speech, written to a WAV file.
  const written = yield* SpeechFile.write("hello.wav", { text: "Hello from MiMo!", voice: "Mia", format: "wav" })
  yield* Console.log(`tts: ${written.path}, ${written.bytes} bytes, ${written.durationSeconds?.toFixed(2)} s`)

  return { answer: ChatCompletion.text(answer), streamed: ChatCompletion.text(streamed), written }
}).pipe(
  // 4. Every failure is typed: handle a rate limit by its tag, everything else by its solution text.
  Effect.catchTag("RateLimitExceeded", (e) =>
    Effect.zipRight(
      Console.error(`rate limited (retry after ${e.retryAfter ? Duration.format(e.retryAfter) : "?"})`),
      Effect.fail(e)
    ))
)

// MIMO_API_KEY (required) and MIMO_BASE_URL (optional) are read through Config.
const MainLive = Layer.mergeAll(NodeMimoClient.layerConfig(), NodeContext.layer)

if (import.meta.url === `file://${process.argv[1]}`) {
  program.pipe(Effect.provide(MainLive), NodeRuntime.runMain)
}
