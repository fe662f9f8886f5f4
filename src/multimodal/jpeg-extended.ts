/**
 * Sequential DCT JPEG with Huffman coding at 8 or 12 bits (ITU-T T.81 processes 1, 2 and 4; DICOM
 * JPEG Baseline 1.2.840.10008.1.2.4.50 and JPEG Extended 1.2.840.10008.1.2.4.51).
 *
 * Own code, on purpose: the only lossy JPEG decoder packaged for Node here is the 8-bit build of
 * libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit); no npm package decodes 12-bit lossy JPEG
 * on its own (Cornerstone's 12-bit path is a pdf.js file vendored inside its whole image loader, and
 * @itk-wasm/dicom is all of GDCM/DCMTK as wasm). Sequential Huffman DCT is a small, fixed part of
 * T.81: Huffman decoding (F.2.2), dequantisation, an integer inverse DCT (A.3.3, libjpeg's "islow"), level shift
 * and clamping (F.2.1.5), restart intervals and multi-scan frames. Progressive, lossless and
 * arithmetic-coded frames are refused. Components come back as decoded, without colour conversion,
 * upsampled by replication.
 */
import { VitalsError } from '../errors.js';
import { decodeLong, fusedAcTable, fusedDiffTable, type Huffman, LOOKAHEAD, readHuffmanTables } from './jpeg-huffman.js';

export interface JpegImage {
  width: number;
  height: number;
  precision: 8 | 12;
  components: number;
  /** interleaved samples */
  data: Uint16Array;
}

const ZIGZAG = Uint8Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
  38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** bits of the fused lookups: a Huffman code and its extra bits, read by one table lookup */
const FUSED_DC = 11;
const FUSED_AC = 11;

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** blocks per line and per column, padded to whole MCUs */
  bpl: number;
  bpc: number;
  /** decoded samples: the image itself for a one-component frame (clipped at its edges), else bpl·8 × bpc·8 */
  plane: Uint16Array;
  planeW: number;
  planeH: number;
  dcTable?: Huffman;
  acTable?: Huffman;
}

const invalid = (msg: string) => new VitalsError('INVALID_IMAGE', `the JPEG frame is corrupted: ${msg}`);

// jidctint.c's constants: FIX(x) = round(x · 2^13), negative where libjpeg multiplies by -FIX(x)
const CONST_BITS = 13;
const F0_298 = 2446;
const F0_390 = -3196;
const F0_541 = 4433;
const F0_765 = 6270;
const F0_899 = -7373;
const F1_175 = 9633;
const F1_501 = 12299;
const F1_847 = -15137;
const F1_961 = -16069;
const F2_053 = 16819;
const F2_562 = -20995;
const F3_072 = 25172;

/** the IDCT's workspace between its passes, and the samples of a block cut by the image edge */
const WS = new Int32Array(64);
const EDGE = new Uint16Array(64);

/**
 * One block: the inverse DCT in integers, libjpeg's "islow" (jidctint.c, Loeffler, Ligtenberg and
 * Moschytz's factorisation with 13-bit constants), then the level shift and clamping (F.2.1.5), into
 * out[o..] with row stride `stride`. `blk` holds dequantised coefficients in natural order. pass1 is
 * libjpeg's PASS1_BITS: 2 at 8 bits, 1 at 12 (the 12-bit products then still fit in 32 bits, as
 * Math.imul and the shifts here compute them). Columns or rows whose AC terms are all zero are one
 * value (the common case after quantisation) and skip the arithmetic.
 */
