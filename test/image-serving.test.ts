/**
 * The chest X-ray model-server API on a real ONNX CNN (built by the project with fixed weights, so
 * outputs are checked exactly against a TypeScript reference forward pass).
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../src/onnx/index.js';
import { encodeImage } from '../src/serving/image-input.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const labels = ['NORMAL', 'PNEUMONIA'];
const spec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' as const };
const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });

/** A synthetic grayscale "radiograph": a bright ellipse on a dark field, with a gradient. */
async function xray(width: number, height: number, brightness: number, format: 'png' | 'jpeg' | 'tiff' = 'png'): Promise<Buffer> {
  const px = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const dx = (x - width / 2) / (width / 3);
      const dy = (y - height / 2) / (height / 2.5);
      px[y * width + x] = Math.min(255, Math.round((dx * dx + dy * dy < 1 ? brightness : 30) + (x / width) * 40));
    }
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    [format]()
    .toBuffer();
}

function multipart(field: string, filename: string, bytes: Buffer) {
  const boundary = '----vitals' + Math.random().toString(16).slice(2);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('image serving (/predict, /predict/batch, /model/info)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_NAME: 'chest-xray', MAX_IMAGE_SIZE_MB: 0.05, ENABLE_BATCHING: true, BATCH_MAX_WAIT_MS: 5 });
    await t.services.registry.register({ name: 'chest-xray', version: '1.0.0', artifact: cnn.onnx, input_spec: spec, output_spec: { labels }, aliases: ['production'] });
  });
  afterAll(() => t.dispose());

  it('answers exactly the seed shape, with probabilities equal to the reference network', async () => {
    const png = await xray(300, 240, 220);
    const res = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('file', 'xray.png', png) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['confidence', 'model_version', 'prediction', 'probabilities', 'processing_time_ms', 'timestamp']);
    expect(body.model_version).toBe('1.0.0');
    expect(Object.keys(body.probabilities)).toEqual(labels);

    const { tensor } = await encodeImage(png, spec, ['png']);
    const expected = cnn.forward(tensor);
    expect(body.probabilities.NORMAL).toBeCloseTo(expected[0]!, 5);
    expect(body.probabilities.PNEUMONIA).toBeCloseTo(expected[1]!, 5);
    expect(body.prediction).toBe(labels[expected[0]! > expected[1]! ? 0 : 1]);
    expect(body.confidence).toBeCloseTo(Math.max(...expected), 5);

    // The log keeps a fingerprint and statistics, never pixels.
    const entry = await t.services.predictionLog.get(res.headers['x-prediction-id'] as string);
    expect(entry.source).toBe('image');
    expect(entry.input).toMatchObject({ image: { format: 'png', width: 300, height: 240, channels: 1 } });
    expect(JSON.stringify(entry.input).length).toBeLessThan(400);
  });

  it('accepts JPEG and TIFF, converts grayscale to RGB, and batches base64 images', async () => {
    const imgs = [await xray(64, 64, 250, 'jpeg'), await xray(80, 60, 90, 'tiff'), await xray(32, 32, 160)];
    const res = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images: imgs.map((b) => b.toString('base64')), return_probabilities: false } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.batch_size).toBe(3);
    expect(body.predictions[0]).not.toHaveProperty('probabilities');
    expect(body.predictions[0].confidence).toBeGreaterThan(0.5);
    for (const [i, img] of imgs.entries()) {
      const fmt = i === 0 ? 'jpg' : i === 1 ? 'tiff' : 'png';
      const expected = cnn.forward((await encodeImage(img, spec, [fmt])).tensor);
      expect(body.predictions[i].confidence).toBeCloseTo(Math.max(...expected), 5);
    }
    // Inputs differ, so do the outputs: the model is not a constant.
    expect(new Set(body.predictions.map((p: { confidence: number }) => p.confidence.toFixed(4))).size).toBe(3);
  });

  it('rejects bad input with the right status and a message that says what to fix', async () => {
    const notImage = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('file', 'x.png', Buffer.from('definitely not a png')) });
    expect(notImage.statusCode).toBe(400);
    expect(notImage.json().message).toMatch(/PNG, JPEG or TIFF/);

    const wrongField = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('image', 'x.png', await xray(10, 10, 100)) });
    expect(wrongField.statusCode).toBe(400);
    expect(wrongField.json().message).toMatch(/"file"/);

    const noForm = await t.app.inject({ method: 'POST', url: '/predict', payload: { hello: 1 } });
    expect(noForm.statusCode).toBe(400);

    const big = await sharp({ create: { width: 400, height: 400, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();
    expect(big.byteLength).toBeGreaterThan(0.05 * 1024 * 1024);
    const tooBig = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('file', 'big.png', big) });
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().message).toMatch(/MAX_IMAGE_SIZE_MB/);
    const tooBigBatch = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images: [big.toString('base64')] } });
    expect(tooBigBatch.statusCode).toBe(413);

    const badB64 = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images: ['%%%not base64%%%'] } });
    expect(badB64.statusCode).toBe(400);
    const emptyBatch = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images: [] } });
    expect(emptyBatch.statusCode).toBe(422);

    const gif = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
    const unsupported = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('file', 'x.gif', gif) });
    expect(unsupported.statusCode).toBe(415);

    // Still serving after all of that.
    const ok = await t.app.inject({ method: 'POST', url: '/predict', ...multipart('file', 'ok.png', await xray(20, 20, 200)) });
    expect(ok.statusCode).toBe(200);
  });

  it('describes the served model', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/model/info' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'chest-xray', version: '1.0.0', classes: labels, input_spec: { width: 16, height: 16 }, runtime: { provider: 'cpu' } });
  });
});

describe('image serving without a configured model', () => {
  it('answers 503 saying how to configure one', async () => {
    const t = await startTestApp();
    try {
      const res = await t.app.inject({ method: 'POST', url: '/predict/batch', payload: { images: ['aGk='] } });
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toMatch(/MODEL_PATH/);
      expect(res.json().message).toMatch(/MODEL_NAME/);
    } finally {
      await t.dispose();
    }
  });
});
