/**
 * Sequential DCT JPEG with Huffman coding at 8 or 12 bits (ITU-T T.81 processes 1, 2 and 4; DICOM
 * JPEG Baseline 1.2.840.10008.1.2.4.50 and JPEG Extended 1.2.840.10008.1.2.4.51).
 *
 * Own code, on purpose: the only lossy JPEG decoder packaged for Node here is the 8-bit build of
 * libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit); no npm package decodes 12-bit lossy JPEG
 * on its own (Cornerstone's 12-bit path is a pdf.js file vendored inside its whole image loader, and
 * @itk-wasm/dicom is all of GDCM/DCMTK as wasm). Sequential Huffman DCT is a small, fixed part of
 * T.81: Huffman decoding (F.2.2), dequantisation, a float inverse DCT (A.3.3, by the AAN factorisation), level shift
 * and clamping (F.2.1.5), restart intervals and multi-scan frames. Progressive, lossless and
 * arithmetic-coded frames are refused. Components come back as decoded, without colour conversion,
 * upsampled by replication.
 */
import { VitalsError } from '../errors.js';

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

/** AAN scale factors: 1 and cos(kπ/16)·√2 (the float IDCT's dequantisation folds them in). */
const AAN = Float64Array.from({ length: 8 }, (_, k) => (k === 0 ? 1 : Math.cos((k * Math.PI) / 16) * Math.SQRT2));

const LOOKAHEAD = 9;

interface Huffman {
  /** codes of up to LOOKAHEAD bits, by their next LOOKAHEAD bits: length << 8 | value (0: longer code) */
  fast: Uint16Array;
  /** maxcode[l]: the largest code of length l (-1 if none); valptr/mincode as in T.81 F.2.2.3 */
  maxcode: Int32Array;
  mincode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** blocks per line and per column, padded to whole MCUs */
  bpl: number;
  bpc: number;
  coefs: Int32Array;
  /** per block: 1 if it has a nonzero AC coefficient (else its samples are all one value) */
  ac: Uint8Array;
  dcTable?: Huffman;
  acTable?: Huffman;
  pred: number;
}

const invalid = (msg: string) => new VitalsError('INVALID_IMAGE', `the JPEG frame is corrupted: ${msg}`);

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    valptr[l] = k;
    mincode[l] = code;
    code += counts[l - 1]!;
    k += counts[l - 1]!;
    maxcode[l] = counts[l - 1] ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  const fast = new Uint16Array(1 << LOOKAHEAD);
  for (let l = 1, k = 0, c = 0; l <= LOOKAHEAD; l++, c <<= 1)
    for (let i = 0; i < counts[l - 1]!; i++, k++, c++) {
      const lo = c << (LOOKAHEAD - l);
      fast.fill((l << 8) | (values[k] ?? 0), lo, lo + (1 << (LOOKAHEAD - l)));
    }
  return { fast, maxcode, mincode, valptr, values };
}