function idctBlock(blk: Int32Array, out: Uint16Array, o: number, stride: number, pass1: number, center: number, top: number): void {
  const ws = WS;
  const s1 = CONST_BITS - pass1;
  const r1 = 1 << (s1 - 1);
  for (let c = 0; c < 8; c++) {
    const i1 = blk[c + 8]!;
    const i2 = blk[c + 16]!;
    const i3 = blk[c + 24]!;
    const i4 = blk[c + 32]!;
    const i5 = blk[c + 40]!;
    const i6 = blk[c + 48]!;
    const i7 = blk[c + 56]!;
    if ((i1 | i2 | i3 | i4 | i5 | i6 | i7) === 0) {
      const dc = blk[c]! << pass1;
      ws[c] = dc;
      ws[c + 8] = dc;
      ws[c + 16] = dc;
      ws[c + 24] = dc;
      ws[c + 32] = dc;
      ws[c + 40] = dc;
      ws[c + 48] = dc;
      ws[c + 56] = dc;
      continue;
    }
    const i0 = blk[c]!;
    // even part
    let z1 = Math.imul(i2 + i6, F0_541);
    const t2 = z1 + Math.imul(i6, F1_847);
    const t3 = z1 + Math.imul(i2, F0_765);
    const t0 = (i0 + i4) << CONST_BITS;
    const t1 = (i0 - i4) << CONST_BITS;
    const t10 = t0 + t3;
    const t13 = t0 - t3;
    const t11 = t1 + t2;
    const t12 = t1 - t2;
    // odd part
    z1 = i7 + i1;
    let z2 = i5 + i3;
    let z3 = i7 + i3;
    let z4 = i5 + i1;
    const z5 = Math.imul(z3 + z4, F1_175);
    z1 = Math.imul(z1, F0_899);
    z2 = Math.imul(z2, F2_562);
    z3 = z5 + Math.imul(z3, F1_961);
    z4 = z5 + Math.imul(z4, F0_390);
    const o0 = Math.imul(i7, F0_298) + z1 + z3;
    const o1 = Math.imul(i5, F2_053) + z2 + z4;
    const o2 = Math.imul(i3, F3_072) + z2 + z3;
    const o3 = Math.imul(i1, F1_501) + z1 + z4;
    ws[c] = (t10 + o3 + r1) >> s1;
    ws[c + 56] = (t10 - o3 + r1) >> s1;
    ws[c + 8] = (t11 + o2 + r1) >> s1;
    ws[c + 48] = (t11 - o2 + r1) >> s1;
    ws[c + 16] = (t12 + o1 + r1) >> s1;
    ws[c + 40] = (t12 - o1 + r1) >> s1;
    ws[c + 24] = (t13 + o0 + r1) >> s1;
    ws[c + 32] = (t13 - o0 + r1) >> s1;
  }
  const s2 = CONST_BITS + pass1 + 3;
  const r2 = 1 << (s2 - 1);
  const sDc = pass1 + 3;
  const rDc = 1 << (sDc - 1);
  for (let r = 0; r < 64; r += 8, o += stride) {
    const i1 = ws[r + 1]!;
    const i2 = ws[r + 2]!;
    const i3 = ws[r + 3]!;
    const i4 = ws[r + 4]!;
    const i5 = ws[r + 5]!;
    const i6 = ws[r + 6]!;
    const i7 = ws[r + 7]!;
    if ((i1 | i2 | i3 | i4 | i5 | i6 | i7) === 0) {
      const x = ((ws[r]! + rDc) >> sDc) + center;
      out.fill(x < 0 ? 0 : Math.min(x, top), o, o + 8);
      continue;
    }
    const i0 = ws[r]!;
    let z1 = Math.imul(i2 + i6, F0_541);
    const t2 = z1 + Math.imul(i6, F1_847);
    const t3 = z1 + Math.imul(i2, F0_765);
    const t0 = ((i0 + i4) << CONST_BITS) + r2;
    const t1 = ((i0 - i4) << CONST_BITS) + r2;
    const t10 = t0 + t3;
    const t13 = t0 - t3;
    const t11 = t1 + t2;
    const t12 = t1 - t2;
    z1 = i7 + i1;
    let z2 = i5 + i3;
    let z3 = i7 + i3;
    let z4 = i5 + i1;
    const z5 = Math.imul(z3 + z4, F1_175);
    z1 = Math.imul(z1, F0_899);
    z2 = Math.imul(z2, F2_562);
    z3 = z5 + Math.imul(z3, F1_961);
    z4 = z5 + Math.imul(z4, F0_390);
    const o0 = Math.imul(i7, F0_298) + z1 + z3;
    const o1 = Math.imul(i5, F2_053) + z2 + z4;
    const o2 = Math.imul(i3, F3_072) + z2 + z3;
    const o3 = Math.imul(i1, F1_501) + z1 + z4;
    let x = ((t10 + o3) >> s2) + center;
    out[o] = x < 0 ? 0 : Math.min(x, top);
    x = ((t10 - o3) >> s2) + center;
    out[o + 7] = x < 0 ? 0 : Math.min(x, top);
    x = ((t11 + o2) >> s2) + center;
    out[o + 1] = x < 0 ? 0 : Math.min(x, top);
    x = ((t11 - o2) >> s2) + center;
    out[o + 6] = x < 0 ? 0 : Math.min(x, top);
    x = ((t12 + o1) >> s2) + center;
    out[o + 2] = x < 0 ? 0 : Math.min(x, top);
    x = ((t12 - o1) >> s2) + center;
    out[o + 5] = x < 0 ? 0 : Math.min(x, top);
    x = ((t13 + o0) >> s2) + center;
    out[o + 3] = x < 0 ? 0 : Math.min(x, top);
    x = ((t13 - o0) >> s2) + center;
    out[o + 4] = x < 0 ? 0 : Math.min(x, top);
  }
}

