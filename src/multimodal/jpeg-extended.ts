/**
 * Sequential DCT JPEG with Huffman coding at 8 or 12 bits (ITU-T T.81 processes 1, 2 and 4; DICOM
 * JPEG Baseline 1.2.840.10008.1.2.4.50 and JPEG Extended 1.2.840.10008.1.2.4.51).
 *
 * Own code, on purpose: the only lossy JPEG decoder packaged for Node here is the 8-bit build of
 * libjpeg-turbo (@cornerstonejs/codec-libjpeg-turbo-8bit); no npm package decodes 12-bit lossy JPEG
 * on its own (Cornerstone's 12-bit path is a pdf.js file vendored inside its whole image loader, and
 * @itk-wasm/dicom is all of GDCM/DCMTK as wasm). Sequential Huffman DCT is a small, fixed part of
 * T.81: Huffman decoding (F.2.2), dequantisation, an exact float inverse DCT (A.3.3), level shift
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

/** cos((2x+1)uπ/16) · C(u)/2, indexed [x*8+u]: the 1-D inverse DCT as a matrix. */
const IDCT = (() => {
  const m = new Float64Array(64);
  for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) m[x * 8 + u] = ((u === 0 ? Math.SQRT1_2 : 1) / 2) * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  return m;
})();

interface Huffman {
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
  return { maxcode, mincode, valptr, values };
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
    k++;
  }
}

/** Dequantises one block (zigzag order) and inverse-transforms it into 8×8 samples. */
function idctBlock(coefs: Int32Array, at: number, q: Uint16Array, out: Float64Array): void {
  const f = new Float64Array(64);
  for (let k = 0; k < 64; k++) f[ZIGZAG[k]!] = coefs[at + k]! * q[k]!;
  const tmp = new Float64Array(64);
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 8; x++) {
      let s = 0;
      for (let u = 0; u < 8; u++) s += IDCT[x * 8 + u]! * f[y * 8 + u]!;
      tmp[y * 8 + x] = s;
    }
  for (let x = 0; x < 8; x++)
    for (let y = 0; y < 8; y++) {
      let s = 0;
      for (let v = 0; v < 8; v++) s += IDCT[y * 8 + v]! * tmp[v * 8 + x]!;
      out[y * 8 + x] = s;
    }
}

export function decodeJpegSequential(b: Uint8Array): JpegImage {
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
        components.push({ id: b[o]!, h, v, tq: b[o + 2]! & 3, bpl: 0, bpc: 0, coefs: new Int32Array(0), pred: 0 });
      }
      hmax = Math.max(...components.map((c) => c.h));
      vmax = Math.max(...components.map((c) => c.v));
      mcusX = Math.ceil(width / (8 * hmax));
      mcusY = Math.ceil(height / (8 * vmax));
      for (const c of components) {
        c.bpl = mcusX * c.h;
        c.bpc = mcusY * c.v;
        c.coefs = new Int32Array(c.bpl * c.bpc * 64);
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
  const block = new Float64Array(64);
  for (let ci = 0; ci < n; ci++) {
    const c = components[ci]!;
    const q = quant[c.tq];
    if (!q) throw invalid(`quantisation table ${c.tq} was not defined`);
    const planeW = c.bpl * 8;
    const plane = new Uint16Array(planeW * c.bpc * 8);
    for (let by = 0; by < c.bpc; by++)
      for (let bx = 0; bx < c.bpl; bx++) {
        idctBlock(c.coefs, (by * c.bpl + bx) * 64, q, block);
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            const v = Math.round(block[y * 8 + x]! + shift);
            plane[(by * 8 + y) * planeW + bx * 8 + x] = v < 0 ? 0 : v > top ? top : v;
          }
      }
    const sx = c.h / hmax;
    const sy = c.v / vmax;
    for (let y = 0; y < height; y++) {
      const row = Math.floor(y * sy) * planeW;
      for (let x = 0; x < width; x++) data[(y * width + x) * n + ci] = plane[row + Math.floor(x * sx)]!;
    }
  }
  return { width, height, precision, components: n, data };
}
