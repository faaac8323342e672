/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per frame
 * and per package, optionally within a time window (the measured phase of a
 * case, on the same monotonic clock as `process.hrtime`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type * as Results from "./Results.js"

const CallFrame = Schema.Struct({
  functionName: Schema.String,
  url: Schema.String,
  lineNumber: Schema.Number,
  columnNumber: Schema.Number
})

/**
 * The parts of a `.cpuprofile` used here.
 *
 * @since 0.1.0
 * @category models
 */
export const CpuProfile = Schema.Struct({
  nodes: Schema.Array(Schema.Struct({ id: Schema.Number, callFrame: CallFrame })),
  startTime: Schema.Number,
  endTime: Schema.Number,
  samples: Schema.Array(Schema.Number),
  timeDeltas: Schema.Array(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type CpuProfile = typeof CpuProfile.Type

/**
 * A summary: total sampled time (idle excluded), the top frames and the packages.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly totalMs: number
  readonly top: ReadonlyArray<Results.Frame>
  readonly byPackage: ReadonlyArray<{ readonly name: string; readonly selfMs: number; readonly percent: number }>
}

const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\//

/**
 * Which package a frame's script belongs to.
 *
 * @since 0.1.0
 * @category summarising
 */
export const packageOf = (url: string, functionName: string): string => {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native / V8 builtins)"
  if (url.startsWith("node:internal/deps/undici")) return "undici (Node's bundled copy: fetch)"
  if (url.startsWith("node:")) return "node internals"
  if (url.includes("/packages/core/")) return "@effect-mimo/core"
  if (url.includes("/packages/platform-node/")) return "@effect-mimo/platform-node"
  if (url.includes("/apps/bench/")) return "bench harness"
  const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url)
  if (m !== null) return m[1]
  return "other"
}

/**
 * A short location: `package/path:line` or a path relative to the repo.
 *
 * @since 0.1.0
 * @category summarising
 */
export const shortLocation = (url: string, line: number): string => {
  if (url === "") return ""
  let path = url.replace(/^file:\/\//, "")
  const m = pnpm.exec(path)
  if (m !== null) path = path.slice(m.index + m[0].length)
  else {
    const i = path.search(/\/(packages|apps)\//)
    if (i !== -1) path = path.slice(i + 1)
  }
  return `${path}:${line + 1}`
}

/**
 * Self time per frame (by function, script and line) and per package, within
 * `[fromUs, toUs]` when given.
 *
 * @since 0.1.0
 * @category summarising
 */
export const summarize = (
  profile: CpuProfile,
  options: { readonly fromUs?: number | undefined; readonly toUs?: number | undefined; readonly top?: number } = {}
): Summary => {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const frames = new Map<string, { functionName: string; location: string; self: number }>()
  const packages = new Map<string, number>()
  let total = 0
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    t += delta
    if (options.fromUs !== undefined && t < options.fromUs) continue
    if (options.toUs !== undefined && t > options.toUs) break
    const frame = byId.get(profile.samples[i])
    if (frame === undefined || frame.functionName === "(idle)") continue
    total += delta
    const location = shortLocation(frame.url, frame.lineNumber)
    const key = `${frame.functionName}\u0000${location}`
    const entry = frames.get(key)
    if (entry === undefined) {
      frames.set(key, { functionName: frame.functionName || "(anonymous)", location, self: delta })
    } else entry.self += delta
    const pkg = packageOf(frame.url, frame.functionName)
    packages.set(pkg, (packages.get(pkg) ?? 0) + delta)
  }
  const percent = (us: number) => total === 0 ? 0 : Math.round((us / total) * 1000) / 10
  const ms = (us: number) => Math.round(us / 100) / 10
  return {
    totalMs: ms(total),
    top: [...frames.values()]
      .sort((a, b) => b.self - a.self)
      .slice(0, options.top ?? 20)
      .map((f) => ({
        functionName: f.functionName,
        location: f.location,
        selfMs: ms(f.self),
        percent: percent(f.self)
      })),
    byPackage: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, selfMs: ms(us), percent: percent(us) }))
  }
}

/**
 * Decodes a `.cpuprofile` file's text.
 *
 * @since 0.1.0
 * @category summarising
 */
export const decode = (text: string): CpuProfile => Schema.decodeUnknownSync(Schema.parseJson(CpuProfile))(text)
