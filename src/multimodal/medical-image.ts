/**
 * One entry point for an uploaded image: recognise the format from its bytes (the file name is only
 * a hint), read it with the right reader, de-identify DICOM, and describe it in the seed's
 * `image` shape. Also renders a display/model-ready 8-bit frame for the serving path.
 */
import { VitalsError } from '../errors.js';
import { type DeidOptions, type DeidReport, deidentifyDicom } from './dicom-deid.js';
import { type DicomFile, detectDicom, readDicomFile } from './dicom-file.js';
import { type AcquisitionFacts, type DicomMetadata, acquisitionFacts, buildDicomMetadata } from './dicom-metadata.js';
import { type DecodedFrames, decodeFrames } from './dicom-pixels.js';
import { type FrameReport, type FrameValues, frameReport, framesDiffer, readFrameValues } from './frame-functional-groups.js';
import { type NiftiVolume, isGzip, looksLikeNifti, readNifti } from './nifti.js';
import { type ModalityTransform, type ValueStatistics, type VoiChoice, chooseVoi, readModalityTransform, readVoi, renderFrame8, valueStatistics } from './pixel-values.js';
import { type RasterImage, detectRaster, readRaster } from './raster.js';

export type ImageFormat = 'dicom' | 'nifti' | 'png' | 'jpeg' | 'tiff';

export interface ImageLimits {
  /** decoded samples × bytes (all frames), and the ceiling for any decompression */
  maxDecodedBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxDecodedBytes: 512 * 1024 * 1024 };

/** Names users put in SUPPORTED_IMAGE_FORMATS (seed spellings included) → the format they mean. */
const FORMAT_NAMES: Record<string, ImageFormat> = {
  dcm: 'dicom',
  dicom: 'dicom',
  nii: 'nifti',
  'nii.gz': 'nifti',
  nifti: 'nifti',
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
  tif: 'tiff',
  tiff: 'tiff',
};

export function formatsFromSetting(names: string[]): Set<ImageFormat> {
  return new Set(names.map((n) => FORMAT_NAMES[n.toLowerCase().replace(/^\./, '')]).filter((f): f is ImageFormat => !!f));
}

function formatFromName(filename: string | undefined): ImageFormat | undefined {
  const name = filename?.toLowerCase() ?? '';
  if (name.endsWith('.nii.gz') || name.endsWith('.nii')) return 'nifti';
  const ext = /\.([a-z0-9]+)$/.exec(name)?.[1];
  return ext ? FORMAT_NAMES[ext] : undefined;
}

export interface DetectedFormat {
  format: ImageFormat;
  /** set when the file name says one format and the bytes another */
  extension_mismatch?: string;
}

/** The format from magic bytes; a gzip stream is taken as .nii.gz (only NIfTI is gzipped here). */
export function detectImageFormat(bytes: Uint8Array, filename?: string): DetectedFormat {
  if (bytes.length === 0) throw new VitalsError('INVALID_IMAGE', 'the file is empty');
  const named = formatFromName(filename);
  const raster = detectRaster(bytes);
  let format: ImageFormat | undefined;
  if (detectDicom(bytes) === 'part10' || detectDicom(bytes) === 'part10-without-preamble') format = 'dicom';
  else if (raster) format = raster;
  else if (isGzip(bytes) || looksLikeNifti(bytes)) format = 'nifti';
  else if (detectDicom(bytes) === 'dataset-only') format = 'dicom';
  if (!format) {
    const expected = named ? ` (the name says ${named}, but its bytes do not match)` : '';
    throw new VitalsError('INVALID_IMAGE', `not a recognised image${expected}: send DICOM, NIfTI (.nii/.nii.gz), PNG, JPEG or TIFF`);
  }
  return named && named !== format ? { format, extension_mismatch: `the file name says ${named} but the content is ${format}; read as ${format}` } : { format };
}

export interface ImageStatistics {
  shape: number[];
  dtype: string;
  mean_value: number;
  std_value: number;
  min: number;
  max: number;
  /** real-world units of the values (HU, …) when the file says */
  units: string | null;
  voxel_spacing_mm?: number[];
  orientation?: string;
  /** NaN/±Inf values of float data, left out of the statistics */
  nonfinite_values?: number;
  /** enhanced multi-frame objects whose frames differ in rescale, window or spacing: the values of each frame */
  per_frame?: FrameReport[];
}

