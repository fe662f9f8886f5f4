/**
 * Triton's Open Inference Protocol extensions on the demo model: model configuration, the repository
 * index with load/unload, inference statistics, and V2 infers on the seed API's path (prediction log
 * with ids, inference statistics, the row cache and dynamic batching).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { joinRows, splitRows } from '../src/serving/tensor-rows.js';
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

describe('V2 infers share the seed path’s row cache and dynamic batching', () => {
  let t: TestApp;
  // a long wait and a batch of 8: eight concurrent single-row requests make one full batch
  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 1000, ENABLE_BATCHING: true, BATCH_SIZE: 8, BATCH_MAX_WAIT_MS: 300 });
    await bootstrapDemo(t.services.registry);
  }, 180_000);
  afterAll(() => t?.dispose());

  const row = (i: number) => features.map((f) => Number(csv.rows[i]![csv.columns.indexOf(f)]));
  const stats = async () => (await t.app.inject({ url: `/v2/models/${DEMO_MODEL}/stats` })).json().model_stats[0];
  const metric = async (name: string) => {
    const text = (await t.app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`model="${DEMO_MODEL}"`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const inferJson = async (data: number[][]) => {
    const res = await t.app.inject({ method: 'POST', url: `/v2/models/${DEMO_MODEL}/infer`, payload: { inputs: [{ name: 'input', shape: [data.length, 30], datatype: 'FP32', data }] } });
    expect(res.statusCode, res.body).toBe(200);
    return Object.fromEntries(res.json().outputs.map((o: { name: string; data: number[]; shape: number[] }) => [o.name, o])) as Record<string, { data: number[]; shape: number[] }>;
  };
  /** What the seed API answers for a row: the reference for the V2 answers (another cache key, another path) */
  const seedProbabilities = async (i: number) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: Object.fromEntries(features.map((f, j) => [f, row(i)[j]])) } });
    expect(res.statusCode, res.body).toBe(200);
    return Object.values(res.json().probabilities as Record<string, number>);
  };

  it('a repeated V2 infer is a cache hit, in JSON and in binary, with the same answer', async () => {
    const before = await stats();
    const hitsBefore = await metric('vitals_prediction_cache_hits_total');
    const first = await inferJson([row(10)]);
    const again = await inferJson([row(10)]);
    expect(again).toEqual(first);
    // the same row in the binary tensor extension
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', parameters: { binary_data_size: 120 } }] }));
    const body = Buffer.concat([header, Buffer.from(new Float32Array(row(10)).buffer)]);
    const binary = await t.app.inject({
      method: 'POST',
      url: `/v2/models/${DEMO_MODEL}/infer`,
      payload: body,
      headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    });
    expect(binary.statusCode, binary.body).toBe(200);
    expect(binary.json().outputs.find((o: { name: string }) => o.name === 'probabilities').data).toEqual(first.probabilities!.data);
    const after = await stats();
    expect(after.inference_stats.cache_hit.count - (before.inference_stats.cache_hit?.count ?? 0)).toBe(2);
    expect(after.inference_stats.cache_miss.count - (before.inference_stats.cache_miss?.count ?? 0)).toBe(1);
    expect(after.execution_count - (before.execution_count ?? 0)).toBe(1); // only the first ran the model
    expect(after.inference_count - (before.inference_count ?? 0)).toBe(3);
    expect((await metric('vitals_prediction_cache_hits_total')) - hitsBefore).toBe(2);
    const seed = await seedProbabilities(10);
    first.probabilities!.data.forEach((p, k) => expect(p).toBeCloseTo(seed[k]!, 6));
  });

  it('binary tensors at any byte offset answer as JSON does; NaN and a short tensor are refused with 400', async () => {
    const want = await inferJson([row(3), row(4)]);
    const binaryInfer = async (values: number[], pad: number) => {
      const raw = Buffer.from(new Float32Array(values).buffer);
      // padding the JSON header moves the tensor bytes off 4-byte alignment
      const header = Buffer.from(`${JSON.stringify({ inputs: [{ name: 'input', shape: [2, 30], datatype: 'FP32', parameters: { binary_data_size: raw.length } }] })}${' '.repeat(pad)}`);
      return t.app.inject({
        method: 'POST',
        url: `/v2/models/${DEMO_MODEL}/infer`,
        payload: Buffer.concat([header, raw]),
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
      });
    };
    for (const pad of [0, 1, 2, 3]) {
      const res = await binaryInfer([...row(3), ...row(4)], pad);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().outputs.find((o: { name: string }) => o.name === 'probabilities').data).toEqual(want.probabilities!.data);
    }
    const nan = await binaryInfer([...row(3), ...row(4).slice(0, 29), Number.NaN], 1);
    expect(nan.statusCode).toBe(400);
    expect(nan.json().error).toMatch(/inputs\[0\] \(input\): data must be numbers \(got NaN\)/);
    const short = await binaryInfer([...row(3), ...row(4).slice(0, 29)], 0);
    expect(short.statusCode).toBe(400);
    expect(short.json().error).toMatch(/shape \[2,30\] needs 60 values, got 59/);
  });

  it('concurrent V2 infers run as one batch, each answered with its own row', async () => {
    const before = await stats();
    const indexes = [20, 21, 22, 23, 24, 25, 26, 27];
    const answers = await Promise.all(indexes.map((i) => inferJson([row(i)])));
    const after = await stats();
    expect(after.inference_count - (before.inference_count ?? 0)).toBe(8);
    expect(after.execution_count - (before.execution_count ?? 0)).toBeLessThanOrEqual(2); // unbatched: 8
    for (const [k, i] of indexes.entries()) {
      expect(answers[k]!.probabilities!.shape).toEqual([1, 2]);
      const seed = await seedProbabilities(i);
      answers[k]!.probabilities!.data.forEach((p, c) => expect(p).toBeCloseTo(seed[c]!, 6));
      expect(answers[k]!.label!.data[0]).toBe(seed.indexOf(Math.max(...seed)));
    }
    // a request of several rows, some cached: the rows come back in order
    const mixed = await inferJson([row(30), row(20), row(31)]);
    expect(mixed.probabilities!.shape).toEqual([3, 2]);
    expect(mixed.probabilities!.data.slice(2, 4)).toEqual(answers[0]!.probabilities!.data);
    const r31 = await seedProbabilities(31);
    mixed.probabilities!.data.slice(4, 6).forEach((p, c) => expect(p).toBeCloseTo(r31[c]!, 6));
  });
});

describe('tensor rows', () => {
  it('splits outputs into rows and joins them back; an output without one row per input row is not split', () => {
    const outputs = {
      probabilities: { type: 'float32' as const, dims: [3, 2], data: new Float32Array([0.1, 0.9, 0.2, 0.8, 0.3, 0.7]) },
      label: { type: 'int64' as const, dims: [3], data: new BigInt64Array([1n, 1n, 0n]) },
    };
    const rows = splitRows(outputs, 3)!;
    expect(rows[1]!.label).toEqual({ type: 'int64', dims: [1], data: new BigInt64Array([1n]) });
    expect(rows[2]!.probabilities!.data).toEqual(new Float32Array([0.3, 0.7]));
    expect(joinRows(rows)).toEqual(outputs);
    expect(joinRows([rows[2]!, rows[0]!]).probabilities).toEqual({ type: 'float32', dims: [2, 2], data: new Float32Array([0.3, 0.7, 0.1, 0.9]) });
    expect(splitRows({ summary: { type: 'float32', dims: [1, 2], data: new Float32Array([1, 2]) } }, 3)).toBeNull();
  });
});
