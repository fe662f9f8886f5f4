/**
 * Enhanced multi-frame objects (Enhanced CT/MR/XA, PS3.3 C.7.6.16) keep rescale, window and pixel
 * spacing in functional groups, per frame (Per-frame Functional Groups Sequence) or for all frames
 * (Shared Functional Groups Sequence), instead of at the top level. This reads, for each frame, the
 * Pixel Value Transformation, Frame VOI LUT and Pixel Measures macros, per-frame first, then shared,
 * then the top-level attributes.
 */
import type { DataSet } from 'dicom-parser';
import { T } from './dicom-tags.js';
import { num, numbers, text } from './dicom-values.js';
import type { ModalityTransform, VoiFunction, VoiWindow } from './pixel-values.js';

export interface FrameValues {
  modality: ModalityTransform;
  window?: VoiWindow;
  pixelSpacing?: number[];
  sliceThickness?: number;
}

function macro(group: DataSet | undefined, sequenceTag: string): DataSet | undefined {
  return group?.elements[sequenceTag]?.items?.[0]?.dataSet;
}

/** The values for each frame, or undefined when the object has no functional groups. */
export function readFrameValues(ds: DataSet, frames: number, base: ModalityTransform): FrameValues[] | undefined {
  const shared = ds.elements[T.SharedFunctionalGroupsSequence]?.items?.[0]?.dataSet;
  const perFrame = ds.elements[T.PerFrameFunctionalGroupsSequence]?.items ?? [];
  if (!shared && perFrame.length === 0) return undefined;
  const out: FrameValues[] = [];
  for (let f = 0; f < frames; f++) {
    const own = perFrame[f]?.dataSet;
    const pick = (seq: string) => macro(own, seq) ?? macro(shared, seq);
    const pvt = pick(T.PixelValueTransformationSequence);
    const slope = pvt ? num(pvt, T.RescaleSlope) : undefined;
    const modality: ModalityTransform = pvt
      ? { slope: slope !== undefined && slope !== 0 ? slope : 1, intercept: num(pvt, T.RescaleIntercept) ?? 0, type: text(pvt, T.RescaleType) ?? base.type }
      : base;
    const voi = pick(T.FrameVOILUTSequence);
    const center = voi ? num(voi, T.WindowCenter) : undefined;
    const width = voi ? num(voi, T.WindowWidth) : undefined;
    const fn = ((voi && text(voi, T.VOILUTFunction)) ?? 'LINEAR').toUpperCase();
    const window: VoiWindow | undefined =
      center !== undefined && width !== undefined && width >= 1 ? { center, width, function: (fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR') as VoiFunction } : undefined;
    const measures = pick(T.PixelMeasuresSequence);
    const spacing = measures ? numbers(measures, T.PixelSpacing) : [];
    const thickness = measures ? num(measures, T.SliceThickness) : undefined;
    out.push({ modality, window, pixelSpacing: spacing.length === 2 ? spacing : undefined, sliceThickness: thickness });
  }
  return out;
}

const key = (v: FrameValues) => JSON.stringify([v.modality.slope, v.modality.intercept, v.window?.center, v.window?.width, v.pixelSpacing, v.sliceThickness]);

/** True when some frame's rescale, window or spacing differs from the first frame's. */
export function framesDiffer(values: FrameValues[]): boolean {
  return values.some((v) => key(v) !== key(values[0]!));
}

export interface FrameReport {
  frame: number;
  rescale_slope: number;
  rescale_intercept: number;
  window_center: number | null;
  window_width: number | null;
  pixel_spacing_mm: number[] | null;
  slice_thickness_mm: number | null;
}

export function frameReport(values: FrameValues[]): FrameReport[] {
  return values.map((v, i) => ({
    frame: i + 1,
    rescale_slope: v.modality.slope,
    rescale_intercept: v.modality.intercept,
    window_center: v.window?.center ?? null,
    window_width: v.window?.width ?? null,
    pixel_spacing_mm: v.pixelSpacing ?? null,
    slice_thickness_mm: v.sliceThickness ?? null,
  }));
}
