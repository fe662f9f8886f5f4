/**
 * Release tests on a real PostgreSQL server: the migration, the per-variant aggregates read from
 * the prediction log (including the shadow self-join), the conditional updates that end a test, and
 * blue-green slots.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const featureNames = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(featureNames.map((f) => [f, Number(csv.rows[i % csv.rows.length]![csv.columns.indexOf(f)])]));
const truth = (i: number) => csv.rows[i % csv.rows.length]![csv.columns.indexOf('diagnosis')]!;

describe('release tests on PostgreSQL', () => {
  let t: TestApp;
  let demo: { production: string; challenger: string };
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url, CACHE_SIZE: 0 });
    await truncateAll(t.services.database);
    demo = (await bootstrapDemo(t.services.registry))!;
  });
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t.dispose();
  });

  it('evaluates an A/B test from the prediction log and promotes through the registry', async () => {
    const s = t.services;
    const test = await s.abTests.create({ name: 'pg ab', model: DEMO_MODEL, treatment: demo.challenger, decision_mode: 'recommend-only', config: { min_samples: 10 } });
    for (let i = 0; i < 60; i++) {
      const [p] = await s.predictor.predictTabular(DEMO_MODEL, [row(i)], { userId: `u${i}` });
      await s.predictionLog.attachGroundTruth(p!.prediction_id!, truth(i));
    }
    await s.abTests.recordResult(test.id, { variant: 'treatment', error: 'INFERENCE_FAILED' });
    const { report } = await s.abTests.status(test.id);
    expect(report.control.predictions + report.treatment.predictions).toBe(61);
    expect(report.control.labelled + report.treatment.labelled).toBe(60);
    expect(report.treatment.errors).toBe(1);
    expect(report.control.accuracy).toBeGreaterThan(0.8);
    const observed = report.sample_ratio?.observed ?? [];
    expect((observed[0] ?? 0) + (observed[1] ?? 0)).toBe(61);
    expect(report.control.p95_latency_ms).toBeGreaterThan(0);
    const e = await s.abTests.evaluate(test.id);
    expect(e.applied).toBeNull();
    await s.abTests.finalize(test.id, 'promote', { reason: 'pg check' });
    await expect(s.abTests.finalize(test.id, 'promote')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await s.registry.getModel(DEMO_MODEL)).aliases.production).toBe(demo.challenger);
    await s.registry.rollback(DEMO_MODEL, { reason: 'reset' });
  });

  it('compares a shadow with the control through the self-join', async () => {
    const s = t.services;
    const test = await s.abTests.create({ name: 'pg shadow', model: DEMO_MODEL, treatment: demo.challenger, mode: 'shadow', decision_mode: 'recommend-only' });
    for (let i = 0; i < 20; i++) {
      const [p] = await s.predictor.predictTabular(DEMO_MODEL, [row(i)], { userId: `s${i}` });
      await s.predictionLog.attachGroundTruth(p!.prediction_id!, truth(i));
    }
    let report: any;
    for (let k = 0; k < 50; k++) {
      report = (await s.abTests.status(test.id)).report;
      if (report.treatment.predictions === 20) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(report!.treatment).toMatchObject({ predictions: 20, labelled: 20 });
    expect(report!.agreement?.n).toBe(20);
    await s.abTests.stop(test.id);
  });

  it('keeps blue-green slots', async () => {
    const s = t.services;
    const st = await s.blueGreen.deploy(DEMO_MODEL, demo.challenger);
    expect(st.slots.find((x) => x.slot === 'green')).toMatchObject({ version: demo.challenger, health: { ok: true } });
    expect((await s.blueGreen.switchTraffic(DEMO_MODEL, { reason: 'pg' })).live).toBe('green');
    expect((await s.blueGreen.rollback(DEMO_MODEL, { reason: 'pg back' })).production_version).toBe(demo.production);
  });
});
