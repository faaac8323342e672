/**
 * The bodies the bench serves: the mock server's (servers/mock.ts) and the
 * in-memory transport of the `steps` case (cases/effectSteps.ts), the same
 * text in both.
 *
 * @internal
 */

const created = 1767225600

/** The tiny chat answer of the overhead case. */
export const answer: string = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created,
  model: "mimo-v2-flash",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }
})

const chunk = (delta: Record<string, string>, finish: string | null) =>
  `data: ${
    JSON.stringify({
      id: "chatcmpl-bench",
      object: "chat.completion.chunk",
      created,
      model: "mimo-v2-flash",
      choices: [{ index: 0, delta, finish_reason: finish }]
    })
  }\n\n`

/** An SSE body of `n` chunk events in all (the first carries the role, the last the finish reason), then `[DONE]`. */
export const sseText = (n: number): string => {
  const parts: Array<string> = [chunk({ role: "assistant", content: "" }, null)]
  const middle = chunk({ content: "tok " }, null)
  for (let i = 1; i < n - 1; i++) parts.push(middle)
  parts.push(chunk({ content: "" }, "stop"))
  parts.push("data: [DONE]\n\n")
  return parts.join("")
}
