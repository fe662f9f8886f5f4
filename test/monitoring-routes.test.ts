/**
 * The monitoring plugin over HTTP: every route declared (permission, body limit, response schemas),
 * GET routes never run or store checks, the caller's 4xx are not model errors, and the drift table
 * carries raw and adjusted p-values and value counts.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringPlugin } from '../src/monitoring/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { mulberry32, parseCsv } from '../src/pipelines/trainers/index.js';
import { declarationProblems } from '../src/server/route-kit.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = csv.rows.map((r) => Object.fromEntries(features.map((f) => [f, Number(r[csv.columns.indexOf(f)])])));
const invalidExample = JSON.parse(readFileSync(new URL('../examples/predict-invalid.json', import.meta.url), 'utf8'));

describe('monitoring plugin', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => t.dispose());

  it('declares a permission, a body limit and response schemas on every route', async () => {
    const app = Fastify();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    const routes: Parameters<typeof declarationProblems>[0][] = [];
    app.addHook('onRoute', (r) => void routes.push(r as never));
    await app.register(monitoringPlugin({ monitor: t.services.monitor, predictionLog: t.services.predictionLog, registry: t.services.registry, access: t.services.access }));
    await app.ready();
    expect(routes.length).toBeGreaterThanOrEqual(12);
    expect(routes.flatMap(declarationProblems)).toEqual([]);
    const permission = (method: string, url: string) => routes.find((r) => r.method === method && r.url === url)?.config?.permission;
    expect(permission('GET', '/api/v1/predictions/:id')).toBe('predictions:read');
    expect(permission('GET', '/api/v1/predictions')).toBe('predictions:read');
    expect(permission('POST', '/api/v1/mlops/monitoring/:model_id/check')).toBe('monitoring:write');
    expect(permission('GET', '/api/v1/mlops/monitoring/:model_id')).toBe('monitoring:read');
    await app.close();
  });

  it('GET routes read stored checks only: a model never checked says so and nothing is written', async () => {
    for (const url of [`/api/v1/mlops/monitoring/${DEMO_MODEL}`, '/api/v1/mlops/monitoring', `/api/v1/mlops/production-monitoring/${DEMO_MODEL}`, '/api/v1/mlops/production-monitoring']) {
      const res = await t.app.inject({ url });
      expect(res.statusCode, url).toBe(200);
    }
    const status = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}` })).json();
    expect(status).toMatchObject({ model_id: DEMO_MODEL, status: 'no_checks_yet', health: null });
    const history = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/history` })).json();
    expect(history.checks).toEqual([]);
    expect((await t.app.inject({ url: '/api/v1/mlops/monitoring/no-such-model' })).statusCode).toBe(404);
  });

  it('counts the caller’s 4xx apart from model errors, and the check reports raw and adjusted p-values', async () => {
    // the README's invalid example, twice: rejected (4xx) and logged as client errors
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: invalidExample });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
    const rng = mulberry32(18);
    const batch = Array.from({ length: 200 }, () => rows[Math.floor(rng() * rows.length)]!);
    for (let i = 0; i < batch.length; i += 100) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, instances: batch.slice(i, i + 100) } });
      expect(res.statusCode).toBe(200);
    }
    const check = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` });
    expect(check.statusCode).toBe(200);
    const production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production;
    const report = check.json().reports.find((r: { version: string }) => r.version === production);
    expect(report.operations).toMatchObject({ errors: 0, error_rate: 0, client_errors: 2 });
    expect(report.operations.client_error_rate).toBeCloseTo(2 / 202, 10);
    expect(report.health.components.errors).toBe(0);
    expect(report.drift.correction).toEqual({ method: 'holm', alpha: 0.05, tests: 30 });
    for (const f of Object.values<any>(report.drift.feature_drifts)) {
      expect(f.p_value_adjusted).toBeGreaterThanOrEqual(f.p_value);
      expect(f.counts).toMatchObject({ rows: 200, used: 200, missing: 0, non_finite: 0, invalid: 0 });
    }
    const alerts = (await t.app.inject({ url: '/api/v1/mlops/production-monitoring/alerts?status=firing' })).json().alerts;
    expect(alerts.map((a: { rule: string }) => a.rule)).not.toContain('error_rate_above');

    // now the GET shows that stored check, and running it did not need a GET
    const status = (await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}` })).json();
    expect(status.status).toBe('ok');
    expect((await t.app.inject({ url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/history` })).json().checks.length).toBe(check.json().reports.length);
  });

  it('lists patient-level rows with labeled=false meaning false', async () => {
    const res = await t.app.inject({ url: `/api/v1/predictions?model=${DEMO_MODEL}&labeled=false&limit=5` });
    expect(res.statusCode).toBe(200);
    expect(res.json().predictions).toHaveLength(5);
    expect((await t.app.inject({ url: `/api/v1/predictions?model=${DEMO_MODEL}&labeled=maybe` })).statusCode).toBe(422);
  });

  it('lets people acknowledge, assign, comment on, act on and resolve an alert, each step recorded', async () => {
    const production = (await t.services.registry.getModel(DEMO_MODEL)).aliases.production!;
    // 150 labelled predictions at 40 % accuracy: decay fires
    for (let i = 0; i < 150; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/record`,
        payload: { features: rows[i]!, prediction: 'benign', probability: 0.2, ground_truth: i % 5 < 2 ? 'benign' : 'malignant', version: production },
      });
      expect(res.statusCode).toBe(201);
    }
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/check` })).statusCode).toBe(200);
    const alerts = (await t.app.inject({ url: `/api/v1/mlops/production-monitoring/alerts?status=firing&model=${DEMO_MODEL}` })).json().alerts;
    const decay = alerts.find((a: { rule: string }) => a.rule === 'decay');
    expect(decay).toBeDefined();
    const base = `/api/v1/mlops/production-monitoring/alerts/${decay.id}`;
    const fresh = (await t.app.inject({ url: base })).json();
    expect(fresh.handling).toMatchObject({ acknowledged_by: null, assignee: null, actions_taken: [], events: [] });
    expect(fresh.handling.suggested_actions.map((a: { kind: string }) => a.kind)).toEqual(['retrain', 'rollback', 'release_test']);

    const post = (path: string, payload?: object) => t.app.inject({ method: 'POST', url: `${base}/${path}`, ...(payload ? { payload } : {}) });
    expect((await post('acknowledge')).statusCode).toBe(200);
    expect((await post('assign', { assignee: 'dr-lee', comment: 'please look at site B' })).json()).toMatchObject({ action: 'assigned', assignee: 'dr-lee', actor: 'local-admin' });
    expect((await post('comments', { comment: 'labels from the new lab look off' })).statusCode).toBe(200);
    expect((await post('actions', { kind: 'rollback', reference: production })).json()).toMatchObject({ action: 'action_taken', action_kind: 'rollback', reference: production });
    expect((await post('actions', { kind: 'reboot' })).statusCode).toBe(422);
    expect((await post('resolve', { comment: 'rolled back' })).statusCode).toBe(200);
    const again = await post('resolve');
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CONFLICT');

    const done = (await t.app.inject({ url: base })).json();
    expect(done.status).toBe('resolved');
    expect(done.handling).toMatchObject({ acknowledged_by: 'local-admin', assignee: 'dr-lee', actions_taken: [{ kind: 'rollback', actor: 'local-admin', reference: production }] });
    expect(done.handling.events.map((e: { action: string }) => e.action)).toEqual(['acknowledged', 'assigned', 'commented', 'action_taken', 'resolved']);
    expect((await t.app.inject({ url: '/api/v1/mlops/production-monitoring/alerts/nope' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/mlops/production-monitoring/alerts/nope/acknowledge' })).statusCode).toBe(404);
  });
});
