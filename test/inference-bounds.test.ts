/**
 * Bounded memory in serving: each inference worker keeps at most INFERENCE_MAX_SESSIONS sessions
 * (least recently used released, reopened on its next use, same answers), and a full inference
 * queue answers 503 with Retry-After instead of growing (real onnxruntime sessions, real HTTP).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, node, tensor, valueInfo } from '../src/onnx/index.js';
import { bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { InferencePool } from '../src/serving/inference-pool.js';
import { type TestApp, startTestApp } from './helpers/app.js';

/** Y = X · w for a [N, 2] input: each model answers with its own weights, so a mix-up would show. */
function scaleModel(dir: string, name: string, w: number): { key: string; path: string } {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(
    path,
    encodeModel({
      opsetImports: [{ domain: '', version: 17 }],
      graph: {
        name,
        inputs: [valueInfo('X', 'float', ['N', 2])],
        outputs: [valueInfo('Y', 'float', ['N', 2])],
        initializers: [tensor.float('W', [1], [w])],
        nodes: [node('Mul', ['X', 'W'], ['Y'])],
      },
    }),
  );
  return { key: name, path };
}

const feeds = { X: { type: 'float32' as const, data: new Float32Array([1, 2]), dims: [1, 2] } };

describe('inference sessions, least recently used', () => {
  let dir: string;
  let pool: InferencePool;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vitals-lru-'));
    pool = new InferencePool({ workers: 1, threadsPerWorker: 1, device: 'cpu', maxSessionsPerWorker: 2 });
  });
  afterAll(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps at most the configured number open per worker and reopens an evicted one on use', async () => {
    const [a, b, c] = [scaleModel(dir, 'a', 2), scaleModel(dir, 'b', 3), scaleModel(dir, 'c', 5)];
    for (const m of [a, b, c]) await pool.load(m);
    expect(await pool.sessions()).toEqual({ keys: ['b', 'c'], evictions: 1, maxSessions: 2 });
    // The evicted model still answers, with its own weights: it is reopened, and b (least recent) goes.
    const outA = await pool.run(a, feeds);
    expect(Array.from(outA.outputs.Y!.data as Float32Array)).toEqual([2, 4]);
    expect(await pool.sessions()).toEqual({ keys: ['c', 'a'], evictions: 2, maxSessions: 2 });
    // A use refreshes: running c makes a the least recently used.
    expect(Array.from((await pool.run(c, feeds)).outputs.Y!.data as Float32Array)).toEqual([5, 10]);
    expect((await pool.sessions()).keys).toEqual(['a', 'c']);
  });
});

describe('back-pressure on a full inference queue', () => {
  let t: TestApp;
  let body: string;
  beforeAll(async () => {
    // One worker, one waiting batch at most, one request per batch: concurrent requests must overflow.
    t = await startTestApp({ INFERENCE_MAX_QUEUE: 1, ENABLE_BATCHING: false, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
    const version = await t.services.registry.getVersion('breast-cancer', 'production');
    const spec = version.input_spec as { features: Array<{ name: string }> };
    body = JSON.stringify({ model: 'breast-cancer', features: Object.fromEntries(spec.features.map((f, i) => [f.name, 1 + i / 10])) });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('answers 503 with Retry-After past INFERENCE_MAX_QUEUE, serves the rest, and never answers 500', async () => {
    const responses = await Promise.all(
      Array.from({ length: 48 }, () => t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', headers: { 'content-type': 'application/json' }, payload: body })),
    );
    const byStatus = (s: number) => responses.filter((r) => r.statusCode === s);
    expect(byStatus(200).length).toBeGreaterThan(0);
    expect(byStatus(503).length).toBeGreaterThan(0);
    expect(byStatus(200).length + byStatus(503).length).toBe(responses.length);
    const refused = byStatus(503)[0]!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'PREDICTION_QUEUE_FULL', message: expect.stringMatching(/INFERENCE_MAX_QUEUE/) });
    // Once the queue drains, the same request is served again.
    const after = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', headers: { 'content-type': 'application/json' }, payload: body });
    expect(after.statusCode).toBe(200);
  });
});
