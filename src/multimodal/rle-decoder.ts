/**
 * DICOM RLE Lossless (PS3.5 Annex G) decoder. Written here because no maintained npm package decodes
 * DICOM RLE on its own (the Cornerstone loaders embed one inside a browser image loader), and the
 * format is small: a 64-byte header of segment offsets, then one PackBits stream per byte plane.
 *
 * Speed: each segment is unpacked into a contiguous byte plane (runs by `fill`, long literals by
 * `set`), then the planes are interleaved in one pass; a one-segment frame decodes straight into the
 * output. The planes are scratch buffers kept between calls, so a multi-frame file allocates only
 * its outputs.
 */
import { VitalsError } from '../errors.js';

/** literal and replicate runs shorter than this are copied byte by byte (a subarray costs more) */
const SHORT = 16;

let scratch = new Uint8Array(0);

/** PackBits-decodes frame[start, end) into plane[0, pixels); returns how many bytes it produced. */
function unpackSegment(frame: Uint8Array, start: number, end: number, plane: Uint8Array, at: number, pixels: number): number {
  let w = at;
  const stop = at + pixels;
  let i = start;
  while (w < stop && i < end) {
    const n = frame[i++]!;
    if (n < 128) {
      // n + 1 literal bytes (clipped to the plane and to the segment: a short segment is an error below)
      let count = n + 1;
      if (count > stop - w) count = stop - w;
      if (count > end - i) count = end - i;
      if (count < SHORT) for (let k = 0; k < count; k++) plane[w + k] = frame[i + k]!;
      else plane.set(frame.subarray(i, i + count), w);
      w += count;
      i += n + 1;
    } else if (n > 128) {
      if (i >= end) break;
      const value = frame[i++]!;
      let count = 257 - n;
      if (count > stop - w) count = stop - w;
      if (count < SHORT) for (let k = 0; k < count; k++) plane[w + k] = value;
      else plane.fill(value, w, w + count);
      w += count;
    }
    // n === 128: no-op
  }
  return w - at;
}

/**
 * Decodes one frame into interleaved samples (little-endian bytes for 16/32-bit), the layout of
 * native pixel data with Planar Configuration 0.
 */
export function decodeRleFrame(encoded: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
  // a plain Uint8Array view: subarray of a Buffer goes through Buffer's species constructor, far slower
  const frame = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const pixels = rows * columns;
  const bytesPerSample = bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample)) throw new VitalsError('UNPROCESSABLE_IMAGE', `RLE does not encode ${bitsAllocated}-bit samples`);
  const segments = samplesPerPixel * bytesPerSample;
  if (frame.length < 64) throw new VitalsError('INVALID_IMAGE', 'RLE frame is shorter than its 64-byte header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const declared = view.getUint32(0, true);
  if (declared !== segments) {
    throw new VitalsError('UNPROCESSABLE_IMAGE', `RLE frame has ${declared} segments; ${samplesPerPixel} sample(s) of ${bitsAllocated} bits need ${segments}`);
  }
  const out = new Uint8Array(pixels * segments);
  // One segment: the plane is the output. Otherwise all planes go to scratch, one after another.
  let planes = out;
  if (segments > 1) {
    if (scratch.length < out.length) scratch = new Uint8Array(out.length);
    planes = scratch;
  }
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length) throw new VitalsError('INVALID_IMAGE', `RLE segment ${s + 1} has offsets outside the frame`);
    const written = unpackSegment(frame, start, end, planes, s * pixels, pixels);
    if (written < pixels) throw new VitalsError('INVALID_IMAGE', `RLE segment ${s + 1} decodes to ${written} of ${pixels} pixels; the frame is truncated or corrupted`);
  }
  if (segments > 1) interleave(planes, out, pixels, samplesPerPixel, bytesPerSample);
  return out;
}

/**
 * Segment order is each sample's bytes, most significant first; the output is little-endian
 * interleaved samples, so pixel p of segment s goes to byte p * segments + sample * bytesPerSample
 * + (bytesPerSample - 1 - byteIndex).
 */
function interleave(planes: Uint8Array, out: Uint8Array, pixels: number, samplesPerPixel: number, bytesPerSample: number): void {
  const segments = samplesPerPixel * bytesPerSample;
  if (segments === 2 && bytesPerSample === 2) {
    // 16-bit grayscale, the common case: whole words (the host is little-endian, as toStoredValues assumes)
    const words = new Uint16Array(out.buffer, out.byteOffset, pixels);
    for (let p = 0; p < pixels; p++) words[p] = (planes[p]! << 8) | planes[pixels + p]!;
    return;
  }
  for (let s = 0; s < segments; s++) {
    const sample = Math.floor(s / bytesPerSample);
    const byteIndex = s % bytesPerSample;
    const from = s * pixels;
    for (let p = 0, o = sample * bytesPerSample + (bytesPerSample - 1 - byteIndex); p < pixels; p++, o += segments) out[o] = planes[from + p]!;
  }
}
