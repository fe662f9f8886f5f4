/**
 * Multiple-testing adjustments and the Wilson interval against statsmodels
 * (test/fixtures/stats/monitoring.json, from scripts/stats-fixtures/make-fixtures.sh).
 */
import { describe, expect, it } from 'vitest';
import { benjaminiHochbergAdjust, holmAdjust, wilsonInterval } from '../src/stats/index.js';
import { ErrorTracker, loadFixture } from './fixtures/stats/load.js';

const fx = loadFixture<any>('monitoring.json');
const errors = new ErrorTracker();

describe('p-value adjustment vs statsmodels.stats.multitest.multipletests', () => {
  it('holm and fdr_bh adjusted p-values and rejections at 0.05', () => {
    for (const c of fx.p_adjust) {
      const holm = holmAdjust(c.p);
      const bh = benjaminiHochbergAdjust(c.p);
      holm.forEach((v, i) => errors.check('holm', v, c.holm[i], `${c.name}[${i}]`));
      bh.forEach((v, i) => errors.check('bh', v, c.bh[i], `${c.name}[${i}]`));
      expect(holm.map((v) => v < 0.05)).toEqual(c.holm_reject);
      expect(bh.map((v) => v < 0.05)).toEqual(c.bh_reject);
    }
  });
  it('rejects p-values outside [0, 1]', () => {
    expect(() => holmAdjust([0.1, Number.NaN])).toThrow(RangeError);
    expect(() => benjaminiHochbergAdjust([1.5])).toThrow(RangeError);
  });
});

describe('wilsonInterval vs statsmodels proportion_confint(method="wilson")', () => {
  it('matches at 1e-9', () => {
    for (const c of fx.wilson) {
      const [lo, hi] = wilsonInterval(c.successes, c.n, c.alpha);
      errors.check('wilson.low', lo, c.low, JSON.stringify(c));
      errors.check('wilson.high', hi, c.high, JSON.stringify(c));
    }
  });
});
