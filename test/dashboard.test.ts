/**
 * The dashboard's server side on real SQLite (test/helpers/dashboard-suite.ts; the same suite runs
 * on PostgreSQL in test/services/dashboard-postgres.test.ts), and the latency histogram's quantiles
 * against exact ones.
 */
import { describe, expect, it } from 'vitest';
import { bucketOf, emptyHistogram, quantile } from '../src/dashboard/latency-histogram.js';
import { dashboardSuite } from './helpers/dashboard-suite.js';

let seed = 42;
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

describe('latency histogram', () => {
  it('puts quantiles within one bucket (15%) of the exact value', () => {
    const xs = Array.from({ length: 20_000 }, () => Math.exp(1 + 1.2 * Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())));
    const h = emptyHistogram();
    for (const x of xs) h[bucketOf(x)]!++;
    const sorted = [...xs].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      expect(Math.abs(quantile(h, q)! - exact) / exact).toBeLessThan(0.08);
    }
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
  });
});

dashboardSuite('SQLite');
