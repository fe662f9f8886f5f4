/**
 * Monitoring statistics run off the serving thread: a check through the app builds its report in
 * the report pool's worker (another thread id), and that report is the one the inline code builds.
 */
import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { buildMonitoringReport, type ReportInputs } from '../src/monitoring/monitoring-report.js';
import { ReportPool } from '../src/monitoring/report-pool.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = csv.rows.map((r) => Object.fromEntries(features.map((f) => [f, Number(r[csv.columns.indexOf(f)])])));

describe('monitoring report pool', () => {
  let t: TestApp;
  let production = '';
  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
    production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production!;
    // app.ts does not wire the pool yet (see the comment there): this app's monitor gets one
    t.services.monitor.options.reportPool ??= new ReportPool();
    for (let i = 0; i < 200; i += 100) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, instances: rows.slice(i, i + 100) } });
      expect(res.statusCode).toBe(200);
    }
  });
  afterAll(() => t?.dispose());

  it('the pool builds the same report as the inline code on the same inputs', async () => {
    const version = await t.services.registry.getVersion(DEMO_MODEL, production);
    const inputs: ReportInputs = {
      model: { id: version.model_id, name: version.model_name },
      version: { id: version.id, version: version.version, labels: version.output_spec.labels, metrics: version.metrics },
      profile: await t.services.registry.referenceProfile(version.id),
      window: await t.services.predictionLog.window(version.id, 500),
      labelled: await t.services.predictionLog.labelledWindow(version.id, 500),
      windowLimit: 500,
      driftThreshold: 0.3,
      decayThreshold: 0.1,
      now: new Date('2026-01-01T00:00:00Z'),
    };
    const pool = new ReportPool();
    try {
      const off = await pool.build({ inputs });
      expect(off).toEqual(buildMonitoringReport(inputs));
      // The worker reads the same windows itself, on its own connection, from the log's file.
      const source = t.services.predictionLog.windowSource;
      expect(source?.kind).toBe('sqlite');
      const read = await pool.build({ inputs: { ...inputs, window: [], labelled: [] }, read: { source: source!, versionId: version.id, size: 500 } });
      expect(read).toEqual(off);
      expect(read.window.size).toBe(200);
      expect(pool.lastThreadId).not.toBeNull();
      expect(pool.lastThreadId).not.toBe(threadId);
      // at the lowest CPU priority, that thread alone (Linux): it waits for a free core instead of taking serving's
      if (process.platform === 'linux') expect(pool.lastNice).toBe(19);
      expect(Object.keys(off.drift?.feature_drifts ?? {}).length).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });

  it("POST …/check builds its report in the app's pool, off the main thread, and stores it", async () => {
    const pool = t.services.monitor.options.reportPool;
    expect(pool).toBeDefined();
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` });
    expect(res.statusCode).toBe(200);
    expect(pool!.lastThreadId).not.toBeNull();
    expect(pool!.lastThreadId).not.toBe(threadId);
    const version = await t.services.registry.getVersion(DEMO_MODEL, production);
    const stored = await t.services.monitor.latestReport(version.id);
    expect(stored?.window.size).toBe(200);
    expect(Object.keys(stored?.drift?.feature_drifts ?? {}).length).toBeGreaterThan(0);
  });

  // last: it shuts the app's monitor down
  it('closing the monitor waits for a check in flight, then refuses new ones', async () => {
    const version = await t.services.registry.getVersion(DEMO_MODEL, production);
    const before = (await t.services.monitor.history(DEMO_MODEL)).length;
    let settled: 'resolved' | 'rejected' | null = null;
    const run = t.services.monitor.checkVersion(version.id).then(
      () => (settled = 'resolved'),
      () => (settled = 'rejected'),
    );
    await t.services.monitor.close();
    expect(settled).toBe('resolved');
    await run;
    expect((await t.services.monitor.history(DEMO_MODEL)).length).toBe(before + 1);
    await expect(t.services.monitor.checkVersion(version.id)).rejects.toThrow(/shutting down/);
  });
});
