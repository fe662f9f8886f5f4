/**
 * A tiny, deterministic image classifier for tests and demos of image serving:
 *
 *   input [N, C, H, W] -> Conv 3x3 (4 filters, pad 1) -> Relu -> MaxPool 2x2
 *   -> GlobalAveragePool -> Flatten -> Gemm -> Softmax -> probabilities [N, K]
 *
 * Weights are fixed pseudo-random numbers from a seeded generator (never
 * trained), so the model is meaningless but reproducible, or hand-set by the
 * caller (`weights`, as the chest X-ray demo does). `forward` is a plain
 * TypeScript implementation of the same network, used as the reference that
 * onnxruntime's output is checked against.
 */
import { mulberry32, uniform } from '../stats/random.js';
import { attr, encodeModel, node, tensor, valueInfo } from './model.js';

export interface TinyCnnOptions {
  width: number;
  height: number;
  channels: number;
  labels: string[];
  seed?: number;
  /** hand-set weights instead of seeded random ones (the dense bias defaults to centring on mid-grey) */
  weights?: TinyCnnWeights;
  /** the ONNX model's doc string */
  docString?: string;
}

/** Conv [4, C, 3, 3] and its bias [4]; dense [4, K] (row-major) and its bias [K]. */
export interface TinyCnnWeights {
  conv: number[];
  convBias: number[];
  dense: number[];
  denseBias?: number[];
}

export interface TinyCnn {
  onnx: Uint8Array;
  /** One image, NCHW with N = 1 (length channels*height*width); returns class probabilities. */
  forward(input: Float32Array): number[];
}

export const TINY_CNN_FILTERS = 4;
const FILTERS = TINY_CNN_FILTERS;
const KERNEL = 3;

