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

describe('back-pressure with dynamic batching, over real sockets', () => {
  it('a burst beyond INFERENCE_MAX_QUEUE gets 503 + Retry-After, every 200 is logged, and the server keeps serving', async () => {
    // batching on (the default path), small batches, one waiting batch at most: 160 concurrent clients must overflow
    const t = await startTestApp({ INFERENCE_MAX_QUEUE: 1, BATCH_SIZE: 2, BATCH_MAX_WAIT_MS: 0, CACHE_SIZE: 0 });
    try {
      await bootstrapDemo(t.services.registry);
      const version = await t.services.registry.getVersion('breast-cancer', 'production');
      const spec = version.input_spec as { features: Array<{ name: string }> };
      const url = `${await t.app.listen({ host: '127.0.0.1', port: 0 })}/api/v1/ml-models/predict`;
      const predict = (i: number) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'breast-cancer', features: Object.fromEntries(spec.features.map((f, j) => [f.name, 1 + j / 10 + i / 1000])) }),
        }).then(async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as { prediction_id?: string; code?: string } }));
      const responses = await Promise.all(Array.from({ length: 160 }, (_, i) => predict(i)));
      const ok = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status === 503);
      expect(ok.length + refused.length).toBe(responses.length); // nothing else: no 500, no dropped connection
      expect(ok.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.retryAfter).toBe('1');
        expect(r.body.code).toBe('PREDICTION_QUEUE_FULL');
      }
      // every answered prediction is in the log (an accepted request is never lost), and the server still serves
      const logged = new Set((await t.services.predictionLog.list({ modelId: version.model_id, limit: 1000 })).map((e) => e.id));
      for (const r of ok) expect(logged.has(r.body.prediction_id!)).toBe(true);
      expect((await predict(999)).status).toBe(200);
    } finally {
      await t.dispose();
    }
  });
});
