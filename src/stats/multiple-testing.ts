/**
 * Error control across many tests, and the Wilson interval for a proportion — the pieces of
 * monitoring decisions that involve more than one p-value or a small sample.
 *
 * - `holmAdjust`: Holm's step-down adjusted p-values (`statsmodels multipletests(method='holm')`):
 *   sort ascending, p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)). Rejecting p̃ < α controls the
 *   family-wise error rate at α under any dependence between the tests.
 * - `benjaminiHochbergAdjust`: BH step-up adjusted p-values (`method='fdr_bh'`):
 *   p̃_(i) = min_{j ≥ i} min(1, m p_(j) / j). Rejecting p̃ < α controls the false discovery rate at α
 *   for independent or positively dependent tests (and the family-wise rate when nothing changed).
 * - `wilsonInterval`: the Wilson score interval (`statsmodels proportion_confint(method='wilson')`).
 */
import { normalPpf } from './special.js';

export type PAdjustMethod = 'holm' | 'bh';

function order(p: readonly number[]): number[] {
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || v > 1) throw new RangeError(`p-value ${i} is not in [0, 1] (${String(v)})`);
  }
  // stable sort, as statsmodels' argsort (mergesort) keeps ties in input order
  return p.map((_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b); // a, b < p.length
}

/** Holm's step-down adjusted p-values, in the input order. */
export function holmAdjust(p: readonly number[]): number[] {
  const m = p.length;
  const idx = order(p);
  const out = new Array<number>(m);
  let running = 0;
  idx.forEach((i, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[i]!)); // idx is a permutation of 0..m-1
    out[i] = running;
  });
  return out;
}

/** Benjamini–Hochberg step-up adjusted p-values, in the input order. */
export function benjaminiHochbergAdjust(p: readonly number[]): number[] {
  const m = p.length;
  const idx = order(p);
  const out = new Array<number>(m);
  let running = 1;
  // idx is a permutation of 0..m-1 and rank < m.
  for (let rank = m - 1; rank >= 0; rank--) {
    const i = idx[rank]!;
    running = Math.min(running, (m * p[i]!) / (rank + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

export function adjustPValues(p: readonly number[], method: PAdjustMethod): number[] {
  return method === 'holm' ? holmAdjust(p) : benjaminiHochbergAdjust(p);
}

/** Wilson score interval for `successes` of `n` at level 1 − alpha (two-sided). */
export function wilsonInterval(successes: number, n: number, alpha = 0.05): [number, number] {
  if (!(n > 0) || !(successes >= 0) || successes > n) throw new RangeError(`wilsonInterval: need 0 <= successes <= n, n > 0 (got ${successes}, ${n})`);
  const z = normalPpf(1 - alpha / 2);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