export interface DescribedImage {
  format: ImageFormat;
  file_size_mb: number;
  dicom_metadata?: DicomMetadata;
  nifti_header?: {
    version: 1 | 2;
    datatype: string;
    byte_order: 'little' | 'big';
    scl_slope: number;
    scl_inter: number;
    qform_code: number;
    sform_code: number;
    affine: number[][];
  };
  raster?: { pages: number; channels: number; bits_per_sample: number; has_alpha: boolean };
  image_statistics: ImageStatistics;
  deidentification?: DeidReport;
  warnings?: string[];
}

export interface DescribeOptions {
  filename?: string;
  limits?: ImageLimits;
  deid: DeidOptions;
  /** formats allowed (SUPPORTED_IMAGE_FORMATS); all when absent */
  allowed?: Set<ImageFormat>;
}

export interface DicomReading {
  file: DicomFile;
  pixels: DecodedFrames;
  modality: ModalityTransform;
  stats: ValueStatistics;
  voi: VoiChoice | undefined;
  /** per-frame functional group values of every frame, when the object has functional groups */
  perFrame?: FrameValues[];
}

/** Parses and decodes a DICOM image, and computes real-unit statistics and its default VOI. */
export async function readDicomImage(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS, frames?: number[]): Promise<DicomReading> {
  const file = readDicomFile(bytes, { maxInflatedBytes: limits.maxDecodedBytes + 16 * 1024 * 1024 });
  const pixels = await decodeFrames(file, limits, frames);
  const colour = pixels.channels > 1;
  const base: ModalityTransform = colour ? { slope: 1, intercept: 0 } : readModalityTransform(file.dataSet);
  const perFrame = colour ? undefined : readFrameValues(file.dataSet, pixels.pixelModule.frames, base);
  const indices = frames ?? pixels.frames.map((_, i) => i);
  const stats = valueStatistics(pixels.frames, perFrame ? indices.map((i) => perFrame[i]!.modality) : base);
  // the first decoded frame's values stand for the image in metadata and rendering
  const first = perFrame?.[indices[0] ?? 0];
  const modality = first?.modality ?? base;
  let voi: VoiChoice | undefined;
  if (!colour) {
    const fileVoi = readVoi(file.dataSet);
    voi = chooseVoi(first?.window ? { ...fileVoi, windows: [first.window, ...fileVoi.windows] } : fileVoi, stats);
  }
  return { file, pixels, modality, stats, voi, ...(perFrame ? { perFrame } : {}) };
}

