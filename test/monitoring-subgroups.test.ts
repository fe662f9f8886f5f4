/**
 * Subgroup performance and performance before labels, through the API: a version declares subgroup
 * columns (a site, an age band) and carries a CBPE calibration; predictions recorded over
 * `/record` with ground truth; a check reports accuracy / sensitivity / specificity per subgroup
 * with Wilson intervals and fires `subgroup_below_target` for the subgroup that is really worse —
 * not for a small one, nor for one whose interval still reaches the target.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSubgroups, subgroupSpec } from '../src/monitoring/subgroups.js';
import { DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { fitCbpe } from '../src/stats/cbpe.js';
import { mulberry32 } from '../src/stats/random.js';
import { buildReferenceProfile } from '../src/stats/reference-profile.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const MODEL = 'subgroup-model';

describe('subgroups (pure)', () => {
  it('reads the declaration and bins numeric columns at their edges', () => {
    const spec = subgroupSpec({ subgroups: ['sex', { column: 'age', edges: [65, 40] }], subgroup_min_samples: 5 }, { minAccuracy: 0.8 })!;
    expect(spec).toEqual({ columns: ['sex', { column: 'age', edges: [40, 65] }], targets: { accuracy: 0.8 }, minSamples: 5 });
    expect(subgroupSpec({})).toBeNull();
    const rows = [
      ...Array.from({ length: 10 }, (_, i) => ({ input: { sex: 'F', age: 30 + i }, prediction: '1', ground_truth: '1' })),
      ...Array.from({ length: 10 }, (_, i) => ({ input: { sex: 'M', age: 70 + i }, prediction: '1', ground_truth: i < 3 ? '1' : '0' })),
      { input: { sex: null, age: 'n/a' }, prediction: '0', ground_truth: '0' },
    ];
    const r = computeSubgroups(rows, ['0', '1'], spec);
    expect(r.subgroups.map((s) => `${s.column}=${s.value}:${s.n}`)).toEqual(['age=[-inf, 40):10', 'age=[65, inf):10', 'sex=F:10', 'sex=M:10']);
    const male = r.subgroups.find((s) => s.value === 'M')!;
    expect(male.metrics.accuracy.value).toBeCloseTo(0.3, 12);
    expect(male.metrics.specificity).toMatchObject({ value: 0, n: 7 });
    expect(male.below_target).toBe(true);
    expect(r.worst!.value).toMatch(/M|\[65, inf\)/);
  });
});

describe('subgroups and CBPE over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
    const demo = await t.services.registry.getVersion(DEMO_MODEL, 'production');
    const rng = mulberry32(61);
    const reference = Array.from({ length: 800 }, () => ({ site: ['A', 'B', 'C'][Math.floor(rng() * 3)]!, age: Math.round(20 + rng() * 70) }));
    // CBPE calibration from labelled evaluation scores (overconfident by design)
    const scores = Array.from({ length: 1000 }, () => rng());
    const truth = scores.map((s) => (rng() < 0.1 + 0.8 * s ? 1 : 0));
    await t.services.registry.register({
      name: MODEL,
      version: '1.0.0',
      artifact: await t.services.registry.loadArtifact(demo),
      input_spec: demo.input_spec,
      output_spec: demo.output_spec,
      metrics: { accuracy: 0.9, n_test: 1000 },
      metadata: { subgroups: ['site', { column: 'age', edges: [65] }], subgroup_targets: { accuracy: 0.85 } },
      reference_profile: {
        ...buildReferenceProfile(reference),
        cbpe: fitCbpe(
          scores,
          scores.map((s) => (s >= 0.5 ? 1 : 0)),
          truth,
        ),
      },
      aliases: ['production'],
    });
  });
  afterAll(async () => t.dispose());

  it('reports every subgroup with Wilson intervals and alerts on the one below target', async () => {
    const [neg, pos] = (await t.services.registry.getVersion(MODEL, 'production')).output_spec.labels;
    const rng = mulberry32(62);
    const records = [];
    for (let i = 0; i < 900; i++) {
      const site = i < 400 ? 'A' : i < 800 ? 'B' : 'C'; // C: only 100 labels
      const age = Math.round(20 + rng() * 70);
      // site B is really worse (~70 %); C is a little worse (~84 %) on few labels; A is fine
      const acc = site === 'B' ? 0.7 : site === 'C' ? 0.84 : 0.93;
      const p = rng();
      const prediction = p >= 0.5 ? pos : neg;
      const truth = rng() < acc ? prediction : prediction === pos ? neg : pos;
      records.push({ features: { site, age }, prediction, probability: p, ground_truth: truth });
    }
    for (const body of records) {
      const res = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${MODEL}/record`, payload: body });
      expect(res.statusCode).toBe(201);
    }
    const check = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${MODEL}/check` });
    expect(check.statusCode).toBe(200);
    const report = check.json().reports[0];
    const sub = report.subgroups;
    expect(sub.subgroups.map((s: any) => `${s.column}=${s.value}`)).toEqual(['age=[-inf, 65)', 'age=[65, inf)', 'site=A', 'site=B', 'site=C']);
    const site = (v: string) => sub.subgroups.find((s: any) => s.column === 'site' && s.value === v);
    expect(site('B').below_target).toBe(true);
    expect(site('A').below_target).toBe(false);
    expect(site('C').below_target).toBe(false); // 100 labels: its interval still reaches 0.85
    for (const s of sub.subgroups) {
      const m = s.metrics.accuracy;
      expect(m.ci95[0]).toBeLessThanOrEqual(m.value);
      expect(m.ci95[1]).toBeGreaterThanOrEqual(m.value);
    }
    expect(sub.below_target.map((s: any) => `${s.column}=${s.value}`)).toEqual(['site=B']);
    const alerts = (await t.app.inject({ url: `/api/v1/mlops/production-monitoring/alerts?status=firing&model=${MODEL}` })).json().alerts;
    const alert = alerts.find((a: any) => a.rule === 'subgroup_below_target');
    expect(alert.message).toMatch(/site = "B"/);

    // accuracy before labels: CBPE from the version's calibration, with NannyML's ±3 SE band
    expect(report.estimated_performance.method).toBe('cbpe');
    expect(report.estimated_performance.n).toBe(900);
    expect(report.estimated_performance.accuracy_band[0]).toBeLessThan(report.estimated_performance.accuracy);
    const prod = (await t.app.inject({ url: `/api/v1/mlops/production-monitoring/${MODEL}` })).json();
    expect(prod.subgroups.below_target).toHaveLength(1);
  });

  it('change control: criteria registered first, a version judged on them, evidence as JSON and a page', async () => {
    const base = `/api/v1/mlops/change-control/${MODEL}`;
    expect((await t.app.inject({ method: 'POST', url: `${base}/versions/1.0.0/evaluate` })).statusCode).toBe(409);
    expect((await t.app.inject({ url: `${base}/criteria` })).statusCode).toBe(404);
    const bad = await t.app.inject({ method: 'PUT', url: `${base}/criteria`, payload: { criteria: [{ metric: 'auc', min_samples: 10, lower_bound: 0.5 }] } });
    expect(bad.statusCode).toBe(422);
    const criteria = [
      { metric: 'accuracy', min_samples: 300, lower_bound: 0.75 },
      { metric: 'accuracy', subgroup: { column: 'site', value: 'A' }, min_samples: 100, lower_bound: 0.85 },
      { metric: 'accuracy', subgroup: { column: 'site', value: 'B' }, min_samples: 100, lower_bound: 0.8 },
      { metric: 'accuracy', subgroup: { column: 'age', min: 65 }, min_samples: 5000, lower_bound: 0.5 },
    ];
    const put = await t.app.inject({ method: 'PUT', url: `${base}/criteria`, payload: { criteria } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ criteria, registered_by: 'local-admin' });
    expect((await t.app.inject({ url: `${base}/criteria` })).json().criteria).toEqual(criteria);

    const evaluated = await t.app.inject({ method: 'POST', url: `${base}/versions/1.0.0/evaluate` });
    expect(evaluated.statusCode).toBe(200);
    const e = evaluated.json();
    expect(e).toMatchObject({ model: MODEL, version: '1.0.0', passed: false, labelled_rows: 900 });
    expect(e.results.map((r: { passed: boolean }) => r.passed)).toEqual([true, true, false, false]);
    expect(e.results[3].reason).toMatch(/required/); // too few labels is a failure, not a pass
    for (const r of e.results) expect(r.ci95[0]).toBeLessThanOrEqual(r.value);

    const json = await t.app.inject({ url: `${base}/versions/1.0.0/evidence` });
    expect(json.json()).toEqual(e);
    const page = await t.app.inject({ url: `${base}/versions/1.0.0/evidence?format=html` });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/^<!doctype html>/);
    expect(page.body).toMatch(/Not accepted/);
    expect(page.body).toMatch(/accuracy \(site = B\)/);
  });
});
