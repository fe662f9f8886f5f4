/**
 * The pixel module of a DICOM image and its frames as stored values: checked against the file
 * size and a hard cap before anything is allocated, decoded (native or compressed), masked to
 * Bits Stored at High Bit, sign-extended when Pixel Representation is 1, colour as interleaved RGB.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { VitalsError } from '../errors.js';
import type { DicomFile } from './dicom-file.js';
import { T } from './dicom-tags.js';
import { num, text, us } from './dicom-values.js';
import { applyPalette, readPalette } from './palette-color.js';
import { COMPRESSED_SYNTAXES, decodeCompressedFrame, unsupportedSyntax } from './pixel-codecs.js';

export interface PixelModule {
  rows: number;
  columns: number;
  frames: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
  photometric: string;
  planarConfiguration: 0 | 1;
  /** Float/Double Float Pixel Data (parametric maps) instead of integer Pixel Data */
  floatPixels?: 32 | 64;
}

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface PixelLimits {
  /** cap on decoded samples × bytes, all frames together */
  maxDecodedBytes: number;
}

const PHOTOMETRICS = new Set(['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT', 'YBR_PARTIAL_420', 'PALETTE COLOR']);

const unprocessable = (msg: string) => new VitalsError('UNPROCESSABLE_IMAGE', msg);

