/**
 * A MobileNetV2-shaped image classifier (Sandler et al. 2018, width 1.0) for benchmarks of image
 * serving: a realistic amount of compute (≈ 300 M multiply-adds and 2.2 M parameters at 224×224×3
 * with a 2-class head) in the layers CNNs exported from PyTorch really use:
 *
 *   input [N, 3, H, W] -> Conv 3x3/2 (32) -> Clip(0, 6)
 *   -> 17 inverted residual blocks (1x1 expand -> Clip -> depthwise 3x3 -> Clip -> 1x1 project [+ input])
 *   -> Conv 1x1 (1280) -> Clip -> GlobalAveragePool -> Flatten -> Gemm -> Softmax -> probabilities [N, K]
 *
 * Batch norms are taken as folded into the convolutions (what an exported, optimised graph holds).
 * Weights are fixed pseudo-random numbers from a seeded generator, scaled by fan-in so activations
 * stay O(1) through the depth: the model is meaningless but reproducible, and its two-class output
 * moves with the input without saturating. Nothing is downloaded; the bytes are built on demand
 * (about 9 MB: never committed).
 */
import { mulberry32 } from '../stats/random.js';
import { type NodeSpec, type TensorSpec, attr, encodeModel, node, tensor, valueInfo } from './model.js';

export interface MobileNetOptions {
  labels: string[];
  /** input height and width (default 224) */
  size?: number;
  /** channel multiplier (default 1.0, as in MobileNetV2-1.0) */
  width?: number;
  seed?: number;
  docString?: string;
}

export interface MobileNet {
  onnx: Uint8Array;
  /** parameters (weights and biases) */
  parameters: number;
  /** multiply-adds of one image, convolutions and the dense head */
  multiplyAdds: number;
}

