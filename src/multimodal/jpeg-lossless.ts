/**
 * JPEG Lossless, non-hierarchical, Huffman coded (ITU-T T.81 process 14, SOF3; DICOM 1.2.840.10008.1.2.4.57
 * and .70 = selection value 1). Own code for speed: the npm decoder (jpeg-lossless-decoder-js) ran at
 * 0.3–0.4× dcmtk, a function call per bit and per sample. Here each image row is entropy-decoded into
 * a row of differences (bit buffer in local variables, 9-bit Huffman lookahead), then undone by a loop
 * specialised for the scan's predictor (H.1.2.1), straight into the 16-bit output. Point transform,
 * restart intervals at row boundaries, interleaved and one-scan-per-component images are handled.
 * Returns undefined for what is left to the npm decoder: sampling factors other than 1×1 and restart
 * intervals that end mid-row.
 */
import { VitalsError } from '../errors.js';
import { decodeLong, fusedDiffTable, type Huffman, LOOKAHEAD, readHuffmanTables } from './jpeg-huffman.js';

export interface LosslessImage {
  width: number;
  height: number;
  precision: number;
  components: number;
  /** interleaved samples */
  data: Uint16Array;
}

/** bits of the fused lookahead: a Huffman code and its extra bits, read by one table lookup */
const FUSED = 12;

const invalid = (msg: string) => new VitalsError('INVALID_IMAGE', `could not decode the JPEG Lossless frame (${msg})`);

export function decodeJpegLossless(encoded: Uint8Array): LosslessImage | undefined {
  // a plain Uint8Array view: element reads on a Buffer (a subclass) are slower in the hot loop
  const b = new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  if (b[0] !== 0xff || b[1] !== 0xd8) throw invalid('no SOI marker');
  const dc: Huffman[] = [];
  let width = 0;
  let height = 0;
  let precision = 0;
  let ids: number[] = [];
  let data: Uint16Array | undefined;
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
    if (length < 2 || end > b.length) throw invalid('a marker segment runs past the end');
    if (marker === 0xc4) readHuffmanTables(b, seg, end, dc, []);
    else if (marker === 0xdd) restartInterval = (b[seg]! << 8) | b[seg + 1]!;
    else if (marker === 0xc3) {
      if (data) throw invalid('a second frame header');
      precision = b[seg]!;
      height = (b[seg + 1]! << 8) | b[seg + 2]!;
      width = (b[seg + 3]! << 8) | b[seg + 4]!;
      const n = b[seg + 5]!;
      if (precision < 2 || precision > 16) throw invalid(`sample precision ${precision} (2 to 16)`);
      if (width < 1 || height < 1 || n < 1 || n > 4) throw invalid(`a frame of ${width}×${height}×${n}`);
      ids = [];
      for (let i = 0; i < n; i++) {
        if (b[seg + 7 + 3 * i] !== 0x11) return undefined; // subsampled components
        ids.push(b[seg + 6 + 3 * i]!);
      }
      data = new Uint16Array(width * height * n);
    } else if ((marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) || marker === 0xf7) {
      throw invalid(`frame type SOF${marker - 0xc0} is not lossless Huffman (SOF3)`);
    } else if (marker === 0xda) {
      if (!data) throw invalid('a scan before the frame header');
      const ns = b[seg]!;
      const comps: number[] = [];
      const tables: Huffman[] = [];
      for (let i = 0; i < ns; i++) {
        const c = ids.indexOf(b[seg + 1 + 2 * i]!);
        const t = dc[b[seg + 2 + 2 * i]! >> 4];
        if (c < 0) throw invalid('a scan names a component the frame does not have');
        if (!t) throw invalid('a scan uses a Huffman table that was not defined');
        comps.push(c);
        tables.push(t);
      }
      const predictor = b[seg + 1 + 2 * ns]!;
      const pt = b[seg + 3 + 2 * ns]! & 15;
      if (predictor < 1 || predictor > 7) throw invalid(`predictor ${predictor} (1 to 7)`);
      if (pt >= precision) throw invalid(`point transform ${pt} for ${precision}-bit samples`);
      if (restartInterval % width !== 0) return undefined; // restarts mid-row
      const rowsPerInterval = restartInterval / width;
      pos = decodeScan(b, end, data, width, height, ids.length, comps, tables, predictor, precision, pt, rowsPerInterval);
      continue;
    }
    pos = end;
  }
  if (!data) throw invalid('no lossless frame header (SOF3)');
  return { width, height, precision, components: ids.length, data };
}

/**
 * One scan: rows of differences, then the predictor. Samples are kept before the point transform
 * (predictions use them), shifted up at the end. Returns the position after the entropy-coded data.
 */
