/**
 * From stored values to what they mean and how they are shown (PS3.3 C.11): the modality
 * transform (Rescale Slope/Intercept or a Modality LUT) gives real units such as Hounsfield units;
 * the VOI transform (Window Center/Width with LINEAR, LINEAR_EXACT or SIGMOID, or a VOI LUT) maps
 * them to display levels; MONOCHROME1 is inverted after VOI so that bright always means dense.
 */
import type { DataSet } from 'dicom-parser';
import { T } from './dicom-tags.js';
import { num, numbers, text } from './dicom-values.js';
import type { StoredArray } from './dicom-pixels.js';

export interface ModalityTransform {
  slope: number;
  intercept: number;
  /** Rescale Type: HU, US (unspecified), … */
  type?: string;
  lut?: Lut;
}

export interface Lut {
  firstMapped: number;
  bits: number;
  data: Uint16Array;
  explanation?: string;
}

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface VoiWindow {
  center: number;
  width: number;
  function: VoiFunction;
  explanation?: string;
}

export type VoiChoice = { kind: 'window'; window: VoiWindow; source: string } | { kind: 'lut'; lut: Lut; source: string };

export function readModalityTransform(ds: DataSet): ModalityTransform {
  const slope = num(ds, T.RescaleSlope);
  const intercept = num(ds, T.RescaleIntercept);
  const lutItem = ds.elements[T.ModalityLUTSequence]?.items?.[0]?.dataSet;
  const signed = (ds.uint16(T.PixelRepresentation) ?? 0) === 1;
  const lut = lutItem ? readLut(lutItem, signed) : undefined;
  // RT Dose: stored values × Dose Grid Scaling are the dose in Dose Units (GY or RELATIVE)
  const doseScaling = slope === undefined ? num(ds, T.DoseGridScaling) : undefined;
  if (doseScaling !== undefined && doseScaling > 0) {
    return { slope: doseScaling, intercept: 0, type: text(ds, T.DoseUnits)?.toUpperCase() ?? 'GY' };
  }
  return {
    slope: slope !== undefined && slope !== 0 ? slope : 1,
    intercept: intercept ?? 0,
    type: text(ds, T.RescaleType) ?? (lutItem ? text(lutItem, T.ModalityLUTType) : undefined),
    lut: slope === undefined ? lut : undefined,
  };
}

/** `signed`: the first mapped value is SS (the input range can be negative), not US. */
function readLut(item: DataSet, signed: boolean): Lut | undefined {
  const desc = item.elements[T.LUTDescriptor];
  const dataEl = item.elements[T.LUTData];
  if (!desc || desc.length < 6 || !dataEl) return undefined;
  const entries = item.uint16(T.LUTDescriptor, 0) || 65536;
  // The first mapped value is US or SS depending on the pixel representation; both read as 16 bits.
  const firstRaw = signed ? item.int16(T.LUTDescriptor, 1)! : item.uint16(T.LUTDescriptor, 1)!;
  const bits = item.uint16(T.LUTDescriptor, 2)!;
  const available = Math.floor(dataEl.length / 2);
  const data = new Uint16Array(Math.min(entries, available));
  for (let i = 0; i < data.length; i++) data[i] = item.uint16(T.LUTData, i)!;
  if (data.length === 0 || bits < 1 || bits > 16) return undefined;
  return { firstMapped: firstRaw, bits, data, explanation: text(item, T.LUTExplanation) };
}

