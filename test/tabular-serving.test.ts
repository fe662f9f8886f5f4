/**
 * The core loop over HTTP on the demo models: train → register → predict → record ground truth →
 * promote → roll back, with validation, metrics, the OpenAPI document and the Open Inference Protocol.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const featureNames = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(featureNames.map((f) => [f, Number(csv.rows[i]![csv.columns.indexOf(f)])]));
const truth = (i: number) => csv.rows[i]![csv.columns.indexOf('diagnosis')]!;

describe('tabular serving and registry over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 100, CACHE_TTL: 60 });
    const demo = await bootstrapDemo(t.services.registry);
    expect(demo).toBeDefined();
    expect(await bootstrapDemo(t.services.registry)).toBeUndefined(); // only into an empty registry
  });
  afterAll(() => t.dispose());

  it('bootstraps two demo versions with metrics, one in production', async () => {
    const res = await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions` });
    expect(res.statusCode).toBe(200);
    const versions = res.json().versions as Array<{ version: string; aliases: string[]; metrics: Record<string, number>; params: { algorithm: string } }>;
    expect(versions.map((v) => v.params.algorithm).sort()).toEqual(['logreg', 'rf']);
    for (const v of versions) {
      expect(v.metrics.accuracy).toBeGreaterThan(0.9);
      expect(v.metrics.roc_auc).toBeGreaterThan(0.95);
      expect(Object.keys(v.metrics)).toEqual(expect.arrayContaining(['accuracy', 'precision', 'recall', 'f1', 'roc_auc']));
    }
    expect(versions.flatMap((v) => v.aliases).sort()).toEqual(['challenger', 'production']);
    const profile = await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions/production/profile` });
    expect(profile.json().profile.features.mean_radius).toMatchObject({ type: 'numeric' });
    expect(profile.json().profile.sample.mean_radius.length).toBeGreaterThan(400);
  });

  it('predicts one row and a batch, and the predictions are right on the data', async () => {
    const one = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(0) } });
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body).toMatchObject({ model: DEMO_MODEL, prediction: truth(0) });
    expect(Object.keys(body.probabilities).sort()).toEqual(['benign', 'malignant']);
    expect(body.probabilities.benign + body.probabilities.malignant).toBeCloseTo(1, 5);
    expect(body.prediction_id).toMatch(/^[0-9a-f-]{36}$/);

    const idx = Array.from({ length: 100 }, (_, i) => i * 5);
    const batch = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: `${DEMO_MODEL}@challenger`, instances: idx.map(row) } });
    expect(batch.statusCode).toBe(200);
    const b = batch.json();
    expect(b.batch_size).toBe(100);
    const correct = b.predictions.filter((p: { prediction: string }, j: number) => p.prediction === truth(idx[j]!)).length;
    expect(correct).toBeGreaterThan(90);
    expect(b.model_version).not.toBe(body.model_version);
  });

  it('names every bad field with 422, and unknown models with 404', async () => {
    const features = { ...row(1), mean_radius: 'big', mean_texture: undefined, colour: 'red' } as Record<string, unknown>;
    delete features.mean_texture;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features } });
    expect(res.statusCode).toBe(422);
    const fields = res
      .json()
      .details.fields.map((f: { field: string }) => f.field)
      .sort();
    expect(fields).toEqual(['features.colour', 'features.mean_radius', 'features.mean_texture']);
    expect(res.json().message).toMatch(/mean_radius: must be a finite number/);

    const both = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL } });
    expect(both.statusCode).toBe(422);
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: 'no-such-model', features: row(1) } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('MODEL_NOT_FOUND');
    const badJson = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', headers: { 'content-type': 'application/json' }, payload: '{"model":' });
    expect(badJson.statusCode).toBe(400);
  });

  it('logs predictions, attaches ground truth later, and records outside predictions', async () => {
    const p = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(2) } })).json();
    const gt = await t.app.inject({ method: 'POST', url: `/api/v1/predictions/${p.prediction_id}/ground-truth`, payload: { ground_truth: truth(2) } });
    expect(gt.statusCode).toBe(200);
    expect(gt.json()).toMatchObject({ id: p.prediction_id, ground_truth: truth(2), prediction: p.prediction, model_name: DEMO_MODEL, version: p.model_version });
    expect(gt.json().input).toEqual(row(2));
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/predictions/nope/ground-truth', payload: { ground_truth: 'x' } })).statusCode).toBe(404);

    const rec = await t.app.inject({
      method: 'POST',
      url: `/api/v1/mlops/monitoring/${DEMO_MODEL}/record`,
      payload: { features: { age: 65, bmi: 25.5 }, prediction: 1, probability: [0.2, 0.8], ground_truth: 1 },
    });
    expect(rec.statusCode).toBe(201);
    const stored = (await t.app.inject({ url: `/api/v1/predictions/${rec.json().prediction_id}` })).json();
    expect(stored).toMatchObject({ source: 'external', prediction: '1', ground_truth: '1', confidence: 0.8, probabilities: [0.2, 0.8] });
    const labeled = (await t.app.inject({ url: `/api/v1/predictions?model=${DEMO_MODEL}&labeled=true` })).json();
    expect(labeled.predictions.length).toBe(2);
  });

  it('answers repeated inputs from the cache and exports Prometheus metrics', async () => {
    const first = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(7) } })).json();
    const second = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(7) } })).json();
    expect(second.cached).toBe(true);
    expect(second.probabilities).toEqual(first.probabilities);
    expect(second.prediction_id).not.toBe(first.prediction_id); // still logged
    const metrics = await t.app.inject({ url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    const text = metrics.body;
    expect(text).toMatch(new RegExp(`vitals_predictions_total\\{model="${DEMO_MODEL}",version="[0-9.]+",kind="tabular"\\} \\d+`));
    expect(text).toMatch(/vitals_prediction_cache_hits_total\{model="breast-cancer"\} [1-9]/);
    expect(text).toMatch(/vitals_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/api\/v1\/ml-models\/predict",status="200"\}/);
    expect(text).toMatch(/vitals_inference_batch_rows_bucket/);
    expect(text).toMatch(/vitals_errors_total\{route="\/api\/v1\/ml-models\/predict",code="VALIDATION_FAILED"\}/);
  });

  it('promotes, rolls back and keeps the history through the seed endpoints', async () => {
    const versions = (await t.app.inject({ url: `/api/v1/mlops/versioning/${DEMO_MODEL}/versions` })).json().versions as Array<{ id: string; version: string; aliases: string[] }>;
    const challenger = versions.find((v) => v.aliases.includes('challenger'))!;
    const production = versions.find((v) => v.aliases.includes('production'))!;
    const promote = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/versioning/${challenger.id}/promote-to-production`, headers: { 'x-actor': 'dr-lee' }, payload: { reason: 'A/B win' } });
    expect(promote.statusCode).toBe(200);
    const served = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(3) } })).json();
    expect(served.model_version).toBe(challenger.version);
    const rollback = await t.app.inject({ method: 'POST', url: `/api/v1/mlops/versioning/${DEMO_MODEL}/rollback`, payload: { reason: 'recall dropped' } });
    expect(rollback.statusCode).toBe(200);
    expect(rollback.json().version.version).toBe(production.version);
    const history = (await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/history` })).json().events as Array<Record<string, unknown>>;
    // the actor is the caller's identity, never a header (x-actor above is ignored)
    expect(history.at(-2)).toMatchObject({ action: 'promoted', actor: 'local-admin', reason: 'A/B win', from_version: production.version, to_version: challenger.version });
    expect(history.at(-1)).toMatchObject({ action: 'rolled_back', reason: 'recall dropped', to_version: production.version });
    const archiveProd = await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/production/archive`, payload: {} });
    expect(archiveProd.statusCode).toBe(409);
  });

  it('registers an uploaded ONNX file and refuses one onnxruntime cannot run, recording nothing', async () => {
    const prod = (await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions/production` })).json();
    const bytes = await t.services.registry.loadArtifact(prod);
    const spec = { input_spec: prod.input_spec, output_spec: prod.output_spec, metrics: { accuracy: 0.97 }, reference_data: [row(0), row(1), row(2)] };
    const boundary = '----vitals-upload';
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="spec"\r\n\r\n${JSON.stringify(spec)}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      Buffer.from(bytes),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await t.app.inject({ method: 'POST', url: '/api/v1/models/uploaded/versions', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
    expect(up.statusCode).toBe(201);
    expect(up.json()).toMatchObject({ model_name: 'uploaded', version: '1.0.0', artifact: { sha256: prod.artifact.sha256 } });
    const profile = (await t.app.inject({ url: '/api/v1/models/uploaded/versions/1.0.0/profile' })).json().profile;
    expect(profile.n_rows).toBe(3);

    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mlops/versioning/create-version',
      payload: { model_id: 'uploaded', artifact_base64: Buffer.from('not onnx at all').toString('base64'), input_spec: prod.input_spec, output_spec: prod.output_spec },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().message).toMatch(/onnxruntime could not load/);
    const wrongSpec = await t.app.inject({
      method: 'POST',
      url: '/api/v1/mlops/versioning/create-version',
      payload: { model_id: 'uploaded', artifact_base64: Buffer.from(bytes).toString('base64'), input_spec: { kind: 'tabular', features: [{ name: 'only_one' }] }, output_spec: prod.output_spec },
    });
    expect(wrongSpec.statusCode).toBe(422);
    expect(wrongSpec.json().message).toMatch(/1 features given but the model's input .* takes 30/);
    const versions = (await t.app.inject({ url: '/api/v1/models/uploaded/versions' })).json().versions;
    expect(versions).toHaveLength(1);
  });

  it('speaks the Open Inference Protocol (KServe V2)', async () => {
    expect((await t.app.inject({ url: '/v2/health/live' })).json()).toEqual({ live: true });
    expect((await t.app.inject({ url: '/v2/health/ready' })).json()).toMatchObject({ ready: true, reasons: [] });
    const meta = (await t.app.inject({ url: `/v2/models/${DEMO_MODEL}` })).json();
    expect(meta).toMatchObject({ name: DEMO_MODEL, platform: 'onnxruntime_onnx', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 30] }] });
    expect(meta.versions).toHaveLength(2);
    expect((await t.app.inject({ url: `/v2/models/${DEMO_MODEL}/versions/1.0.0/ready` })).json()).toEqual({ name: DEMO_MODEL, ready: true });

    const data = [featureNames.map((f) => row(0)[f]), featureNames.map((f) => row(1)[f])];
    const infer = await t.app.inject({
      method: 'POST',
      url: `/v2/models/${DEMO_MODEL}/infer`,
      payload: { id: 'req-1', inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data }], outputs: [{ name: 'probabilities' }] },
    });
    expect(infer.statusCode).toBe(200);
    const out = infer.json();
    expect(out).toMatchObject({ model_name: DEMO_MODEL, id: 'req-1', outputs: [{ name: 'probabilities', shape: [2, 2], datatype: 'FP32' }] });
    const viaApi = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(0) } })).json();
    expect(out.outputs[0].data[0]).toBeCloseTo(viaApi.probabilities.benign, 6);

    const wrongShape = await t.app.inject({ method: 'POST', url: `/v2/models/${DEMO_MODEL}/infer`, payload: { inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', data: [1, 2] }] } });
    expect(wrongShape.statusCode).toBe(400);
    expect(wrongShape.json().error).toMatch(/needs 30 values, got 2/);
    const unknown = await t.app.inject({ url: '/v2/models/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toHaveProperty('error');
  });

  it('serves health, the OpenAPI document and interactive docs', async () => {
    const health = (await t.app.inject({ url: '/health' })).json();
    expect(health).toMatchObject({ status: 'healthy', database: { status: 'ok', dialect: 'sqlite' } });
    const spec = (await t.app.inject({ url: '/docs/json' })).json();
    expect(spec.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/ml-models/predict',
      '/predict',
      '/predict/batch',
      '/api/v1/mlops/versioning/create-version',
      '/api/v1/mlops/monitoring/{model_id}/record',
      '/v2/models/{name}/infer',
    ]) {
      expect(spec.paths).toHaveProperty([path]);
    }
    const docs = await t.app.inject({ url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
  });
});
