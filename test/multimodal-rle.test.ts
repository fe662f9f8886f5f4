import { describe, expect, it } from 'vitest';
import { decodeRleFrame } from '../src/multimodal/rle-decoder.js';

/** A plain PackBits encoder over a whole segment (so runs and literals cross row ends), as PS3.5 G.3.1. */
function packBits(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && run < 128 && bytes[i + run] === bytes[i]) run++;
    if (run >= 2) {
      out.push(257 - run, bytes[i]!);
      i += run;
      continue;
    }
    let lit = 1;
    while (i + lit < bytes.length && lit < 128 && !(i + lit + 1 < bytes.length && bytes[i + lit] === bytes[i + lit + 1])) lit++;
    out.push(lit - 1, ...bytes.subarray(i, i + lit));
    i += lit;
  }
  return out;
}

/** An RLE frame of the given segments (each a byte plane), with the 64-byte header. */
function rleFrame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((seg, s) => {
    view.setUint32(4 + 4 * s, offset, true);
    offset += seg.length + (seg.length % 2);
  });
  const body = segments.flatMap((seg) => (seg.length % 2 ? [...seg, 0] : seg));
  return Uint8Array.from([...header, ...body]);
}

/** The reference: byte plane of segment s, straight from the interleaved little-endian samples. */
function plane(native: Uint8Array, s: number, samples: number, bytesPerSample: number): Uint8Array {
  const segments = samples * bytesPerSample;
  const sample = Math.floor(s / bytesPerSample);
  const at = sample * bytesPerSample + (bytesPerSample - 1 - (s % bytesPerSample));
  return Uint8Array.from({ length: native.length / segments }, (_, p) => native[p * segments + at]!);
}

function roundTrip(rows: number, columns: number, samples: number, bits: number, value: (i: number) => number): void {
  const bytes = bits / 8;
  const native = Uint8Array.from({ length: rows * columns * samples * bytes }, (_, i) => value(i));
  const segments = Array.from({ length: samples * bytes }, (_, s) => packBits(plane(native, s, samples, bytes)));
  expect(Array.from(decodeRleFrame(rleFrame(segments), rows, columns, samples, bits))).toEqual(Array.from(native));
}

describe('RLE decoder', () => {
  it('decodes 8-bit, 16-bit, 32-bit grayscale and 8/16-bit RGB with runs and literals crossing row ends', () => {
    // 7 columns: runs of 11 and literals of 5 straddle every row end
    const mixed = (i: number) => (Math.floor(i / 11) % 3 === 0 ? 0x42 : (i * 37) & 0xff);
    roundTrip(5, 7, 1, 8, mixed);
    roundTrip(5, 7, 1, 16, mixed);
    roundTrip(4, 9, 1, 32, mixed);
    roundTrip(3, 5, 3, 8, mixed);
    roundTrip(3, 5, 3, 16, (i) => (i % 6 < 2 ? 0 : (i * 13) & 0xff));
    // long runs (fill) and long literals (set) beyond the short-copy limit, across rows of 64
    roundTrip(40, 64, 1, 16, (i) => (i % 2 === 1 ? 0x04 : Math.floor(i / 300) % 2 ? (i * 151) & 0xff : 7));
  });

  it('skips the no-op code 128 and clips a run that goes past the last pixel', () => {
    // 2×3 8-bit: [128 no-op] [run of 4 × 9] [128] [literal 2: 1 2] ; then an over-long run of 0 (ignored past the end)
    const frame = rleFrame([[128, 253, 9, 128, 1, 1, 2, 129, 0]]);
    expect(Array.from(decodeRleFrame(frame, 2, 3, 1, 8))).toEqual([9, 9, 9, 9, 1, 2]);
    // a run longer than the frame is cut at the last pixel
    expect(Array.from(decodeRleFrame(rleFrame([[129, 5]]), 2, 3, 1, 8))).toEqual([5, 5, 5, 5, 5, 5]);
  });

  it('refuses a truncated segment, a literal cut by the segment end and a wrong segment count', () => {
    expect(() => decodeRleFrame(rleFrame([[253, 9]]), 2, 3, 1, 8)).toThrow(/decodes to 4 of 6 pixels/);
    // literal of 6 declared, 3 bytes present before the next segment starts
    expect(() =>
      decodeRleFrame(
        rleFrame([
          [5, 1, 2, 3],
          [251, 0],
        ]),
        2,
        3,
        1,
        16,
      ),
    ).toThrow(/segment 1 decodes to 3 of 6/);
    expect(() => decodeRleFrame(rleFrame([[251, 0]]), 2, 3, 1, 16)).toThrow(/1 segments/);
    expect(() => decodeRleFrame(new Uint8Array(10), 2, 3, 1, 8)).toThrow(/64-byte header/);
  });

  it('decodes frames that are views into a larger buffer (a Buffer of the whole file)', () => {
    const inner = rleFrame([packBits(Uint8Array.from([1, 1, 1, 2, 3, 4]))]);
    const file = Buffer.concat([Buffer.alloc(3), Buffer.from(inner), Buffer.alloc(5)]);
    expect(Array.from(decodeRleFrame(file.subarray(3, 3 + inner.length), 2, 3, 1, 8))).toEqual([1, 1, 1, 2, 3, 4]);
  });
});
