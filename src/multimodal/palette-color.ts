/**
 * PALETTE COLOR (PS3.3 C.7.6.3.1.5–6, C.7.9.2): stored indices through the red, green and blue
 * lookup tables to RGB, the way pydicom's `apply_color_lut` does it, so statistics compare exactly:
 * indices below the first mapped value take the first entry, above the table the last; entries are
 * 8-bit (packed one per byte, or one per 16-bit word) or 16-bit; segmented tables are expanded first.
 * Own code: the JavaScript DICOM libraries we use parse, but do not apply, palettes.
 */
import type { DataSet } from 'dicom-parser';
import { VitalsError } from '../errors.js';
import type { StoredArray } from './dicom-pixels.js';

const CHANNELS = [
  { name: 'Red', descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  { name: 'Green', descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  { name: 'Blue', descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
] as const;

export interface Palette {
  firstMapped: number;
  /** 8 or 16: the width of the entries, and of the RGB values that come out */
  bits: 8 | 16;
  luts: [Uint16Array, Uint16Array, Uint16Array];
  segmented: boolean;
}

const unprocessable = (msg: string) => new VitalsError('UNPROCESSABLE_IMAGE', msg);

/** numpy.around: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Expands segmented LUT data (C.7.9.2: discrete 0, linear 1, indirect 2). `words` are the table
 * values at the nominal width. The indirect offset is taken as an index into `words`, as pydicom does.
 */
export function expandSegmentedLut(words: ArrayLike<number>, eightBit: boolean, maxEntries: number, segments?: number, previous?: number, depth = 0): number[] {
  if (depth > 4) throw unprocessable('the segmented palette nests indirect segments too deeply');
  const lut: number[] = [];
  let o = 0;
  let read = 0;
  while (o + 1 < words.length) {
    const opcode = words[o]!;
    const length = words[o + 1]!;
    o += 2;
    if (opcode === 0) {
      for (let i = 0; i < length && o + i < words.length; i++) lut.push(words[o + i]!);
      o += length;
    } else if (opcode === 1) {
      const y0 = lut.length ? lut[lut.length - 1]! : previous;
      if (y0 === undefined) throw unprocessable('the segmented palette starts with a linear segment (it needs a value before it)');
      const y1 = words[o]!;
      o += 1;
      const step = (y1 - y0) / length;
      const start = y0 + step;
      // numpy.linspace(y0 + step, y1, length), rounded half to even
      for (let i = 0; i < length; i++) lut.push(i === length - 1 ? y1 : roundHalfEven(start + (i * (y1 - start)) / (length - 1)));
    } else if (opcode === 2) {
      if (!lut.length) throw unprocessable('the segmented palette starts with an indirect segment');
      let at: number;
      if (eightBit) {
        at = words[o]! | (words[o + 1]! << 8) | (words[o + 2]! << 16) | (words[o + 3]! << 24);
        o += 4;
      } else {
        at = words[o]! | (words[o + 1]! << 16);
        o += 2;
      }
      if (at < 0 || at >= words.length) throw unprocessable(`an indirect palette segment points outside the table (${at})`);
      const rest = Array.prototype.slice.call(words, at) as number[];
      lut.push(...expandSegmentedLut(rest, eightBit, maxEntries, length, lut[lut.length - 1], depth + 1));
    } else {
      throw unprocessable(`the segmented palette has an unknown segment type ${opcode}`);
    }
    if (lut.length > maxEntries) throw unprocessable(`the segmented palette expands past ${maxEntries} entries`);
    read++;
    if (read === segments) break;
  }
  return lut;
}

export function readPalette(ds: DataSet, signed: boolean): Palette {
  const descriptor = ds.elements[CHANNELS[0].descriptor];
  if (!descriptor || descriptor.length < 6) {
    throw unprocessable('PALETTE COLOR needs the Red/Green/Blue Palette Color Lookup Table Descriptor (0028,1101-1103)');
  }
  const entries = ds.uint16(CHANNELS[0].descriptor, 0) || 65536;
  // The first mapped value is US, or SS when the stored indices are signed.
  const firstMapped = signed ? ds.int16(CHANNELS[0].descriptor, 1)! : ds.uint16(CHANNELS[0].descriptor, 1)!;
  const nominal = ds.uint16(CHANNELS[0].descriptor, 2)!;
  if (nominal !== 8 && nominal !== 16) throw unprocessable(`palette entries of ${nominal} bits are not valid (8 or 16)`);
  const segmented = !ds.elements[CHANNELS[0].data] && !!ds.elements[CHANNELS[0].segmented];
  let bits: 8 | 16 = nominal;
  const luts = CHANNELS.map((c) => {
    const el = ds.elements[segmented ? c.segmented : c.data];
    if (!el || el.length === 0) throw unprocessable(`PALETTE COLOR: the ${c.name} Palette Color Lookup Table Data is missing`);
    const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
    if (segmented) {
      const words = nominal === 8 ? bytes : Uint16Array.from({ length: el.length >> 1 }, (_, i) => ds.uint16(segmented ? c.segmented : c.data, i)!);
      return Uint16Array.from(expandSegmentedLut(words, nominal === 8, 65536));
    }
    // The actual entry width is what the data holds per entry (8-bit entries may sit in 16-bit words).
    const depth = (el.length / entries) * 8;
    if (depth !== 8 && depth !== 16) throw unprocessable(`the ${c.name} palette holds ${el.length} bytes for ${entries} entries (need 1 or 2 bytes each)`);
    bits = depth;
    return depth === 8 ? Uint16Array.from(bytes) : Uint16Array.from({ length: entries }, (_, i) => ds.uint16(c.data, i)!);
  }) as [Uint16Array, Uint16Array, Uint16Array];
  return { firstMapped, bits, luts, segmented };
}

/** Indices → interleaved RGB at the palette's width. */
export function applyPalette(indices: StoredArray, p: Palette): Uint8Array | Uint16Array {
  const out = p.bits === 8 ? new Uint8Array(indices.length * 3) : new Uint16Array(indices.length * 3);
  const size = p.luts[0].length;
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i]! - p.firstMapped;
    const k = v < 0 ? 0 : Math.min(v, size - 1);
    for (let c = 0; c < 3; c++) {
      const lut = p.luts[c]!;
      out[i * 3 + c] = lut[Math.min(k, lut.length - 1)]!;
    }
  }
  return out;
}