function decodeScan(
  b: Uint8Array,
  start: number,
  out: Uint16Array,
  width: number,
  height: number,
  nc: number,
  comps: number[],
  tables: Huffman[],
  predictor: number,
  precision: number,
  pt: number,
  rowsPerInterval: number,
): number {
  const ns = comps.length;
  const diffs = new Int32Array(width * ns);
  const stride = width * nc;
  const initial = 1 << (precision - pt - 1);
  // The bit reader lives in these locals and its refill (byte stuffing, markers) is written out at each
  // use, here and in jpeg-lossless.ts / jpeg-extended.ts: a shared function or reader object costs a
  // call or field access per code, which the profiles showed was most of the decode time.
  // the bit reader: acc holds nbits unread bits (at most 32), most significant first
  let acc = 0;
  let nbits = 0;
  let pos = start;
  let marker = false; // a marker was met: the rest reads as zero bits
  const fastTables = tables.map((t) => t.fast);
  const fusedTables = tables.map((t) => fusedDiffTable(t, FUSED));
  let firstRow = true;
  for (let y = 0; y < height; y++) {
    if (rowsPerInterval && y > 0 && y % rowsPerInterval === 0) {
      // restart: drop the partial byte, skip to and past RSTn, predict afresh
      acc = 0;
      nbits = 0;
      marker = false;
      while (pos + 1 < b.length && !(b[pos] === 0xff && b[pos + 1]! >= 0xd0 && b[pos + 1]! <= 0xd7)) pos++;
      pos += 2;
      firstRow = true;
    }
    // entropy-decode one row of differences (interleaved as the scan's components)
    for (let i = 0, n = width * ns; i < n; i++) {
      const k = ns === 1 ? 0 : i % ns;
      const fast = fastTables[k]!;
      const fused = fusedTables[k]!;
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
      const pair = fused[(acc >>> (nbits - FUSED)) & ((1 << FUSED) - 1)]!;
      if (pair !== 0) {
        nbits -= pair & 31;
        diffs[i] = pair >> 5;
        continue;
      }
      let hit = fast[(acc >>> (nbits - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)]!;
      if (hit === 0) {
        hit = decodeLong(tables[k]!, (acc >>> (nbits - 16)) & 0xffff);
        if (hit < 0) throw invalid('a Huffman code that is not in the table');
      }
      nbits -= hit >> 8;
      const s = hit & 0xff;
      let diff = 0;
      if (s === 16) diff = 32768;
      else if (s > 16) throw invalid(`a difference category ${s} (at most 16)`);
      else if (s > 0) {
        if (nbits < s) {
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
        const v = (acc >>> (nbits - s)) & ((1 << s) - 1);
        nbits -= s;
        diff = v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
      }
      diffs[i] = diff;
    }
    for (let k = 0; k < ns; k++) undifference(out, diffs, y * stride + comps[k]!, k, ns, nc, stride, width, firstRow ? 0 : predictor, initial);
    firstRow = false;
  }
  if (pt > 0) for (const c of comps) for (let i = c; i < out.length; i += nc) out[i] = out[i]! << pt;
  // continue after the entropy-coded data: at the next marker that is not a restart
  let p = pos;
  while (p + 1 < b.length && !(b[p] === 0xff && b[p + 1] !== 0 && !(b[p + 1]! >= 0xd0 && b[p + 1]! <= 0xd7))) p++;
  return p;
}

/**
 * Undoes the prediction for one component's row: out[o + x·nc] = prediction + diffs[k + x·ns], modulo
 * 2^16 (the Uint16Array wraps). Predictor 0 stands for the first row of the scan or of a restart
 * interval (the first sample predicted by 2^(P−Pt−1), the others by the left neighbour, Ra); every
 * later row starts with the sample above (Rb). Ra: left, Rb: above, Rc: above left.
 */
function undifference(out: Uint16Array, diffs: Int32Array, o: number, k: number, ns: number, nc: number, stride: number, width: number, predictor: number, initial: number): void {
  const u = o - stride; // the sample above
  if (predictor === 0) {
    out[o] = initial + diffs[k]!;
  } else {
    out[o] = out[u]! + diffs[k]!;
  }
  let d = k + ns;
  let x = nc;
  const end = width * nc;
  // Ra, the left neighbour, stays in a register (masked as the Uint16Array stores it)
  let ra = out[o]!;
  switch (predictor) {
    case 0:
    case 1:
      for (; x < end; x += nc, d += ns) out[o + x] = ra = (ra + diffs[d]!) & 0xffff;
      break;
    case 2:
      for (; x < end; x += nc, d += ns) out[o + x] = out[u + x]! + diffs[d]!;
      break;
    case 3:
      for (; x < end; x += nc, d += ns) out[o + x] = out[u + x - nc]! + diffs[d]!;
      break;
    case 4:
      for (; x < end; x += nc, d += ns) out[o + x] = ra = (ra + out[u + x]! - out[u + x - nc]! + diffs[d]!) & 0xffff;
      break;
    case 5:
      for (; x < end; x += nc, d += ns) out[o + x] = ra = (ra + ((out[u + x]! - out[u + x - nc]!) >> 1) + diffs[d]!) & 0xffff;
      break;
    case 6:
      for (; x < end; x += nc, d += ns) out[o + x] = ra = (out[u + x]! + ((ra - out[u + x - nc]!) >> 1) + diffs[d]!) & 0xffff;
      break;
    default:
      for (; x < end; x += nc, d += ns) out[o + x] = ra = (((ra + out[u + x]!) >> 1) + diffs[d]!) & 0xffff;
  }
}
