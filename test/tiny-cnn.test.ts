import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildTinyCnn } from '../src/onnx/tiny-cnn.js';
import { mulberry32 } from '../src/pipelines/trainers/random.js';

describe('buildTinyCnn', () => {
  const C = 3;
  const H = 9; // odd on purpose: MaxPool must drop the last row like onnxruntime does
  const W = 8;
  const cnn = buildTinyCnn({ width: W, height: H, channels: C, labels: ['cat', 'dog'], seed: 7 });

  function images(): Float32Array[] {
    const rng = mulberry32(123);
    const n = C * H * W;
    return [
      new Float32Array(n), // black
      new Float32Array(n).fill(1), // white
      Float32Array.from({ length: n }, (_, i) => (i < n / 3 ? 1 : 0)), // "red"
      Float32Array.from({ length: n }, (_, i) => ((i % W) + Math.floor(i / W)) % 2), // checkerboard
      ...Array.from({ length: 4 }, () => Float32Array.from({ length: n }, () => rng())),
    ];
  }

  it('onnxruntime output matches the TypeScript reference to 1e-5', async () => {
    const session = await ort.InferenceSession.create(cnn.onnx);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['probabilities']);
    for (const img of images()) {
      const out = await session.run({ input: new ort.Tensor('float32', img, [1, C, H, W]) });
      const probs = out.probabilities;
      expect(probs.dims).toEqual([1, 2]);
      const expected = cnn.forward(img);
      Array.from(probs.data as Float32Array).forEach((p, k) => expect(p).toBeCloseTo(expected[k], 5));
    }
  });

  it('runs a batch (symbolic N)', async () => {
    const session = await ort.InferenceSession.create(cnn.onnx);
    const imgs = images();
    const batch = new Float32Array(imgs.length * C * H * W);
    imgs.forEach((img, i) => batch.set(img, i * img.length));
    const out = await session.run({ input: new ort.Tensor('float32', batch, [imgs.length, C, H, W]) });
    expect(out.probabilities.dims).toEqual([imgs.length, 2]);
    const data = out.probabilities.data as Float32Array;
    imgs.forEach((img, i) => expect(data[i * 2 + 1]).toBeCloseTo(cnn.forward(img)[1], 5));
  });

  it('outputs vary with the input and are reproducible from the seed', () => {
    const grey = cnn.forward(new Float32Array(C * H * W).fill(0.5));
    expect(grey[0]).toBeCloseTo(0.5, 5); // the head is centred on mid-grey by construction
    const p = images().map((img) => cnn.forward(img)[0]);
    expect(Math.max(...p) - Math.min(...p)).toBeGreaterThan(0.2);
    for (const q of p) {
      expect(q).toBeGreaterThan(0);
      expect(q).toBeLessThan(1);
    }
    const again = buildTinyCnn({ width: W, height: H, channels: C, labels: ['cat', 'dog'], seed: 7 });
    expect(again.onnx).toEqual(cnn.onnx);
    const other = buildTinyCnn({ width: W, height: H, channels: C, labels: ['cat', 'dog'], seed: 8 });
    expect(other.onnx).not.toEqual(cnn.onnx);
  });

  it('takes hand-set weights, checking their sizes', () => {
    const weights = { conv: new Array(4 * 9).fill(0), convBias: [0.5, 0, 0, 0], dense: [1, 0, 0, 0, 0, 0, 0, 0], denseBias: [0, 0] };
    const fixed = buildTinyCnn({ width: 4, height: 4, channels: 1, labels: ['a', 'b'], weights });
    // conv 0 with bias 0.5 → feature 0.5 → logits [0.5, 0]
    const p = fixed.forward(new Float32Array(16));
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-0.5)), 6);
    expect(() => buildTinyCnn({ width: 4, height: 4, channels: 1, labels: ['a', 'b'], weights: { ...weights, dense: [1] } })).toThrow(/weights.dense needs 8 values, got 1/);
  });
});
