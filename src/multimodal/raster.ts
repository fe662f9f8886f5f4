/**
 * PNG, JPEG and TIFF (every page of a multi-page TIFF) through sharp/libvips: size, pages, bit
 * depth and intensity statistics over all pages and colour channels (alpha excluded), with the
 * decoded size checked against the cap before libvips decodes anything.
 */
import sharp, { type ChannelStats, type Metadata } from 'sharp';
import { VitalsError } from '../errors.js';

export type RasterFormat = 'png' | 'jpeg' | 'tiff';

export interface RasterImage {
  format: RasterFormat;
  width: number;
  height: number;
  pages: number;
  channels: number;
  bitsPerSample: number;
  hasAlpha: boolean;
  stats: { count: number; mean: number; std: number; min: number; max: number };
}

export function detectRaster(bytes: Uint8Array): RasterFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 0x2a)))
    return 'tiff';
  return undefined;
}

export async function readRaster(bytes: Uint8Array, limits: { maxDecodedBytes: number }): Promise<RasterImage> {
  const format = detectRaster(bytes);
  if (!format) throw new VitalsError('INVALID_IMAGE', 'not a PNG, JPEG or TIFF file');
  const limitInputPixels = Math.max(1, Math.floor(limits.maxDecodedBytes / 4));
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error', pages: -1, limitInputPixels }).metadata();
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not read the ${format.toUpperCase()} header (${(err as Error).message})`);
  }
  const pages = meta.pages ?? 1;
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  const channels = meta.channels ?? 1;
  const bitsPerSample = meta.depth === 'ushort' || meta.depth === 'short' ? 16 : meta.depth === 'uint' || meta.depth === 'int' || meta.depth === 'float' ? 32 : 8;
  const decoded = width * height * pages * channels * (bitsPerSample / 8);
  if (decoded > limits.maxDecodedBytes) {
    throw new VitalsError(
      'PAYLOAD_TOO_LARGE',
      `the image declares ${width}×${height}×${pages} page(s) = ${(decoded / 1024 ** 2).toFixed(0)} MB decoded; the limit is ${(limits.maxDecodedBytes / 1024 ** 2).toFixed(0)} MB`,
    );
  }
  let channelStats: ChannelStats[];
  try {
    channelStats = (await sharp(bytes, { failOn: 'error', pages: -1, limitInputPixels }).stats()).channels;
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not decode the ${format.toUpperCase()} pixels (${(err as Error).message}); is the file truncated?`);
  }
  const colour = meta.hasAlpha ? channelStats.slice(0, -1) : channelStats;
  const perChannel = width * height * pages;
  let sum = 0,
    squares = 0,
    min = Number.POSITIVE_INFINITY,
    max = Number.NEGATIVE_INFINITY;
  for (const c of colour) {
    sum += c.sum;
    squares += c.squaresSum;
    min = Math.min(min, c.min);
    max = Math.max(max, c.max);
  }
  const count = perChannel * colour.length;
  const mean = sum / count;
  return {
    format,
    width,
    height,
    pages,
    channels,
    bitsPerSample,
    hasAlpha: !!meta.hasAlpha,
    stats: { count, mean, std: Math.sqrt(Math.max(0, squares / count - mean * mean)), min, max },
  };
}
