/** Answers shared by the tests that run `MimoClient` over a fake transport. */

/** A minimal 200 chat completion body. */
export const okBody = JSON.stringify({
  id: "c",
  object: "chat.completion",
  created: 0,
  model: "mimo-v2-flash",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }]
})
