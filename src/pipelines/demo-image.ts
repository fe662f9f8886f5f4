/**
 * The chest X-ray demo: a tiny image classifier with hand-set weights (src/onnx/tiny-cnn.ts) and the
 * synthetic radiograph-like pictures it is shown with (examples/, made by scripts/make-examples.mjs).
 *
 * It is a demo of the serving path, NOT a diagnostic model: it has never seen a radiograph. Its one
 * feature is how much of the picture is as dark as aerated lung (a 3x3 mean below 0.3 after scaling
 * pixels to [0, 1], but not as black as the air around the body); less of it than the synthetic
 * normal pictures have scores PNEUMONIA. So the
 * synthetic pictures with an opacity in a lung field come out PNEUMONIA and those without NORMAL; a
 * real image comes out whatever its dark area says.
 */
import { TINY_CNN_FILTERS, buildTinyCnn } from '../onnx/index.js';
import type { ImageInputSpec, OutputSpec } from '../registry/index.js';
import { mulberry32 } from '../stats/random.js';

export const DEMO_IMAGE_MODEL = 'chest-xray';
export const DEMO_IMAGE_LABELS = ['NORMAL', 'PNEUMONIA'];
export const DEMO_IMAGE_NOTICE =
  'DEMO ONLY, not a diagnostic model: hand-set weights that score the bright area of an image, never trained on radiographs or patient data. Replace it with your own model (docs/bring-your-own-model.md).';

const SIZE = 64;
/** brightness (in [0, 1]) below which a 3x3 neighbourhood counts as aerated lung… */
const THRESHOLD = 0.3;
/** …unless it is about as black as the air outside the body (AIR in syntheticRadiograph) */
const AIR_THRESHOLD = 0.1;
const AIR = 10;
/** filter 1 (dark below AIR_THRESHOLD) cancels filter 0 (dark below THRESHOLD) on air */
const AIR_RATIO = (THRESHOLD - AIR / 255) / (AIR_THRESHOLD - AIR / 255);
/** logit per unit of the aerated-lung feature, and the feature value scored 50/50 (between the examples) */
const GAIN = 700;
const MIDPOINT = 0.0237;

export const demoImageInputSpec: ImageInputSpec = { kind: 'image', width: SIZE, height: SIZE, channels: 1, mean: [0], std: [1], layout: 'NCHW' };
export const demoImageOutputSpec: OutputSpec = { labels: DEMO_IMAGE_LABELS, logits: false };

export function buildDemoImageModel() {
  const taps = 9; // one channel, 3x3
  const conv = new Array<number>(TINY_CNN_FILTERS * taps).fill(0);
  // filters 0 and 1: a threshold minus the 3x3 mean (ReLU keeps what is darker); filters 2 and 3 stay zero
  conv.fill(-1 / taps, 0, 2 * taps);
  const convBias = [THRESHOLD, AIR_THRESHOLD, 0, 0];
  const dense = new Array<number>(TINY_CNN_FILTERS * 2).fill(0); // [filter, label]
  dense[0] = GAIN; // aerated lung → NORMAL's logit; PNEUMONIA's logit is 0
  dense[2] = -GAIN * AIR_RATIO;
  return buildTinyCnn({
    width: SIZE,
    height: SIZE,
    channels: 1,
    labels: DEMO_IMAGE_LABELS,
    weights: { conv, convBias, dense, denseBias: [-GAIN * MIDPOINT, 0] },
    docString: DEMO_IMAGE_NOTICE,
  });
}