/** MobileNetV2's inverted residual settings: expansion t, output channels c, repeats n, first stride s. */
const BLOCKS: [t: number, c: number, n: number, s: number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Channels rounded to a multiple of 8, as MobileNetV2's reference code does. */
function divisible(v: number, by = 8): number {
  const r = Math.max(by, Math.floor((v + by / 2) / by) * by);
  return r < 0.9 * v ? r + by : r;
}

export function buildMobileNet(opts: MobileNetOptions): MobileNet {
  const K = opts.labels.length;
  if (K < 2) throw new Error('buildMobileNet needs at least 2 labels');
  const size = opts.size ?? 224;
  if (size < 32 || size % 32 !== 0) throw new Error('buildMobileNet needs a size that is a multiple of 32 (five stride-2 stages)');
  const mult = opts.width ?? 1;
  const rng = mulberry32(opts.seed ?? 7);

  const nodes: NodeSpec[] = [];
  const initializers: TensorSpec[] = [tensor.float('relu6_min', [], [0]), tensor.float('relu6_max', [], [6])];
  let parameters = 0;
  let multiplyAdds = 0;
  let counter = 0;
  /** Uniform in ±sqrt(3·gain/fanIn): variance gain/fanIn (gain 2 before a ReLU, as in He et al.). */
  const weights = (n: number, fanIn: number, gain: number) => {
    const range = Math.sqrt((3 * gain) / fanIn);
    const w = new Float32Array(n);
    for (let i = 0; i < n; i++) w[i] = (2 * rng() - 1) * range;
    return w;
  };

  /** Conv (+ its folded-BN bias) and optionally ReLU6; returns the output's name. */
  function conv(input: string, cin: number, cout: number, o: { k: number; stride: number; groups?: number; relu6: boolean; gain?: number; hw: number }): { name: string; hw: number } {
    const id = counter++;
    const groups = o.groups ?? 1;
    const fanIn = (cin / groups) * o.k * o.k;
    const w = weights(cout * fanIn, fanIn, o.gain ?? (o.relu6 ? 2 : 1));
    const b = Float32Array.from({ length: cout }, () => (2 * rng() - 1) * 0.05);
    initializers.push(tensor.float(`conv${id}_w`, [cout, cin / groups, o.k, o.k], w), tensor.float(`conv${id}_b`, [cout], b));
    parameters += w.length + b.length;
    const hw = o.hw / o.stride;
    multiplyAdds += hw * hw * cout * fanIn;
    const pad = (o.k - 1) / 2;
    nodes.push(
      node('Conv', [input, `conv${id}_w`, `conv${id}_b`], [`conv${id}`], {
        kernel_shape: attr.ints([o.k, o.k]),
        strides: attr.ints([o.stride, o.stride]),
        pads: attr.ints([pad, pad, pad, pad]),
        group: attr.int(groups),
      }),
    );
    if (!o.relu6) return { name: `conv${id}`, hw };
    nodes.push(node('Clip', [`conv${id}`, 'relu6_min', 'relu6_max'], [`relu${id}`]));
    return { name: `relu${id}`, hw };
  }

  let cin = divisible(32 * mult);
  let x = conv('input', 3, cin, { k: 3, stride: 2, relu6: true, hw: size });
  let blocks = 0;
  for (const [t, c, n, s] of BLOCKS) {
    const cout = divisible(c * mult);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = cin * t;
      let y = x;
      if (t !== 1) y = conv(y.name, cin, hidden, { k: 1, stride: 1, relu6: true, hw: y.hw });
      y = conv(y.name, hidden, hidden, { k: 3, stride, groups: hidden, relu6: true, hw: y.hw });
      // The residual sum grows in variance block after block: the projection adds a fraction of it.
      const residual = stride === 1 && cin === cout;
      y = conv(y.name, hidden, cout, { k: 1, stride: 1, relu6: false, gain: residual ? 0.25 : 1, hw: y.hw });
      if (residual) {
        const sum = `add${blocks}`;
        nodes.push(node('Add', [x.name, y.name], [sum]));
        y = { name: sum, hw: y.hw };
      }
      x = y;
      cin = cout;
      blocks++;
    }
  }
  const last = mult > 1 ? divisible(1280 * mult) : 1280;
  x = conv(x.name, cin, last, { k: 1, stride: 1, relu6: true, hw: x.hw });
  // The head: logits of a few units for features in [0, 6]; on the synthetic radiographs of
  // bench/image-serving.mjs the probabilities then differ by a few hundredths from image to image,
  // far from 0 and 1, so comparing servers' answers with a tolerance means something.
  const dense = weights(last * K, last, 16);
  // Each class's weights sum to zero: the features are all positive, so otherwise their common level,
  // not their pattern, would set the logits.
  for (let k = 0; k < K; k++) {
    let mean = 0;
    for (let f = 0; f < last; f++) mean += dense[f * K + k]! / last;
    for (let f = 0; f < last; f++) dense[f * K + k]! -= mean;
  }
  initializers.push(tensor.float('fc_w', [last, K], dense), tensor.float('fc_b', [K], new Float32Array(K)));
  parameters += dense.length + K;
  multiplyAdds += last * K;
  nodes.push(
    node('GlobalAveragePool', [x.name], ['gap']),
    node('Flatten', ['gap'], ['features'], { axis: attr.int(1) }),
    node('Gemm', ['features', 'fc_w', 'fc_b'], ['logits']),
    node('Softmax', ['logits'], ['probabilities'], { axis: attr.int(1) }),
  );

  const onnx = encodeModel({
    producerName: 'vitals',
    docString: opts.docString ?? `MobileNetV2-shaped CNN (width ${mult}, ${size}x${size}) with fixed pseudo-random weights, for benchmarks (not trained).`,
    opsetImports: [{ domain: '', version: 17 }],
    metadata: { labels: JSON.stringify(opts.labels) },
    graph: {
      name: 'mobilenet_v2',
      inputs: [valueInfo('input', 'float', ['N', 3, size, size])],
      outputs: [valueInfo('probabilities', 'float', ['N', K])],
      initializers,
      nodes,
    },
  });
  return { onnx, parameters, multiplyAdds };
}
