import { describe, expect, it } from 'vitest';
import { type ModalityTransform, renderFrame8, valueStatistics, windowLevel } from '../src/multimodal/index.js';

const frame = (n: number, f: (i: number) => number) => Int16Array.from({ length: n }, (_, i) => f(i));

/** The straightforward definitions: every value transformed, then mean/std/min/max; level per pixel. */
function reference(frames: Int16Array[], ms: ModalityTransform[]) {
  const xs = frames.flatMap((f, k) => Array.from(f, (v) => v * ms[k]!.slope + ms[k]!.intercept));
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length);
  return { mean, std, min: xs.reduce((a, x) => Math.min(a, x)), max: xs.reduce((a, x) => Math.max(a, x)) };
}

describe('pixel values over many frames', () => {
  it('statistics of frames sharing a histogram, split where the rescale changes', () => {
    const frames = [0, 1, 2, 3].map((k) => frame(70000, (i) => ((i * 7919 + k * 31) % 3000) - 1000 + k));
    const ms = [
      { slope: 1, intercept: -1024 },
      { slope: 1, intercept: -1024 },
      { slope: 2, intercept: 5 },
      { slope: 1, intercept: -1024 },
    ];
    const got = valueStatistics(frames, ms);
    const want = reference(frames, ms);
    expect(got.count).toBe(280000);
    expect(got.min).toBe(want.min);
    expect(got.max).toBe(want.max);
    expect(got.mean).toBeCloseTo(want.mean, 8);
    expect(got.std).toBeCloseTo(want.std, 8);
  });

  it('renders each window with its own level table (the kept table is not reused for another window)', () => {
    const f = frame(8192, (i) => (i % 4096) - 2048);
    const m = { slope: 1, intercept: 0 };
    for (const w of [
      { center: 40, width: 400, function: 'LINEAR' as const },
      { center: -600, width: 1500, function: 'LINEAR' as const },
      { center: -600, width: 1500, function: 'SIGMOID' as const },
    ]) {
      for (const mono1 of [false, true]) {
        const out = renderFrame8(f, m, { kind: 'window', window: w, source: 'test' }, mono1);
        const want = Array.from(f, (v) => {
          const y = windowLevel(w, v) * 255;
          const z = mono1 ? 255 - y : y;
          return z <= 0 ? 0 : z >= 255 ? 255 : Math.floor(z);
        });
        expect(Array.from(out)).toEqual(want);
      }
    }
    // a different rescale with the same window
    const out = renderFrame8(f, { slope: 2, intercept: 100 }, { kind: 'window', window: { center: 40, width: 400, function: 'LINEAR' }, source: 'test' }, false);
    expect(out[2048 + 0]).toBe(Math.floor(windowLevel({ center: 40, width: 400, function: 'LINEAR' }, 100) * 255));
  });
});
