/**
 * Decodes PNG/JPEG/TIFF with sharp (libvips), resizes to the model's input size, converts
 * grayscale↔RGB per the spec, and normalises into the model's tensor layout. Also returns what the
 * prediction log may keep: a fingerprint and non-identifying statistics, never the pixels.
 */
import { createHash } from 'node:crypto';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { VitalsError } from '../errors.js';
import type { ImageInputSpec } from '../registry/index.js';

export interface ImageFacts {
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
}

const formatAliases: Record<string, string> = { jpeg: 'jpg', tif: 'tiff' };

export async function encodeImage(bytes: Uint8Array, spec: ImageInputSpec, supportedFormats: string[]): Promise<EncodedImage> {
  if (bytes.byteLength === 0) throw new VitalsError('INVALID_IMAGE', 'the image file is empty');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error' }).metadata();
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not decode the image (${(err as Error).message}); send a PNG, JPEG or TIFF file`);
  }
  const format = formatAliases[meta.format ?? ''] ?? meta.format ?? 'unknown';
  const supported = supportedFormats.map((f) => formatAliases[f] ?? f);
  if (!supported.includes(format)) {
    throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `${format} images are not accepted; supported formats: ${supportedFormats.join(', ')}`);
  }
  const { width, height, channels, mean, std, layout } = spec;
  let pipeline = sharp(bytes, { failOn: 'error' }).resize(width, height, { fit: 'fill' });
  pipeline = channels === 1 ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not read the image pixels (${(err as Error).message})`);
  }
  const pixels = raw.data;
  const got = raw.info.channels;
  const plane = width * height;
  const tensor = new Float32Array(plane * channels);
  let sum = 0;
  let sumSq = 0;
  for (let p = 0; p < plane; p++) {
    let intensity = 0;
    for (let c = 0; c < channels; c++) {
      const v = pixels[p * got + Math.min(c, got - 1)]! / 255;
      intensity += v;
      const norm = (v - (mean[c] ?? mean[0] ?? 0)) / (std[c] ?? std[0] ?? 1);
      tensor[layout === 'NCHW' ? c * plane + p : p * channels + c] = norm;
    }
    intensity /= channels;
    sum += intensity;
    sumSq += intensity * intensity;
  }
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
    },
  };
}

export function imageTensorDims(spec: ImageInputSpec, n: number): number[] {
  return spec.layout === 'NCHW' ? [n, spec.channels, spec.height, spec.width] : [n, spec.height, spec.width, spec.channels];
}
