import { describe, expect, it } from 'vitest';
import { type AbTest, type AbTestConfig, DEFAULT_TEST_CONFIG, type SequentialState, analyseTest, decide } from '../src/abtest/index.js';
import type { TestObservations, VariantStats } from '../src/abtest/variant-stats.js';
import { mulberry32 } from '../src/stats/random.js';

const T0 = new Date('2026-01-01T00:00:00Z');

function makeTest(over: Partial<AbTest> = {}, config: Partial<AbTestConfig> = {}): AbTest {
  return {
    id: 't',
    name: 'sim',
    model_id: 'm',
    model_name: 'model',
    mode: 'ab',
    status: 'active',
    control_version_id: 'c',
    control_version: '1.0.0',
    treatment_version_id: 'tr',
    treatment_version: '1.1.0',
    traffic_split: 0.5,
    metric: 'accuracy',
    decision_mode: 'auto',
    hash_seed: 't',
    config: { ...DEFAULT_TEST_CONFIG, ...config },
    canary_stage: null,
    split_changed_at: T0.toISOString(),
    decision: null,
    winner: null,
    decision_reason: null,
    created_by: 'test',
    created_at: T0.toISOString(),
    updated_at: T0.toISOString(),
    ended_at: null,
    ...over,
  };
}

function variant(v: 'control' | 'treatment', o: Partial<VariantStats> = {}): VariantStats {
  return {
    variant: v,
    predictions: 0,
    errors: 0,
    labelled: 0,
    correct: 0,
    since_split: o.predictions ?? 0,
    confidence: { n: 0, mean: 0, variance: 0 },
    latency: { n: 0, mean: 0, variance: 0 },
    latencies: [],
    ...o,
  };
}

const obs = (c: Partial<VariantStats>, t: Partial<VariantStats>): TestObservations => ({ control: variant('control', c), treatment: variant('treatment', t), agreement: null });
const later = (s: number) => new Date(T0.getTime() + s * 1000);

describe('decisions', () => {
  it('promotes a significantly better treatment once the minimum sample and duration are met', () => {
    const test = makeTest({}, { min_samples: 1000, min_duration_s: 3600 });
    const o = obs({ predictions: 1200, labelled: 1200, correct: 1020 }, { predictions: 1200, labelled: 1200, correct: 1110 }); // 85% vs 92.5%
    const early = analyseTest(test, o, {}, later(60));
    expect(early.accuracy.p_value).toBeLessThan(1e-6);
    expect(early.accuracy.always_valid_p_value).toBeLessThan(0.05);
    expect(early.accuracy.always_valid_p_value!).toBeGreaterThan(early.accuracy.p_value!); // the price of peeking
    expect(decide(test, early, later(60)).decision).toBe('continue'); // minimum duration not reached
    const r = analyseTest(test, o, {}, later(7200));
    const d = decide(test, r, later(7200));
    expect(d.decision).toBe('promote');
    expect(d.recommendation).toMatch(/always-valid p/);
    expect(r.sample_size.required_per_variant).toBeGreaterThan(0);
    expect(r.sample_ratio?.mismatch).toBe(false);
  });

  it('waits for the minimum sample even when the difference is already significant', () => {
    const test = makeTest({}, { min_samples: 1000 });
    const r = analyseTest(test, obs({ predictions: 500, labelled: 500, correct: 400 }, { predictions: 500, labelled: 500, correct: 480 }), {}, later(10));
    const d = decide(test, r, later(10));
    expect(d.decision).toBe('continue');
    expect(d.reasons.join(' ')).toMatch(/1000 labelled predictions per variant/);
  });

  it('rolls back at once when the error rate is significantly worse (guardrail)', () => {
    const test = makeTest({}, { min_samples: 1000 });
    const r = analyseTest(test, obs({ predictions: 400, errors: 2 }, { predictions: 400, errors: 40 }), {}, later(10));
    const d = decide(test, r, later(10));
    expect(d.decision).toBe('rollback');
    expect(d.reasons[0]).toMatch(/error rate significantly higher/);
  });

  it('rolls back when p95 latency is significantly worse beyond the tolerance', () => {
    const rng = mulberry32(7);
    const c = Array.from({ length: 600 }, () => 5 + rng() * 5);
    const t = Array.from({ length: 600 }, () => 10 + rng() * 10);
    const m = (xs: number[]) => ({ n: xs.length, mean: xs.reduce((a, b) => a + b, 0) / xs.length, variance: 1 });
    const test = makeTest();
    const r = analyseTest(test, obs({ predictions: 600, latencies: c, latency: m(c) }, { predictions: 600, latencies: t, latency: m(t) }), {}, later(10));
    expect(r.latency_p95.ratio!).toBeGreaterThan(1.5);
    expect(decide(test, r, later(10)).decision).toBe('rollback');
    // the same tail within tolerance is no breach
    const relaxed = makeTest({}, { latency_tolerance: 1 });
    expect(decide(relaxed, analyseTest(relaxed, obs({ predictions: 600, latencies: c }, { predictions: 600, latencies: t }), {}, later(10)), later(10)).decision).not.toBe('rollback');
  });

  it('never promotes through a sample-ratio mismatch (chi-square against the split, p < 0.001)', () => {
    const test = makeTest({}, { min_samples: 100 });
    const r = analyseTest(test, obs({ predictions: 3000, labelled: 3000, correct: 2400 }, { predictions: 2000, labelled: 2000, correct: 1900 }), {}, later(10));
    expect(r.sample_ratio?.mismatch).toBe(true);
    const d = decide(test, r, later(10));
    expect(d.decision).toBe('continue');
    expect(d.recommendation).toMatch(/Sample-ratio mismatch/);
  });

  it('advances a canary stage while guardrails hold, and promotes past the last stage', () => {
    const test = makeTest({ mode: 'canary', canary_stage: 0, traffic_split: 0.05 }, { canary_min_samples: 50, canary_stages: [0.05, 0.5, 1] });
    const r = analyseTest(test, obs({ predictions: 950 }, { predictions: 55 }), {}, later(10));
    expect(decide(test, r, later(10)).decision).toBe('advance');
    const few = analyseTest(test, obs({ predictions: 400 }, { predictions: 20 }), {}, later(10));
    expect(decide(test, few, later(10)).decision).toBe('continue');
    const last = makeTest({ mode: 'canary', canary_stage: 2, traffic_split: 1 }, { canary_min_samples: 50, canary_stages: [0.05, 0.5, 1] });
    expect(decide(last, analyseTest(last, obs({ predictions: 900 }, { predictions: 900 }), {}, later(10)), later(10)).decision).toBe('promote');
  });

  it('keeps the running minimum of the always-valid p-value and its tau² across looks', () => {
    const test = makeTest();
    const r1 = analyseTest(test, obs({ predictions: 500, labelled: 500, correct: 400 }, { predictions: 500, labelled: 500, correct: 440 }), {}, later(1));
    const s1 = r1.sequential_state.accuracy!;
    const r2 = analyseTest(test, obs({ predictions: 1000, labelled: 1000, correct: 800 }, { predictions: 1000, labelled: 1000, correct: 800 }), r1.sequential_state, later(2));
    expect(r2.accuracy.p_value).toBe(1);
    expect(r2.accuracy.always_valid_p_value).toBe(s1.p); // never goes back up
    expect(r2.sequential_state.accuracy!.tau2).toBe(s1.tau2);
  });
});

