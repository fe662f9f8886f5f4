/**
 * Monitoring on a real PostgreSQL server: the 0118_alert_workflow migration, a check that fires a
 * decay alert from labelled predictions, and every alert-handling step stored and read back.
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

describe('monitoring on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url, CACHE_SIZE: 0, MONITORING_CHECK_EVERY_N: 0 });
    await truncateAll(t.services.database);
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t.dispose();
  });

  it('fires decay from labels, then records the handling of the alert', async () => {
    for (let i = 0; i < 150; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/record`,
        payload: { features: row(i), prediction: 'benign', probability: 0.2, ground_truth: i % 5 < 2 ? 'benign' : 'malignant' },
      });
      expect(res.statusCode).toBe(201);
    }
    const check = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` });
    expect(check.statusCode).toBe(200);
    const report = check.json().reports.find((r: { version: string; decay: { labels: number } }) => r.decay.labels === 150);
    expect(report.decay).toMatchObject({ decay_detected: true, test: { method: 'confidence_sequence' } });
    const status = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}` })).json();
    expect(status.decay_status.decay_detected).toBe(true);
    const alert = (await t.app.inject({ url: '/api/v1/mlops/production-monitoring/alerts?status=firing' })).json().alerts.find((a: { rule: string }) => a.rule === 'decay');
    const base = `/api/v1/mlops/production-monitoring/alerts/${alert.id}`;
    expect((await t.app.inject({ method: 'POST', url: `${base}/acknowledge`, payload: { comment: 'on it' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `${base}/actions`, payload: { kind: 'retrain', reference: 'run-1' } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `${base}/resolve` })).statusCode).toBe(200);
    const done = (await t.app.inject({ url: base })).json();
    expect(done.status).toBe('resolved');
    expect(done.handling.events.map((e: { action: string }) => e.action)).toEqual(['acknowledged', 'action_taken', 'resolved']);
    expect(done.handling.actions_taken).toEqual([expect.objectContaining({ kind: 'retrain', reference: 'run-1' })]);
  });
});
