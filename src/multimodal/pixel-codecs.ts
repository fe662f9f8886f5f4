/**
 * Decoders for compressed transfer syntaxes, each behind one function that returns the frame in
 * the native layout (interleaved samples, little-endian words). The wasm codecs are the
 * Cornerstone builds of libjpeg-turbo, CharLS, OpenJPEG and OpenJPH (HTJ2K); JPEG Lossless (process 14) is
 * our own (jpeg-lossless.ts; jpeg-lossless-decoder-js for the layouts it leaves), RLE too (rle-decoder.ts).
 * Codecs load on first use.
 */
import { createRequire } from 'node:module';
import { Decoder as LosslessJpegDecoder } from 'jpeg-lossless-decoder-js';
import { VitalsError } from '../errors.js';
import { type CodestreamSize, j2kCodestreamOffset, j2kSize, jpegFrameSize, markJpegAsRgb } from './codestream-headers.js';
import { decodeJpegSequential } from './jpeg-extended.js';
import { decodeJpegLossless } from './jpeg-lossless.js';
import { decodeRleFrame } from './rle-decoder.js';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getInterleaveMode?(): number;
  getLastErrorMessage?(): string;
  delete(): void;
}
type CodecModule = Record<string, new () => WasmDecoder>;

const require = createRequire(import.meta.url);
const codecs = new Map<string, Promise<CodecModule>>();

/** The wasm decoder builds, each at its package's export for the Node (wasm + JS glue) build. */
const CODEC_ENTRY: Record<string, string> = {
  '@cornerstonejs/codec-libjpeg-turbo-8bit': '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
  '@cornerstonejs/codec-charls': '@cornerstonejs/codec-charls/decodewasmjs',
  '@cornerstonejs/codec-openjpeg': '@cornerstonejs/codec-openjpeg/decodewasmjs',
  '@cornerstonejs/codec-openjph': '@cornerstonejs/codec-openjph/wasmjs',
};

function loadCodec(pkg: string): Promise<CodecModule> {
  let m = codecs.get(pkg);
  if (!m) {
    const factory = require(CODEC_ENTRY[pkg] ?? `${pkg}/decodewasmjs`) as (opts: object) => Promise<CodecModule>;
    // The codecs print progress (OpenJPEG's [INFO] lines) to stdout; keep our output ours.
    m = factory({ print: () => undefined, printErr: () => undefined });
    codecs.set(pkg, m);
  }
  return m;
}

export type CodecName = 'jpeg-baseline' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg-2000' | 'htj2k' | 'rle';

/** Compressed transfer syntaxes and the decoder for each. */
export const COMPRESSED_SYNTAXES: Record<string, CodecName> = {
  '1.2.840.10008.1.2.4.50': 'jpeg-baseline',
  '1.2.840.10008.1.2.4.51': 'jpeg-baseline',
  '1.2.840.10008.1.2.4.57': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.70': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.80': 'jpeg-ls',
  '1.2.840.10008.1.2.4.81': 'jpeg-ls',
  '1.2.840.10008.1.2.4.90': 'jpeg-2000',
  '1.2.840.10008.1.2.4.91': 'jpeg-2000',
  // High-Throughput JPEG 2000 (Part 15): OpenJPH, the reference implementation of the HT block coder
  '1.2.840.10008.1.2.4.201': 'htj2k',
  '1.2.840.10008.1.2.4.202': 'htj2k',
  '1.2.840.10008.1.2.4.203': 'htj2k',
  '1.2.840.10008.1.2.5': 'rle',
};

