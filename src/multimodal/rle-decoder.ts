/**
 * DICOM RLE Lossless (PS3.5 Annex G) decoder. Written here because no maintained npm package decodes
 * DICOM RLE on its own (the Cornerstone loaders embed one inside a browser image loader), and the
 * format is small: a 64-byte header of segment offsets, then one PackBits stream per byte plane.
 */
import { VitalsError } from '../errors.js';

/**
 * Decodes one frame into interleaved samples (little-endian bytes for 16/32-bit), the layout of
 * native pixel data with Planar Configuration 0.
 */
export function decodeRleFrame(frame: Uint8Array, rows: number, columns: number, samplesPerPixel: number, bitsAllocated: number): Uint8Array {
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
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > end || end > frame.length) throw new VitalsError('INVALID_IMAGE', `RLE segment ${s + 1} has offsets outside the frame`);
    // Segment order: each sample's bytes, most significant first; pixel p of segment s goes to
    // byte (p * segments + sample * bytesPerSample + (bytesPerSample - 1 - byteIndex)) in little-endian output.
    const sample = Math.floor(s / bytesPerSample);
    const byteIndex = s % bytesPerSample;
    const stride = segments;
    let o = sample * bytesPerSample + (bytesPerSample - 1 - byteIndex);
    let written = 0;
    let i = start;
    while (written < pixels && i < end) {
      const n = frame[i++]!;
      if (n < 128) {
        const count = Math.min(n + 1, pixels - written, end - i);
        for (let k = 0; k < count; k++, o += stride) out[o] = frame[i + k]!;
        i += n + 1;
        written += count;
      } else if (n > 128) {
        if (i >= end) break;
        const value = frame[i++]!;
        const count = Math.min(257 - n, pixels - written);
        for (let k = 0; k < count; k++, o += stride) out[o] = value;
        written += count;
      }
      // n === 128: no-op
    }
    if (written < pixels) throw new VitalsError('INVALID_IMAGE', `RLE segment ${s + 1} decodes to ${written} of ${pixels} pixels; the frame is truncated or corrupted`);
  }
  return out;
}