export async function describeImage(bytes: Uint8Array, opts: DescribeOptions): Promise<{ image: DescribedImage; facts?: AcquisitionFacts }> {
  const limits = opts.limits ?? DEFAULT_IMAGE_LIMITS;
  const detected = detectImageFormat(bytes, opts.filename);
  if (opts.allowed && !opts.allowed.has(detected.format)) {
    throw new VitalsError('UNSUPPORTED_MEDIA_TYPE', `${detected.format} images are not accepted here; allowed: ${[...opts.allowed].join(', ')} (SUPPORTED_IMAGE_FORMATS)`);
  }
  const base = { format: detected.format, file_size_mb: Math.round((bytes.byteLength / 1024 ** 2) * 1e4) / 1e4, ...(detected.extension_mismatch ? { warnings: [detected.extension_mismatch] } : {}) };
  if (detected.format === 'dicom') {
    const r = await readDicomImage(bytes, limits);
    const deid = deidentifyDicom(r.file.dataSet, opts.deid);
    const pm = r.pixels.pixelModule;
    const window = r.voi?.kind === 'window' && r.voi.source === 'file window' ? r.voi.window : undefined;
    const metadata = buildDicomMetadata(r.file, deid, pm, r.modality, window);
    const warnings = [...(base.warnings ?? []), ...(r.file.warnings ?? [])];
    const f0 = r.perFrame?.[0];
    if (f0 && !metadata.pixel_spacing && f0.pixelSpacing) metadata.pixel_spacing = f0.pixelSpacing;
    if (f0 && metadata.slice_thickness === null && f0.sliceThickness !== undefined) metadata.slice_thickness = f0.sliceThickness;
    const shape = [pm.rows, pm.columns, ...(pm.frames > 1 ? [pm.frames] : []), ...(r.pixels.channels > 1 ? [r.pixels.channels] : [])];
    const spacing = metadata.pixel_spacing;
    return {
      image: {
        ...base,
        ...(warnings.length ? { warnings } : {}),
        dicom_metadata: metadata,
        image_statistics: {
          shape,
          dtype: r.pixels.dtype,
          ...roundStats(r.stats),
          units: metadata.rescale_type === 'GY' ? 'Gy' : (metadata.rescale_type ?? (metadata.modality === 'CT' ? 'HU' : null)),
          ...(spacing ? { voxel_spacing_mm: metadata.slice_thickness !== null && pm.frames > 1 ? [...spacing, metadata.slice_thickness] : spacing } : {}),
          ...(r.perFrame && framesDiffer(r.perFrame) ? { per_frame: frameReport(r.perFrame) } : {}),
        },
        deidentification: deid.report,
      },
      facts: acquisitionFacts(metadata),
    };
  }
  if (detected.format === 'nifti') {
    const v = readNifti(bytes, limits);
    const stats = niftiStatistics(v);
    return {
      image: {
        ...base,
        nifti_header: {
          version: v.version,
          datatype: v.datatype,
          byte_order: v.littleEndian ? 'little' : 'big',
          scl_slope: v.scale.slope,
          scl_inter: v.scale.intercept,
          qform_code: v.qformCode,
          sform_code: v.sformCode,
          affine: v.affine,
        },
        image_statistics: {
          shape: v.components > 1 ? [...v.shape, v.components] : v.shape,
          dtype: v.datatype,
          ...roundStats(stats),
          units: null,
          voxel_spacing_mm: v.spacingMm,
          orientation: v.orientation,
        },
        // NIfTI has no patient attributes; its free-text fields (descrip, aux_file) are never returned.
      },
    };
  }
  const r: RasterImage = await readRaster(bytes, limits);
  const colourChannels = r.channels - (r.hasAlpha ? 1 : 0);
  return {
    image: {
      ...base,
      raster: { pages: r.pages, channels: r.channels, bits_per_sample: r.bitsPerSample, has_alpha: r.hasAlpha },
      image_statistics: {
        shape: [r.height, r.width, ...(r.pages > 1 ? [r.pages] : []), ...(colourChannels > 1 ? [colourChannels] : [])],
        dtype: `uint${r.bitsPerSample}`,
        ...roundStats(r.stats),
        units: null,
      },
    },
  };
}

export function niftiStatistics(v: NiftiVolume): ValueStatistics {
  return valueStatistics([v.data], { slope: v.scale.slope, intercept: v.scale.intercept });
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
function roundStats(s: ValueStatistics) {
  return { mean_value: r6(s.mean), std_value: r6(s.std), min: r6(s.min), max: r6(s.max), ...(s.nonfinite ? { nonfinite_values: s.nonfinite } : {}) };
}

export interface ModelReadyImage {
  /** 8-bit display levels after modality, VOI and MONOCHROME1 inversion; interleaved when RGB */
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  facts: AcquisitionFacts;
  voi_source: string;
}

/**
 * Renders the first frame of a DICOM image the way a viewer would (and a model trained on exported
 * PNGs expects): windowed, inverted when MONOCHROME1. Acquisition facts come along; identifiers do not.
 */
export async function renderDicomForModel(bytes: Uint8Array, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ModelReadyImage> {
  const r = await readDicomImage(bytes, limits, [0]);
  const pm = r.pixels.pixelModule;
  const frame = r.pixels.frames[0]!;
  const deid = deidentifyDicom(r.file.dataSet, { salt: 'facts-only', dates: 'remove' }); // only non-identifying fields are read from it
  const facts = acquisitionFacts(buildDicomMetadata(r.file, deid, pm, r.modality, undefined));
  if (r.pixels.channels === 3) {
    // deeper colour keeps its top 8 bits: of Bits Stored, or of a 16-bit palette's entries
    const bits = pm.photometric === 'PALETTE COLOR' ? (frame instanceof Uint16Array ? 16 : 8) : pm.bitsStored;
    const scale = 2 ** Math.max(0, bits - 8);
    const rgb = frame instanceof Uint8Array ? frame : Uint8Array.from(frame as ArrayLike<number>, (v) => Math.max(0, Math.min(255, Math.floor(v / scale))));
    return { pixels: rgb, width: pm.columns, height: pm.rows, channels: 3, facts, voi_source: 'none (colour)' };
  }
  const voi = r.voi!;
  return { pixels: renderFrame8(frame, r.modality, voi, pm.photometric === 'MONOCHROME1'), width: pm.columns, height: pm.rows, channels: 1, facts, voi_source: voi.source };
}
