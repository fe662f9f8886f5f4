/**
 * Patient-data retention on the real PostgreSQL: the worker's purge deletes the prediction rows
 * past the cutoff that the rollups counted, in batches, keeps the dashboard totals and the
 * monitoring checks, and writes one audit row per purge into a chain that still verifies.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../../src/audit/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { predictionRetentionJob, startBackgroundLoop } from '../../src/server/background-loop.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(features.map((f) => [f, Number(csv.rows[i]![csv.columns.indexOf(f)])]));
const DAY = 86400_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('prediction-log retention on PostgreSQL', () => {
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
