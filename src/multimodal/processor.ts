/**
 * MultiModalityProcessor: the TypeScript counterpart of the seed's Python class. One image (bytes
 * or a path), an optional report, a modality → the seed's result shape, de-identified. The only
 * I/O here is reading `imagePath`; everything else is the pure readers in this folder.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { VitalsError } from '../errors.js';
import type { DeidOptions } from './dicom-deid.js';
import type { AcquisitionFacts } from './dicom-metadata.js';
import { DEFAULT_IMAGE_LIMITS, type DescribedImage, type ImageFormat, type ImageLimits, describeImage, formatsFromSetting } from './medical-image.js';
import { type ReportType, type TextReportAnalysis, analyseReport } from './text-report.js';

export interface MultiModalityOptions {
  /** MAX_IMAGE_SIZE_MB, in bytes */
  maxFileBytes: number;
  /** SUPPORTED_IMAGE_FORMATS (dcm/dicom, nii/nii.gz/nifti, png, jpg/jpeg, tif/tiff) */
  supportedFormats: string[];
  limits: ImageLimits;
  /** DEID_SALT; a random one (pseudonyms stable only for this process) when absent */
  deid: Partial<DeidOptions>;
  /** longest report text accepted, in characters */
  maxTextChars: number;
}

export interface ImagingInput {
  bytes?: Uint8Array;
  imagePath?: string;
  filename?: string;
  modality?: string;
  textReport?: string;
  reportType?: ReportType;
}

export interface MultiModalityResult {
  modality: string | null;
  processed_at: string;
  image: DescribedImage;
  text_report: TextReportAnalysis | null;
}

export const DEFAULT_MAX_TEXT_CHARS = 200_000;

export class MultiModalityProcessor {
  readonly options: MultiModalityOptions;
  private readonly deid: DeidOptions;
  private readonly allowed: Set<ImageFormat>;
  /** true when no DEID_SALT was given (pseudonyms then change with every restart) */
  readonly ephemeralSalt: boolean;

  constructor(options: Partial<MultiModalityOptions> = {}) {
    this.options = {
      maxFileBytes: options.maxFileBytes ?? 50 * 1024 * 1024,
      supportedFormats: options.supportedFormats ?? ['dcm', 'nii', 'nii.gz', 'png', 'jpg', 'jpeg', 'tif', 'tiff'],
      limits: options.limits ?? DEFAULT_IMAGE_LIMITS,
      deid: options.deid ?? {},
      maxTextChars: options.maxTextChars ?? DEFAULT_MAX_TEXT_CHARS,
    };
    this.ephemeralSalt = !options.deid?.salt;
    this.deid = { salt: options.deid?.salt ?? randomBytes(32).toString('hex'), dates: options.deid?.dates ?? 'shift' };
    this.allowed = formatsFromSetting(this.options.supportedFormats);
  }

  /** Describes and de-identifies one image, and analyses its report when given. */
  async processImagingData(input: ImagingInput): Promise<MultiModalityResult & { facts?: AcquisitionFacts }> {
    const bytes = input.bytes ?? (input.imagePath ? await this.readBounded(input.imagePath) : undefined);
    if (!bytes) throw new VitalsError('MISSING_FILE', 'no image: send a file (or give imagePath)');
    this.checkSize(bytes.byteLength);
    const filename = input.filename ?? (input.imagePath ? basename(input.imagePath) : undefined);
    const { image, facts } = await describeImage(bytes, { filename, limits: this.options.limits, deid: this.deid, allowed: this.allowed });
    const fileModality = image.dicom_metadata?.modality ?? null;
    const modality = input.modality?.trim() || fileModality;
    if (input.modality && fileModality && input.modality.trim().toUpperCase() !== fileModality.toUpperCase()) {
      image.warnings = [...(image.warnings ?? []), `modality given as ${input.modality.trim()} but the DICOM header says ${fileModality}`];
    }
    return {
      modality,
      processed_at: new Date().toISOString(),
      image,
      text_report: input.textReport?.trim() ? this.processTextOnly(input.textReport, input.reportType) : null,
      ...(facts ? { facts } : {}),
    };
  }

  processTextOnly(text: string, reportType: ReportType = 'radiology'): TextReportAnalysis {
    if (text.length > this.options.maxTextChars) {
      throw new VitalsError('PAYLOAD_TOO_LARGE', `the report has ${text.length} characters; the limit is ${this.options.maxTextChars}`);
    }
    return analyseReport(text, reportType);
  }

  /** The seed's spelling: `process_imaging_data(image_path, modality, text_report)`. */
  process_imaging_data(image_path: string | Uint8Array, modality?: string, text_report?: string): Promise<MultiModalityResult> {
    return this.processImagingData(typeof image_path === 'string' ? { imagePath: image_path, modality, textReport: text_report } : { bytes: image_path, modality, textReport: text_report });
  }

  /** The seed's spelling: `process_text_only(text, report_type)`. */
  process_text_only(text: string, report_type: ReportType = 'clinical'): TextReportAnalysis {
    return this.processTextOnly(text, report_type);
  }

  checkSize(bytes: number): void {
    if (bytes > this.options.maxFileBytes) {
      throw new VitalsError('PAYLOAD_TOO_LARGE', `the file is ${(bytes / 1024 ** 2).toFixed(1)} MB; the limit is MAX_IMAGE_SIZE_MB=${+(this.options.maxFileBytes / 1024 ** 2).toFixed(3)}`);
    }
  }

  /** Reads a file, refusing one over the size limit before reading it. */
  private async readBounded(path: string): Promise<Uint8Array> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      throw new VitalsError('NOT_FOUND', `cannot open ${basename(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const { size } = await handle.stat();
      this.checkSize(size);
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }
}