/** What the demo registers: the artifact and everything the registry shows about it. */
export function demoImageRegistration() {
  return {
    name: DEMO_IMAGE_MODEL,
    version: '1.0.0',
    artifact: buildDemoImageModel().onnx,
    task: 'classification' as const,
    modality: 'image' as const,
    description: `Chest X-ray classifier — ${DEMO_IMAGE_NOTICE}`,
    tags: ['demo'],
    input_spec: demoImageInputSpec,
    output_spec: demoImageOutputSpec,
    metadata: { demo: true, diagnostic: false, notice: DEMO_IMAGE_NOTICE, weights: 'hand-set (src/pipelines/demo-image.ts)', examples: 'examples/xray-*.png, examples/study.dcm' },
    params: { architecture: 'tiny CNN: Conv 3x3 → ReLU → MaxPool → GlobalAveragePool → Gemm → Softmax', threshold: THRESHOLD },
  };
}

export interface RadiographOptions {
  width: number;
  height: number;
  /** draw an opacity (consolidation-like) in the right lower lung field */
  opacity: boolean;
  seed: number;
}

/**
 * A synthetic frontal chest radiograph (8-bit grey, row-major): dark lung fields, mediastinum and
 * heart, spine, ribs, clavicles, diaphragm domes and soft tissue, with mild noise. No patient, no
 * scanner: it is drawn from the seed.
 */
export function syntheticRadiograph(o: RadiographOptions): Uint8Array {
  const { width: W, height: H } = o;
  const rng = mulberry32(o.seed);
  const px = new Uint8Array(W * H);
  // 1 inside, 0 outside, a linear ramp `soft` wide across the border (d: 0 at the centre, 1 on the border)
  const inside = (d: number, soft = 0.1) => Math.min(1, Math.max(0, (1 - d) / soft));
  const shift = (rng() - 0.5) * 0.03; // a little variety in where the patient stands (no change of size)
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const x = (i + 0.5) / W - 0.5 - shift; // [-0.5, 0.5]; the patient's right is the image's left
      const y = (j + 0.5) / H; // 0 at the top
      const ax = Math.abs(x);
      // soft tissue: neck, shoulders, thorax and abdomen
      const half = y < 0.1 ? 0.09 : y < 0.2 ? 0.09 + ((y - 0.1) / 0.1) * 0.33 : 0.42;
      let v = AIR + inside(ax / half, 0.06) * 112;
      // lungs: rounded rectangles either side of the mediastinum, from the apex to the diaphragm domes
      const u = (ax - 0.215) / 0.155;
      const w = (y - 0.45) / (0.29 - 0.05 * Math.max(0, u));
      const heart = inside(Math.hypot((x - 0.075) / 0.17, (y - 0.64) / 0.14), 0.6); // it hides the lung behind it
      const lung = inside(Math.abs(u) ** 2.5 + Math.abs(w) ** 2.5, 0.25) * (1 - heart);
      const hilum = Math.exp(-(ax - 0.07) / 0.07); // vessels brighten the lung towards its root
      v -= lung * (78 - 22 * hilum);
      v += heart * 16;
      // mediastinum and spine
      v += inside(ax / 0.07, 0.3) * inside(Math.abs(y - 0.44) / 0.32, 0.1) * 28;
      v += inside(ax / 0.028, 0.5) * 22;
      // ribs: thin arcs across the lung fields; clavicles near the top
      const rib = Math.abs(Math.sin((y - 0.12 + 0.9 * x * x) * Math.PI * 12));
      v += lung * Math.max(0, rib - 0.9) * 180;
      v += inside(Math.abs(y - 0.19 - ax * 0.12) / 0.014, 0.6) * inside(ax / 0.3, 0.15) * 40;
      // the opacity: a dense, soft-edged consolidation in the right lower lung field
      if (o.opacity) {
        const d2 = ((x + 0.21) / 0.13) ** 2 + ((y - 0.57) / 0.12) ** 2;
        const patches = 0.75 + 0.25 * Math.sin(x * 37 + Math.sin(y * 23)) * Math.sin(y * 29 + 1.3);
        v += lung * Math.exp(-1.5 * d2) * 120 * patches;
      }
      v += (rng() - 0.5) * 6; // mottle
      px[j * W + i] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return px;
}
