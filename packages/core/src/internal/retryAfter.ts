import * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** A non-negative decimal number, optionally with an exponent (what `String(n)` writes for huge or tiny n). */
const decimal = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

const months: ReadonlyArray<string> = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec"
]

// The three HTTP-date forms of RFC 9110 §5.6.7 (matched case-insensitively, day names not checked against the date):
// IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
const imfFixdate = /^[a-z]{3}, (\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:gmt|utc|ut|z)$/i
// RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
const rfc850 = /^[a-z]{6,9}, (\d{1,2})-([a-z]{3})-(\d{2}|\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:gmt|utc|ut|z)$/i
// asctime      "Sun Nov  6 08:49:37 1994"
const asctime = /^[a-z]{3} ([a-z]{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i

const utc = (
  year: number,
  monthName: string,
  day: number,
  hours: number,
  minutes: number,
  seconds: number
): number | undefined => {
  const month = months.indexOf(monthName.toLowerCase())
  if (month < 0 || hours > 23 || minutes > 59 || seconds > 60) return undefined
  const millis = Date.UTC(year, month, day, hours, minutes, Math.min(seconds, 59))
  const date = new Date(millis)
  // Date.UTC rolls "Feb 30" over into March: reject instead.
  return date.getUTCDate() === day && date.getUTCMonth() === month ? millis : undefined
}

/** @internal */
export const parseHttpDate = (value: string): number | undefined => {
  const text = value.trim().replace(/\s+/g, " ")
  let m = imfFixdate.exec(text)
  if (m !== null) return utc(Number(m[3]), m[2], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  m = rfc850.exec(text)
  if (m !== null) {
    const yy = Number(m[3])
    // Two-digit years: RFC 9110 reads a year more than 50 years ahead as the past century; 70 is the usual pivot.
    const year = m[3].length === 4 ? yy : yy < 70 ? 2000 + yy : 1900 + yy
    return utc(year, m[2], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]))
  }
  m = asctime.exec(text)
  if (m !== null) return utc(Number(m[6]), m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]))
  return undefined
}

const parseDecimal = (value: string): number | undefined => {
  const text = value.trim()
  if (!decimal.test(text)) return undefined
  const n = Number(text)
  return Number.isFinite(n) ? n : undefined
}

const header = (headers: Headers.Headers, name: string): string | undefined =>
  Option.getOrUndefined(Headers.get(headers, name))

/** @internal */
export const parse = (headers: Headers.Headers, nowMillis: number): Option.Option<Duration.Duration> => {
  const ms = header(headers, "retry-after-ms")
  if (ms !== undefined) {
    const n = parseDecimal(ms)
    if (n !== undefined) return Option.some(Duration.millis(n))
  }
  const value = header(headers, "retry-after")
  if (value === undefined) return Option.none()
  const seconds = parseDecimal(value)
  if (seconds !== undefined) {
    const millis = seconds * 1000
    return Number.isFinite(millis) ? Option.some(Duration.millis(millis)) : Option.none()
  }
  const date = parseHttpDate(value)
  if (date === undefined || !Number.isFinite(nowMillis)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, date - nowMillis)))
}

/** @internal */
export const fromHeaders = (headers: Headers.Headers): Effect.Effect<Option.Option<Duration.Duration>> =>
  Effect.map(Clock.currentTimeMillis, (now) => parse(headers, now))

/** @internal */
export const toHeaders = (duration: Duration.Duration): Record<string, string> => {
  if (!Duration.isFinite(duration)) return {}
  const millis = Duration.toMillis(duration)
  return {
    "retry-after": String(Math.ceil(millis / 1000)),
    "retry-after-ms": String(millis)
  }
}
