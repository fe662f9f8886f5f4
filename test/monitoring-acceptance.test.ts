/**
 * The monitoring decisions measured on generated data with fixed seeds (issue 18's acceptance):
 * - 200 windows of 1,000 rows × 50 features with no drift: the model-level drift alarm in ≤ 5 %
 *   (expected; see the test for the sampling margin);
 * - 10 of 50 features shifted by 0.2 sd, or scaled ×1.3 (100 windows each): detected in ≥ 95 % of
 *   windows, and the flagged features are the shifted ones;
 * bench/monitoring-decisions.mjs runs the same scenarios on 500+ windows with the old rule beside.
 * - decay at 100 labels with no true change: ≤ 5 % false alarms per check, and ≤ 5 % over 20
 *   repeated checks as labels accumulate.
 * Each window gets a fresh reference (the unconditional error rate is what the tests control).
 * The same `computeDataDrift` / `computeDecay` run in every monitoring check and in `vitals drift`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { computeDecay } from '../src/monitoring/decay.js';
import { computeDataDrift } from '../src/monitoring/drift-report.js';
import { mulberry32 } from '../src/stats/random.js';
import { buildReferenceProfile } from '../src/stats/reference-profile.js';

const FEATURES = 50;
const ROWS = 1000;
const WINDOWS = 200;
const names = Array.from({ length: FEATURES }, (_, j) => `f${String(j).padStart(2, '0')}`);
const shiftedNames = new Set(names.slice(0, 10));
const measured: Record<string, string> = {};
afterAll(() => console.log('monitoring acceptance (measured):', measured));

function normalSource(seed: number): () => number {
  const rng = mulberry32(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

function table(normal: () => number, transform: (j: number, z: number) => number = (_j, z) => z): Array<Record<string, number>> {
  return Array.from({ length: ROWS }, () => Object.fromEntries(names.map((n, j) => [n, transform(j, normal())])));
}

function runWindows(seed: number, transform?: (j: number, z: number) => number, windows = WINDOWS) {
  const normal = normalSource(seed);
  let alarms = 0;
  let windowsWithFalseFlag = 0;
  let trueFlags = 0;
  let falseFlags = 0;
  let oldRule = 0;
  for (let w = 0; w < windows; w++) {
    const profile = buildReferenceProfile(table(normal), { maxSample: ROWS, seed: w });
    const result = computeDataDrift(profile, table(normal, transform), { threshold: 0.1 });
    expect(result.correction).toEqual({ method: 'holm', alpha: 0.05, tests: FEATURES });
    if (result.drift_detected) alarms++;
    // the rule before issue 18: any feature at raw p < 0.05 with effect >= threshold
    if (Object.values(result.feature_drifts).some((f) => f.p_value < 0.05 && f.effect >= 0.1)) oldRule++;
    const wrong = result.drifted_features.filter((f) => !shiftedNames.has(f) || !transform);
    if (wrong.length) windowsWithFalseFlag++;
    falseFlags += wrong.length;
    trueFlags += result.drifted_features.length - wrong.length;
  }
  return {
    alarmRate: alarms / windows,
    oldRuleRate: oldRule / windows,
    falseFlagWindowRate: windowsWithFalseFlag / windows,
    trueFlagsPerWindow: trueFlags / windows,
    falseFlagsPerWindow: falseFlags / windows,
  };
}

describe('model-level drift decision (Holm across 50 features)', () => {
  it('no drift: the model-level alarm in at most 5% of 200 windows', () => {
    const r = runWindows(1801);
    measured['no drift: alarm rate (200 windows)'] = r.alarmRate.toFixed(3);
    // Holm at 0.05 bounds the expected alarm rate by 5% (bench/monitoring-decisions.mjs measures it
    // on 500 windows: 3.0%); 200 windows estimate it to ±1.5%, so the test fails only when the rate
    // is significantly above 5% (one-sided binomial, 5% level: 200 · 0.05 + 1.645 · √(200 · 0.05 · 0.95) ≈ 15).
    expect(r.alarmRate * WINDOWS).toBeLessThanOrEqual(15);
    measured['no drift: old rule (raw p per feature) alarm rate'] = r.oldRuleRate.toFixed(3);
    expect(r.oldRuleRate).toBeGreaterThan(0.5);
  }, 120_000);

  it('10 of 50 features shifted by 0.2 sd: detected in at least 95% of windows, flagging the shifted ones', () => {
    const r = runWindows(1802, (j, z) => (j < 10 ? z + 0.2 : z), 100);
    measured['shift 0.2 sd: detection rate'] = r.alarmRate.toFixed(3);
    measured['shift 0.2 sd: windows with a wrongly flagged feature'] = r.falseFlagWindowRate.toFixed(3);
    measured['shift 0.2 sd: shifted features flagged per window (of 10)'] = r.trueFlagsPerWindow.toFixed(2);
    expect(r.alarmRate).toBeGreaterThanOrEqual(0.95);
    // Holm bounds the chance that a window names any of the 40 unshifted features by 5% (the bench
    // measures 3.4% on 500 windows); on 100 windows the test fails only when the rate is significantly
    // above that (one-sided binomial, 5% level: 100 · 0.05 + 1.645 · √(100 · 0.05 · 0.95) ≈ 8.6).
    expect(r.falseFlagWindowRate * 100).toBeLessThanOrEqual(8);
    expect(r.trueFlagsPerWindow / (r.trueFlagsPerWindow + r.falseFlagsPerWindow)).toBeGreaterThanOrEqual(0.99);
  }, 120_000);

  it('10 of 50 features scaled ×1.3: detected in at least 95% of windows, flagging the scaled ones', () => {
    const r = runWindows(1803, (j, z) => (j < 10 ? 1.3 * z : z), 100);
    measured['scale ×1.3: detection rate'] = r.alarmRate.toFixed(3);
    measured['scale ×1.3: windows with a wrongly flagged feature'] = r.falseFlagWindowRate.toFixed(3);
    measured['scale ×1.3: scaled features flagged per window (of 10)'] = r.trueFlagsPerWindow.toFixed(2);
    expect(r.alarmRate).toBeGreaterThanOrEqual(0.95);
    expect(r.falseFlagWindowRate * 100).toBeLessThanOrEqual(8); // as above (bench: 3.2% on 500 windows)
  }, 120_000);
});

describe('decay decision (confidence sequence against the baseline on its own sample size)', () => {
  const BASELINE_P = 0.8;
  const BASELINE_N = 500;
  const SIMS = 2000;

  /** One version: a baseline measured on BASELINE_N rows, then a stream of labels at `trueP`. */
  function simulate(seed: number, trueP: number, checksAt: number[], window = 1000) {
    const rng = mulberry32(seed);
    let baselineCorrect = 0;
    for (let i = 0; i < BASELINE_N; i++) if (rng() < BASELINE_P) baselineCorrect++;
    const baseline = { accuracy: baselineCorrect / BASELINE_N, n_test: BASELINE_N };
    const stream: boolean[] = [];
    const alarms: boolean[] = [];
    for (const n of checksAt) {
      while (stream.length < n) stream.push(rng() < trueP);
      const labelled = stream.slice(-window).map((ok) => ({ prediction: 'a', ground_truth: ok ? 'a' : 'b' }));
      const d = computeDecay(labelled, { labels: ['a', 'b', 'c'], baseline, threshold: 0.05, minLabels: 100, estimatedAccuracy: null });
      alarms.push(d.decay_detected);
    }
    return alarms;
  }

  it('no change, 100 labels: at most 5% false alarms per check', () => {
    let alarms = 0;
    for (let s = 0; s < SIMS; s++) if (simulate(10_000 + s, BASELINE_P, [100])[0]) alarms++;
    measured['decay, no change, one check at 100 labels: false alarms'] = (alarms / SIMS).toFixed(4);
    expect(alarms / SIMS).toBeLessThanOrEqual(0.05);
  });

  it('no change: at most 5% false alarms over 20 repeated checks (100, 150, …, 1050 labels)', () => {
    const checks = Array.from({ length: 20 }, (_, k) => 100 + 50 * k);
    let any = 0;
    for (let s = 0; s < SIMS; s++) if (simulate(20_000 + s, BASELINE_P, checks).some(Boolean)) any++;
    measured['decay, no change, 20 checks: runs with any false alarm'] = (any / SIMS).toFixed(4);
    expect(any / SIMS).toBeLessThanOrEqual(0.05);
  });

  it('still catches a real fall: 0.8 → 0.65 within 20 checks in most runs', () => {
    const checks = Array.from({ length: 20 }, (_, k) => 100 + 50 * k);
    let caught = 0;
    const runs = 500;
    for (let s = 0; s < runs; s++) if (simulate(30_000 + s, 0.65, checks).some(Boolean)) caught++;
    measured['decay 0.8 → 0.65: caught within 20 checks'] = (caught / runs).toFixed(3);
    expect(caught / runs).toBeGreaterThanOrEqual(0.8);
  });
});
