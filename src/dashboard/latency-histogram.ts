/**
 * A mergeable latency histogram with log-spaced buckets (each 15% wider than the last, from 0.05 ms
 * to about 50 s): quantiles of any union of rollup buckets come within ~7% of the exact value.
 * Stored sparse as [index, count, index, count, …].
 */
const BASE_MS = 0.05;
const GROWTH = 1.15;
export const BUCKETS = 100;
const LOG_GROWTH = Math.log(GROWTH);

export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.floor(Math.log(ms / BASE_MS) / LOG_GROWTH));
}

/** The geometric middle of a bucket: the value a quantile falling in it reports. */
export function bucketValue(index: number): number {
  return BASE_MS * GROWTH ** (index + 0.5);
}

export type Histogram = Float64Array;

export const emptyHistogram = (): Histogram => new Float64Array(BUCKETS);

export function addSparse(into: Histogram, sparse: readonly number[]): void {
  for (let i = 0; i + 1 < sparse.length; i += 2) into[sparse[i]!]! += sparse[i + 1]!;
}

export function toSparse(h: Histogram): number[] {
  const out: number[] = [];
  for (let i = 0; i < h.length; i++) if (h[i]) out.push(i, h[i]!);
  return out;
}

/** The q-quantile (0..1) of the histogram, or null when it is empty. */
export function quantile(h: Histogram, q: number): number | null {
  let total = 0;
  for (const c of h) total += c;
  if (!total) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return Math.round(bucketValue(i) * 1000) / 1000;
  }
  return Math.round(bucketValue(h.length - 1) * 1000) / 1000;
}