/** Encapsulated transfer syntaxes Vitals does not decode, and what decoding them would need (for the 415). */
const UNSUPPORTED_SYNTAX_NEEDS: Record<string, string> = {
  '1.2.840.10008.1.2.4.52': 'a JPEG Extended (process 3 & 5) decoder',
  '1.2.840.10008.1.2.4.53': 'a JPEG spectral selection (process 6 & 8) decoder',
  '1.2.840.10008.1.2.4.55': 'a JPEG full progression (process 10 & 12) decoder',
  '1.2.840.10008.1.2.4.58': 'a JPEG Lossless (process 15) decoder',
  '1.2.840.10008.1.2.4.92': 'a JPEG 2000 Part 2 multi-component decoder',
  '1.2.840.10008.1.2.4.93': 'a JPEG 2000 Part 2 multi-component decoder',
  '1.2.840.10008.1.2.4.94': 'a JPIP client (the pixel data is referenced, not included)',
  '1.2.840.10008.1.2.4.95': 'a JPIP client (the pixel data is referenced, not included)',
  '1.2.840.10008.1.2.4.100': 'an MPEG-2 video decoder',
  '1.2.840.10008.1.2.4.101': 'an MPEG-2 video decoder',
  '1.2.840.10008.1.2.4.102': 'an MPEG-4 AVC/H.264 video decoder',
  '1.2.840.10008.1.2.4.103': 'an MPEG-4 AVC/H.264 video decoder',
  '1.2.840.10008.1.2.4.104': 'an MPEG-4 AVC/H.264 video decoder',
  '1.2.840.10008.1.2.4.105': 'an MPEG-4 AVC/H.264 video decoder',
  '1.2.840.10008.1.2.4.106': 'an MPEG-4 AVC/H.264 video decoder',
  '1.2.840.10008.1.2.4.107': 'an HEVC/H.265 video decoder',
  '1.2.840.10008.1.2.4.108': 'an HEVC/H.265 video decoder',
  '1.2.840.10008.1.2.4.110': 'a JPEG XL decoder',
  '1.2.840.10008.1.2.4.111': 'a JPEG XL decoder',
  '1.2.840.10008.1.2.4.112': 'a JPEG XL decoder',
};

/** The 415 for encapsulated pixel data in a transfer syntax without a decoder here. */
export function unsupportedSyntax(uid: string, name: string): VitalsError {
  const needs = UNSUPPORTED_SYNTAX_NEEDS[uid] ?? (name === 'unknown' ? 'a decoder for this (unlisted) transfer syntax' : `a ${name} decoder`);
  return new VitalsError(
    'UNSUPPORTED_MEDIA_TYPE',
    `transfer syntax ${uid} (${name}) is not supported: decoding it needs ${needs}; ask the sender for JPEG Lossless, JPEG-LS, JPEG 2000, RLE or uncompressed`,
  );
}

export interface FrameGeometry {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  /** the DICOM Photometric Interpretation (RGB tells a JPEG decoder that no colour transform was applied) */
  photometric?: string;
}

function checkDeclared(size: CodestreamSize | undefined, g: FrameGeometry, codec: CodecName): CodestreamSize {
  if (!size) throw new VitalsError('INVALID_IMAGE', `the ${codec} frame has no readable header; the pixel data is corrupted`);
  if (size.width !== g.columns || size.height !== g.rows || size.components !== g.samplesPerPixel) {
    throw new VitalsError('UNPROCESSABLE_IMAGE', `the ${codec} frame declares ${size.width}×${size.height}×${size.components} but the DICOM header says ${g.columns}×${g.rows}×${g.samplesPerPixel}`);
  }
  return size;
}

async function runWasm(pkg: string, className: string, encoded: Uint8Array, g: FrameGeometry): Promise<{ data: Uint8Array; info: FrameInfo; interleave?: number }> {
  const mod = await loadCodec(pkg);
  let decoder: WasmDecoder | undefined;
  try {
    decoder = new mod[className]!();
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
  } catch (err) {
    // An aborted wasm instance stays broken: drop it so the next frame gets a fresh one.
    if (err instanceof WebAssembly.RuntimeError || /abort/i.test(String((err as Error)?.message ?? err))) codecs.delete(pkg);
    else
      try {
        decoder?.delete();
      } catch {
        codecs.delete(pkg);
      }
    throw new VitalsError('INVALID_IMAGE', `could not decode the compressed frame (${className}: ${describe(err)})`);
  }
  try {
    const info = decoder.getFrameInfo();
    // OpenJPH reports a broken codestream as an empty frame (and a message), not as an exception
    if (info.width === 0 || info.height === 0) {
      throw new VitalsError('INVALID_IMAGE', `could not decode the compressed frame (${className}: ${decoder.getLastErrorMessage?.() || 'the codestream holds no image'})`);
    }
    if (info.width !== g.columns || info.height !== g.rows) {
      throw new VitalsError('UNPROCESSABLE_IMAGE', `the decoded frame is ${info.width}×${info.height}, the DICOM header says ${g.columns}×${g.rows}`);
    }
    const interleave = decoder.getInterleaveMode?.();
    return { data: decoder.getDecodedBuffer().slice(), info, interleave }; // copy out of wasm memory
  } finally {
    try {
      decoder.delete();
    } catch {
      codecs.delete(pkg);
    }
  }
}

function describe(err: unknown): string {
  if (typeof err === 'number') return 'the codestream is corrupted'; // a C++ exception pointer from the wasm codec
  return err instanceof Error ? err.message : String(err);
}

