/**
 * The chat page `mimo gateway` serves: plain TypeScript (no UI framework),
 * bundled by esbuild (`web/build.mjs`) into `web/dist/app.js`.
 *
 * It uses `@effect-mimo/platform-browser` against the gateway that served it:
 * `BrowserMimoClient.layer` with the page's own origin as the base URL and no
 * credential (the gateway holds the key). It shows
 * - the answer as it streams in;
 * - a notice for each retry while it is waiting: the gateway's upstream
 *   retries (`onGatewayRetry`, from its `event: mimo.retry` notices) and this
 *   page's own (`onRetry`: only when the gateway itself cannot be reached,
 *   since the gateway already retried everything else);
 * - a failure as its typed error: tag, code, status, message, and the
 *   solution text from the core's error table (`MimoError.solution`).
 *
 * `document.body.dataset.state` says where a request is (`idle`,
 * `streaming`, `waiting`, `done`, `failed`, `stopped`), for people and tests.
 */
import * as ChatCompletion from "@effect-mimo/core/ChatCompletion"
import * as MimoClient from "@effect-mimo/core/MimoClient"
import * as MimoError from "@effect-mimo/core/MimoError"
import * as RetryPolicy from "@effect-mimo/core/RetryPolicy"
import * as BrowserMimoClient from "@effect-mimo/platform-browser/BrowserMimoClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

const element = <T extends HTMLElement>(id: string, type: { new(): T; prototype: T }): T => {
  const found = document.getElementById(id)
  if (!(found instanceof type)) throw new Error(`the page lacks #${id}`)
  return found
}

const ui = {
  form: element("ask", HTMLFormElement),
  prompt: element("prompt", HTMLTextAreaElement),
  model: element("model", HTMLInputElement),
  send: element("send", HTMLButtonElement),
  stop: element("stop", HTMLButtonElement),
  status: element("status", HTMLElement),
  notices: element("notices", HTMLUListElement),
  answer: element("answer", HTMLElement),
  error: element("error", HTMLElement),
  errorTag: element("error-tag", HTMLElement),
  errorCode: element("error-code", HTMLElement),
  errorStatus: element("error-status", HTMLElement),
  errorMessage: element("error-message", HTMLElement),
  errorSolution: element("error-solution", HTMLElement)
}

type State = "idle" | "streaming" | "waiting" | "done" | "failed" | "stopped"

const setState = (state: State, status: string) => {
  document.body.dataset.state = state
  ui.status.textContent = status
  const busy = state === "streaming" || state === "waiting"
  ui.send.disabled = busy
  ui.stop.disabled = !busy
}

const formatDelay = (delay: Duration.Duration): string => {
  const ms = Math.round(Duration.toMillis(delay))
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`
}

/** One line per retry, kept until the next question: who retries, what failed, how long the wait is. */
const showRetry = (who: "gateway" | "page") => (event: MimoClient.RetryEvent) =>
  Effect.sync(() => {
    const error = event.error
    const code = MimoError.codeOf(error) ?? error._tag
    const status = MimoError.statusOf(error)
    const item = document.createElement("li")
    item.className = "notice"
    item.dataset.attempt = String(event.attempt)
    item.dataset.code = code
    item.textContent = `${who === "gateway" ? "The gateway's" : "This page's"} attempt ${event.attempt} failed: ` +
      `${code}${status === undefined ? "" : ` (${status})`} "${error.message}"; retrying in ${formatDelay(event.delay)}`
    ui.notices.append(item)
    setState("waiting", `Waiting ${formatDelay(event.delay)} before attempt ${event.attempt + 1}…`)
  })

const showError = (error: MimoError.MimoError) =>
  Effect.sync(() => {
    ui.errorTag.textContent = error._tag
    ui.errorCode.textContent = MimoError.codeOf(error) ?? "(none)"
    ui.errorStatus.textContent = String(MimoError.statusOf(error) ?? "(no HTTP response)")
    ui.errorMessage.textContent = error.message
    ui.errorSolution.textContent = MimoError.solution(error)
    ui.error.hidden = false
    setState("failed", `Failed with ${error._tag}.`)
  })

/**
 * The gateway retries every retryable upstream error itself; this page only
 * retries reaching the gateway (a transport failure before the first chunk).
 */
const reachGateway = RetryPolicy.make({ maxAttempts: 3 }).pipe(
  Schedule.whileInput((error: MimoError.MimoError) => error._tag === "TransportError")
)

const runtime = ManagedRuntime.make(
  BrowserMimoClient.layer({
    baseUrl: `${location.origin}/v1`,
    retry: reachGateway,
    onRetry: showRetry("page"),
    onGatewayRetry: showRetry("gateway")
  })
)

const ask = (prompt: string, model: string) =>
  Effect.gen(function*() {
    const mimo = yield* MimoClient.MimoClient
    let chunks = 0
    yield* mimo.stream({ model, messages: [{ role: "user", content: prompt }] }).pipe(
      Stream.runForEach((chunk: ChatCompletion.Chunk) =>
        Effect.sync(() => {
          chunks++
          if (document.body.dataset.state !== "streaming") setState("streaming", "Streaming the answer…")
          for (const choice of chunk.choices) {
            const text = choice.delta?.content ?? ""
            if (text !== "") ui.answer.append(text)
          }
        })
      )
    )
    setState(
      "done",
      `Done: ${chunks} chunks${
        ui.notices.childElementCount > 0 ? `, after ${ui.notices.childElementCount} retries` : ""
      }.`
    )
  }).pipe(
    Effect.catchAll(showError),
    Effect.onInterrupt(() => Effect.sync(() => setState("stopped", "Stopped: the request was aborted.")))
  )

let current: Fiber.RuntimeFiber<void, never> | undefined

ui.form.addEventListener("submit", (event) => {
  event.preventDefault()
  ui.answer.textContent = ""
  ui.notices.replaceChildren()
  ui.error.hidden = true
  setState("streaming", "Asking the gateway…")
  current = runtime.runFork(ask(ui.prompt.value, ui.model.value.trim()))
})

ui.stop.addEventListener("click", () => {
  if (current !== undefined) runtime.runFork(Fiber.interrupt(current))
})

setState("idle", "Ready.")