export function readPixelModule(ds: DataSet): PixelModule {
  const floatPixels = ds.elements[T.FloatPixelData] ? 32 : ds.elements[T.DoubleFloatPixelData] ? 64 : undefined;
  if (!ds.elements[T.PixelData] && !floatPixels) throw unprocessable('the DICOM object has no pixel data (is it a structured report or presentation state?)');
  const rows = us(ds, T.Rows) ?? 0;
  const columns = us(ds, T.Columns) ?? 0;
  const samplesPerPixel = us(ds, T.SamplesPerPixel) ?? 1;
  const bitsAllocated = floatPixels ?? us(ds, T.BitsAllocated) ?? 0;
  const bitsStored = floatPixels ?? us(ds, T.BitsStored) ?? bitsAllocated;
  const highBit = floatPixels ? floatPixels - 1 : (us(ds, T.HighBit) ?? bitsStored - 1);
  const frames = Math.trunc(num(ds, T.NumberOfFrames) ?? 1);
  const photometric = (text(ds, T.PhotometricInterpretation) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const pm: PixelModule = {
    rows,
    columns,
    frames,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation: us(ds, T.PixelRepresentation) === 1 ? 1 : 0,
    photometric,
    planarConfiguration: us(ds, T.PlanarConfiguration) === 1 ? 1 : 0,
    floatPixels,
  };
  if (rows < 1 || columns < 1) throw unprocessable(`Rows and Columns must be positive (got ${rows}×${columns})`);
  if (frames < 1 || frames > 100_000) throw unprocessable(`Number of Frames ${frames} is out of range (1..100000)`);
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw unprocessable(`Samples per Pixel must be 1 or 3 (got ${samplesPerPixel})`);
  if (![1, 8, 16, 32, 64].includes(bitsAllocated) || (bitsAllocated === 64 && !floatPixels)) throw unprocessable(`Bits Allocated ${bitsAllocated} is not supported (1, 8, 16 or 32)`);
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw unprocessable(`inconsistent bit depths: Bits Allocated ${bitsAllocated}, Bits Stored ${bitsStored}, High Bit ${highBit}`);
  }
  if (!PHOTOMETRICS.has(photometric)) {
    throw new VitalsError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Photometric Interpretation ${photometric} is not supported: it needs a ${photometric} to RGB conversion (supported: MONOCHROME1/2, PALETTE COLOR, RGB, YBR_FULL, YBR_FULL_422, YBR_ICT, YBR_RCT, YBR_PARTIAL_420); convert it to RGB or MONOCHROME2 first`,
    );
  }
  const oneSample = photometric.startsWith('MONOCHROME') || photometric === 'PALETTE COLOR';
  if ((samplesPerPixel === 3) === oneSample) throw unprocessable(`${photometric} does not go with ${samplesPerPixel} sample(s) per pixel`);
  return pm;
}

/** Bytes one frame takes when stored natively. */
export function nativeFrameBytes(pm: PixelModule): number {
  // native YBR_FULL_422 keeps one Cb and one Cr per two pixels (Y1 Y2 Cb Cr): 2 samples per pixel, not 3
  const perPixel = pm.samplesPerPixel === 3 && pm.photometric === 'YBR_FULL_422' ? 2 : pm.samplesPerPixel;
  const samples = pm.rows * pm.columns * perPixel;
  return pm.bitsAllocated === 1 ? Math.ceil(samples / 8) : samples * (pm.bitsAllocated / 8);
}

/** Refuses before allocating: the declared size against the hard cap (413) and, when native, the bytes present (422). */
export function checkPixelBudget(file: DicomFile, pm: PixelModule, limits: PixelLimits): void {
  // a palette turns each index into three 16-bit values at most
  const samples = pm.photometric === 'PALETTE COLOR' ? 3 * Math.max(2, pm.bitsAllocated / 8) : pm.samplesPerPixel * Math.max(1, pm.bitsAllocated / 8);
  const decodedBytes = pm.rows * pm.columns * pm.frames * samples;
  if (decodedBytes > limits.maxDecodedBytes) {
    throw new VitalsError(
      'PAYLOAD_TOO_LARGE',
      `the image declares ${pm.columns}×${pm.rows}×${pm.frames} frames × ${pm.samplesPerPixel} sample(s) of ${pm.bitsAllocated} bits = ${(decodedBytes / 1024 ** 2).toFixed(0)} MB decoded; the limit is ${(limits.maxDecodedBytes / 1024 ** 2).toFixed(0)} MB`,
    );
  }
  const el = pixelElement(file.dataSet);
  if (!el.encapsulatedPixelData) {
    const needed = nativeFrameBytes(pm) * pm.frames;
    const present = Math.min(el.length, file.dataSet.byteArray.length - el.dataOffset);
    if (present < needed) {
      throw unprocessable(`the pixel data holds ${present} bytes but ${pm.columns}×${pm.rows}×${pm.frames} frames of ${pm.bitsAllocated}-bit samples need ${needed}`);
    }
  }
}

function pixelElement(ds: DataSet): Element {
  return (ds.elements[T.PixelData] ?? ds.elements[T.FloatPixelData] ?? ds.elements[T.DoubleFloatPixelData])!;
}

/** The encoded bytes of frame i of encapsulated pixel data. */
function encapsulatedFrame(ds: DataSet, el: Element, i: number, frames: number, jpegFamily: boolean): Uint8Array {
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw new VitalsError('INVALID_IMAGE', 'the encapsulated pixel data has no fragments');
  try {
    if (el.basicOffsetTable && el.basicOffsetTable.length > 0) return dicomParser.readEncapsulatedImageFrame(ds, el, i);
    if (frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
    if (fragments.length === frames) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, i, 1);
    if (jpegFamily) return dicomParser.readEncapsulatedImageFrame(ds, el, i, dicomParser.createJPEGBasicOffsetTable(ds, el));
  } catch (err) {
    throw new VitalsError('INVALID_IMAGE', `could not read frame ${i + 1} of the encapsulated pixel data (${typeof err === 'string' ? err : (err as Error).message})`);
  }
  throw unprocessable(`${fragments.length} fragments for ${frames} frames and no offset table: cannot tell where frames start`);
}

/**
 * The native bytes of frame i, little endian: a view of the file's bytes when they already are
 * (unless `copy`: the caller converts in place), else a copy with words swapped.
 */
function nativeFrame(file: DicomFile, el: Element, pm: PixelModule, i: number, copy: boolean): Uint8Array {
  const n = nativeFrameBytes(pm);
  const start = el.dataOffset + i * n;
  const src = file.dataSet.byteArray.subarray(start, start + n);
  const word = pm.bitsAllocated >= 16 ? pm.bitsAllocated / 8 : 1;
  const swapPairs = !file.littleEndian && word === 1 && el.vr === 'OW';
  if (!copy && !swapPairs && (file.littleEndian || word === 1)) return src;
  const out = new Uint8Array(n);
  if (swapPairs) {
    // big endian OW holds 8-bit (and 1-bit) samples in 16-bit words, so every byte pair is swapped (PS3.5 8.1.1)
    const bytes = file.dataSet.byteArray;
    for (let j = 0; j < n; j++) out[j] = bytes[el.dataOffset + ((start - el.dataOffset + j) ^ 1)] ?? 0;
  } else if (file.littleEndian || word === 1) out.set(src);
  else for (let j = 0; j < n; j += word) for (let b = 0; b < word; b++) out[j + b] = src[j + word - 1 - b]!;
  return out;
}

/**
 * Raw little-endian sample bytes → typed stored values with Bits Stored/High Bit/sign applied.
 * `owned`: raw is a decoder's fresh output, so the values may be converted in place (no second frame-sized buffer).
 */
export function toStoredValues(raw: Uint8Array, pm: PixelModule, owned = false): StoredArray {
  const samples = pm.rows * pm.columns * pm.samplesPerPixel;
  if (pm.floatPixels === 32) return new Float32Array(raw.buffer, raw.byteOffset, samples);
  if (pm.floatPixels === 64) return new Float64Array(raw.buffer, raw.byteOffset, samples);
  if (pm.bitsAllocated === 1) {
    const out = new Uint8Array(samples);
    for (let p = 0; p < samples; p++) out[p] = (raw[p >> 3]! >> (p & 7)) & 1;
    return out;
  }
  const aligned = raw.byteOffset % (pm.bitsAllocated / 8) === 0 ? raw : new Uint8Array(raw); // a copy (Buffer.slice would not be)
  const signed = pm.pixelRepresentation === 1;
  const shift = pm.highBit + 1 - pm.bitsStored;
  const full = pm.bitsStored === pm.bitsAllocated && shift === 0;
  const Ctor = pm.bitsAllocated === 8 ? (signed ? Int8Array : Uint8Array) : pm.bitsAllocated === 16 ? (signed ? Int16Array : Uint16Array) : signed ? Int32Array : Uint32Array;
  const buffer = aligned.buffer as ArrayBuffer;
  const source = new (pm.bitsAllocated === 8 ? Uint8Array : pm.bitsAllocated === 16 ? Uint16Array : Uint32Array)(buffer, aligned.byteOffset, samples);
  if (full) return new Ctor(buffer, aligned.byteOffset, samples);
  const out = owned && aligned === raw && pm.bitsAllocated <= 16 ? new Ctor(buffer, aligned.byteOffset, samples) : new Ctor(samples);
  if (pm.bitsAllocated <= 16) {
    // 8/16-bit words fit JavaScript's 32-bit bit operators: mask, then sign-extend by shifting up and back.
    const mask = (1 << pm.bitsStored) - 1;
    const up = 32 - pm.bitsStored;
    if (signed) for (let p = 0; p < samples; p++) out[p] = (((source[p]! >>> shift) & mask) << up) >> up;
    else for (let p = 0; p < samples; p++) out[p] = (source[p]! >>> shift) & mask;
    return out;
  }
  // 32-bit words: arithmetic, since JavaScript's bit operators are 32-bit signed.
  const range = 2 ** pm.bitsStored;
  const divisor = 2 ** shift;
  const half = range / 2;
  for (let p = 0; p < samples; p++) {
    let v = Math.floor(source[p]! / divisor) % range;
    if (signed && v >= half) v -= range;
    out[p] = v;
  }
  return out;
}

/** YBR_FULL (and 4:2:2 native) to RGB, per PS3.3 C.7.6.3.1.2; in place on interleaved 8-bit samples. */
function ybrToRgb(data: Uint8Array): void {
  for (let p = 0; p < data.length; p += 3) {
    const y = data[p]!;
    const cb = data[p + 1]! - 128;
    const cr = data[p + 2]! - 128;
    data[p] = clamp8(y + 1.402 * cr);
    data[p + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    data[p + 2] = clamp8(y + 1.772 * cb);
  }
}
const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

function upsample422(raw: Uint8Array, pm: PixelModule): Uint8Array {
  const out = new Uint8Array(pm.rows * pm.columns * 3);
  for (let p = 0, o = 0; p + 3 < raw.length && o < out.length; p += 4) {
    const [y1, y2, cb, cr] = [raw[p]!, raw[p + 1]!, raw[p + 2]!, raw[p + 3]!];
    out.set([y1, cb, cr], o);
    o += 3;
    if (o < out.length) out.set([y2, cb, cr], o);
    o += 3;
  }
  return out;
}

export interface DecodedFrames {
  pixelModule: PixelModule;
  /** stored values per frame; colour frames are interleaved RGB */
  frames: StoredArray[];
  /** photometric interpretation of the decoded values (YBR and PALETTE COLOR become RGB) */
  photometric: string;
  /** samples per pixel of the decoded frames (3 for a palette image, whose stored values are indices) */
  channels: 1 | 3;
  /** numpy-style type of the decoded values, e.g. uint16, int16, uint8 for an 8-bit palette */
  dtype: string;
  compressed: boolean;
}

/** Decodes the frames (all, or those listed), with every check made before the first allocation. */
export async function decodeFrames(file: DicomFile, limits: PixelLimits, which?: number[]): Promise<DecodedFrames> {
  const pm = readPixelModule(file.dataSet);
  checkPixelBudget(file, pm, limits);
  const el = pixelElement(file.dataSet);
  const codec = COMPRESSED_SYNTAXES[file.transferSyntaxUid];
  if (el.encapsulatedPixelData && !codec) {
    throw unsupportedSyntax(file.transferSyntaxUid, file.transferSyntaxName);
  }
  const indices = which ?? Array.from({ length: pm.frames }, (_, i) => i);
  const frames: StoredArray[] = [];
  let photometric = pm.photometric;
  const palette = pm.photometric === 'PALETTE COLOR' ? readPalette(file.dataSet, pm.pixelRepresentation === 1) : undefined;
  for (const i of indices) {
    if (i < 0 || i >= pm.frames) throw new VitalsError('BAD_REQUEST', `frame ${i + 1} does not exist (the image has ${pm.frames})`);
    let raw: Uint8Array;
    let owned = false;
    if (el.encapsulatedPixelData) {
      const encoded = encapsulatedFrame(file.dataSet, el, i, pm.frames, codec!.startsWith('jpeg'));
      raw = await decodeCompressedFrame(codec!, encoded, pm);
      owned = true; // every decoder returns a buffer of its own (wasm output is copied out)
      // Lossy JPEG and JPEG 2000 decoders apply the colour transform themselves.
      if (pm.samplesPerPixel === 3 && (codec === 'jpeg-baseline' || codec === 'jpeg-2000' || codec === 'htj2k')) photometric = 'RGB';
    } else {
      raw = nativeFrame(file, el, pm, i, pm.photometric === 'YBR_FULL'); // YBR_FULL is converted in place below
      if (pm.photometric === 'YBR_FULL_422') raw = upsample422(raw, pm);
      if (pm.samplesPerPixel === 3 && pm.planarConfiguration === 1) raw = planarToInterleavedBytes(raw, pm);
    }
    const expected = pm.rows * pm.columns * pm.samplesPerPixel * Math.max(1, pm.bitsAllocated / 8);
    if (pm.bitsAllocated !== 1 && raw.length < expected) throw new VitalsError('INVALID_IMAGE', `frame ${i + 1} decoded to ${raw.length} bytes, expected ${expected}`);
    if (pm.samplesPerPixel === 3 && pm.bitsAllocated === 8 && (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422')) {
      ybrToRgb(raw);
    }
    const stored = toStoredValues(raw, pm, owned);
    frames.push(palette ? applyPalette(stored, palette) : stored);
  }
  if ((pm.samplesPerPixel === 3 && photometric.startsWith('YBR')) || palette) photometric = 'RGB';
  const dtype = palette ? `uint${palette.bits}` : pm.floatPixels ? `float${pm.floatPixels}` : `${pm.pixelRepresentation ? 'int' : 'uint'}${pm.bitsAllocated}`;
  return { pixelModule: pm, frames, photometric, channels: palette || pm.samplesPerPixel === 3 ? 3 : 1, dtype, compressed: !!el.encapsulatedPixelData };
}

function planarToInterleavedBytes(raw: Uint8Array, pm: PixelModule): Uint8Array {
  const pixels = pm.rows * pm.columns;
  const bytes = pm.bitsAllocated / 8;
  const out = new Uint8Array(raw.length);
  for (let s = 0; s < 3; s++) for (let p = 0; p < pixels; p++) for (let b = 0; b < bytes; b++) out[(p * 3 + s) * bytes + b] = raw[(s * pixels + p) * bytes + b]!;
  return out;
}
