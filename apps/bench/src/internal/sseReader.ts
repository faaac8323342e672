/**
 * The bench's minimal SSE reader — raw undici's (`Clients.ts`), also used by
 * `effect-undici` and by `scripts/effect-floor.mjs`: the `data: ` lines of
 * each piece of a body, `[DONE]` skipped; every event is parsed, pushed to
 * `out` when given, and counted. Not a client's reader (no framing rules, no
 * guards): the reference the clients are measured against.
 *
 * @internal
 */
export const make = () => {
  const decoder = new TextDecoder()
  let buffer = ""
  return (bytes: Uint8Array, out: Array<unknown> | undefined): number => {
    buffer += decoder.decode(bytes, { stream: true })
    let chunks = 0
    let start = 0
    let end: number
    while ((end = buffer.indexOf("\n", start)) !== -1) {
      if (buffer.startsWith("data: ", start)) {
        const data = buffer.slice(start + 6, end)
        if (data !== "[DONE]") {
          const json: unknown = JSON.parse(data)
          if (out !== undefined) out.push(json)
          chunks++
        }
      }
      start = end + 1
    }
    buffer = buffer.slice(start)
    return chunks
  }
}
