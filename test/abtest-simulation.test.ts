/**
 * Acceptance: two real ONNX models of different accuracy, live traffic through the router, ground
 * truth arriving after the predictions, and the background job's looks after every batch. The
 * better model must be promoted automatically — no earlier than the minimum sample — and the
 * registry's history must say so.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../src/pipelines/demo-bootstrap.js';
import { mulberry32, stratifiedSplit, toTabularDataset, trainTabularClassifier, type TabularDataset } from '../src/pipelines/trainers/index.js';
import { abTestJob } from '../src/server/background-loop.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const MODEL = 'clinical-risk-sim';

describe('A/B simulation with two real ONNX models', () => {
  let t: TestApp;
  const data = toTabularDataset(readFileSync(DEMO_DATA, 'utf8'), 'diagnosis');
  // Held-out rows that neither model sees in training.
  const { train, test: heldOut } = stratifiedSplit(data.X.length, data.y, 0.4, 7);
  const subset = (idx: number[], X = data.X): TabularDataset => ({ ...data, X: idx.map((i) => X[i]!), y: idx.map((i) => data.y[i]!) });
  const accuracyOn = (predict: (X: number[][]) => number[]) => {
    const p = predict(heldOut.map((i) => data.X[i]!));
    return p.filter((c, j) => c === data.y[heldOut[j]!]).length / heldOut.length;
  };
  let weakAcc = 0;
  let strongAcc = 0;

  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 0, AB_TEST_MIN_SAMPLES: 1000 });
    // Strong: logistic regression on all 30 features. Weak: the same algorithm, but every feature
    // except two weak ones (texture, smoothness) is shuffled across rows before training, so it
    // learns almost nothing from them; it still takes all 30 features, like the strong one.
    const rng = mulberry32(11);
    const keep = new Set(['mean_texture', 'mean_smoothness'].map((f) => data.featureNames.indexOf(f)));
    const scrambled = data.X.map((r) => [...r]);
    for (let c = 0; c < data.featureNames.length; c++) {
      if (keep.has(c)) continue;
      const col = train.map((i) => data.X[i]![c]!);
      for (let k = col.length - 1; k > 0; k--) {
        const j = Math.floor(rng() * (k + 1));
        [col[k], col[j]] = [col[j]!, col[k]!];
      }
      train.forEach((i, k) => (scrambled[i]![c] = col[k]!));
    }
    const strong = trainTabularClassifier(subset(train), { algo: 'logreg', testFraction: 0.1, seed: 1 });
    const weak = trainTabularClassifier(subset(train, scrambled), { algo: 'logreg', testFraction: 0.1, seed: 1 });
    strongAcc = accuracyOn(strong.predict);
    weakAcc = accuracyOn(weak.predict);
    const spec = { kind: 'tabular', features: data.featureNames.map((name) => ({ name, type: 'number' })) };
    const out = { labels: data.labels, probabilities: 'probabilities' };
    // The weak model is the incumbent; the strong one challenges it.
    await t.services.registry.register({ name: MODEL, version: '1.0.0', artifact: weak.onnx, input_spec: spec, output_spec: out, metrics: { accuracy: weakAcc }, aliases: ['production'] });
    await t.services.registry.register({ name: MODEL, version: '1.1.0', artifact: strong.onnx, input_spec: spec, output_spec: out, metrics: { accuracy: strongAcc }, aliases: ['challenger'] });
  });
  afterAll(() => t.dispose());

  it('promotes the better model automatically after the minimum sample, audited in the history', async () => {
    expect(strongAcc).toBeGreaterThan(0.9);
    expect(weakAcc).toBeLessThan(strongAcc - 0.1);
    const s = t.services;
    // Latency in this simulation is the test runner's scheduling on a shared machine, not the models':
    // the latency guardrail is exercised in abtest-decisions.test.ts, and kept out of the way here.
    const created = await s.abTests.create({
      name: 'weak vs strong',
      model: MODEL,
      treatment: '1.1.0',
      traffic_split: 0.5,
      decision_mode: 'auto',
      hash_seed: 'weak-vs-strong',
      config: { latency_min_diff_ms: 1000 },
    });
    expect(created.config.min_samples).toBe(1000);

    const rng = mulberry32(2026);
    const row = (i: number) => Object.fromEntries(data.featureNames.map((f, c) => [f, data.X[i]![c]!]));
    const log = { info: () => undefined, warn: () => undefined, error: (e: unknown) => console.error(e) };
    let users = 0;
    const looks: Array<{ n: { control: number; treatment: number }; p: number | null; decision: string }> = [];
    for (let batch = 0; batch < 20; batch++) {
      // 200 patients per batch, each drawn from the held-out rows, sent by 16 concurrent clients
      // (steady traffic, as a server sees it, rather than one burst).
      const draws = Array.from({ length: 200 }, () => heldOut[Math.floor(rng() * heldOut.length)]!);
      const answers: Array<Awaited<ReturnType<typeof s.predictor.predictTabular>>> = new Array(draws.length);
      let next = 0;
      const client = async () => {
        for (let k = next++; k < draws.length; k = next++) answers[k] = await s.predictor.predictTabular(MODEL, [row(draws[k]!)], { userId: `patient-${users + k}` });
      };
      await Promise.all(Array.from({ length: 16 }, client));
      users += draws.length;
      // Ground truth arrives later, by prediction id.
      for (let k = 0; k < draws.length; k++) await s.predictionLog.attachGroundTruth(answers[k]![0]!.prediction_id!, data.labels[data.y[draws[k]!]!]!);
      await abTestJob(60).run(s, log);
      const st = await s.abTests.status(created.id);
      looks.push({ n: st.report.sample_size.current_per_variant, p: st.report.accuracy.always_valid_p_value, decision: st.test.status });
      if (st.test.status !== 'active') break;
    }
    const { test, report } = await s.abTests.status(created.id);
    console.log(
      `simulation: held-out accuracy weak ${weakAcc.toFixed(3)} vs strong ${strongAcc.toFixed(3)}; ` +
        `live accuracy control ${report.control.accuracy?.toFixed(3)} (n=${report.control.labelled}) vs treatment ${report.treatment.accuracy?.toFixed(3)} (n=${report.treatment.labelled}); ` +
        `always-valid p ${report.accuracy.always_valid_p_value?.toExponential(2)}, fixed-horizon p ${report.accuracy.p_value?.toExponential(2)}; ` +
        `p95 latency ${report.control.p95_latency_ms?.toFixed(2)} vs ${report.treatment.p95_latency_ms?.toFixed(2)} ms; ` +
        `${test.decision} after ${looks.length} looks (${users} patients): ${test.decision_reason}`,
    );
    expect(test).toMatchObject({ status: 'completed', decision: 'promote', winner: 'treatment' });
    // not before 1000 labelled predictions per variant, although the difference was clear long before
    expect(Math.min(report.control.labelled, report.treatment.labelled)).toBeGreaterThanOrEqual(1000);
    const early = looks.find((l) => Math.min(l.n.control, l.n.treatment) < 1000 && l.p !== null && l.p < 0.05);
    expect(early?.decision).toBe('active');

    const model = await s.registry.getModel(MODEL);
    expect(model.aliases.production).toBe('1.1.0');
    const promoted = (await s.registry.history(MODEL)).at(-1)!;
    expect(promoted).toMatchObject({ action: 'promoted', alias: 'production', from_version: '1.0.0', to_version: '1.1.0', actor: 'ab-test' });
    expect(promoted.reason).toMatch(/A\/B test "weak vs strong".*Promote 1\.1\.0: accuracy/);
    // traffic now goes to the new production version, unrouted
    const after = await s.predictor.predictTabular(MODEL, [row(heldOut[0]!)], { userId: 'patient-1' });
    expect(after[0]).toMatchObject({ model_version: '1.1.0' });
    expect(after[0]!.variant).toBeUndefined();
  });
});
