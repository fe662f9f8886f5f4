/**
 * The dashboard's server side against one database (SQLite in npm test, PostgreSQL in
 * test/services): rollups agree with the raw prediction log before and after a refresh (and two
 * racing refreshers never double count), and every aggregate endpoint answers through its declared
 * response schema, with clear 4xx for bad input. The web app is served from its build folder.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/index.js';
import { dashboardPlugin } from '../../src/dashboard/index.js';
import { PredictionRollups } from '../../src/dashboard/prediction-rollups.js';
import { uuidv7 } from '../../src/ids.js';
import { bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { installErrorHandler } from '../../src/server/error-handler.js';
import { declarationProblems } from '../../src/server/route-kit.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from './app.js';

/** A UUIDv7 for a past millisecond (the log mints ids at created_at; ids.ts's uuidv7 never goes back in time). */
const idAt = (ms: number, i: number) => {
  const h = ms.toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${(i % 4096).toString(16).padStart(3, '0')}-8000-${i.toString(16).padStart(12, '0')}`;
};

export function dashboardSuite(name: string, overrides: Partial<Record<keyof Settings, unknown>> = {}) {
  describe(`dashboard (${name})`, () => {
    let t: TestApp;
    let modelId: string;
    let productionId: string;
    let now = 0;

    beforeAll(async () => {
      t = await startTestApp(overrides);
      if (overrides.DATABASE_URL) await truncateAll(t.services.database); // a shared PostgreSQL database
      await bootstrapDemo(t.services.registry);
      const v = await t.services.registry.getVersion('breast-cancer', 'production');
      modelId = v.model_id;
      productionId = v.id;
      now = Date.now();
      // Two hours of history written straight into the log (as the log's writer would), 2% failures.
      const rows = Array.from({ length: 3000 }, (_, i) => {
        const ms = now - 2 * 3600_000 + i * 2300;
        const failed = i % 50 === 0;
        return {
          id: idAt(ms, i),
          model_id: modelId,
          version_id: productionId,
          model_name: 'breast-cancer',
          version: v.version,
          variant: null,
          request_id: null,
          source: 'api',
          input: '{}',
          prediction: failed ? null : 'benign',
          probabilities: null,
          confidence: null,
          latency_ms: failed ? null : 1 + (i % 97),
          ground_truth: null,
          ground_truth_at: null,
          created_at: new Date(ms).toISOString(),
          error: failed ? 'INFERENCE_FAILED' : null,
        };
      });
      for (let i = 0; i < rows.length; i += 500)
        await t.services.database.db
          .insertInto('prediction_logs')
          .values(rows.slice(i, i + 500))
          .execute();
    });
    afterAll(async () => t?.dispose());

    const series = (r: PredictionRollups) => r.series({ modelIds: [modelId], fromMs: now - 3 * 3600_000, toMs: Date.now() + 1, stepMs: 3600_000 });

    it('answers the same series from the raw log, after a refresh, and after racing refreshers', async () => {
      const rollups = new PredictionRollups(t.services.database.db, { settleMs: 0, batchSize: 700 });
      const live = (await series(rollups)).get(modelId)!;
      expect(live.summary.count).toBe(3000);
      expect(live.summary.errors).toBe(60);
      expect(live.buckets.reduce((a, b) => a + b.count, 0)).toBe(3000);

      const racer = new PredictionRollups(t.services.database.db, { settleMs: 0, batchSize: 300 });
      const [a, b] = await Promise.all([rollups.refresh(), racer.refresh()]);
      expect(a + b).toBe(3000); // every row folded in exactly once
      expect(await rollups.refresh()).toBe(0);
      const rolled = (await series(rollups)).get(modelId)!;
      expect(rolled).toEqual(live);
      const fiveMinute = (await rollups.series({ modelIds: [modelId], fromMs: now - 3600_000, toMs: Date.now() + 1, stepMs: 300_000 })).get(modelId)!;
      expect(fiveMinute.buckets).toHaveLength(13);
      expect(fiveMinute.summary.count).toBeGreaterThan(1400);
      expect(await rollups.totals(modelId)).toEqual({ [productionId]: 3000 });
      // p50 of latencies 1..97 (uniform-ish) is ~49 ms: the histogram answers within a bucket.
      expect(rolled.summary.p50_ms!).toBeGreaterThan(42);
      expect(rolled.summary.p50_ms!).toBeLessThan(56);
    });

    it('shows the demo model on the overview, counts a new prediction on the model page at once', async () => {
      const overview = (await t.app.inject({ url: '/api/v1/dashboard/overview' })).json();
      const row = overview.models.find((m: { name: string }) => m.name === 'breast-cancer');
      expect(row.production.id).toBe(productionId);
      expect(row.challenger.version).toBe((await t.services.registry.getVersion('breast-cancer', 'challenger')).version);
      expect(row.last_production_change).toMatchObject({ actor: 'demo', to_version: row.production.version });
      expect(row.day.summary.count).toBe(3000);
      expect(row.day.summary.error_rate).toBeCloseTo(0.02, 5);

      const form = (await t.app.inject({ url: '/api/v1/dashboard/models/breast-cancer/input-form' })).json();
      const features = Object.fromEntries(form.input_spec.features.map((f: { name: string }) => [f.name, form.hints[f.name].mean]));
      const before = (await t.app.inject({ url: '/api/v1/dashboard/models/breast-cancer' })).json();
      const p = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: 'breast-cancer', features } });
      expect(p.statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      const after = (await t.app.inject({ url: '/api/v1/dashboard/models/breast-cancer?window=hour' })).json();
      expect(after.predictions.total).toBe(before.predictions.total + 1);
      expect(after.history.at(-1)).toMatchObject({ action: 'alias_set', alias: 'challenger', actor: 'demo' });
      expect(after.traffic.buckets).toHaveLength(13);
    });

    it('sorts, filters and pages experiment runs on the server; refuses a bad sort with a 422 naming it', async () => {
      for (let i = 0; i < 7; i++) {
        const run = await t.services.tracking.startRun(i < 5 ? 'tuning' : 'other', { name: `run-${i}` });
        await t.services.tracking.logMetrics(run.id, { auc: i / 10 });
      }
      const res = (await t.app.inject({ url: '/api/v1/dashboard/experiment-runs?experiment=tuning&sort=metric:auc&order=desc&limit=2&offset=1' })).json();
      expect(res.total).toBe(5);
      expect(res.items.map((r: { name: string }) => r.name)).toEqual(['run-3', 'run-2']);
      expect(res.experiments).toEqual([
        { name: 'other', runs: 2 },
        { name: 'tuning', runs: 5 },
      ]);
      const asc = (await t.app.inject({ url: '/api/v1/dashboard/experiment-runs?sort=name&order=asc&q=RUN-1' })).json();
      expect(asc.items.map((r: { name: string }) => r.name)).toEqual(['run-1']);
      // LIKE wildcards in the text match themselves: "_" is not "any character".
      expect((await t.app.inject({ url: '/api/v1/dashboard/experiment-runs?q=run_1' })).json().total).toBe(0);
      const bad = await t.app.inject({ url: '/api/v1/dashboard/experiment-runs?sort=drop%20table' });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().message).toContain('sort');
    });

    it('lists alerts by status and pipeline runs, and answers 404 for an unknown model', async () => {
      await t.services.database.db
        .insertInto('alerts')
        .values({
          id: uuidv7(),
          model_id: modelId,
          version_id: productionId,
          rule: 'drift',
          severity: 'critical',
          dedup_key: 'k',
          status: 'firing',
          message: 'drift above threshold',
          details: '{"share":0.4}',
          fired_at: new Date().toISOString(),
          last_seen_at: new Date().toISOString(),
          last_notified_at: null,
          resolved_at: null,
        })
        .execute();
      const alerts = (await t.app.inject({ url: '/api/v1/dashboard/alerts?status=firing' })).json();
      expect(alerts.items).toHaveLength(1);
      expect(alerts.items[0]).toMatchObject({ model_name: 'breast-cancer', severity: 'critical', details: { share: 0.4 } });
      expect((await t.app.inject({ url: '/api/v1/dashboard/alerts?status=resolved' })).json().total).toBe(0);
      const overview = (await t.app.inject({ url: '/api/v1/dashboard/overview' })).json();
      expect(overview.models[0].open_alerts).toEqual({ total: 1, critical: 1, warning: 0, info: 0 });
      const runs = await t.app.inject({ url: '/api/v1/dashboard/pipeline-runs' });
      expect(runs.statusCode).toBe(200);
      expect(runs.json().total).toBe(0);
      const missing = await t.app.inject({ url: '/api/v1/dashboard/models/no-such-model' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().message).toContain('no-such-model');
      expect((await t.app.inject({ url: '/api/v1/dashboard/alerts?severity=loud' })).statusCode).toBe(422);
    });

    it('serves the built web app at / with immutable assets, and says how to build it when missing', async () => {
      const root = mkdtempSync(join(tmpdir(), 'vitals-web-'));
      mkdirSync(join(root, 'assets'));
      writeFileSync(join(root, 'index.html'), '<!doctype html><title>Vitals</title>');
      writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
      const routes: Parameters<typeof declarationProblems>[0][] = [];
      const build = async (webRoot: string) => {
        const app = Fastify();
        app.setValidatorCompiler(validatorCompiler);
        app.setSerializerCompiler(serializerCompiler);
        installErrorHandler(app, t.services.metrics, { maxImageMb: 50 });
        app.addHook('onRoute', (r) => void routes.push(r as never));
        await app.register(dashboardPlugin({ db: t.services.database.db, dialect: t.services.database.dialect, registry: t.services.registry, rollups: t.services.rollups, webRoot }));
        return app;
      };
      const app = await build(root);
      const index = await app.inject({ url: '/' });
      expect(index.statusCode).toBe(200);
      expect(index.headers['content-type']).toContain('text/html');
      expect(index.body).toContain('<title>Vitals</title>');
      const asset = await app.inject({ url: '/assets/index-abc123.js' });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toContain('immutable');
      expect((await app.inject({ url: '/assets/..%2F..%2Fetc%2Fpasswd' })).statusCode).toBeGreaterThanOrEqual(400);
      expect((await app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404);
      expect(routes.flatMap((r) => declarationProblems(r))).toEqual([]);
      expect(routes.map((r) => r.url)).toContain('/api/v1/dashboard/overview');
      await app.close();

      const empty = await build(join(root, 'missing'));
      const res = await empty.inject({ url: '/' });
      expect(res.statusCode).toBe(404);
      expect(res.json().message).toContain('npm run build');
      await empty.close();
      rmSync(root, { recursive: true, force: true });
    });
  });
}