class BitReader {
  private bits = 0;
  private count = 0;
  /** set when a marker was met: the rest of the segment reads as zero bits */
  marker = false;
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.count <= 24) {
      let byte = 0;
      if (!this.marker && this.pos < this.b.length) {
        byte = this.b[this.pos]!;
        if (byte === 0xff) {
          const next = this.b[this.pos + 1];
          if (next === 0x00) this.pos += 2;
          else {
            this.marker = true;
            byte = 0;
          }
        } else this.pos++;
      }
      this.bits = (this.bits << 8) | byte;
      this.count += 8;
    }
  }

  bit(): number {
    if (this.count === 0) this.fill();
    this.count--;
    return (this.bits >>> this.count) & 1;
  }

  receive(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    this.count -= n;
    return (this.bits >>> this.count) & ((1 << n) - 1);
  }

  decode(t: Huffman): number {
    if (this.count < LOOKAHEAD) this.fill();
    const hit = t.fast[(this.bits >>> (this.count - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
    if (hit) {
      this.count -= hit >> 8;
      return hit & 0xff;
    }
    let code = this.bit();
    let l = 1;
    while (code > t.maxcode[l]!) {
      code = (code << 1) | this.bit();
      if (++l > 16) throw invalid('a Huffman code longer than 16 bits');
    }
    return t.values[t.valptr[l]! + code - t.mincode[l]!] ?? 0;
  }

  /** At a restart marker: drop the partial byte, skip RSTn, start afresh. */
  restart(): void {
    this.bits = 0;
    this.count = 0;
    this.marker = false;
    while (this.pos + 1 < this.b.length && !(this.b[this.pos] === 0xff && this.b[this.pos + 1]! >= 0xd0 && this.b[this.pos + 1]! <= 0xd7)) this.pos++;
    this.pos += 2;
  }
}

const extend = (v: number, t: number) => (t === 0 ? 0 : v < 1 << (t - 1) ? v - (1 << t) + 1 : v);

/** Decodes one block's coefficients (zigzag order) into out[at..]; marks the block in c.ac when it has AC coefficients. */
function decodeBlock(r: BitReader, c: Component, out: Int32Array, at: number): void {
  const t = r.decode(c.dcTable!);
  c.pred += extend(r.receive(t), t);
  out[at] = c.pred;
  for (let k = 1; k < 64; ) {
    const rs = r.decode(c.acTable!);
    const s = rs & 15;
    const run = rs >> 4;
    if (s === 0) {
      if (run !== 15) break;
      k += 16;
      continue;
    }
    k += run;
    if (k > 63) throw invalid('an AC coefficient past the end of the block');
    out[at + k] = extend(r.receive(s), s); // zigzag order; dequantised with the IDCT
    c.ac[at >> 6] = 1;
    k++;
  }
}

const WS = new Float64Array(64);

/** The quantisation table in natural order, scaled for the AAN inverse DCT. */
function aanTable(q: Uint16Array): Float64Array {
  const t = new Float64Array(64);
  for (let k = 0; k < 64; k++) {
    const n = ZIGZAG[k]!;
    t[n] = (q[k]! * AAN[n >> 3]! * AAN[n & 7]!) / 8;
  }
  return t;
}

/**
 * One block: dequantisation and the inverse DCT by Arai, Agui and Nakajima's factorisation in
 * floating point (libjpeg's jidctflt.c): the exact 2-D IDCT of A.3.3 up to float rounding, in 5
 * multiplications per 8 points instead of 64. `coefs` are in zigzag order.
 */
function idctBlock(coefs: Int32Array, at: number, qt: Float64Array, out: Float64Array): void {
  const ws = WS;
  for (let k = 0; k < 64; k++) ws[ZIGZAG[k]!] = coefs[at + k]! * qt[ZIGZAG[k]!]!;
  for (let c = 0; c < 8; c++) idct8(ws, c, 8);
  for (let r = 0; r < 8; r++) idct8(ws, r * 8, 1);
  if (out !== ws) out.set(ws);
}

function idct8(d: Float64Array, o: number, s: number): void {
  const x0 = d[o]!;
  const x1 = d[o + s]!;
  const x2 = d[o + 2 * s]!;
  const x3 = d[o + 3 * s]!;
  const x4 = d[o + 4 * s]!;
  const x5 = d[o + 5 * s]!;
  const x6 = d[o + 6 * s]!;
  const x7 = d[o + 7 * s]!;
  if (x1 === 0 && x2 === 0 && x3 === 0 && x4 === 0 && x5 === 0 && x6 === 0 && x7 === 0) {
    for (let i = 1; i < 8; i++) d[o + i * s] = x0;
    return;
  }
  // even part
  const t10 = x0 + x4;
  const t11 = x0 - x4;
  const t13 = x2 + x6;
  const t12 = (x2 - x6) * Math.SQRT2 - t13;
  const e0 = t10 + t13;
  const e3 = t10 - t13;
  const e1 = t11 + t12;
  const e2 = t11 - t12;
  // odd part
  const z13 = x5 + x3;
  const z10 = x5 - x3;
  const z11 = x1 + x7;
  const z12 = x1 - x7;
  const o7 = z11 + z13;
  const o11 = (z11 - z13) * Math.SQRT2;
  const z5 = (z10 + z12) * 1.8477590650225735;
  const o10 = 1.0823922002923938 * z12 - z5;
  const o12 = -2.613125929752753 * z10 + z5;
  const o6 = o12 - o7;
  const o5 = o11 - o6;
  const o4 = o10 + o5;
  d[o] = e0 + o7;
  d[o + 7 * s] = e0 - o7;
  d[o + s] = e1 + o6;
  d[o + 6 * s] = e1 - o6;
  d[o + 2 * s] = e2 + o5;
  d[o + 5 * s] = e2 - o5;
  d[o + 4 * s] = e3 + o4;
  d[o + 3 * s] = e3 - o4;
}

export function decodeJpegSequential(encoded: Uint8Array): JpegImage {
  // a plain Uint8Array view: element reads on a Buffer (a subclass) are slower in the hot loops
  const b = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (b[0] !== 0xff || b[1] !== 0xd8) throw invalid('no SOI marker');
  const quant: Uint16Array[] = [];
  const dc: Huffman[] = [];
  const ac: Huffman[] = [];
  let components: Component[] = [];
  let width = 0;
  let height = 0;
  let precision = 8;
  let hmax = 1;
  let vmax = 1;
  let mcusX = 0;
  let mcusY = 0;
  let restartInterval = 0;
  let pos = 2;
  let frameSeen = false;
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
      for (let p = seg; p < end; ) {
        const counts = b.subarray(p + 1, p + 17);
        const n = counts.reduce((a, x) => a + x, 0);
        const table = buildHuffman(counts, b.slice(p + 17, p + 17 + n));
        if (b[p]! >> 4) ac[b[p]! & 15] = table;
        else dc[b[p]! & 15] = table;
        p += 17 + n;
      }
    } else if (marker === 0xdd) {
      restartInterval = (b[seg]! << 8) | b[seg + 1]!;
    } else if (marker === 0xc0 || marker === 0xc1) {
      if (frameSeen) throw invalid('a second frame header'); // one frame per image (non-hierarchical)
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
        components.push({ id: b[o]!, h, v, tq: b[o + 2]! & 3, bpl: 0, bpc: 0, coefs: new Int32Array(0), ac: new Uint8Array(0), pred: 0 });
      }
      hmax = Math.max(...components.map((c) => c.h));
      vmax = Math.max(...components.map((c) => c.v));
      mcusX = Math.ceil(width / (8 * hmax));
      mcusY = Math.ceil(height / (8 * vmax));
      for (const c of components) {
        c.bpl = mcusX * c.h;
        c.bpc = mcusY * c.v;
        c.coefs = new Int32Array(c.bpl * c.bpc * 64);
        c.ac = new Uint8Array(c.bpl * c.bpc);
      }
      frameSeen = true;
    } else if ((marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7) {
      throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `JPEG frame type SOF${marker - 0xc0} (progressive, lossless or arithmetic-coded) is not decoded here: only sequential Huffman DCT`);
    } else if (marker === 0xda) {
      if (!frameSeen) throw invalid('a scan before the frame header');
      const ns = b[seg]!;
      const scan: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const c = components.find((x) => x.id === b[seg + 1 + 2 * i]);
        if (!c) throw invalid('a scan names a component the frame does not have');
        c.dcTable = dc[b[seg + 2 + 2 * i]! >> 4];
        c.acTable = ac[b[seg + 2 + 2 * i]! & 15];
        if (!c.dcTable || !c.acTable) throw invalid('a scan uses a Huffman table that was not defined');
        c.pred = 0;
        scan.push(c);
      }
      pos = decodeScan(b, end, scan, mcusX, mcusY, width, height, hmax, vmax, restartInterval);
      continue;
    }
    pos = end;
  }
  if (!frameSeen) throw invalid('no frame header');
  return toSamples(components, quant, width, height, precision as 8 | 12, hmax, vmax);
}

