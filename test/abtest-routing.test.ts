/**
 * Release tests over HTTP on the demo models: A/B routing by user id, the seed endpoints (create,
 * list, select-model, record, results, stop), shadow traffic, a canary ramp stopped by a guardrail,
 * and blue-green deploy / switch / rollback.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const featureNames = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(featureNames.map((f) => [f, Number(csv.rows[i % csv.rows.length]![csv.columns.indexOf(f)])]));
const truth = (i: number) => csv.rows[i % csv.rows.length]![csv.columns.indexOf('diagnosis')]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('release tests over HTTP', () => {
  let t: TestApp;
  let production: string;
  let challenger: string;
  const api = '/api/v1/mlops/ab-testing';
  const post = (url: string, payload?: unknown, headers: Record<string, string> = {}) => t.app.inject({ method: 'POST', url, payload: payload as object, headers });
  const get = (url: string) => t.app.inject({ url });
  const predict = (i: number, userId?: string, viaHeader = true) =>
    post('/api/v1/ml-models/predict', { model: DEMO_MODEL, features: row(i), ...(userId && !viaHeader ? { user_id: userId } : {}) }, userId && viaHeader ? { 'x-user-id': userId } : {});

  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 0 });
    const demo = await bootstrapDemo(t.services.registry);
    production = demo!.production;
    challenger = demo!.challenger;
  });
  afterAll(() => t.dispose());
  // A failed test must not leave its A/B test running into the next one.
  afterEach(async () => {
    for (const x of await t.services.abTests.list()) await t.services.abTests.stop(x.id, { reason: 'test cleanup' });
  });

  it('routes predictions of an A/B test by user id, logs the variant, and feeds the test with ground truth', async () => {
    const created = await post(`${api}/create`, {
      test_name: 'logreg vs forest',
      control_model_id: DEMO_MODEL,
      treatment_model_id: `${DEMO_MODEL}@challenger`,
      traffic_split: 0.5,
      metric: 'accuracy',
      decision_mode: 'recommend-only',
      hash_seed: 'routing-test', // fixed buckets: the same users meet the same variants in every run
    });
    expect(created.statusCode).toBe(200);
    const { test_id, message } = created.json();
    expect(message).toMatch(/created successfully/);
    expect((await post(`${api}/create`, { test_name: 'second', treatment_model_id: `${DEMO_MODEL}@challenger`, model: DEMO_MODEL })).statusCode).toBe(409);

    const list = (await get(api)).json();
    expect(list.tests.map((x: { id: string }) => x.id)).toEqual([test_id]);

    const seen: Record<string, string> = {};
    const ids: Array<{ id: string; i: number }> = [];
    for (let i = 0; i < 80; i++) {
      const user = `patient-${i % 40}`;
      const res = await predict(i, user, i % 2 === 0);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.ab_test_id).toBe(test_id);
      expect(body.model_version).toBe(body.variant === 'treatment' ? challenger : production);
      if (seen[user]) expect(body.variant).toBe(seen[user]); // the same user meets the same variant
      seen[user] = body.variant;
      ids.push({ id: body.prediction_id, i });
    }
    expect(new Set(Object.values(seen))).toEqual(new Set(['control', 'treatment']));

    // select-model agrees with the router
    for (const user of ['patient-1', 'patient-2', 'patient-3']) {
      const sel = (await post(`${api}/${test_id}/select-model?user_id=${user}`)).json();
      expect(sel).toMatchObject({ variant: seen[user], test_id });
      expect(sel.model_version).toBe(sel.variant === 'treatment' ? challenger : production);
    }
    // no user id: random, still logged with its variant
    const anon = (await predict(3)).json();
    expect(['control', 'treatment']).toContain(anon.variant);

    // a bare version reference is not routed
    const pinned = (await post('/api/v1/ml-models/predict', { model: `${DEMO_MODEL}@${production}`, features: row(1) })).json();
    expect(pinned.variant).toBeUndefined();

    // ground truth arriving later joins by prediction id
    for (const { id, i } of ids) expect((await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: truth(i) })).statusCode).toBe(200);
    const logged = (await get(`/api/v1/predictions/${ids[0]!.id}`)).json();
    expect(logged).toMatchObject({ ab_test_id: test_id, variant: seen['patient-0'] });

    // the seed's /record: outside predictions under the test
    const rec = await post(`${api}/${test_id}/record`, { variant: 'treatment', prediction: 'benign', ground_truth: 'benign', metrics: { confidence: 0.95 } });
    expect(rec.statusCode).toBe(200);
    expect(rec.json()).toMatchObject({ test_id, variant: 'treatment' });

    const status = (await get(`${api}/${test_id}`)).json();
    expect(status).toMatchObject({ test_id, test_name: 'logreg vs forest', status: 'active', mode: 'ab' });
    expect(status.control.predictions + status.treatment.predictions).toBe(82);
    expect(status.control.labelled + status.treatment.labelled).toBe(81);
    expect(status.control.accuracy).toBeGreaterThan(0.8);
    expect(status.treatment.accuracy).toBeGreaterThan(0.8);
    expect(status.improvement).toBeCloseTo(status.treatment.accuracy - status.control.accuracy, 10);
    expect(status.statistical_significance).toMatchObject({ significant: expect.any(Boolean) });
    expect(status.statistical_significance.p_value).toBeGreaterThan(0);
    expect(status.statistical_significance.always_valid_p_value).toBeGreaterThanOrEqual(status.statistical_significance.p_value * 0.999);
    expect(status.confidence_interval.ci95).toHaveLength(2);
    expect(status.sample_size.required_per_variant).toBeGreaterThan(0);
    expect(status.sample_ratio).toMatchObject({ mismatch: false });
    expect(status.decision.decision).toBe('continue'); // far from 1000 per variant
    expect(status.hash).toMatchObject({ scheme: 'growthbook', hash_version: 2 });

    const ev = (await post(`${api}/${test_id}/evaluate`)).json();
    expect(ev).toMatchObject({ decision: 'continue', applied: null });

    const stopped = (await post(`${api}/${test_id}/stop?winner=control`)).json();
    expect(stopped).toMatchObject({ status: 'stopped', winner: 'control' });
    expect((await get(`/api/v1/models/${DEMO_MODEL}`)).json().aliases.production).toBe(production);
    const after = (await predict(5, 'patient-1')).json();
    expect(after.variant).toBeUndefined(); // routing ends with the test
    expect(after.model_version).toBe(production);
    const events = (await get(`${api}/${test_id}/events`)).json().events.map((e: { action: string }) => e.action);
    expect(events).toEqual(expect.arrayContaining(['created', 'rolled_back']));
    expect((await get(api)).json().count).toBe(0);
    expect((await get(`${api}?status=all`)).json().count).toBe(1);
  });

  it('shadow: the challenger sees a copy of the traffic; its answers are logged and compared, never returned', async () => {
    const { test_id } = (await post(`${api}/create`, { test_name: 'shadow forest', model: DEMO_MODEL, treatment_model_id: challenger, mode: 'shadow', decision_mode: 'recommend-only' })).json();
    const ids: Array<{ id: string; i: number }> = [];
    for (let i = 0; i < 40; i++) {
      const body = (await predict(i * 7, `u${i}`)).json();
      expect(body.model_version).toBe(production); // never the shadow's answer
      expect(body.variant).toBe('control');
      ids.push({ id: body.prediction_id, i: i * 7 });
    }
    for (const { id, i } of ids) await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: truth(i) });
    let status: any;
    // shadow rows are written after the primary answer: on a loaded machine they may take seconds
    for (let k = 0; k < 300; k++) {
      status = (await get(`${api}/${test_id}`)).json();
      if (status.treatment.predictions === 40 && status.treatment.labelled === 40) break;
      await sleep(50);
    }
    expect(status.mode).toBe('shadow');
    expect(status.control.predictions).toBe(40);
    expect(status.treatment.predictions).toBe(40); // one shadow row per primary prediction
    expect(status.treatment.labelled).toBe(40); // ground truth comes from the primary row
    expect(status.treatment.accuracy).toBeGreaterThan(0.8);
    expect(status.metrics.agreement.n).toBe(40);
    expect(status.metrics.agreement.rate).toBeGreaterThan(0.8);
    const rows = await t.services.predictionLog.list({ modelId: status.control.model_id ? (await t.services.registry.getModel(DEMO_MODEL)).id : '', limit: 200 });
    const shadows = rows.filter((r) => r.variant === 'shadow' && r.ab_test_id === test_id);
    expect(shadows).toHaveLength(40);
    expect(shadows.every((r) => r.version === challenger && r.shadow_of)).toBe(true);
    await post(`${api}/${test_id}/stop`);
  });

  it('canary: ramps while guardrails hold, and a breached guardrail rolls it back', async () => {
    const { test_id } = (
      await post(`${api}/create`, {
        test_name: 'canary forest',
        model: DEMO_MODEL,
        treatment_model_id: challenger,
        mode: 'canary',
        config: { canary_stages: [0.1, 0.5, 1], canary_min_samples: 5, guardrail_min_samples: 20 },
      })
    ).json();
    let test = (await get(`${api}/${test_id}`)).json();
    expect(test.canary).toMatchObject({ stage: 0, traffic_split: 0.1 });
    let n = 0;
    const send = async (k: number) => {
      for (let i = 0; i < k; i++) await predict(n++, `c${n}`);
    };
    // 10% of 200 users (bucketed by a hash seeded with the random test id) leaves the canary far above
    // its 5-sample minimum: with 80 users, P(fewer than 5) was ~9% and the test flaked.
    await send(200);
    let ev = (await post(`${api}/${test_id}/evaluate`)).json();
    expect(ev).toMatchObject({ decision: 'advance', applied: 'advanced' });
    test = (await get(`${api}/${test_id}`)).json();
    expect(test.canary).toMatchObject({ stage: 1, traffic_split: 0.5 });
    expect(test.sample_ratio.observed).toEqual([0, 0]); // the sample-ratio check restarts with each stage

    // the treatment starts failing: errors recorded against it trip the error-rate guardrail
    await send(30);
    for (let i = 0; i < 40; i++) await post(`${api}/${test_id}/record`, { variant: 'treatment', error: 'INFERENCE_FAILED' });
    const manual = await post(`${api}/${test_id}/advance`, {});
    expect(manual.statusCode).toBe(409);
    expect(manual.json().message).toMatch(/guardrails do not hold: error rate/);
    ev = (await post(`${api}/${test_id}/evaluate`)).json();
    expect(ev).toMatchObject({ decision: 'rollback', applied: 'rolled_back', status: 'stopped' });
    expect((await get(`/api/v1/models/${DEMO_MODEL}`)).json().aliases.production).toBe(production);
    const events = (await get(`${api}/${test_id}/events`)).json().events.map((e: { action: string }) => e.action);
    expect(events).toEqual(expect.arrayContaining(['created', 'canary_advanced', 'rolled_back']));
  });

  it('champion/challenger config: start, then finalize(promote) moves production through the registry', async () => {
    const started = await post(`${api}/start`, {
      name: 'cc_test',
      model_type: DEMO_MODEL,
      control_version: `v${production}`,
      treatment_version: `v${challenger}`,
      treatment_traffic_pct: 10,
      duration_days: 7,
      decision_mode: 'recommend-only',
    });
    expect(started.statusCode).toBe(200);
    const status = (await get(`${api}/cc_test`)).json(); // the seed's scripts address tests by name
    expect(status).toMatchObject({ traffic_split: 0.1, config: { min_duration_s: 7 * 86400 } });
    const fin = await post(`${api}/cc_test/finalize`, { action: 'promote', reason: 'won on accuracy' });
    expect(fin.statusCode).toBe(200);
    expect(fin.json().test).toMatchObject({ status: 'completed', winner: 'treatment', decision: 'promote' });
    expect((await get(`/api/v1/models/${DEMO_MODEL}`)).json().aliases.production).toBe(challenger);
    const history = (await get(`/api/v1/models/${DEMO_MODEL}/history`)).json();
    const last = (history.events ?? history).at(-1);
    expect(last).toMatchObject({ action: 'promoted', to_version: challenger, actor: 'local-admin' });
    expect(last.reason).toMatch(/A\/B test "cc_test".*won on accuracy/);
    expect((await post(`${api}/cc_test/finalize`, { action: 'promote', reason: 'again' })).statusCode).toBe(409);
    // put the demo back for the next test
    await t.services.registry.rollback(DEMO_MODEL, { reason: 'test reset' });
  });

  it('describes the release-test API in the OpenAPI document', async () => {
    const doc = (await get('/docs/json')).json();
    for (const path of ['/api/v1/mlops/ab-testing/create', '/api/v1/mlops/ab-testing/{test_id}/select-model', '/api/v1/mlops/deployments/{model}/switch-traffic']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });

  it('blue-green: deploy to the idle slot, health-check, switch, roll back with a reason', async () => {
    const base = `/api/v1/mlops/deployments/${DEMO_MODEL}`;
    const st = (await get(base)).json();
    expect(st).toMatchObject({ live: 'blue', idle: 'green', production_version: production });
    const deployed = await post(`${base}/deploy`, { version: challenger });
    expect(deployed.statusCode).toBe(200);
    const green = deployed.json().slots.find((s: { slot: string }) => s.slot === 'green');
    expect(green).toMatchObject({ version: challenger, live: false, health: { ok: true } });
    expect(deployed.json().production_version).toBe(production); // deploying moves no traffic
    expect((await post(`${base}/health-check`, { environment: 'green' })).json()).toMatchObject({ ok: true, slot: 'green', version: challenger });

    const switched = (await post(`${base}/switch-traffic`, { from_env: 'blue', to_env: 'green', reason: 'v1.1 validated' })).json();
    expect(switched).toMatchObject({ live: 'green', production_version: challenger });
    expect((await predict(1)).json().model_version).toBe(challenger);

    expect((await post(`${base}/rollback`, {})).statusCode).toBe(422); // a reason is required
    const back = (await post(`${base}/rollback`, { reason: 'recall dropped on night shift' })).json();
    expect(back).toMatchObject({ live: 'blue', production_version: production });
    const history = (await get(`/api/v1/models/${DEMO_MODEL}/history`)).json();
    const events = history.events ?? history;
    expect(events.at(-1)).toMatchObject({ action: 'rolled_back', to_version: production });
    expect(events.at(-1).reason).toMatch(/recall dropped on night shift/);
    expect(events.at(-2)).toMatchObject({ action: 'promoted', to_version: challenger, actor: 'local-admin' });
    expect(events.at(-2).reason).toMatch(/blue-green: switch traffic blue → green: v1.1 validated/);
  });
});