export function decodeJpegSequential(encoded: Uint8Array): JpegImage {
  // a plain Uint8Array view: element reads on a Buffer (a subclass) are slower in the hot loops
  const b = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (b[0] !== 0xff || b[1] !== 0xd8) throw invalid('no SOI marker');
  const quant: Uint16Array[] = [];
  const dc: Huffman[] = [];
  const ac: Huffman[] = [];
  let components: Component[] = [];
  let data: Uint16Array | undefined;
  let width = 0;
  let height = 0;
  let precision = 8;
  let hmax = 1;
  let vmax = 1;
  let mcusX = 0;
  let mcusY = 0;
  let restartInterval = 0;
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) {
      pos++;
      continue;
    }
    const marker = b[pos + 1]!;
    if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos++;
      continue;
    }
    if (marker === 0xd9) break; // EOI
    const length = (b[pos + 2]! << 8) | b[pos + 3]!;
    const seg = pos + 4;
    const end = pos + 2 + length;
    if (end > b.length) throw invalid('a marker segment runs past the end');
    if (marker === 0xdb) {
      for (let p = seg; p < end; ) {
        const pq = b[p]! >> 4;
        const table = new Uint16Array(64);
        for (let k = 0; k < 64; k++) table[k] = pq ? (b[p + 1 + 2 * k]! << 8) | b[p + 2 + 2 * k]! : b[p + 1 + k]!;
        quant[b[p]! & 15] = table;
        p += 1 + (pq ? 128 : 64);
      }
    } else if (marker === 0xc4) {
      readHuffmanTables(b, seg, end, dc, ac);
    } else if (marker === 0xdd) {
      restartInterval = (b[seg]! << 8) | b[seg + 1]!;
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (data) throw invalid('a second frame header'); // one frame per image (non-hierarchical)
      precision = b[seg]!;
      height = (b[seg + 1]! << 8) | b[seg + 2]!;
      width = (b[seg + 3]! << 8) | b[seg + 4]!;
      const n = b[seg + 5]!;
      if (precision !== 8 && precision !== 12) throw invalid(`sample precision ${precision} (8 or 12 for DCT)`);
      if (width < 1 || height < 1 || n < 1 || n > 4) throw invalid(`frame of ${width}×${height}×${n}`);
      components = [];
      for (let i = 0; i < n; i++) {
        const o = seg + 6 + 3 * i;
        const h = b[o + 1]! >> 4;
        const v = b[o + 1]! & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) throw invalid('sampling factors out of 1..4');
        components.push({ id: b[o]!, h, v, tq: b[o + 2]! & 3, bpl: 0, bpc: 0, plane: new Uint16Array(0), planeW: 0, planeH: 0 });
      }
      hmax = Math.max(...components.map((c) => c.h));
      vmax = Math.max(...components.map((c) => c.v));
      mcusX = Math.ceil(width / (8 * hmax));
      mcusY = Math.ceil(height / (8 * vmax));
      data = new Uint16Array(width * height * n);
      for (const c of components) {
        c.bpl = mcusX * c.h;
        c.bpc = mcusY * c.v;
        // one full-resolution component: blocks go straight into the image (clipped at its right and bottom edge)
        c.planeW = n === 1 ? width : c.bpl * 8;
        c.planeH = n === 1 ? height : c.bpc * 8;
        c.plane = n === 1 ? data : new Uint16Array(c.planeW * c.planeH);
      }
    } else if ((marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7) {
      throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `JPEG frame type SOF${marker - 0xc0} (progressive, lossless or arithmetic-coded) is not decoded here: only sequential Huffman DCT`);
    } else if (marker === 0xda) {
      if (!data) throw invalid('a scan before the frame header');
      const ns = b[seg]!;
      const scan: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const c = components.find((x) => x.id === b[seg + 1 + 2 * i]);
        if (!c) throw invalid('a scan names a component the frame does not have');
        c.dcTable = dc[b[seg + 2 + 2 * i]! >> 4];
        c.acTable = ac[b[seg + 2 + 2 * i]! & 15];
        if (!c.dcTable || !c.acTable) throw invalid('a scan uses a Huffman table that was not defined');
        if (!quant[c.tq]) throw invalid(`quantisation table ${c.tq} was not defined`);
        scan.push(c);
      }
      pos = decodeScan(b, end, scan, quant, mcusX, mcusY, width, height, hmax, vmax, restartInterval, precision);
      continue;
    }
    pos = end;
  }
  if (!data) throw invalid('no frame header');
  if (components.length > 1) upsample(components, data, width, height, hmax, vmax);
  return { width, height, precision: precision as 8 | 12, components: components.length, data };
}

