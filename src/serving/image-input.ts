/**
 * Decodes PNG/JPEG/TIFF with sharp (libvips), resizes to the model's input size, converts
 * grayscale↔RGB per the spec, and normalises into the model's tensor layout. Also returns what the
 * prediction log may keep: a fingerprint and non-identifying statistics, never the pixels.
 */
import { createHash } from 'node:crypto';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { VitalsError } from '../errors.js';
import type { ImageInputSpec } from '../registry/index.js';
import {
  type AcquisitionFacts,
  DEFAULT_IMAGE_LIMITS,
  type ModelReadyImage,
  type StudyIdentifiers,
  detectDicom,
  detectImageFormat,
  isGzip,
  looksLikeNifti,
  readStudyIdentifiers,
  renderDicomForModel,
} from '../multimodal/index.js';

/** DICOM adds non-identifying acquisition facts (modality, manufacturer, device model, view, kVp, age band, sex) for monitoring. */
export interface ImageFacts extends Partial<AcquisitionFacts> {
  sha256: string;
  format: string;
  width: number;
  height: number;
  channels: number;
  bytes: number;
  /** mean and standard deviation of pixel intensity in [0,1] after resizing (drift baseline) */
  intensity_mean: number;
  intensity_std: number;
}

export interface EncodedImage {
  tensor: Float32Array;
  facts: ImageFacts;
  /** a DICOM's study (kept apart from the facts: it links a report to the prediction, and is never a drift feature) */
  study?: StudyIdentifiers;
}

const formatAliases: Record<string, string> = { jpeg: 'jpg', tif: 'tiff', dicom: 'dcm' };

export async function encodeImage(bytes: Uint8Array, spec: ImageInputSpec, supportedFormats: string[]): Promise<EncodedImage> {
  if (bytes.byteLength === 0) throw new VitalsError('INVALID_IMAGE', 'the image file is empty');
  // DICOM: decoded, rescaled and windowed to 8-bit display levels, then the same resize/normalise path as PNG.
  const encoding = detectDicom(bytes);
  // a bare data set (no file meta) counts when its bytes are not also a PNG/JPEG/TIFF/NIfTI
  const isDicom = encoding === 'part10' || encoding === 'part10-without-preamble' || (encoding === 'dataset-only' && detectImageFormat(bytes).format === 'dicom');
  const dicom: ModelReadyImage | undefined = isDicom ? await renderDicomForModel(bytes) : undefined;
  if (!dicom && (isGzip(bytes) || looksLikeNifti(bytes))) {
    throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', 'NIfTI volumes are not accepted by /predict; describe them with POST /api/v1/multi-modality/process-image');
  }
  const input = dicom
    ? sharp(Buffer.from(dicom.pixels.buffer, dicom.pixels.byteOffset, dicom.pixels.byteLength), { raw: { width: dicom.width, height: dicom.height, channels: dicom.channels } })
    : undefined;
  let meta: Metadata;
  try {
    meta = dicom ? ({ format: 'dicom', width: dicom.width, height: dicom.height, channels: dicom.channels } as unknown as Metadata) : await sharp(bytes, { failOn: 'error' }).metadata();
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not decode the image (${(err as Error).message}); send a PNG, JPEG or TIFF file`);
  }
  const format = formatAliases[meta.format ?? ''] ?? meta.format ?? 'unknown';
  const supported = supportedFormats.map((f) => formatAliases[f] ?? f);
  if (!supported.includes(format)) {
    throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `${format} images are not accepted; supported formats: ${supportedFormats.join(', ')}`);
  }
  const { width, height, channels } = spec;
  let pipeline = (input ?? sharp(bytes, { failOn: 'error' })).resize(width, height, { fit: 'fill' });
  pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not read the image pixels (${(err as Error).message})`);
  }
  const { tensor, sum, sumSq } = normalise(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), raw.info.channels, spec);
  const plane = width * height;
  const m = sum / plane;
  return {
    tensor,
    facts: {
      sha256: createHash('sha256').update(bytes).digest('hex'),
      format,
      width: meta.width ?? 0,
      height: meta.height ?? 0,
      channels: meta.channels ?? 0,
      bytes: bytes.byteLength,
      intensity_mean: m,
      intensity_std: Math.sqrt(Math.max(0, sumSq / plane - m * m)),
      ...(dicom ? Object.fromEntries(Object.entries(dicom.facts).filter(([, v]) => v !== null)) : {}),
    },
    ...(dicom ? { study: readStudyIdentifiers(bytes, DEFAULT_IMAGE_LIMITS.maxDecodedBytes) } : {}),
  };
}

export function imageTensorDims(spec: ImageInputSpec, n: number): number[] {
  return spec.layout === 'NCHW' ? [n, spec.channels, spec.height, spec.width] : [n, spec.height, spec.width, spec.channels];
}

/**
 * 8-bit pixels (`got` bands, interleaved) → the model's tensor, plus the sums of intensity in [0, 1]
 * for the drift statistics. A function of its own, on a plain Uint8Array, so V8 optimises the loops
 * (inside encodeImage they ran several times slower). One table per channel holds the normalised
 * value of each level: the same float arithmetic as per pixel, done 256 times instead of once a pixel.
 */
function normalise(pixels: Uint8Array, got: number, spec: ImageInputSpec): { tensor: Float32Array; sum: number; sumSq: number } {
  const { width, height, channels, mean, std, layout } = spec;
  const plane = width * height;
  const tensor = new Float32Array(plane * channels);
  const level = Float64Array.from({ length: 256 }, (_, v) => v / 255);
  const nchw = layout === 'NCHW';
  for (let c = 0; c < channels; c++) {
    const mu = mean[c] ?? mean[0] ?? 0;
    const sigma = std[c] ?? std[0] ?? 1;
    const table = Float32Array.from(level, (v) => (v - mu) / sigma);
    const src = Math.min(c, got - 1); // a grey picture feeds every channel of an RGB model
    // `!`: p * got + src < pixels.length, and a level indexes the 256-entry table.
    if (nchw) for (let p = 0, o = c * plane; p < plane; p++) tensor[o + p] = table[pixels[p * got + src]!]!;
    else for (let p = 0; p < plane; p++) tensor[p * channels + c] = table[pixels[p * got + src]!]!;
  }
  let sum = 0;
  let sumSq = 0;
  for (let p = 0; p < plane; p++) {
    let intensity = 0;
    for (let c = 0; c < channels; c++) intensity += level[pixels[p * got + Math.min(c, got - 1)]!]!;
    intensity /= channels;
    sum += intensity;
    sumSq += intensity * intensity;
  }
  return { tensor, sum, sumSq };
}
