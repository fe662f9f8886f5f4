/**
 * The MLflow REST API in-process on SQLite (the official client's end-to-end test is in
 * test/services/mlflow-client.test.ts): the search grammar, log-batch semantics and limits,
 * lifecycles, the artifact proxy with any Content-Type, registry bridging and MLflow's error bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matches, parseFilter, parseOrderBy, sortEntities } from '../src/tracking/mlflow/search-filter.js';
import { MlflowTracking } from '../src/tracking/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { expectSearchMatchesReference } from './helpers/mlflow-search-contract.js';

describe('MLflow search grammar', () => {
  const run = (id: string, m: Record<string, number>, p: Record<string, string> = {}, t: Record<string, string> = {}, start = 0) => ({
    id,
    attributes: { run_id: id, run_name: id, status: 'FINISHED', user_id: 'u', artifact_uri: '', start_time: start, end_time: null },
    metrics: m,
    params: p,
    tags: t,
    datasets: [],
  });

  it('parses clauses with quoted keys, IN lists, IS NULL and case-insensitive keywords', () => {
    expect(parseFilter("metrics.`val loss` <= 0.5 and params.algo LIKE 'log%' AND tags.x is not null and attributes.run_id in ('a', 'b')")).toEqual([
      { type: 'metric', key: 'val loss', comparator: '<=', value: 0.5 },
      { type: 'param', key: 'algo', comparator: 'LIKE', value: 'log%' },
      { type: 'tag', key: 'x', comparator: 'IS NOT NULL', value: null },
      { type: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
    ]);
    expect(parseFilter('tags.mlflow.runName = "x"')).toEqual([{ type: 'tag', key: 'mlflow.runName', comparator: '=', value: 'x' }]);
    expect(parseOrderBy(['metrics.acc DESC', 'attributes.created'])).toEqual([
      { type: 'metric', key: 'acc', ascending: false },
      { type: 'attribute', key: 'start_time', ascending: true },
    ]);
  });

  it('refuses what MLflow refuses, naming the problem', () => {
    expect(() => parseFilter("params.C > '1'")).toThrow(/invalid comparator ">" for param\.C/);
    expect(() => parseFilter('metrics.a = 1 OR metrics.b = 2')).toThrow(/expected AND/);
    expect(() => parseFilter("metrics.a = 'x'")).toThrow(/compares numbers/);
    expect(() => parseFilter('params.a = x')).toThrow(/quote the value/);
    expect(() => parseFilter("attributes.status IN ('A')")).toThrow(/not supported for status/);
    expect(() => parseFilter("foo.bar = 'x'")).toThrow(/invalid entity type "foo"/);
    expect(() => parseOrderBy(['metrics.a', 'metrics.a DESC'])).toThrow(/duplicate/);
  });

  it('matches and orders with missing values last in both directions, then start_time DESC, then id', () => {
    const runs = [run('r1', { acc: 0.9 }, { a: 'x' }, {}, 1), run('r2', {}, { a: 'y' }, {}, 2), run('r3', { acc: 0.7 }, {}, { t: 'v' }, 3), run('r4', { acc: 0.9 }, {}, {}, 4)];
    expect(runs.filter((r) => matches(r, parseFilter('metrics.acc > 0.8'))).map((r) => r.id)).toEqual(['r1', 'r4']);
    expect(runs.filter((r) => matches(r, parseFilter("params.a != 'x'"))).map((r) => r.id)).toEqual(['r2']);
    expect(runs.filter((r) => matches(r, parseFilter('tags.t IS NULL'))).map((r) => r.id)).toEqual(['r1', 'r2', 'r4']);
    expect(sortEntities(runs, parseOrderBy(['metrics.acc DESC'])).map((r) => r.id)).toEqual(['r4', 'r1', 'r3', 'r2']);
    expect(sortEntities(runs, parseOrderBy(['metrics.acc ASC'])).map((r) => r.id)).toEqual(['r3', 'r4', 'r1', 'r2']);
    expect(sortEntities(runs, []).map((r) => r.id)).toEqual(['r4', 'r3', 'r2', 'r1']);
  });
});

describe('MLflow REST API over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.dispose());
  const api = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: unknown) => {
    const res = await t.app.inject({ method, url: `/api/2.0/mlflow/${path}`, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: res.json() };
  };

  it('creates runs in the Default experiment "0" and logs a batch: latest by step, history by step, params immutable', async () => {
    const { body } = await api('POST', 'runs/create', { experiment_id: '0', start_time: '1700000000000', tags: [{ key: 'mlflow.user', value: 'ann' }] });
    const id = body.run.info.run_id as string;
    expect(body.run.info).toMatchObject({ experiment_id: '0', status: 'RUNNING', start_time: 1700000000000, artifact_uri: `mlflow-artifacts:/0/${id}/artifacts`, lifecycle_stage: 'active' });
    const metrics = [
      { key: 'loss', value: 0.5, timestamp: 10, step: 2 },
      { key: 'loss', value: 0.9, timestamp: 20, step: 0 },
      { key: 'loss', value: 0.7, timestamp: 15, step: 1 },
    ];
    expect((await api('POST', 'runs/log-batch', { run_id: id, metrics, params: [{ key: 'C', value: '1.0' }], tags: [{ key: 'team', value: 'a' }] })).status).toBe(200);
    const run = (await api('GET', `runs/get?run_id=${id}`)).body.run;
    expect(run.data.metrics).toEqual([{ key: 'loss', value: 0.5, step: 2, timestamp: 10 }]); // the highest step, not the last sent
    expect((await api('GET', `metrics/get-history?run_id=${id}&metric_key=loss`)).body.metrics.map((m: { value: number }) => m.value)).toEqual([0.9, 0.7, 0.5]);
    expect((await api('POST', 'runs/log-parameter', { run_id: id, key: 'C', value: '1.0' })).status).toBe(200); // same value: fine
    const changed = await api('POST', 'runs/log-parameter', { run_id: id, key: 'C', value: '2.0' });
    expect(changed).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('Changing param values is not allowed') } });
    const tooMany = await api('POST', 'runs/log-batch', { run_id: id, metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })) });
    expect(tooMany).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect((await api('POST', 'runs/delete-tag', { run_id: id, key: 'team' })).status).toBe(200);
    expect((await api('POST', 'runs/delete-tag', { run_id: id, key: 'team' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await api('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 1700000001000 })).body.run_info).toMatchObject({ status: 'FINISHED', end_time: 1700000001000 });
    // deleted runs leave the default view, refuse logging, and come back when restored
    await api('POST', 'runs/delete', { run_id: id });
    expect((await api('POST', 'runs/search', { experiment_ids: ['0'] })).body.runs).toEqual([]);
    expect((await api('POST', 'runs/search', { experiment_ids: ['0'], run_view_type: 'DELETED_ONLY' })).body.runs).toHaveLength(1);
    expect((await api('POST', 'runs/set-tag', { run_id: id, key: 'x', value: 'y' })).status).toBe(400);
    await api('POST', 'runs/restore', { run_id: id });
    expect((await api('POST', 'runs/search', { experiment_ids: ['0'], filter: "params.C = '1.0'" })).body.runs).toHaveLength(1);
  });

  it("experiments: get-by-name, search, rename, delete (with their runs) and restore; errors in MLflow's shape", async () => {
    const { experiment_id } = (await api('POST', 'experiments/create', { name: 'exp-a', tags: [{ key: 'k', value: 'v' }] })).body;
    expect((await api('GET', 'experiments/get-by-name?experiment_name=exp-a')).body.experiment).toMatchObject({
      experiment_id,
      name: 'exp-a',
      tags: [{ key: 'k', value: 'v' }],
      lifecycle_stage: 'active',
    });
    expect((await api('POST', 'experiments/create', { name: 'exp-a' })).body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: "Experiment 'exp-a' already exists." });
    await api('POST', 'experiments/update', { experiment_id, new_name: 'exp-b' });
    const search = await api('POST', 'experiments/search', { filter: "name LIKE 'exp-%'", max_results: 10 });
    expect(search.body.experiments.map((e: { name: string }) => e.name)).toEqual(['exp-b']);
    const run = (await api('POST', 'runs/create', { experiment_id })).body.run.info.run_id;
    await api('POST', 'experiments/delete', { experiment_id });
    expect((await api('GET', `runs/get?run_id=${run}`)).body.run.info.lifecycle_stage).toBe('deleted');
    expect((await api('GET', 'experiments/search?view_type=DELETED_ONLY')).body.experiments.map((e: { name: string }) => e.name)).toEqual(['exp-b']);
    await api('POST', 'experiments/restore', { experiment_id });
    expect((await api('GET', `runs/get?run_id=${run}`)).body.run.info.lifecycle_stage).toBe('active');
    expect((await api('GET', 'experiments/get?experiment_id=nope')).status).toBe(404);
    const bad = await api('POST', 'runs/create', { experiment_id: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    // the ajax prefix the MLflow UI uses answers the same
    expect((await t.app.inject({ url: '/ajax-api/2.0/mlflow/experiments/get?experiment_id=0' })).json().experiment.name).toBe('Default');
  });

  it('a wrong method on a known path is a 405 with Allow; a time a date cannot hold is a 400, not a 500', async () => {
    const wrong = await t.app.inject({ method: 'DELETE', url: '/api/2.0/mlflow/runs/get?run_id=x' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD');
    expect(wrong.json()).toMatchObject({ error_code: 'BAD_REQUEST', message: expect.stringContaining('use GET') });
    expect((await t.app.inject({ method: 'GET', url: '/api/2.0/mlflow/no-such/endpoint' })).json().error_code).toBe('ENDPOINT_NOT_FOUND');
    const far = await api('POST', 'runs/create', { experiment_id: '0', start_time: 9007199254740991 });
    expect(far).toMatchObject({ status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('at most 8.64e15') } });
    const run = (await api('POST', 'runs/create', { experiment_id: '0' })).body.run.info.run_id;
    expect((await api('POST', 'runs/log-metric', { run_id: run, key: 'm', value: 1, timestamp: -9e15 })).status).toBe(400);
  });

  it('the artifact proxy stores any Content-Type as bytes, content-addressed, and lists directories', async () => {
    const run = (await api('POST', 'runs/create', { experiment_id: '0' })).body.run.info;
    const root = `/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts`;
    const json = '{"not":"parsed"}';
    expect((await t.app.inject({ method: 'PUT', url: `${root}/eval/metrics.json`, headers: { 'content-type': 'application/json' }, payload: json })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'PUT', url: `${root}/model/weights.bin`, payload: Buffer.from([0, 1, 2, 3]) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'PUT', url: `${root}/model/copy.json`, headers: { 'content-type': 'text/plain' }, payload: json })).statusCode).toBe(200);
    const down = await t.app.inject({ url: `${root}/eval/metrics.json` });
    expect(down.body).toBe(json);
    expect((await t.app.inject({ url: `/api/2.0/mlflow-artifacts/artifacts?path=0/${run.run_id}/artifacts` })).json().files).toEqual([
      { path: 'eval', is_dir: true },
      { path: 'model', is_dir: true },
    ]);
    const list = (await api('GET', `artifacts/list?run_id=${run.run_id}&path=model`)).body;
    expect(list.files).toEqual([
      { path: 'model/copy.json', is_dir: false, file_size: json.length },
      { path: 'model/weights.bin', is_dir: false, file_size: 4 },
    ]);
    const rows = await t.services.database.db.selectFrom('mlflow_artifacts').select('sha256').execute();
    expect(new Set(rows.map((r) => r.sha256)).size).toBe(2); // the same bytes are stored once
    expect((await t.app.inject({ url: `${root}/nope.txt` })).json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('registered models are Vitals models: tags, search, a non-servable version, deletion only without served versions', async () => {
    expect((await api('POST', 'registered-models/create', { name: 'plain', description: 'd', tags: [{ key: 'owner', value: 'x' }] })).body.registered_model).toMatchObject({
      name: 'plain',
      description: 'd',
      tags: [{ key: 'owner', value: 'x' }],
      latest_versions: [],
    });
    expect((await t.app.inject({ url: '/api/v1/models/plain' })).json()).toMatchObject({ name: 'plain', description: 'd' });
    expect((await api('POST', 'registered-models/create', { name: 'plain' })).body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    await api('POST', 'registered-models/set-tag', { name: 'plain', key: 'stage', value: 'dev' });
    await api('PATCH', 'registered-models/update', { name: 'plain', description: 'new' });
    const found = (await api('GET', "registered-models/search?filter=name%20LIKE%20'pl%25'")).body.registered_models;
    expect(found).toEqual([
      expect.objectContaining({
        name: 'plain',
        description: 'new',
        tags: [
          { key: 'owner', value: 'x' },
          { key: 'stage', value: 'dev' },
        ],
      }),
    ]);
    const mv = (await api('POST', 'model-versions/create', { name: 'plain', source: 'mlflow-artifacts:/0/nothing/artifacts/model' })).body.model_version;
    expect(mv).toMatchObject({ name: 'plain', version: '1', current_stage: 'None', status: 'READY', status_message: expect.stringContaining('no ONNX model') });
    await api('POST', 'model-versions/set-tag', { name: 'plain', version: '1', key: 'k', value: 'v' });
    expect((await api('GET', "model-versions/search?filter=name%3D'plain'")).body.model_versions).toEqual([expect.objectContaining({ version: '1', tags: [{ key: 'k', value: 'v' }] })]);
    expect((await api('POST', 'registered-models/get-latest-versions', { name: 'plain' })).body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1']);
    expect((await api('GET', 'registered-models/alias?name=plain&alias=production')).status).toBe(404);
    expect((await api('DELETE', 'model-versions/delete', { name: 'plain', version: '1' })).status).toBe(200);
    expect((await api('DELETE', 'registered-models/delete', { name: 'plain' })).status).toBe(200);
    expect((await api('GET', 'registered-models/get?name=plain')).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('search-runs in SQL (SQLite) answers as the grammar’s reference evaluator', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.dispose());

  it('random runs and random filters, orderings, view types and pages', async () => {
    const tracking = new MlflowTracking(t.services.database);
    await expectSearchMatchesReference(t.services.database, tracking, 17);
    await expectSearchMatchesReference(t.services.database, tracking, 2024);
    await expectSearchMatchesReference(t.services.database, tracking, 99);
  }, 120_000);
});
