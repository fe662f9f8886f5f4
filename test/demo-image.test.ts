/**
 * The chest X-ray demo (issue 14): the first start registers a small image model with hand-set
 * weights, labelled a demo everywhere it shows, so /predict, /predict/batch, /model/info and
 * process-image work on the files of examples/ at once. The examples are what
 * scripts/fixtures/make-examples.mjs writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { DEMO_IMAGE_MODEL, buildDemoImageModel, demoImageInputSpec, syntheticRadiograph } from '../src/pipelines/demo-image.js';
import { encodeImage } from '../src/serving/image-input.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const root = new URL('..', import.meta.url).pathname;
const example = (name: string) => readFileSync(join(root, 'examples', name));

function multipart(fields: Record<string, string | { filename: string; bytes: Buffer }>) {
  const boundary = `----vitals${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([name, v]) =>
    typeof v === 'string'
      ? Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n`)
      : Buffer.concat([
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${v.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
          v.bytes,
          Buffer.from('\r\n'),
        ]),
  );
  return { payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('the chest X-ray demo', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_NAME: DEMO_IMAGE_MODEL });
    const demo = await bootstrapDemo(t.services.registry, () => undefined, { image: true });
    expect(demo).toMatchObject({ image: '1.0.0' });
  }, 180_000);
  afterAll(() => t.dispose());

  it('is registered in production beside the tabular demo, and says it is a demo', async () => {
    expect((await t.services.registry.listModels()).map((m) => m.name).sort()).toEqual([DEMO_MODEL, DEMO_IMAGE_MODEL].sort());
    const model = await t.services.registry.getModel(DEMO_IMAGE_MODEL);
    expect(model).toMatchObject({ modality: 'image', task: 'classification', aliases: { production: '1.0.0' } });
    expect(model.description).toMatch(/DEMO ONLY, not a diagnostic model/);
    const info = await t.app.inject({ url: '/model/info' });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({
      name: DEMO_IMAGE_MODEL,
      version: '1.0.0',
      classes: ['NORMAL', 'PNEUMONIA'],
      description: expect.stringMatching(/not a diagnostic model/),
      metadata: { demo: true, diagnostic: false },
      input_spec: { kind: 'image', width: 64, height: 64, channels: 1 },
    });
    // the ONNX file says so too
    expect(Buffer.from(buildDemoImageModel().onnx).toString('latin1')).toContain('not a diagnostic model');
  });

  it('/predict: the example with an opacity is PNEUMONIA, the two without are NORMAL, as the reference network says', async () => {
    const cnn = buildDemoImageModel();
    for (const [name, expected] of [
      ['xray-normal.png', 'NORMAL'],
      ['xray-normal-2.png', 'NORMAL'],
      ['xray-opacity.png', 'PNEUMONIA'],
      ['study.dcm', 'NORMAL'],
    ] as const) {
      const bytes = example(name);
      const res = await t.app.inject({ method: 'POST', url: '/predict', ...multipart({ file: { filename: name, bytes } }) });
      expect(res.statusCode, name).toBe(200);
      const body = res.json();
      expect(body.prediction, name).toBe(expected);
      expect(body.confidence, name).toBeGreaterThan(0.75);
      const { tensor } = await encodeImage(bytes, demoImageInputSpec, ['png', 'dcm']);
      expect(body.probabilities.PNEUMONIA, name).toBeCloseTo(cnn.forward(tensor)[1]!, 5);
    }
  });

  it('/predict/batch takes the examples as base64', async () => {
    const images = ['xray-normal.png', 'xray-opacity.png'].map((n) => example(n).toString('base64'));
    const res = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images, return_probabilities: true } });
    expect(res.statusCode).toBe(200);
    expect(res.json().predictions.map((p: { prediction: string }) => p.prediction)).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(res.json().predictions[1].probabilities.PNEUMONIA).toBeGreaterThan(0.75);
  });

  it('process-image reads examples/study.dcm as a de-identified DX chest radiograph', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-image',
      ...multipart({ file: { filename: 'study.dcm', bytes: example('study.dcm') }, modality: 'xray', text_report: 'FINDINGS: No evidence of pneumonia.' }),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.image).toMatchObject({
      format: 'dicom',
      dicom_metadata: { modality: 'DX', body_part_examined: 'CHEST', view_position: 'PA', rows: 256, columns: 256 },
      image_statistics: { shape: [256, 256] },
      deidentification: { patient_identity_removed: true },
    });
    expect(res.body).not.toContain('Synthetic^Demo'); // the (synthetic) patient's name and id are replaced by default
    expect(res.body).not.toContain('DEMO-0001');
    expect(body.text_report).not.toBeNull();
  });

  it('onnxruntime runs the demo network exactly like its TypeScript reference', async () => {
    const cnn = buildDemoImageModel();
    const session = await ort.InferenceSession.create(cnn.onnx);
    for (const opacity of [false, true]) {
      const px = syntheticRadiograph({ width: 64, height: 64, opacity, seed: 9 });
      const input = Float32Array.from(px, (v) => v / 255);
      const out = await session.run({ input: new ort.Tensor('float32', input, [1, 1, 64, 64]) });
      const got = Array.from(out.probabilities!.data as Float32Array);
      cnn.forward(input).forEach((p, k) => expect(got[k]).toBeCloseTo(p, 5));
    }
  });
});

describe('examples/', () => {
  it('holds what scripts/fixtures/make-examples.mjs writes (same bytes; PNGs: same pixels), well under 1 MB', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vitals-examples-'));
    try {
      const r = spawnSync(process.execPath, [join(root, 'scripts/fixtures/make-examples.mjs'), '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const made = readdirSync(out).sort();
      expect(made).toEqual(['drifted.csv', 'features.json', 'model-spec.json', 'model.onnx', 'study.dcm', 'xray-normal-2.png', 'xray-normal.png', 'xray-opacity.png']);
      let total = 0;
      for (const name of made) {
        const committed = example(name);
        total += committed.length;
        const fresh = readFileSync(join(out, name));
        if (name.endsWith('.png')) {
          expect(await sharp(committed).metadata(), name).toMatchObject({ width: 256, height: 256, channels: 1 });
          const pixels = async (b: Buffer) => sharp(b).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
          const [a, b] = await Promise.all([pixels(committed), pixels(fresh)]);
          expect(a.data.equals(b.data), `${name}: run \`node scripts/fixtures/make-examples.mjs\` and commit examples/`).toBe(true);
        } else expect(committed.equals(fresh), `${name}: run \`node scripts/fixtures/make-examples.mjs\` and commit examples/`).toBe(true);
      }
      expect(total).toBeLessThan(500_000);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
