/**
 * KServe's official Python client (InferenceRESTClient of the `kserve` package 0.21.0, V2 protocol,
 * pinned in .venv-kserve by scripts/services/kserve-client.sh) against a live Vitals: health, then
 * a tabular model (the demo) and an image model (a project-built CNN) inferred with JSON tensors,
 * binary tensors in with JSON out, and binary both ways. Every answer equals the reference: the seed
 * API's probabilities for the tabular rows, the CNN's TypeScript forward pass for the images. A
 * missing venv FAILS this test.
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
const PY = join(ROOT, '.venv-kserve/bin/python');
if (!existsSync(PY)) throw new Error('the KServe client venv is missing: run `bash scripts/services/kserve-client.sh`');

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const rows = [0, 5, 100, 300].map((i) => features.map((f) => Number(csv.rows[i]![csv.columns.indexOf(f)])));

const IMAGE_MODEL = 'chest-xray';
const labels = ['NORMAL', 'PNEUMONIA'];
const spec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' as const };
const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });
/** two normalised "images" of 3×16×16, as the model's input takes them */
const images = [0, 1].map((k) => Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.fround(Math.sin(i * (0.37 + k * 0.11)) * 1.5 + k * 0.25)));
const MODES = ['json', 'binary_in', 'binary'] as const;

describe("KServe's InferenceRESTClient against Vitals", () => {
  let t: TestApp;
  let seen: Record<string, any>;
  let before: { tabular: number };
  const work = mkdtempSync(join(tmpdir(), 'vitals-kserve-'));
  const stats = async (model: string) => (await t.app.inject({ url: `/v2/models/${model}/stats` })).json().model_stats[0];

  beforeAll(async () => {
    t = await startTestApp({ CACHE_SIZE: 1000 });
    await bootstrapDemo(t.services.registry);
    await t.services.registry.register({ name: IMAGE_MODEL, version: '1.0.0', artifact: cnn.onnx, input_spec: spec, output_spec: { labels }, aliases: ['production'] });
    const meta = async (model: string) => (await t.app.inject({ url: `/v2/models/${model}` })).json();
    const [tab, img] = [await meta(DEMO_MODEL), await meta(IMAGE_MODEL)];
    const cases = [
      { model: DEMO_MODEL, input: tab.inputs[0].name, output: 'probabilities', shape: [rows.length, 30], data: rows.flat() },
      { model: IMAGE_MODEL, input: img.inputs[0].name, output: img.outputs[0].name, shape: [images.length, 3, 16, 16], data: images.flatMap((x) => Array.from(x)) },
    ];
    writeFileSync(join(work, 'cases.json'), JSON.stringify(cases));
    before = { tabular: (await stats(DEMO_MODEL))?.inference_stats?.cache_hit?.count ?? 0 };
    const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const out = await new Promise<string>((res, rej) =>
      execFile(PY, [join(ROOT, 'test/services/kserve/infer.py'), base, join(work, 'cases.json')], { timeout: 120_000 }, (err, stdout, stderr) =>
        err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout),
      ),
    );
    seen = JSON.parse(out.trim().split('\n').at(-1)!);
  }, 180_000);
  afterAll(async () => {
    await t?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  it('reads server and model health', () => {
    expect(seen).toMatchObject({ live: true, ready: true });
    expect(seen[DEMO_MODEL].model_ready).toBe(true);
    expect(seen[IMAGE_MODEL].model_ready).toBe(true);
    expect(seen.missing.status).toBe(404);
    expect(seen.missing.message).toMatch(/^[^,']*no-such-model[^,']*, '404 Not Found'/); // Vitals' own message, before the client's
  });

  it('infers the tabular model with JSON and binary tensors, as the seed API answers', async () => {
    for (const [i, row] of rows.entries()) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: Object.fromEntries(features.map((f, j) => [f, row[j]])) } });
      const probs = Object.values(res.json().probabilities as Record<string, number>);
      for (const mode of MODES) {
        expect(seen[DEMO_MODEL][mode].shape).toEqual([rows.length, 2]);
        probs.forEach((p, k) => expect(seen[DEMO_MODEL][mode].data[i * 2 + k], `${mode} row ${i}`).toBeCloseTo(p, 6));
      }
    }
    expect(seen[DEMO_MODEL].json.binary_response).toBe(false);
    expect(seen[DEMO_MODEL].binary_in.binary_response).toBe(false);
    expect(seen[DEMO_MODEL].binary.binary_response).toBe(true);
    // the same rows again, in another encoding: answered from the row cache
    const after = await stats(DEMO_MODEL);
    expect(after.inference_stats.cache_hit.count - before.tabular).toBe(2 * rows.length);
  });

  it('infers the image model with JSON and binary tensors, as the network computes', () => {
    for (const mode of MODES) {
      expect(seen[IMAGE_MODEL][mode].shape).toEqual([images.length, 2]);
      images.forEach((image, i) => {
        const expected = cnn.forward(image);
        expected.forEach((p, k) => expect(seen[IMAGE_MODEL][mode].data[i * 2 + k], `${mode} image ${i}`).toBeCloseTo(p, 5));
      });
    }
    expect(seen[IMAGE_MODEL].binary.binary_response).toBe(true);
  });
});