export function readVoi(ds: DataSet): { windows: VoiWindow[]; luts: Lut[] } {
  const centers = numbers(ds, T.WindowCenter);
  const widths = numbers(ds, T.WindowWidth);
  const explanations = (text(ds, T.WindowCenterWidthExplanation) ?? '').split('\\');
  const fn = (text(ds, T.VOILUTFunction) ?? 'LINEAR').toUpperCase();
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (widths[i]! < 1) continue; // PS3.3: Window Width shall be ≥ 1
    windows.push({ center: centers[i]!, width: widths[i]!, function: fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR', explanation: explanations[i] || undefined });
  }
  // VOI input is the modality output: signed when the stored values are, or a negative intercept makes it so.
  const signed = (ds.uint16(T.PixelRepresentation) ?? 0) === 1 || (num(ds, T.RescaleIntercept) ?? 0) < 0;
  const luts = (ds.elements[T.VOILUTSequence]?.items ?? []).map((it) => (it.dataSet ? readLut(it.dataSet, signed) : undefined)).filter((l): l is Lut => !!l);
  return { windows, luts };
}

/** Stored value → real-world value. */
export function modalityValue(m: ModalityTransform, stored: number): number {
  if (m.lut) {
    const i = Math.min(Math.max(stored - m.lut.firstMapped, 0), m.lut.data.length - 1);
    return m.lut.data[i]!;
  }
  return stored * m.slope + m.intercept;
}

export interface ValueStatistics {
  /** finite values counted (NaN and ±Inf of float data are left out, and counted in `nonfinite`) */
  count: number;
  nonfinite?: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/**
 * Mean, population standard deviation, min and max of real-world values over all frames (Welford, one pass).
 * `transforms`: one for all frames, or one per frame (enhanced multi-frame objects rescale per frame).
 */
export function valueStatistics(frames: StoredArray[], transforms: ModalityTransform | ModalityTransform[]): ValueStatistics {
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nonfinite = 0;
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    const m = Array.isArray(transforms) ? transforms[k]! : transforms;
    const float = f instanceof Float32Array || f instanceof Float64Array;
    if (float && hasNonFinite(f)) {
      // float volumes mark outside-the-field voxels NaN; statistics are of the finite ones (numpy's nanmean)
      for (let i = 0; i < f.length; i++) {
        const v = modalityValue(m, f[i]!);
        if (!Number.isFinite(v)) {
          nonfinite++;
          continue;
        }
        count++;
        const d = v - mean;
        mean += d / count;
        m2 += d * (v - mean);
        if (v < min) min = v;
        if (v > max) max = v;
      }
      continue;
    }
    const linear = !m.lut;
    if (linear && isSmallInt(f) && f.length > 65536) {
      // 8/16-bit integers: a histogram is one increment per value; the moments come from its bins.
      // The following frames of the same type and rescale share the histogram (one scan of the bins).
      let j = k + 1;
      for (; j < frames.length; j++) {
        const g = frames[j]!;
        const mg = Array.isArray(transforms) ? transforms[j]! : transforms;
        if (g.constructor !== f.constructor || g.length <= 65536 || mg.lut || mg.slope !== m.slope || mg.intercept !== m.intercept) break;
      }
      const group = frames.slice(k, j) as SmallInt[];
      k = j - 1;
      const n = group.reduce((a, g) => a + g.length, 0);
      const h = histogramMoments(group, n);
      const fMean = h.mean * m.slope + m.intercept;
      const fM2 = h.m2 * m.slope * m.slope;
      const a = modalityValue(m, h.lo);
      const b = modalityValue(m, h.hi);
      min = Math.min(min, a, b);
      max = Math.max(max, a, b);
      const total = count + n;
      const delta = fMean - mean;
      mean += (delta * n) / total;
      m2 += fM2 + (delta * delta * count * n) / total;
      count = total;
      continue;
    }
    // Sum stored values, then transform the moments: exact for a linear transform and twice as fast.
    let s = 0;
    let s2 = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const n = f.length;
    if (linear) {
      const shift = n > 0 ? f[0]! : 0; // shifted sums keep precision for large offsets
      for (let i = 0; i < n; i++) {
        const v = f[i]!;
        const d = v - shift;
        s += d;
        s2 += d * d;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const fm = s / n;
      const fvar = Math.max(0, s2 / n - fm * fm);
      const fMean = (fm + shift) * m.slope + m.intercept;
      const fM2 = fvar * n * m.slope * m.slope;
      const a = modalityValue(m, lo);
      const b = modalityValue(m, hi);
      min = Math.min(min, a, b);
      max = Math.max(max, a, b);
      const total = count + n;
      const delta = fMean - mean;
      mean += (delta * n) / total;
      m2 += fM2 + (delta * delta * count * n) / total;
      count = total;
    } else {
      for (let i = 0; i < n; i++) {
        const v = modalityValue(m, f[i]!);
        count++;
        const d = v - mean;
        mean += d / count;
        m2 += d * (v - mean);
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  return { count, mean, std: count > 0 ? Math.sqrt(m2 / count) : 0, min, max, ...(nonfinite ? { nonfinite } : {}) };
}

type SmallInt = Uint8Array | Int8Array | Uint16Array | Int16Array;
const isSmallInt = (f: StoredArray): f is SmallInt => f instanceof Uint8Array || f instanceof Int8Array || f instanceof Uint16Array || f instanceof Int16Array;

/** Mean, sum of squared deviations (two passes over the bins, exact), lowest and highest stored value of frames of one type, n values in all. */
function histogramMoments(frames: SmallInt[], n: number): { mean: number; m2: number; lo: number; hi: number } {
  const f0 = frames[0]!;
  const offset = f0 instanceof Int8Array ? 128 : f0 instanceof Int16Array ? 32768 : 0;
  const bins = new Uint32Array(f0 instanceof Uint8Array || f0 instanceof Int8Array ? 256 : 65536);
  for (const f of frames)
    for (let i = 0; i < f.length; i++) {
      const v = f[i]! + offset;
      bins[v] = bins[v]! + 1;
    }
  let lo = -1;
  let hi = -1;
  let sum = 0;
  for (let v = 0; v < bins.length; v++) {
    const c = bins[v]!;
    if (c === 0) continue;
    if (lo < 0) lo = v;
    hi = v;
    sum += c * v;
  }
  const mean = sum / n;
  let m2 = 0;
  for (let v = lo; v <= hi; v++) {
    const c = bins[v]!;
    if (c !== 0) m2 += c * (v - mean) * (v - mean);
  }
  return { mean: mean - offset, m2, lo: lo - offset, hi: hi - offset };
}

function hasNonFinite(f: Float32Array | Float64Array): boolean {
  for (let i = 0; i < f.length; i++) if (!Number.isFinite(f[i]!)) return true;
  return false;
}

/** Picks the VOI transform: an explicit window, the file's first window, its first VOI LUT, else min–max. */
export function chooseVoi(voi: { windows: VoiWindow[]; luts: Lut[] }, stats: ValueStatistics, explicit?: { center: number; width: number }): VoiChoice {
  if (explicit) return { kind: 'window', window: { ...explicit, function: 'LINEAR' }, source: 'request' };
  if (voi.windows[0]) return { kind: 'window', window: voi.windows[0], source: 'file window' };
  if (voi.luts[0]) return { kind: 'lut', lut: voi.luts[0], source: 'file VOI LUT' };
  // dcmtk's min-max window: center and width from the real value range.
  const width = Math.max(1, stats.max - stats.min + 1);
  return { kind: 'window', window: { center: stats.min + width / 2, width, function: 'LINEAR' }, source: 'min-max' };
}

/** Real value → display level in [0, 1] by a VOI window (PS3.3 C.11.2.1.2). */
export function windowLevel(w: VoiWindow, x: number): number {
  const { center: c, width } = w;
  if (w.function === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / width));
  if (w.function === 'LINEAR_EXACT') {
    if (x <= c - width / 2) return 0;
    if (x > c + width / 2) return 1;
    return (x - c) / width + 0.5;
  }
  if (width <= 1) return x <= c - 0.5 ? 0 : 1;
  if (x <= c - 0.5 - (width - 1) / 2) return 0;
  if (x > c - 0.5 + (width - 1) / 2) return 1;
  return (x - (c - 0.5)) / (width - 1) + 0.5;
}

/** A display level in [0, 255] to a byte: inverted first for MONOCHROME1, then truncated, as dcmtk does (so outputs compare exactly). */
function level8(y: number, monochrome1: boolean): number {
  const v = monochrome1 ? 255 - y : y;
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v);
}

/**
 * Renders one grayscale frame to 8-bit display levels: modality transform, VOI, then inversion for
 * MONOCHROME1. Colour frames are returned as they are (8-bit RGB has no VOI).
 */
export function renderFrame8(frame: StoredArray, m: ModalityTransform, choice: VoiChoice, monochrome1: boolean): Uint8Array {
  const out = new Uint8Array(frame.length);
  if (choice.kind === 'lut') {
    const { lut } = choice;
    const top = (1 << lut.bits) - 1;
    for (let i = 0; i < frame.length; i++) {
      const x = modalityValue(m, frame[i]!);
      const idx = Math.min(Math.max(Math.round(x) - lut.firstMapped, 0), lut.data.length - 1);
      out[i] = level8((Math.min(lut.data[idx]!, top) / top) * 255, monochrome1);
    }
    return out;
  }
  // A table over every stored value makes this one lookup per pixel for 8/16-bit data; the frames
  // of an image share it (the last table is kept).
  const w = choice.window;
  if (isSmallInt(frame) && frame.length > 4096) {
    const table = levelTable(frame, m, w, monochrome1);
    const offset = frame instanceof Int16Array ? 32768 : frame instanceof Int8Array ? 128 : 0;
    for (let i = 0; i < frame.length; i++) out[i] = table[frame[i]! + offset]!;
    return out;
  }
  if (!(frame instanceof Float32Array || frame instanceof Float64Array) && frame.length > 4096) {
    // 32-bit integers: a table over the frame's own range
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < frame.length; i++) {
      const v = frame[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo <= 1 << 20) {
      const table = new Uint8Array(hi - lo + 1);
      for (let v = lo; v <= hi; v++) {
        table[v - lo] = level8(windowLevel(w, modalityValue(m, v)) * 255, monochrome1);
      }
      for (let i = 0; i < frame.length; i++) out[i] = table[frame[i]! - lo]!;
      return out;
    }
  }
  for (let i = 0; i < frame.length; i++) {
    out[i] = level8(windowLevel(w, modalityValue(m, frame[i]!)) * 255, monochrome1);
  }
  return out;
}

let lastTable: { type: unknown; slope: number; intercept: number; lut?: Lut; center: number; width: number; fn: string; monochrome1: boolean; table: Uint8Array } | undefined;

/** Display level of every value of an 8/16-bit type (indexed by value + 128/32768 for signed types). */
function levelTable(frame: SmallInt, m: ModalityTransform, w: VoiWindow, monochrome1: boolean): Uint8Array {
  const t = lastTable;
  if (
    t &&
    t.type === frame.constructor &&
    t.slope === m.slope &&
    t.intercept === m.intercept &&
    t.lut === m.lut &&
    t.center === w.center &&
    t.width === w.width &&
    t.fn === w.function &&
    t.monochrome1 === monochrome1
  )
    return t.table;
  const small = frame instanceof Uint8Array || frame instanceof Int8Array;
  const first = frame instanceof Int16Array ? -32768 : frame instanceof Int8Array ? -128 : 0;
  const table = new Uint8Array(small ? 256 : 65536);
  for (let i = 0; i < table.length; i++) table[i] = level8(windowLevel(w, modalityValue(m, first + i)) * 255, monochrome1);
  lastTable = { type: frame.constructor, slope: m.slope, intercept: m.intercept, lut: m.lut, center: w.center, width: w.width, fn: w.function, monochrome1, table };
  return table;
}
