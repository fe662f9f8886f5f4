/**
 * Patient-data retention on the real PostgreSQL: the worker's purge deletes the prediction rows
 * past the cutoff that the rollups counted, in batches, keeps the dashboard totals and the
 * monitoring checks, and writes one audit row per purge into a chain that still verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../../src/audit/index.js';
import { DEMO_MODEL } from '../../src/pipelines/demo-bootstrap.js';
import { predictionRetentionJob, startBackgroundLoop } from '../../src/server/background-loop.js';
import type { TestApp } from '../helpers/app.js';
import { demoRow as row, startPostgresDemoApp, stopPostgresDemoApp } from '../helpers/postgres-demo.js';
const DAY = 86400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('prediction-log retention on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startPostgresDemoApp();
  });
  afterAll(() => stopPostgresDemoApp(t));

  it('purges in batches what is past retention and counted, keeping totals and checks, audited', { timeout: 120_000 }, async () => {
    const predict = async (i: number) => (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(i) } })).json().prediction_id as string;
    const old = [await predict(0), await predict(1), await predict(2), await predict(3)];
    await sleep(50);
    const middle = Date.now();
    await sleep(50);
    const newer = [await predict(4), await predict(5), await predict(6)];
    await t.services.predictionLog.flush();
    await t.services.monitor.checkAll();
    const checks = await t.services.database.db.selectFrom('monitoring_checks').select('id').execute();
    await sleep(10_500); // the rollup counts rows once they are 10 s old
    const model = await t.services.registry.getModel(DEMO_MODEL);
    await t.services.rollups.refresh();
    const totals = await t.services.rollups.totals(model.id);
    const present = async (ids: string[]) => (await t.services.database.db.selectFrom('prediction_logs').select('id').where('id', 'in', ids).execute()).length;

    await startBackgroundLoop(t.services, { info() {}, warn() {}, error() {} }, { once: true, jobs: [predictionRetentionJob(90, { now: () => new Date(middle + 90 * DAY) })] }).idle();
    expect([await present(old), await present(newer)]).toEqual([0, 3]);
    const r = await t.services.predictionLog.purge({ cutoff: new Date(Date.now() + DAY), countedUpTo: await t.services.rollups.cursor(), batchSize: 2, pauseMs: 1, retentionDays: 90 });
    expect(r).toMatchObject({ rows: 3, batches: 2 });
    expect(await present(newer)).toBe(0);
    expect(await t.services.rollups.totals(model.id)).toEqual(totals);
    expect(await t.services.database.db.selectFrom('monitoring_checks').select('id').execute()).toEqual(checks);
    const audits = await listAudit(t.services.database.db, { action: 'prediction_log.purged' });
    expect(audits.map((a) => JSON.parse(a.details).rows)).toEqual([4, 3]);
    expect(JSON.parse(audits[0]!.details).cutoff).toBe(new Date(middle).toISOString());
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });
});
