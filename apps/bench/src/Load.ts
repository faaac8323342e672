/**
 * Small measuring helpers shared by the clients and the cases.
 *
 * @since 0.1.0
 */

/**
 * The q-quantile (0..1) of `values` (sorted in place), nearest-rank.
 *
 * @since 0.1.0
 * @category measuring
 */
export const quantile = (values: Float64Array, q: number): number => {
  if (values.length === 0) return 0
  values.sort()
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))
  return values[rank]
}

/**
 * Runs `one(i)` for i in [0, total) with at most `concurrency` in flight.
 *
 * @since 0.1.0
 * @category load
 */
export const pool = async (
  total: number,
  concurrency: number,
  one: (i: number) => Promise<void>
): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < total) {
      const i = next++
      await one(i)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, worker))
}

/**
 * Counts one failure under `key`.
 *
 * @since 0.1.0
 * @category measuring
 */
export const count = (errors: Record<string, number>, key: string): void => {
  errors[key] = (errors[key] ?? 0) + 1
}

/**
 * A short name for any thrown value: `status:<n>` when it carries an HTTP
 * status, else its `_tag`, `name` or `code`.
 *
 * @since 0.1.0
 * @category measuring
 */
export const errorKey = (e: unknown): string => {
  if (typeof e !== "object" || e === null) return String(e)
  const status = "status" in e && typeof e.status === "number" ? e.status : undefined
  const tag = "_tag" in e && typeof e._tag === "string" ? e._tag : undefined
  const name = "name" in e && typeof e.name === "string" ? e.name : undefined
  if (tag !== undefined) return status !== undefined ? `${tag}:${status}` : tag
  if (status !== undefined) return `status:${status}`
  return name ?? "Error"
}

/**
 * Sleeps `ms` milliseconds.
 *
 * @since 0.1.0
 * @category load
 */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