function decodeScan(b: Uint8Array, start: number, scan: Component[], mcusX: number, mcusY: number, width: number, height: number, hmax: number, vmax: number, ri: number): number {
  const r = new BitReader(b, start);
  const single = scan.length === 1 ? scan[0]! : undefined;
  // a one-component scan covers only that component's own blocks, not the MCU padding (A.2.2)
  const across = single ? Math.ceil(Math.ceil((width * single.h) / hmax) / 8) : mcusX;
  const down = single ? Math.ceil(Math.ceil((height * single.v) / vmax) / 8) : mcusY;
  const total = across * down;
  for (let m = 0; m < total; m++) {
    if (ri && m > 0 && m % ri === 0) {
      r.restart();
      for (const c of scan) c.pred = 0;
    }
    const mx = m % across;
    const my = (m / across) | 0;
    if (single) decodeBlock(r, single, single.coefs, (my * single.bpl + mx) * 64);
    else for (const c of scan) for (let v = 0; v < c.v; v++) for (let h = 0; h < c.h; h++) decodeBlock(r, c, c.coefs, ((my * c.v + v) * c.bpl + mx * c.h + h) * 64);
  }
  // continue after the entropy-coded data: at the next marker that is not a restart
  let p = r.pos;
  while (p + 1 < b.length && !(b[p] === 0xff && b[p + 1] !== 0 && !(b[p + 1]! >= 0xd0 && b[p + 1]! <= 0xd7))) p++;
  return p;
}