describe('peeking after every batch with two equal models', () => {
  it('keeps the sequential false-positive rate at or below alpha; the naive fixed-horizon rate is far above', () => {
    const rng = mulberry32(20260101);
    const tests = 400;
    const batches = 20;
    const batch = 100; // labelled predictions per variant per batch: 2000 per variant at the end
    const accuracy = 0.85;
    let sequentialFalse = 0;
    let naiveFalse = 0;
    let fixedHorizonFalse = 0;
    const test = makeTest({}, { min_samples: 0, guardrail_min_samples: 0 });
    for (let k = 0; k < tests; k++) {
      let state: SequentialState = {};
      const c = { n: 0, s: 0 };
      const t = { n: 0, s: 0 };
      let seqHit = false;
      let naiveHit = false;
      let lastP = 1;
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < batch; i++) {
          c.s += rng() < accuracy ? 1 : 0;
          t.s += rng() < accuracy ? 1 : 0;
        }
        c.n += batch;
        t.n += batch;
        const r = analyseTest(test, obs({ predictions: c.n, labelled: c.n, correct: c.s }, { predictions: t.n, labelled: t.n, correct: t.s }), state, later(b + 1));
        state = r.sequential_state;
        if (decide(test, r, later(b + 1)).decision !== 'continue') seqHit = true;
        if ((r.accuracy.p_value ?? 1) < 0.05) naiveHit = true; // stop at the first peek below 0.05
        lastP = r.accuracy.p_value ?? 1;
      }
      if (seqHit) sequentialFalse++;
      if (naiveHit) naiveFalse++;
      if (lastP < 0.05) fixedHorizonFalse++; // one look at the planned horizon: valid
    }
    const rates = { sequential: sequentialFalse / tests, naive_peeking: naiveFalse / tests, fixed_horizon_single_look: fixedHorizonFalse / tests };
    console.log(`false-positive rates over ${tests} A/A tests, ${batches} peeks each: ${JSON.stringify(rates)}`);
    expect(rates.sequential).toBeLessThanOrEqual(0.05);
    expect(rates.naive_peeking).toBeGreaterThan(0.1);
    expect(rates.fixed_horizon_single_look).toBeLessThan(0.09);
  });
});
