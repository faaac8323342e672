/**
 * Small, fast, seeded pseudo-random machinery (FNV-1a hashing + mulberry32).
 * Deterministic across runs and platforms; not for cryptography.
 *
 * @internal
 */

/** FNV-1a 32-bit hash of a string, folded with a starting value. */
export const hashString = (text: string, start: number = 0x811c9dc5): number => {
  let h = start >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Mixes a number into a hash. */
export const hashNumber = (h: number, n: number): number => {
  let x = (h ^ (n >>> 0)) >>> 0
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/** A mulberry32 generator: each call returns a float in [0, 1). */
export interface Prng {
  (): number
}

/** Creates a mulberry32 generator from a 32-bit seed. */
export const make = (seed: number): Prng => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An integer in [min, max]. */
export const int = (rng: Prng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1))

const HEX = "0123456789abcdef"

/** `length` lowercase hex characters drawn from the generator. */
export const hex = (rng: Prng, length: number): string => {
  let out = ""
  for (let i = 0; i < length; i++) out += HEX[(rng() * 16) | 0]
  return out
}