function toSamples(components: Component[], quant: Uint16Array[], width: number, height: number, precision: 8 | 12, hmax: number, vmax: number): JpegImage {
  const n = components.length;
  const data = new Uint16Array(width * height * n);
  const top = (1 << precision) - 1;
  const shift = 1 << (precision - 1);
  const block = WS; // the IDCT's own workspace holds each block's samples
  for (let ci = 0; ci < n; ci++) {
    const c = components[ci]!;
    const q = quant[c.tq];
    if (!q) throw invalid(`quantisation table ${c.tq} was not defined`);
    const qt = aanTable(q);
    // one full-resolution component: blocks go straight into the image (clipped at its right and bottom edge)
    const direct = n === 1;
    const planeW = direct ? width : c.bpl * 8;
    const planeH = direct ? height : c.bpc * 8;
    const plane = direct ? data : new Uint16Array(planeW * planeH);
    for (let by = 0; by < c.bpc; by++)
      for (let bx = 0; bx < c.bpl; bx++) {
        const blk = by * c.bpl + bx;
        const h = Math.min(8, planeH - by * 8);
        const w = Math.min(8, planeW - bx * 8);
        if (h <= 0 || w <= 0) continue;
        const o0 = by * 8 * planeW + bx * 8;
        if (!c.ac[blk]) {
          // DC only: the inverse DCT of a lone DC coefficient is that value in all 64 samples
          const r = Math.round(c.coefs[blk * 64]! * qt[0]! + shift);
          const v = r < 0 ? 0 : Math.min(r, top);
          for (let y = 0, o = o0; y < h; y++, o += planeW) plane.fill(v, o, o + w);
          continue;
        }
        idctBlock(c.coefs, blk * 64, qt, block);
        for (let y = 0, o = o0; y < h; y++, o += planeW)
          for (let x = 0; x < w; x++) {
            const r = Math.round(block[y * 8 + x]! + shift);
            plane[o + x] = r < 0 ? 0 : Math.min(r, top);
          }
      }
    if (direct) continue;
    const xs = Int32Array.from({ length: width }, (_, x) => Math.floor((x * c.h) / hmax));
    for (let y = 0; y < height; y++) {
      const row = Math.floor((y * c.v) / vmax) * planeW;
      for (let x = 0, o = y * width * n + ci; x < width; x++, o += n) data[o] = plane[row + xs[x]!]!;
    }
  }
  return { width, height, precision, components: n, data };
}