/**
 * One scan: each block is Huffman-decoded (F.2.2) and dequantised into natural order, then inverse
 * transformed straight into its component's plane. The bit reader is local variables (acc holds
 * nbits unread bits, at most 32, most significant first); an 11-bit fused lookup gives a code and its
 * extra bits at once, longer ones take the lookahead table and the canonical walk. Returns the position
 * after the entropy-coded data.
 */
function decodeScan(
  b: Uint8Array,
  start: number,
  scan: Component[],
  quant: Uint16Array[],
  mcusX: number,
  mcusY: number,
  width: number,
  height: number,
  hmax: number,
  vmax: number,
  ri: number,
  precision: number,
): number {
  // the blocks of one MCU, in coding order (A.2.3): component, and place in its plane from the MCU's corner
  const single = scan.length === 1 ? scan[0]! : undefined;
  const slotComp: number[] = [];
  const slotDx: number[] = [];
  const slotDy: number[] = [];
  for (let ci = 0; ci < scan.length; ci++) {
    const c = scan[ci]!;
    const bh = single ? 1 : c.h;
    const bv = single ? 1 : c.v;
    for (let v = 0; v < bv; v++)
      for (let h = 0; h < bh; h++) {
        slotComp.push(ci);
        slotDx.push(h * 8);
        slotDy.push(v * 8);
      }
  }
  const slots = slotComp.length;
  const dcFused = scan.map((c) => fusedDiffTable(c.dcTable!, FUSED_DC));
  const acFused = scan.map((c) => fusedAcTable(c.acTable!, FUSED_AC));
  const qts = scan.map((c) => Int32Array.from(quant[c.tq]!)); // in zigzag order, as the coefficients come
  const preds = new Int32Array(scan.length);
  const blk = new Int32Array(64);
  const pass1 = precision === 8 ? 2 : 1;
  const top = (1 << precision) - 1;
  const center = 1 << (precision - 1);
  // a one-component scan covers only that component's own blocks, not the MCU padding (A.2.2)
  const across = single ? Math.ceil(Math.ceil((width * single.h) / hmax) / 8) : mcusX;
  const down = single ? Math.ceil(Math.ceil((height * single.v) / vmax) / 8) : mcusY;
  const total = across * down;
  // The bit reader lives in these locals and its refill (byte stuffing, markers) is written out at each
  // use, here and in jpeg-lossless.ts / jpeg-extended.ts: a shared function or reader object costs a
  // call or field access per code, which the profiles showed was most of the decode time.
  let acc = 0;
  let nbits = 0;
  let pos = start;
  let marker = false; // a marker was met: the rest of the segment reads as zero bits
  for (let m = 0; m < total; m++) {
    if (ri && m > 0 && m % ri === 0) {
      // restart: drop the partial byte, skip to and past RSTn, predict afresh
      acc = 0;
      nbits = 0;
      marker = false;
      while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7)) pos++;
      pos += 2;
      preds.fill(0);
    }
    const mx = m % across;
    const my = (m / across) | 0;
    for (let slot = 0; slot < slots; slot++) {
      const ci = slotComp[slot]!;
      const c = scan[ci]!;
      const dcF = dcFused[ci]!;
      const acF = acFused[ci]!;
      const qt = qts[ci]!;
      // DC: a difference from the previous block's (F.2.2.1)
      if (nbits < 16) {
        while (nbits <= 24) {
          let byte = 0;
          if (!marker && pos < b.length) {
            byte = b[pos]!;
            if (byte === 0xff) {
              if (b[pos + 1] === 0x00) pos += 2;
              else {
                marker = true;
                byte = 0;
              }
            } else pos++;
          }
          acc = (acc << 8) | byte;
          nbits += 8;
        }
      }
      let diff = 0;
      const pair = dcF[(acc >>> (nbits - FUSED_DC)) & ((1 << FUSED_DC) - 1)]!;
      if (pair !== 0) {
        nbits -= pair & 31;
        diff = pair >> 5;
      } else {
        const s = slowCode(c.dcTable!, acc, nbits);
        nbits -= s >> 8;
        const t = s & 0xff;
        if (t > 0) {
          if (t > 16) throw invalid(`a DC difference category ${t}`);
          if (nbits < t) {
            while (nbits <= 24) {
              let byte = 0;
              if (!marker && pos < b.length) {
                byte = b[pos]!;
                if (byte === 0xff) {
                  if (b[pos + 1] === 0x00) pos += 2;
                  else {
                    marker = true;
                    byte = 0;
                  }
                } else pos++;
              }
              acc = (acc << 8) | byte;
              nbits += 8;
            }
          }
          const v = (acc >>> (nbits - t)) & ((1 << t) - 1);
          nbits -= t;
          diff = v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
        }
      }
      const pred = (preds[ci] = preds[ci]! + diff);
      blk[0] = Math.imul(pred, qt[0]!);
      // AC: run/size codes in zigzag order up to EOB (F.2.2.2)
      let hasAc = false;
      for (let k = 1; k < 64; ) {
        if (nbits < 16) {
          while (nbits <= 24) {
            let byte = 0;
            if (!marker && pos < b.length) {
              byte = b[pos]!;
              if (byte === 0xff) {
                if (b[pos + 1] === 0x00) pos += 2;
                else {
                  marker = true;
                  byte = 0;
                }
              } else pos++;
            }
            acc = (acc << 8) | byte;
            nbits += 8;
          }
        }
        const e = acF[(acc >>> (nbits - FUSED_AC)) & ((1 << FUSED_AC) - 1)]!;
        let run: number;
        let value: number;
        if (e !== 0) {
          nbits -= e & 31;
          run = (e >> 5) & 15;
          value = e >> 9;
          if (value === 0) {
            if (run !== 15) break; // EOB
            k += 16; // ZRL: sixteen zeros
            continue;
          }
        } else {
          const rs = slowCode(c.acTable!, acc, nbits);
          nbits -= rs >> 8;
          const t = rs & 15;
          run = (rs >> 4) & 15;
          if (t === 0) {
            if (run !== 15) break;
            k += 16;
            continue;
          }
          if (nbits < t) {
            while (nbits <= 24) {
              let byte = 0;
              if (!marker && pos < b.length) {
                byte = b[pos]!;
                if (byte === 0xff) {
                  if (b[pos + 1] === 0x00) pos += 2;
                  else {
                    marker = true;
                    byte = 0;
                  }
                } else pos++;
              }
              acc = (acc << 8) | byte;
              nbits += 8;
            }
          }
          const v = (acc >>> (nbits - t)) & ((1 << t) - 1);
          nbits -= t;
          value = v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
        }
        k += run;
        if (k > 63) throw invalid('an AC coefficient past the end of the block');
        blk[ZIGZAG[k]!] = Math.imul(value, qt[k]!);
        hasAc = true;
        k++;
      }
      // the block's place: clipped at the image's edge when the plane is the image itself
      const x0 = (single ? mx : mx * c.h) * 8 + slotDx[slot]!;
      const y0 = (single ? my : my * c.v) * 8 + slotDy[slot]!;
      const o = y0 * c.planeW + x0;
      const plane = c.plane;
      const w = Math.min(8, c.planeW - x0);
      const h = Math.min(8, c.planeH - y0);
      if (w <= 0 || h <= 0) {
        // a padding block outside the image: decoded (the stream holds it), not shown
      } else if (!hasAc) {
        // DC only: the inverse DCT of a lone DC coefficient is one value in all 64 samples
        const x = ((blk[0]! << pass1) + (1 << (pass1 + 2))) >> (pass1 + 3);
        const y = x + center;
        const val = y < 0 ? 0 : Math.min(y, top);
        for (let r = 0, p = o; r < h; r++, p += c.planeW) plane.fill(val, p, p + w);
      } else if (w === 8 && h === 8) {
        idctBlock(blk, plane, o, c.planeW, pass1, center, top);
      } else {
        idctBlock(blk, EDGE, 0, 8, pass1, center, top);
        for (let r = 0, p = o; r < h; r++, p += c.planeW) plane.set(EDGE.subarray(r * 8, r * 8 + w), p);
      }
      if (hasAc) blk.fill(0);
      else blk[0] = 0;
    }
  }
  // continue after the entropy-coded data: at the next marker that is not a restart
  let p = pos;
  while (p + 1 < b.length && !(b[p] === 0xff && b[p + 1] !== 0 && !(b[p + 1]! >= 0xd0 && b[p + 1]! <= 0xd7))) p++;
  return p;
}

/** A code past the fused lookup: the lookahead table, else the canonical walk. `acc` holds at least 16 unread bits. Returns length << 8 | value. */
function slowCode(t: Huffman, acc: number, nbits: number): number {
  const hit = t.fast[(acc >>> (nbits - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
  if (hit !== 0) return hit;
  const long = decodeLong(t, (acc >>> (nbits - 16)) & 0xffff);
  if (long < 0) throw invalid('a Huffman code that is not in the table');
  return long;
}

/** Several components: each plane upsampled by replication into the interleaved image. */
function upsample(components: Component[], data: Uint16Array, width: number, height: number, hmax: number, vmax: number): void {
  const n = components.length;
  for (let ci = 0; ci < n; ci++) {
    const c = components[ci]!;
    const xs = Int32Array.from({ length: width }, (_, x) => Math.floor((x * c.h) / hmax));
    for (let y = 0; y < height; y++) {
      const row = Math.floor((y * c.v) / vmax) * c.planeW;
      for (let x = 0, o = y * width * n + ci; x < width; x++, o += n) data[o] = c.plane[row + xs[x]!]!;
    }
  }
}
