/**
 * Issue 12, patient-data retention (PREDICTION_LOG_RETENTION_DAYS) on SQLite: the worker's purge
 * deletes the prediction rows older than the cutoff — their inputs are gone from the database
 * files, not only from queries — and keeps what monitoring needs in aggregate: the dashboard's
 * totals, the monitoring checks and their reports. Rows the rollup has not counted yet wait for the
 * next purge. Each purge is one audit row with the row count and the cutoff, and the chain verifies.
 * The clock is moved forward, not the data back: the rows are real predictions made through the API.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../src/audit/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { defaultJobs, predictionRetentionJob, startBackgroundLoop } from '../src/server/background-loop.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { findLeaks } from './helpers/leak-scan.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
/** A patient like the i-th training row, but not one of them (the reference profile keeps a sample of those). */
const row = (i: number) => Object.fromEntries(features.map((f, k) => [f, Number(csv.rows[i]![csv.columns.indexOf(f)]) * (k === 0 ? 1.00037 : 1)]));
const DAY = 86400_000;
const silent = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('prediction-log retention', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0, PREDICTION_LOG_RETENTION_DAYS: 90 });
    await bootstrapDemo(t.services.registry);
  });
  afterAll(() => t?.dispose());

  const predict = async (i: number) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(i) } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().prediction_id as string;
  };
  const inputs = async (ids: string[]) => (await t.services.database.db.selectFrom('prediction_logs').select('input').where('id', 'in', ids).execute()).map((r) => r.input);
  const present = async (ids: string[]) => (await inputs(ids)).length;
  const dbFiles = () => ['vitals.db', 'vitals.db-wal', 'vitals.db-shm'].map((f) => join(t.home, f));

  it('runs in the worker role only when a retention is set', () => {
    expect(defaultJobs(t.services).map((j) => j.name)).toContain('prediction-retention');
    expect(defaultJobs({ ...t.services, settings: { ...t.services.settings, PREDICTION_LOG_RETENTION_DAYS: 0 } }).map((j) => j.name)).not.toContain('prediction-retention');
  });

  it('deletes rows past the cutoff in batches, keeps counts, checks and reports, and audits each purge', { timeout: 120_000 }, async () => {
    const model = await t.services.registry.getModel(DEMO_MODEL);
    const old = [await predict(0), await predict(1), await predict(2), await predict(3), await predict(4)];
    await t.app.inject({ method: 'POST', url: `/api/v1/predictions/${old[0]}/ground-truth`, payload: { ground_truth: 'benign' } });
    await sleep(50);
    const middle = Date.now();
    await sleep(50);
    const newer = [await predict(5), await predict(6), await predict(7)];
    await t.services.predictionLog.flush();
    await t.services.monitor.checkAll();
    const checks = async () => (await t.services.database.db.selectFrom('monitoring_checks').selectAll().execute()).map((c) => c.report);
    const checksBefore = await checks();
    expect(checksBefore.length).toBeGreaterThan(0);
    const oldInputs = await inputs(old);
    const newerInputs = await inputs(newer);
    expect(findLeaks(dbFiles(), oldInputs).length).toBeGreaterThan(0); // the scan sees stored inputs

    // The rollup counts rows once they are 10 s old; until then they are not purged.
    await sleep(10_500);
    const unCounted = [await predict(8)];
    await t.services.predictionLog.flush();
    await t.services.rollups.refresh();
    const totalsBefore = await t.services.rollups.totals(model.id);
    const total = Object.values(totalsBefore).reduce((a, b) => a + b, 0);
    expect(total).toBe(9);

    // 90 days after `middle`: the first five are past retention, the others are not.
    await startBackgroundLoop(t.services, silent, { once: true, jobs: [predictionRetentionJob(90, { now: () => new Date(middle + 90 * DAY) })] }).idle();
    expect(await present(old)).toBe(0);
    expect(await present(newer)).toBe(3);
    expect((await t.app.inject({ url: `/api/v1/predictions/${old[0]}` })).statusCode).toBe(404);
    expect(await t.services.rollups.totals(model.id)).toEqual(totalsBefore);
    expect(await checks()).toEqual(checksBefore);
    // gone from the files themselves (deleted cells zeroed, WAL truncated), while the kept rows are there
    expect(findLeaks(dbFiles(), oldInputs)).toEqual([]);
    expect(findLeaks(dbFiles(), newerInputs).length).toBeGreaterThan(0);
    expect(await t.services.metrics.registry.getSingleMetricAsString('vitals_prediction_log_purged_rows_total')).toMatch(/ 5$/m);

    // Long after: everything the rollup counted goes, in batches of 2, as one audit row; the uncounted row stays.
    const later = new Date(Date.now() + 100 * DAY);
    const r = await t.services.predictionLog.purge({ cutoff: later, countedUpTo: await t.services.rollups.cursor(), batchSize: 2, pauseMs: 1, retentionDays: 90 });
    expect(r).toMatchObject({ rows: 3, batches: 2, cutoff: later.toISOString() });
    expect(await present(newer)).toBe(0);
    expect(await present(unCounted)).toBe(1);
    expect(await t.services.rollups.totals(model.id)).toEqual(totalsBefore);

    const audits = await listAudit(t.services.database.db, { action: 'prediction_log.purged' });
    expect(audits).toHaveLength(2);
    expect(audits.map((a) => ({ principal: a.principal, outcome: a.outcome, details: JSON.parse(a.details) }))).toEqual([
      { principal: 'system:retention', outcome: 'success', details: { rows: 5, batches: 1, cutoff: new Date(middle).toISOString(), retention_days: 90 } },
      { principal: 'system:retention', outcome: 'success', details: { rows: 3, batches: 2, cutoff: later.toISOString(), retention_days: 90 } },
    ]);
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);

    // Nothing left to purge: no audit row for an empty purge.
    await startBackgroundLoop(t.services, silent, { once: true, jobs: [predictionRetentionJob(90, { now: () => new Date(middle + 90 * DAY) })] }).idle();
    expect(await listAudit(t.services.database.db, { action: 'prediction_log.purged' })).toHaveLength(2);
  });
});
