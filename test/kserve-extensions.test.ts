/**
 * Triton's Open Inference Protocol extensions on the demo model: model configuration, the repository
 * index with load/unload, inference statistics, and V2 infers on the seed API's path (prediction log
 * with ids, inference statistics).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = [0, 1].map((i) => features.map((f) => Number(csv.rows[i]![csv.columns.indexOf(f)])));

describe('Open Inference Protocol extensions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  }, 180_000);
  afterAll(() => t?.dispose());

  it('serves the model configuration as Triton does', async () => {
    const res = await t.app.inject({ url: `/v2/models/${DEMO_MODEL}/config` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: DEMO_MODEL, platform: 'onnxruntime_onnx', backend: 'onnxruntime', input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [30] }] });
    expect(res.json().max_batch_size).toBeGreaterThan(0);
    expect((await t.app.inject({ url: '/v2/models/nope/config' })).statusCode).toBe(404);
  });

  it('lists, loads and unloads models in the repository index', async () => {
    const index = async (ready?: boolean) => (await t.app.inject({ method: 'POST', url: '/v2/repository/index', payload: ready === undefined ? {} : { ready } })).json();
    await t.app.inject({ method: 'POST', url: `/v2/repository/models/${DEMO_MODEL}/unload` }); // /config above loaded it
    expect(await index(true)).toEqual([]);
    expect((await index()).find((m: { name: string }) => m.name === DEMO_MODEL)).toMatchObject({ state: 'UNAVAILABLE' });
    const load = await t.app.inject({ method: 'POST', url: `/v2/repository/models/${DEMO_MODEL}/load` });
    expect(load.statusCode).toBe(200);
    expect(await index(true)).toEqual([expect.objectContaining({ name: DEMO_MODEL, state: 'READY' })]);
    expect((await t.app.inject({ method: 'POST', url: `/v2/repository/models/${DEMO_MODEL}/unload` })).statusCode).toBe(200);
    expect(await index(true)).toEqual([]);
    const missing = await t.app.inject({ method: 'POST', url: '/v2/repository/models/nope/unload' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatch(/nope/);
  });

  it('logs V2 infers with prediction ids and counts them in the statistics', async () => {
    const before = (await t.app.inject({ url: `/v2/models/${DEMO_MODEL}/stats` })).json().model_stats[0];
    const infer = await t.app.inject({ method: 'POST', url: `/v2/models/${DEMO_MODEL}/infer`, payload: { inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', data: rows }] } });
    expect(infer.statusCode).toBe(200);
    const ids = String(infer.json().parameters.prediction_ids).split(',');
    expect(ids).toHaveLength(2);
    expect(infer.headers['x-prediction-id']).toBe(ids[0]);
    const logged = (await t.app.inject({ url: `/api/v1/predictions/${ids[0]}` })).json();
    expect(logged).toMatchObject({ model_name: DEMO_MODEL, source: 'kserve' });
    expect(logged.input.mean_radius).toBeCloseTo(rows[0]![features.indexOf('mean_radius')]!, 4);
    expect(['benign', 'malignant']).toContain(logged.prediction);
    const after = (await t.app.inject({ url: `/v2/models/${DEMO_MODEL}/stats` })).json().model_stats[0];
    expect(after.inference_count - (before.inference_count ?? 0)).toBe(2);
    expect(after.inference_stats.success.count).toBeGreaterThan(before.inference_stats.success?.count ?? 0);
    expect(after.inference_stats.compute_infer.ns).toBeGreaterThan(0);
    const all = (await t.app.inject({ url: '/v2/models/stats' })).json().model_stats;
    expect(all.some((m: { name: string }) => m.name === DEMO_MODEL)).toBe(true);
  });
});
