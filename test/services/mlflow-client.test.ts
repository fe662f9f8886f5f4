/**
 * The official MLflow client (mlflow-skinny, pinned in .venv-mlflow by scripts/services/mlflow-client.sh)
 * against a live Vitals on PostgreSQL:
 * - a training script logs params, a metric over steps, a dataset and an ONNX model with its MLmodel,
 *   registers it and sets alias `production`; the same model then answers POST /api/v1/ml-models/predict,
 *   and the run, the version and the alias move are the Vitals ones (tracking API, registry history);
 * - the same runs and searches against Vitals and against a real `mlflow server` (SQLite backend, the
 *   pinned `mlflow` package) return the same runs in the same order.
 * A missing venv or PostgreSQL FAILS this test; it is never skipped.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../../src/pipelines/demo-bootstrap.js';
import { toTabularDataset } from '../../src/pipelines/trainers/index.js';
import { trainTabularClassifier } from '../../src/pipelines/trainers/train.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PY = join(ROOT, '.venv-mlflow/bin/python');
const MLFLOW = join(ROOT, '.venv-mlflow/bin/mlflow');
const SCRIPTS = join(ROOT, 'test/services/mlflow');
const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL');
if (!existsSync(PY) || !existsSync(MLFLOW)) throw new Error('the MLflow venv is missing: run `bash scripts/services/mlflow-client.sh --server`');

function python(script: string, args: string[]): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      PY,
      [join(SCRIPTS, script), ...args],
      { timeout: 180_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', PYTHONUNBUFFERED: '1' } },
      (err, stdout, stderr) => {
        if (err) rej(new Error(`${script} failed: ${err.message}\n${stderr.slice(-4000)}`));
        else res(stdout.trim().split('\n').at(-1)!); // the client prints "View run …" lines before our JSON
      },
    );
  });
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

const data = toTabularDataset(readFileSync(DEMO_DATA, 'utf8'), 'diagnosis');
const model = trainTabularClassifier(data, { algo: 'logreg', seed: 7 });

describe('the official MLflow client against Vitals (PostgreSQL)', () => {
  let t: TestApp;
  let base: string;
  let work: string;
  let seen: Record<string, any>;

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url, CACHE_SIZE: 0 });
    await truncateAll(t.services.database);
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    work = mkdtempSync(join(tmpdir(), 'vitals-mlflow-'));
    writeFileSync(join(work, 'model.onnx'), model.onnx);
    writeFileSync(
      join(work, 'model.json'),
      JSON.stringify({
        features: model.featureNames,
        labels: model.labels,
        params: model.params,
        losses: [0.69, 0.41, 0.27, 0.21],
        metrics: { accuracy: model.metrics.accuracy, roc_auc: model.metrics.roc_auc },
        data_digest: 'b7e1f0a2',
      }),
    );
    seen = JSON.parse(await python('train_and_register.py', [base, work]));
  }, 240_000);
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('logs params, metrics over steps, tags, a dataset and artifacts as MLflow shows them back', () => {
    expect(seen.status).toBe('FINISHED');
    expect(Object.keys(seen.params).sort()).toEqual([...Object.keys(model.params), 'algorithm'].sort());
    for (const [k, v] of Object.entries(model.params)) expect(Number(seen.params[k]), k).toBe(v); // Python's str(1e-06)
    expect(seen.params.algorithm).toBe('logreg');
    expect(seen.metrics).toEqual({ loss: 0.21, accuracy: model.metrics.accuracy, roc_auc: model.metrics.roc_auc });
    expect(seen.history).toEqual([
      [0, 0.69],
      [1, 0.41],
      [2, 0.27],
      [3, 0.21],
    ]);
    expect(seen.tags).toEqual({ 'mlflow.runName': 'logreg-l2', team: 'radiology-ml' });
    expect(seen.datasets).toEqual([{ name: 'breast_cancer', digest: 'b7e1f0a2' }]);
    expect(seen.artifacts).toEqual(['model/MLmodel', 'model/model.onnx']);
    expect(seen.downloaded_size).toBe(model.onnx.byteLength);
  });

  it("answers with MLflow's error codes, which the client turns into the exceptions it expects", () => {
    expect(seen.errors).toEqual({
      missing_experiment: 'RESOURCE_DOES_NOT_EXIST',
      duplicate_experiment: 'RESOURCE_ALREADY_EXISTS',
      bad_filter: 'INVALID_PARAMETER_VALUE',
      unknown_alias: 'INVALID_PARAMETER_VALUE',
      changed_param: 'INVALID_PARAMETER_VALUE',
    });
  });

  it('the MLflow run is the Vitals tracking run', async () => {
    const res = await fetch(`${base}/api/v1/tracking/runs/${seen.run_id}`);
    expect(res.status).toBe(200);
    const run = await res.json();
    expect(run).toMatchObject({ experiment: 'breast-cancer-training', name: 'logreg-l2', status: 'completed', config: { algorithm: 'logreg' }, metrics: { loss: 0.21 } });
    const history = await (await fetch(`${base}/api/v1/tracking/runs/${seen.run_id}/history/loss`)).json();
    expect(history.points.map((p: { value: number }) => p.value)).toEqual([0.69, 0.41, 0.27, 0.21]);
  });

  it('the registered ONNX model is a servable Vitals version in production, and predicts like the trained model', async () => {
    expect(seen).toMatchObject({ version: '1', version_status_message: null, version2: '2', alias_version: '1', model_aliases: { production: '1' } });
    const v = await (await fetch(`${base}/api/v1/models/breast-cancer-mlflow/versions/production`)).json();
    expect(v).toMatchObject({ version: '1.0.0', aliases: ['production'], metrics: { accuracy: model.metrics.accuracy }, lineage: { mlflow: { run_id: seen.run_id, version: 1 } } });
    expect(v.input_spec.features.map((f: { name: string }) => f.name)).toEqual(model.featureNames);
    const rows = [0, 17, 250, 568];
    for (const i of rows) {
      const features = Object.fromEntries(model.featureNames.map((f, j) => [f, data.X[i]![j]]));
      const res = await fetch(`${base}/api/v1/ml-models/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'breast-cancer-mlflow', features }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.model_version).toBe('1.0.0');
      const expected = model.predictProba([data.X[i]!])[0]!;
      model.labels.forEach((label, k) => expect(body.probabilities[label]).toBeCloseTo(expected[k]!, 5));
    }
  });

  it('an alias set through MLflow is a Vitals alias move: in the history, and on the serving path', async () => {
    const move = await fetch(`${base}/api/2.0/mlflow/registered-models/alias`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'breast-cancer-mlflow', alias: 'production', version: '2' }),
    });
    expect(move.status).toBe(200);
    const { events } = await (await fetch(`${base}/api/v1/models/breast-cancer-mlflow/history`)).json();
    expect(events.filter((e: { action: string }) => e.action === 'promoted').map((e: Record<string, string>) => [e.from_version, e.to_version, e.reason])).toEqual([
      [null, '1.0.0', 'set through the MLflow API'],
      ['1.0.0', '2.0.0', 'set through the MLflow API'],
    ]);
    await new Promise((r) => setTimeout(r, 50)); // registry events invalidate the resolve cache asynchronously
    const features = Object.fromEntries(model.featureNames.map((f, j) => [f, data.X[3]![j]]));
    const res = await fetch(`${base}/api/v1/ml-models/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'breast-cancer-mlflow', features }) });
    expect((await res.json()).model_version).toBe('2.0.0');
    const byAlias = await (await fetch(`${base}/api/2.0/mlflow/registered-models/alias?name=breast-cancer-mlflow&alias=production`)).json();
    expect(byAlias.model_version).toMatchObject({ version: '2', aliases: ['production'] });
  });

  it('a version without an ONNX model is kept, says why it is not servable, and cannot take a Vitals alias', async () => {
    const post = (path: string, body: unknown) => fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await (await post('model-versions/create', { name: 'breast-cancer-mlflow', source: 's3://elsewhere/model', run_id: seen.run_id })).json();
    expect(created.model_version).toMatchObject({ version: '3', status: 'READY' });
    expect(created.model_version.status_message).toMatch(/not servable by Vitals: the source s3:\/\/elsewhere\/model is not in the Vitals artifact store/);
    const alias = await post('registered-models/alias', { name: 'breast-cancer-mlflow', alias: 'staging', version: '3' });
    expect(alias.status).toBe(400);
    expect(await alias.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it("bad input is a 4xx in MLflow's shape: unknown endpoint, invalid body, path traversal", async () => {
    const unknown = await fetch(`${base}/api/2.0/mlflow/runs/teleport`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    const invalid = await fetch(`${base}/ajax-api/2.0/mlflow/runs/log-metric`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ run_id: seen.run_id, key: 'x', value: 'high', timestamp: 1 }),
    });
    expect(invalid.status).toBe(400);
    const body = await invalid.json();
    expect(Object.keys(body).sort()).toEqual(['error_code', 'message']);
    expect(body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('value') });
    const traversal = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/a/..%2F..%2Fetc%2Fpasswd`, { method: 'PUT', body: 'x' });
    expect(traversal.status).toBe(400);
    expect((await traversal.json()).message).toMatch(/"\.\." is not allowed/);
  });
});

describe('search_runs: Vitals answers as a real mlflow server does', () => {
  let t: TestApp;
  let vitals: string;
  let mlflow: ChildProcess;
  let mlflowUrl: string;
  const home = mkdtempSync(join(tmpdir(), 'vitals-mlflow-ref-'));

  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url });
    await truncateAll(t.services.database);
    vitals = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const port = await freePort();
    mlflowUrl = `http://127.0.0.1:${port}`;
    mlflow = spawn(
      MLFLOW,
      ['server', '--backend-store-uri', `sqlite:///${home}/mlflow.db`, '--artifacts-destination', join(home, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
      { stdio: 'ignore' },
    );
    for (let i = 0; ; i++) {
      if (
        await fetch(`${mlflowUrl}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      if (i > 120) throw new Error('mlflow server did not start within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 120_000);
  afterAll(async () => {
    mlflow?.kill('SIGTERM');
    await truncateAll(t.services.database);
    await t?.dispose();
    rmSync(home, { recursive: true, force: true });
  });

  it('the same filters, orderings, view types, datasets and pages give the same runs in the same order', async () => {
    const [ours, theirs] = await Promise.all([python('search_runs.py', [vitals]), python('search_runs.py', [mlflowUrl])]);
    const a = JSON.parse(ours);
    const b = JSON.parse(theirs);
    expect(Object.keys(b).length).toBeGreaterThan(20);
    expect(b[' | '].length).toBe(11); // the reference really found the runs (one is deleted)
    for (const key of Object.keys(b)) expect(a[key], key).toEqual(b[key]);
  }, 300_000);
});
