import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildMobileNet } from '../src/onnx/mobilenet.js';
import { mulberry32 } from '../src/stats/random.js';

describe('buildMobileNet', () => {
  const model = buildMobileNet({ labels: ['NORMAL', 'PNEUMONIA'] });

  it('is MobileNetV2-sized: about 2.2 M parameters and 300 M multiply-adds at 224x224x3', () => {
    expect(model.parameters).toBeGreaterThan(2.1e6);
    expect(model.parameters).toBeLessThan(2.4e6);
    expect(model.multiplyAdds).toBeGreaterThan(2.8e8);
    expect(model.multiplyAdds).toBeLessThan(3.2e8);
    // float32 weights dominate the file
    expect(model.onnx.byteLength).toBeGreaterThan(model.parameters * 4);
  });

  it('is the same bytes for the same seed, other bytes for another', () => {
    const again = buildMobileNet({ labels: ['NORMAL', 'PNEUMONIA'] });
    expect(Buffer.from(again.onnx).equals(Buffer.from(model.onnx))).toBe(true);
    expect(Buffer.from(buildMobileNet({ labels: ['NORMAL', 'PNEUMONIA'], seed: 8 }).onnx).equals(Buffer.from(model.onnx))).toBe(false);
  });

  it('loads in onnxruntime and gives a finite softmax [N, 2] for 224x224 images, varying with the image', async () => {
    const session = await ort.InferenceSession.create(model.onnx);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['probabilities']);
    const n = 3 * 224 * 224;
    const rng = mulberry32(5);
    const batch = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) batch[i] = 2 * rng() - 1; // noise
    batch.fill(0.5, n); // flat grey
    const out = (await session.run({ input: new ort.Tensor('float32', batch, [2, 3, 224, 224]) })).probabilities!;
    expect(out.dims).toEqual([2, 2]);
    const p = Array.from(out.data as Float32Array);
    for (const v of p) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(1);
    }
    expect(p[0]! + p[1]!).toBeCloseTo(1, 5);
    expect(p[2]! + p[3]!).toBeCloseTo(1, 5);
    expect(Math.abs(p[0]! - p[2]!)).toBeGreaterThan(1e-3);
  });

  it('refuses sizes the five stride-2 stages cannot divide, and fewer than 2 labels', () => {
    expect(() => buildMobileNet({ labels: ['a', 'b'], size: 100 })).toThrow(/multiple of 32/);
    expect(() => buildMobileNet({ labels: ['a'] })).toThrow(/2 labels/);
  });
});