/** Planar (RRR…GGG…BBB…) to interleaved (RGBRGB…), for 8-bit samples. */
export function planarToInterleaved(data: Uint8Array, pixels: number, samples: number, bytesPerSample = 1): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let s = 0; s < samples; s++)
    for (let p = 0; p < pixels; p++) for (let b = 0; b < bytesPerSample; b++) out[(p * samples + s) * bytesPerSample + b] = data[(s * pixels + p) * bytesPerSample + b]!;
  return out;
}

/** JPEG Extended (process 4) at 12 bits, with our own sequential DCT decoder (jpeg-extended.ts says why). */
function decodeJpeg12(encoded: Uint8Array, g: FrameGeometry, precision: number): Uint8Array {
  if (precision !== 12) throw new VitalsError('INVALID_IMAGE', `a DCT JPEG frame of ${precision}-bit samples is not valid (8 or 12)`);
  if (g.samplesPerPixel === 3 && g.photometric !== 'RGB') {
    throw new VitalsError(
      'UNSUPPORTED_MEDIA_TYPE',
      `12-bit JPEG Extended with Photometric Interpretation ${g.photometric} is not supported: it needs a 12-bit ${g.photometric} to RGB conversion; send MONOCHROME or RGB`,
    );
  }
  const image = decodeJpegSequential(encoded);
  if (g.bitsAllocated !== 16) throw new VitalsError('UNPROCESSABLE_IMAGE', `12-bit JPEG samples need Bits Allocated 16 (the header says ${g.bitsAllocated})`);
  return new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
}

/** Decodes one compressed frame to native layout bytes. */
export async function decodeCompressedFrame(codec: CodecName, encoded: Uint8Array, g: FrameGeometry): Promise<Uint8Array> {
  const pixels = g.rows * g.columns;
  switch (codec) {
    case 'rle':
      return decodeRleFrame(encoded, g.rows, g.columns, g.samplesPerPixel, g.bitsAllocated);
    case 'jpeg-baseline': {
      const size = checkDeclared(jpegFrameSize(encoded), g, codec);
      if (size.precision > 8) return decodeJpeg12(encoded, g, size.precision);
      const input = g.samplesPerPixel === 3 && g.photometric === 'RGB' ? markJpegAsRgb(encoded) : encoded;
      return (await runWasm('@cornerstonejs/codec-libjpeg-turbo-8bit', 'JPEGDecoder', input, g)).data;
    }
    case 'jpeg-ls': {
      checkDeclared(jpegFrameSize(encoded), g, codec);
      const { data, info, interleave } = await runWasm('@cornerstonejs/codec-charls', 'JpegLSDecoder', encoded, g);
      const bytes = info.bitsPerSample > 8 ? 2 : 1;
      return g.samplesPerPixel > 1 && interleave === 0 ? planarToInterleaved(data, pixels, g.samplesPerPixel, bytes) : data;
    }
    case 'jpeg-2000': {
      checkDeclared(j2kSize(encoded), g, codec);
      const offset = j2kCodestreamOffset(encoded) ?? 0;
      const { data } = await runWasm('@cornerstonejs/codec-openjpeg', 'J2KDecoder', encoded.subarray(offset), g);
      return data;
    }
    case 'htj2k': {
      checkDeclared(j2kSize(encoded), g, codec);
      const offset = j2kCodestreamOffset(encoded) ?? 0;
      const { data } = await runWasm('@cornerstonejs/codec-openjph', 'HTJ2KDecoder', encoded.subarray(offset), g);
      return data;
    }
    case 'jpeg-lossless': {
      const size = checkDeclared(jpegFrameSize(encoded), g, codec);
      const numBytes = g.bitsAllocated <= 8 ? 1 : 2;
      const expected = pixels * size.components * numBytes;
      const own = decodeJpegLossless(encoded);
      if (own) {
        if (numBytes === 2) return new Uint8Array(own.data.buffer, own.data.byteOffset, expected);
        return Uint8Array.from(own.data); // 8-bit samples: each value fits a byte
      }
      // what ours leaves (subsampled components, restarts mid-row): the npm decoder
      let out: ArrayBufferView;
      try {
        const copy = new Uint8Array(encoded); // a copy (Buffer.slice would be a view): the decoder takes an ArrayBuffer
        out = new LosslessJpegDecoder().decode(copy.buffer, 0, copy.length, numBytes) as ArrayBufferView;
      } catch (err) {
        throw new VitalsError('INVALID_IMAGE', `could not decode the JPEG Lossless frame (${describe(err)})`);
      }
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      if (bytes.length < expected) throw new VitalsError('INVALID_IMAGE', 'the JPEG Lossless frame decoded to fewer pixels than its header declares');
      return bytes.subarray(0, expected);
    }
  }
}
