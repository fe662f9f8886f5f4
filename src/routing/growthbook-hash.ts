/**
 * Deterministic bucketing, bit-for-bit GrowthBook's published scheme (sdk-js `util.ts`: `hash`,
 * `getBucketRanges`, `chooseVariation`), so a team already bucketing users with GrowthBook puts
 * every user in the same bucket here.
 *
 * - FNV-1a 32-bit over the string's UTF-16 code units (`charCodeAt`, as GrowthBook does; equal to
 *   the byte-wise FNV-1a for ASCII ids).
 * - hashVersion 2: `n = fnv1a32(String(fnv1a32(seed + value))) % 10000 / 10000` — the second round
 *   removes the bias of version 1 (`fnv1a32(value + seed) % 1000 / 1000`) for ids that share a prefix.
 * - Variation ranges: weights laid end to end on [0, 1), each shrunk to `coverage` of its width.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit; `state` continues a hash (fnv1a32(a + b) === fnv1a32(b, fnv1a32(a))) without building the string. */
export function fnv1a32(text: string, state: number = FNV_OFFSET): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME); // the multiply mod 2^32 that GrowthBook spells as shifts and adds
  }
  return h >>> 0;
}

/** GrowthBook's `hash(seed, value, version)`: a bucket in [0, 1), or null for an unknown version. */
export function growthbookHash(seed: string, value: string, version: 1 | 2 | number = 2): number | null {
  if (version === 2) return (fnv1a32(`${fnv1a32(value, fnv1a32(seed))}`) % 10000) / 10000;
  if (version === 1) return (fnv1a32(value + seed) % 1000) / 1000;
  return null;
}

export type BucketRange = [start: number, end: number];

/**
 * GrowthBook's `getBucketRanges(numVariations, coverage, weights)`, including its fallbacks:
 * coverage clamped to [0, 1]; weights of the wrong length, or not summing to 1 ± 0.01, become equal.
 */
export function getBucketRanges(numVariations: number, coverage = 1, weights?: readonly number[]): BucketRange[] {
  const cov = Math.min(1, Math.max(0, coverage));
  const equal = numVariations <= 0 ? [] : new Array<number>(numVariations).fill(1 / numVariations);
  let w = weights && weights.length === numVariations ? weights : equal;
  const total = w.reduce((s, x) => s + x, 0);
  if (total < 0.99 || total > 1.01) w = equal;
  let cumulative = 0;
  return w.map((x) => {
    const start = cumulative;
    cumulative += x;
    return [start, start + cov * x];
  });
}

/** GrowthBook's `chooseVariation`: the index of the range holding n (start inclusive, end exclusive), or -1. */
export function chooseVariation(n: number, ranges: readonly BucketRange[]): number {
  for (let i = 0; i < ranges.length; i++) if (n >= ranges[i]![0] && n < ranges[i]![1]) return i;
  return -1;
}
