/**
 * Triton's official client (tritonclient[http] 2.73.0, pinned in .venv-triton by
 * scripts/services/triton-client.sh) against a live Vitals: health, metadata, and infer with JSON and
 * with binary tensors (the client sends no Content-Type, and `Inference-Header-Content-Length` for
 * binary) — both give the probabilities the seed API gives, and on an image model (a project-built
 * CNN) the network's own; model config, inference statistics and repository index/load/unload.
 * A missing venv FAILS this test.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PY = join(ROOT, '.venv-triton/bin/python');
if (!existsSync(PY)) throw new Error('the tritonclient venv is missing: run `bash scripts/services/triton-client.sh`');

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = [0, 5, 100, 300].map((i) => features.map((f) => Number(csv.rows[i]![csv.columns.indexOf(f)])));
const labels = ['NORMAL', 'PNEUMONIA'];
const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });
const imageSpec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' as const };
/** three normalised 3×16×16 images, as nested [c][h][w] lists for numpy */
const images = [0, 1, 2].map((k) => Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.fround(Math.cos(i * (0.21 + k * 0.07)) * 1.2 - k * 0.3)));
const nested = (x: Float32Array) => [0, 1, 2].map((c) => Array.from({ length: 16 }, (_, h) => Array.from(x.subarray(c * 256 + h * 16, c * 256 + h * 16 + 16))));

describe('tritonclient[http] against Vitals', () => {
  let t: TestApp;
  let seen: Record<string, any>;
  const work = mkdtempSync(join(tmpdir(), 'vitals-triton-'));
  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
    await t.services.registry.register({ name: 'chest-xray', version: '1.0.0', artifact: cnn.onnx, input_spec: imageSpec, output_spec: { labels }, aliases: ['production'] });
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    writeFileSync(join(work, 'rows.json'), JSON.stringify(rows));
    writeFileSync(join(work, 'images.json'), JSON.stringify(images.map(nested)));
    const out = await new Promise<string>((res, rej) =>
      execFile(
        PY,
        [join(ROOT, 'test/services/triton/infer.py'), base.replace('http://', ''), DEMO_MODEL, join(work, 'rows.json'), 'chest-xray', join(work, 'images.json')],
        { timeout: 120_000 },
        (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout)),
      ),
    );
    seen = JSON.parse(out.trim().split('\n').at(-1)!);
  }, 180_000);
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('reads health and metadata', () => {
    expect(seen).toMatchObject({ live: true, ready: true });
    expect(seen.inputs[0]).toMatchObject({ datatype: 'FP32' });
    expect(seen.outputs).toContain('probabilities');
    expect(seen.missing).toMatch(/not found/i);
  });

  it('infers with JSON and with binary tensors, and both match the seed API', async () => {
    expect(seen.json).toHaveLength(rows.length);
    for (const [i, row] of rows.entries()) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: Object.fromEntries(features.map((f, j) => [f, row[j]])) } });
      const probs = Object.values(res.json().probabilities as Record<string, number>);
      probs.forEach((p, k) => {
        expect(seen.json[i][k]).toBeCloseTo(p, 5);
        expect(seen.binary[i][k]).toBeCloseTo(p, 5);
      });
    }
  });

  it('infers an image model with JSON and with binary tensors, as the network computes', () => {
    for (const mode of ['json', 'binary']) {
      expect(seen.image[mode]).toHaveLength(images.length);
      images.forEach((image, i) => cnn.forward(image).forEach((p, k) => expect(seen.image[mode][i][k], `${mode} image ${i}`).toBeCloseTo(p, 5)));
    }
  });

  it('reads the model configuration, the inference statistics, and loads and unloads through the repository', () => {
    expect(seen.config).toEqual({ name: DEMO_MODEL, platform: 'onnxruntime_onnx', max_batch_size: expect.any(Number), dims: [30] });
    expect(seen.config.max_batch_size).toBeGreaterThan(0);
    expect(seen.stats.inference_count).toBe(rows.length * 2); // the JSON and the binary infer
    expect(seen.stats.success).toBe(2);
    expect(seen.index_after_unload).not.toContain(DEMO_MODEL);
    expect(seen.index_after_load).toContain(DEMO_MODEL);
    expect(seen.ready_after_load).toBe(true);
  });

  it('refuses a malformed binary request with a 400 naming the problem', async () => {
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 30], datatype: 'FP32', parameters: { binary_data_size: 120 } }] }));
    const res = await t.app.inject({
      method: 'POST',
      url: `/v2/models/${DEMO_MODEL}/infer`,
      headers: { 'inference-header-content-length': String(header.length) },
      payload: Buffer.concat([header, Buffer.alloc(8)]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/binary_data_size 120 runs past the end/);
  });
});
