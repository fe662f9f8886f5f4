/**
 * Audit rows of the changes beyond the registry: release tests (start, stop, decision), alert
 * acknowledge/resolve, pipeline runs and HTTP message publishes, each with the authenticated
 * principal and written with its change (the chain verifies afterwards).
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../src/audit/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = csv.rows.map((r) => Object.fromEntries(features.map((f) => [f, Number(r[csv.columns.indexOf(f)])])));

describe('audit rows of release tests, alerts, pipeline runs and publishes', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'vitals-audit-changes-'));
  const post = (url: string, payload?: object) => t.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });
  const rowsOf = async (action: string) => listAudit(t.services.database.db, { action });

  beforeAll(async () => {
    copyFileSync(DEMO_DATA, join(dir, 'breast_cancer.csv'));
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0, DATA_DIR: dir, PIPELINE_POLL_MS: 50 });
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('release tests: started, stopped and decided, by the caller', async () => {
    const api = '/api/v1/mlops/ab-testing';
    const first = await post(`${api}/create`, { test_name: 'audit-a', control_model_id: DEMO_MODEL, treatment_model_id: `${DEMO_MODEL}@challenger` });
    expect(first.statusCode, first.body).toBe(200);
    const a = first.json().test_id as string;
    expect((await post(`${api}/${a}/stop?reason=${encodeURIComponent('wrong cohort')}`)).statusCode).toBe(200);
    const second = (await post(`${api}/create`, { test_name: 'audit-b', control_model_id: DEMO_MODEL, treatment_model_id: `${DEMO_MODEL}@challenger` })).json().test_id as string;
    const decided = await post(`${api}/${second}/finalize`, { action: 'promote', reason: 'treatment better on recall' });
    expect(decided.statusCode, decided.body).toBe(200);

    const started = await rowsOf('abtest.started');
    expect(started.map((r) => r.target)).toEqual([`abtest:${a}`, `abtest:${second}`]);
    expect(started[0]).toMatchObject({ principal: 'local-admin', role: 'admin', client: '127.0.0.1' });
    expect(JSON.parse(started[0]!.details)).toMatchObject({ name: 'audit-a', model: DEMO_MODEL, mode: 'ab' });
    expect(await rowsOf('abtest.stopped')).toMatchObject([{ target: `abtest:${a}`, reason: 'wrong cohort', principal: 'local-admin' }]);
    const decision = await rowsOf('abtest.decided');
    expect(decision).toMatchObject([{ target: `abtest:${second}`, reason: 'treatment better on recall', principal: 'local-admin', role: 'admin' }]);
    expect(JSON.parse(decision[0]!.details)).toMatchObject({ decision: 'promote', winner: 'treatment' });
    // the decision moved production through the registry, which writes its own row
    expect((await rowsOf('model.promoted')).some((r) => r.reason?.includes('treatment better on recall'))).toBe(true);
  });

  it('alerts: acknowledge and resolve, by the caller, with the comment as reason', async () => {
    const production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production!;
    for (let i = 0; i < 150; i++) {
      const res = await post(`/api/v1/mlops/monitoring/${DEMO_MODEL}/record`, {
        features: rows[i]!,
        prediction: 'benign',
        probability: 0.2,
        ground_truth: i % 5 < 2 ? 'benign' : 'malignant',
        version: production,
      });
      expect(res.statusCode).toBe(201);
    }
    expect((await post(`/api/v1/mlops/monitoring/${DEMO_MODEL}/check`)).statusCode).toBe(200);
    const alerts = (await t.app.inject({ url: `/api/v1/mlops/production-monitoring/alerts?status=firing&model=${DEMO_MODEL}` })).json().alerts;
    const alert = alerts[0] as { id: string; rule: string };
    expect(alert).toBeDefined();
    const base = `/api/v1/mlops/production-monitoring/alerts/${alert.id}`;
    expect((await post(`${base}/acknowledge`, { comment: 'on it' })).statusCode).toBe(200);
    expect((await post(`${base}/resolve`, { comment: 'labels fixed' })).statusCode).toBe(200);
    expect((await post(`${base}/resolve`)).statusCode).toBe(409); // refused: no row for a change that did not happen
    expect(await rowsOf('alert.acknowledged')).toMatchObject([{ target: `alert:${alert.id}`, principal: 'local-admin', role: 'admin', reason: 'on it' }]);
    const resolved = await rowsOf('alert.resolved');
    expect(resolved).toMatchObject([{ target: `alert:${alert.id}`, principal: 'local-admin', reason: 'labels fixed' }]);
    expect(JSON.parse(resolved[0]!.details)).toMatchObject({ rule: alert.rule });
  });

  it('pipeline runs and message publishes, by the caller; the chain verifies', async () => {
    const queued = await post('/api/v1/train', { model_name: 'bc-audit', target: 'diagnosis', algo: 'logreg', data_path: 'breast_cancer.csv', version: '1.0.0' });
    expect(queued.statusCode, queued.body).toBe(202);
    const runId = queued.json().run_id as string;
    const run = await rowsOf('pipeline.run_started');
    expect(run).toMatchObject([{ target: `pipeline_run:${runId}`, principal: 'local-admin', role: 'admin' }]);
    expect(JSON.parse(run[0]!.details)).toMatchObject({ pipeline: 'train', model: 'bc-audit', trigger: 'api' });

    const published = await post('/api/v1/mlops/messaging/publish', { topic: 'patient_data', message: { patient_id: 'P-AUDIT-1', ground_truth: 'benign' }, key: 'P-AUDIT-1' });
    expect(published.statusCode, published.body).toBe(202);
    const msg = await rowsOf('message.published');
    expect(msg).toMatchObject([{ target: 'topic:patient_data', principal: 'local-admin', role: 'admin' }]);
    expect(JSON.parse(msg[0]!.details)).toMatchObject({ message_id: published.json().message_id, key: 'P-AUDIT-1' });
    expect(msg[0]!.details).not.toContain('benign'); // the row says who published where, not the content
    expect((await post('/api/v1/mlops/messaging/publish', { topic: 'billing', message: {} })).statusCode).toBe(422);
    expect(await rowsOf('message.published')).toHaveLength(1);
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });
});