export function buildTinyCnn(opts: TinyCnnOptions): TinyCnn {
  const { width: W, height: H, channels: C, labels } = opts;
  const K = labels.length;
  if (K < 2) throw new Error('buildTinyCnn needs at least 2 labels');
  if (W < 2 || H < 2 || C < 1) throw new Error('buildTinyCnn needs width, height >= 2 and channels >= 1');

  // Weights are rounded to float32 up front so the reference and the ONNX
  // model use identical values.
  const rng = mulberry32(opts.seed ?? 42);
  const rand = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => Math.fround(uniform(rng, lo, hi)));
  const given = opts.weights;
  if (given) {
    const sizes: [string, number[] | undefined, number][] = [
      ['conv', given.conv, FILTERS * C * KERNEL * KERNEL],
      ['convBias', given.convBias, FILTERS],
      ['dense', given.dense, FILTERS * K],
      ['denseBias', given.denseBias, K],
    ];
    for (const [name, values, n] of sizes) if (values && values.length !== n) throw new Error(`buildTinyCnn: weights.${name} needs ${n} values, got ${values.length}`);
  }
  // Conv weights scaled by fan-in so activations stay O(1) for inputs in [0, 1].
  const convRange = Math.sqrt(3 / (C * KERNEL * KERNEL));
  const convW = given ? given.conv.map(Math.fround) : rand(FILTERS * C * KERNEL * KERNEL, -convRange, convRange); // [F, C, 3, 3]
  const convB = given ? given.convBias.map(Math.fround) : rand(FILTERS, -0.3, 0.3);
  const gemmW = given ? given.dense.map(Math.fround) : rand(FILTERS * K, -4, 4); // [F, K]
  // The dense bias centres the logits on a mid-grey image, which therefore
  // scores uniform probabilities; darker, brighter or textured images move
  // away from it, so the output visibly depends on the input without saturating.
  const grey = convFeatures(new Float32Array(C * H * W).fill(0.5));
  // `!`: gemmW is [FILTERS, K], f < FILTERS = grey.length and k < K.
  const gemmB = given?.denseBias ? given.denseBias.map(Math.fround) : Array.from({ length: K }, (_, k) => Math.fround(-grey.reduce((s, v, f) => s + v * gemmW[f * K + k]!, 0)));

  const onnx = encodeModel({
    producerName: 'vitals',
    docString: opts.docString ?? 'Tiny fixed-weight CNN for tests (not trained).',
    opsetImports: [{ domain: '', version: 17 }],
    metadata: { labels: JSON.stringify(labels) },
    graph: {
      name: 'tiny_cnn',
      inputs: [valueInfo('input', 'float', ['N', C, H, W])],
      outputs: [valueInfo('probabilities', 'float', ['N', K])],
      initializers: [
        tensor.float('conv_w', [FILTERS, C, KERNEL, KERNEL], convW),
        tensor.float('conv_b', [FILTERS], convB),
        tensor.float('gemm_w', [FILTERS, K], gemmW),
        tensor.float('gemm_b', [K], gemmB),
      ],
      nodes: [
        node('Conv', ['input', 'conv_w', 'conv_b'], ['conv'], {
          kernel_shape: attr.ints([KERNEL, KERNEL]),
          pads: attr.ints([1, 1, 1, 1]),
        }),
        node('Relu', ['conv'], ['relu']),
        node('MaxPool', ['relu'], ['pool'], {
          kernel_shape: attr.ints([2, 2]),
          strides: attr.ints([2, 2]),
        }),
        node('GlobalAveragePool', ['pool'], ['gap']),
        node('Flatten', ['gap'], ['features'], { axis: attr.int(1) }),
        node('Gemm', ['features', 'gemm_w', 'gemm_b'], ['logits']),
        node('Softmax', ['logits'], ['probabilities'], { axis: attr.int(1) }),
      ],
    },
  });

  /** Conv -> Relu -> MaxPool -> GlobalAveragePool: one value per filter. */
  function convFeatures(input: Float32Array): number[] {
    // `!` in this function: input holds C * H * W values (checked by forward;
    // the grey image is built that size), act FILTERS * H * W, convB FILTERS,
    // convW FILTERS * C * KERNEL * KERNEL, and every index is within the loop
    // bounds (at() checks y and x itself; 2 * py + 1 < H, 2 * px + 1 < W).
    const at = (c: number, y: number, x: number) => (y < 0 || y >= H || x < 0 || x >= W ? 0 : input[(c * H + y) * W + x]!);

    // Conv + Relu -> [F, H, W]
    const act = new Float64Array(FILTERS * H * W);
    for (let f = 0; f < FILTERS; f++) {
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          let s = convB[f]!;
          for (let c = 0; c < C; c++) {
            for (let ky = 0; ky < KERNEL; ky++) {
              for (let kx = 0; kx < KERNEL; kx++) {
                s += convW[((f * C + c) * KERNEL + ky) * KERNEL + kx]! * at(c, y + ky - 1, x + kx - 1);
              }
            }
          }
          act[(f * H + y) * W + x] = Math.max(0, s);
        }
      }
    }

    // MaxPool 2x2 stride 2 (floor mode: an odd last row/column is dropped, as in ONNX),
    // then global average over the pooled map.
    const PH = Math.floor(H / 2);
    const PW = Math.floor(W / 2);
    const features = new Array<number>(FILTERS).fill(0);
    for (let f = 0; f < FILTERS; f++) {
      let sum = 0;
      for (let py = 0; py < PH; py++) {
        for (let px = 0; px < PW; px++) {
          const base = f * H * W;
          sum += Math.max(act[base + 2 * py * W + 2 * px]!, act[base + 2 * py * W + 2 * px + 1]!, act[base + (2 * py + 1) * W + 2 * px]!, act[base + (2 * py + 1) * W + 2 * px + 1]!);
        }
      }
      features[f] = sum / (PH * PW);
    }
    return features;
  }

  function forward(input: Float32Array): number[] {
    if (input.length !== C * H * W) {
      throw new Error(`expected ${C * H * W} values (1x${C}x${H}x${W}), got ${input.length}`);
    }
    const features = convFeatures(input);

    // Gemm + Softmax
    // `!`: gemmW is [FILTERS, K], f < FILTERS = features.length and k < K.
    const logits = gemmB.map((b, k) => features.reduce((s, v, f) => s + v * gemmW[f * K + k]!, b));
    const max = Math.max(...logits);
    const exps = logits.map((z) => Math.exp(z - max));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  }

  return { onnx, forward };
}
