import { Decoder as LosslessJpegDecoder } from 'jpeg-lossless-decoder-js';
import { describe, expect, it } from 'vitest';
import { decodeJpegLossless } from '../src/multimodal/jpeg-lossless.js';

// A plain JPEG Lossless (SOF3) encoder written from T.81 Annex H, the reference for our decoder.
// Its Huffman table has codes of 2 to 11 bits for categories 0..16 (codes past the 9-bit lookahead,
// and code + extra bits past the 12-bit fused lookup, are both exercised).
const LENGTHS = [2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11];

function canonicalCodes(): { counts: number[]; values: number[]; code: number[]; len: number[] } {
  const order = LENGTHS.map((l, v) => [l, v] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const counts = Array(16).fill(0);
  for (const [l] of order) counts[l - 1]++;
  const code: number[] = [];
  const len: number[] = [];
  let c = 0;
  let prev = order[0]![0];
  for (const [l, v] of order) {
    c <<= l - prev;
    prev = l;
    code[v] = c++;
    len[v] = l;
  }
  return { counts, values: order.map(([, v]) => v), code, len };
}

/** The prediction of H.1.2.1, computed the obvious way (x, y in the component; r: rows since the last restart). */
function predict(img: (x: number, y: number) => number, x: number, y: number, r: number, sv: number, initial: number): number {
  if (r === 0) return x === 0 ? initial : img(x - 1, y);
  if (x === 0) return img(0, y - 1);
  const a = img(x - 1, y);
  const b = img(x, y - 1);
  const c = img(x - 1, y - 1);
  return [0, a, b, c, a + b - c, a + Math.floor((b - c) / 2), b + Math.floor((a - c) / 2), Math.floor((a + b) / 2)][sv]!;
}

interface Encoding {
  width: number;
  height: number;
  precision: number;
  components: number;
  predictor: number;
  pt?: number;
  /** restart interval in rows */
  restartRows?: number;
  /** one scan per component instead of one interleaved scan */
  separateScans?: boolean;
}

function encode(samples: Uint16Array, e: Encoding): Uint8Array {
  const { width: w, height: h, precision: p, components: nc, predictor: sv } = e;
  const pt = e.pt ?? 0;
  const huff = canonicalCodes();
  const out: number[] = [0xff, 0xd8];
  out.push(0xff, 0xc4, 0, 2 + 17 + 17, 0x00, ...huff.counts, ...huff.values);
  if (e.restartRows) out.push(0xff, 0xdd, 0, 4, ((e.restartRows * w) >> 8) & 0xff, (e.restartRows * w) & 0xff);
  out.push(0xff, 0xc3, 0, 8 + 3 * nc, p, h >> 8, h & 0xff, w >> 8, w & 0xff, nc);
  for (let c = 0; c < nc; c++) out.push(c + 1, 0x11, 0);
  const reduced = (x: number, y: number, c: number) => samples[(y * w + x) * nc + c]! >> pt;
  const scans = e.separateScans ? Array.from({ length: nc }, (_, c) => [c]) : [Array.from({ length: nc }, (_, c) => c)];
  for (const comps of scans) {
    out.push(0xff, 0xda, 0, 6 + 2 * comps.length, comps.length);
    for (const c of comps) out.push(c + 1, 0x00);
    out.push(sv, 0, pt);
    let acc = 0;
    let n = 0;
    const put = (bits: number, len: number) => {
      for (let i = len - 1; i >= 0; i--) {
        acc = (acc << 1) | ((bits >> i) & 1);
        if (++n === 8) {
          out.push(acc);
          if (acc === 0xff) out.push(0);
          acc = 0;
          n = 0;
        }
      }
    };
    const flush = () => {
      if (n > 0) put((1 << (8 - n)) - 1, 8 - n); // pad with 1 bits
    };
    let rst = 0;
    for (let y = 0; y < h; y++) {
      const r = e.restartRows ? y % e.restartRows : y;
      if (e.restartRows && y > 0 && r === 0) {
        flush();
        out.push(0xff, 0xd0 + (rst++ % 8));
      }
      for (let x = 0; x < w; x++)
        for (const c of comps) {
          const pred = predict((a, b) => reduced(a, b, c), x, y, r, sv, 1 << (p - pt - 1));
          let diff = (((reduced(x, y, c) - pred) % 65536) + 65536) % 65536;
          if (diff > 32768) diff -= 65536;
          const cat = diff === 0 ? 0 : diff === 32768 ? 16 : Math.ceil(Math.log2(Math.abs(diff) + 1));
          put(huff.code[cat]!, huff.len[cat]!);
          if (cat > 0 && cat < 16) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
        }
    }
    flush();
  }
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

/** A smooth picture with noise, a few extreme samples (0 and the top value: large differences), in `precision` bits. */
function picture(w: number, h: number, nc: number, precision: number, pt = 0): Uint16Array {
  const top = (1 << precision) - 1;
  let seed = 7;
  return Uint16Array.from({ length: w * h * nc }, (_, i) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const p = Math.floor(i / nc);
    const x = p % w;
    const y = Math.floor(p / w);
    let v = Math.round(top * (0.3 + 0.2 * Math.sin(x / 5) * Math.cos(y / 7))) + ((seed >>> 16) % 41) - 20;
    if ((seed >>> 8) % 97 === 0) v = (seed >>> 4) % 2 ? top : 0;
    v = Math.min(top, Math.max(0, v));
    return (v >> pt) << pt;
  });
}

describe('JPEG Lossless decoder', () => {
  for (let sv = 1; sv <= 7; sv++) {
    it(`predictor ${sv}: 16-bit and 12-bit grayscale come back sample for sample`, () => {
      for (const precision of [16, 12]) {
        const img = picture(37, 23, 1, precision);
        const jpeg = encode(img, { width: 37, height: 23, precision, components: 1, predictor: sv });
        const got = decodeJpegLossless(jpeg)!;
        expect(got).toMatchObject({ width: 37, height: 23, precision, components: 1 });
        expect(Array.from(got.data)).toEqual(Array.from(img));
        // and the same as the npm decoder reads it
        const theirs = new LosslessJpegDecoder().decode(jpeg.slice().buffer, 0, jpeg.length, 2) as Uint16Array;
        expect(Array.from(new Uint16Array(theirs.buffer, theirs.byteOffset, img.length))).toEqual(Array.from(img));
      }
    });
  }

  it('differences of 32768 (category 16) wrap modulo 2^16', () => {
    const img = Uint16Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 65535 : 32768));
    for (const sv of [1, 4, 7]) expect(Array.from(decodeJpegLossless(encode(img, { width: 8, height: 8, precision: 16, components: 1, predictor: sv }))!.data)).toEqual(Array.from(img));
  });

  it('point transform, restart intervals, RGB interleaved and in separate scans, 8-bit', () => {
    const pt = picture(19, 12, 1, 16, 3);
    expect(Array.from(decodeJpegLossless(encode(pt, { width: 19, height: 12, precision: 16, components: 1, predictor: 6, pt: 3 }))!.data)).toEqual(Array.from(pt));
    const gray = picture(16, 15, 1, 12);
    for (const sv of [1, 5])
      expect(Array.from(decodeJpegLossless(encode(gray, { width: 16, height: 15, precision: 12, components: 1, predictor: sv, restartRows: 4 }))!.data)).toEqual(Array.from(gray));
    const rgb = picture(11, 9, 3, 8);
    for (const separateScans of [false, true])
      expect(Array.from(decodeJpegLossless(encode(rgb, { width: 11, height: 9, precision: 8, components: 3, predictor: 4, separateScans }))!.data)).toEqual(Array.from(rgb));
  });

  it('refuses broken streams with a message, and leaves subsampled frames to the fallback', () => {
    const img = picture(8, 8, 1, 12);
    const jpeg = encode(img, { width: 8, height: 8, precision: 12, components: 1, predictor: 1 });
    expect(() => decodeJpegLossless(jpeg.subarray(2))).toThrow(/no SOI/);
    const marker = (m: number) => jpeg.findIndex((v, i) => v === 0xff && jpeg[i + 1] === m) + 1;
    const sof = marker(0xc3);
    const sos = marker(0xda);
    const badPredictor = jpeg.slice();
    badPredictor[sos + 6] = 9; // Ss (the predictor): after the length, Ns and one component's two bytes
    expect(() => decodeJpegLossless(badPredictor)).toThrow(/predictor 9/);
    const dct = jpeg.slice();
    dct[sof] = 0xc1;
    expect(() => decodeJpegLossless(dct)).toThrow(/SOF1/);
    const sub = jpeg.slice();
    sub[sof + 10] = 0x21; // H = 2 for the first component
    expect(decodeJpegLossless(sub)).toBeUndefined();
  });
});
