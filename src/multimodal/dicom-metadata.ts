/**
 * What leaves the DICOM reader: an allow-list of attributes read from the de-identified values
 * (never from the raw data set), in the seed's `dicom_metadata` shape, and the acquisition facts
 * monitoring may log (equipment and population, nothing that identifies a patient).
 */
import type { DeidentifiedAttributes } from './dicom-deid.js';
import type { DicomFile } from './dicom-file.js';
import type { PixelModule } from './dicom-pixels.js';
import { T } from './dicom-tags.js';
import type { ModalityTransform, VoiWindow } from './pixel-values.js';

export interface DicomMetadata {
  /** salted pseudonym of the patient ID (PSN-…), never the ID itself */
  patient_id: string | null;
  patient_sex: string | null;
  patient_age_band: string | null;
  /** shifted by the per-patient offset (or null when dates are removed) */
  study_date: string | null;
  series_date: string | null;
  modality: string | null;
  manufacturer: string | null;
  manufacturer_model_name: string | null;
  body_part_examined: string | null;
  view_position: string | null;
  laterality: string | null;
  kvp: number | null;
  slice_thickness: number | null;
  pixel_spacing: number[] | null;
  study_instance_uid: string | null;
  series_instance_uid: string | null;
  sop_instance_uid: string | null;
  sop_class_uid: string | null;
  transfer_syntax_uid: string;
  transfer_syntax: string;
  encoding: DicomFile['encoding'];
  rows: number;
  columns: number;
  number_of_frames: number;
  samples_per_pixel: number;
  photometric_interpretation: string;
  bits_allocated: number;
  bits_stored: number;
  high_bit: number;
  pixel_representation: number;
  rescale_slope: number;
  rescale_intercept: number;
  rescale_type: string | null;
  window_center: number | null;
  window_width: number | null;
  voi_lut_function: string | null;
  patient_identity_removed: 'YES';
  deidentification_method: string;
}

/** Non-identifying acquisition facts for the prediction log (flattened to image.<key> by monitoring). */
export interface AcquisitionFacts {
  modality: string | null;
  manufacturer: string | null;
  device_model: string | null;
  view_position: string | null;
  body_part: string | null;
  /** a category, not a number: a protocol change shows as a shift in its share */
  kvp: string | null;
  patient_age_band: string | null;
  patient_sex: string | null;
}

function numberList(v: string | undefined): number[] | null {
  if (!v) return null;
  const xs = v
    .split('\\')
    .map((s) => Number.parseFloat(s))
    .filter(Number.isFinite);
  return xs.length ? xs : null;
}

export function buildDicomMetadata(file: DicomFile, deid: DeidentifiedAttributes, pm: PixelModule, modality: ModalityTransform, window: VoiWindow | undefined): DicomMetadata {
  const v = (tag: string) => deid.values.get(tag) ?? null;
  const n = (tag: string) => {
    const s = deid.values.get(tag);
    const x = s === undefined ? Number.NaN : Number.parseFloat(s);
    return Number.isFinite(x) ? x : null;
  };
  return {
    patient_id: deid.patientKey,
    patient_sex: deid.patientSex,
    patient_age_band: deid.patientAgeBand,
    study_date: v(T.StudyDate),
    series_date: v(T.SeriesDate),
    modality: v(T.Modality),
    manufacturer: v(T.Manufacturer),
    manufacturer_model_name: v(T.ManufacturerModelName),
    body_part_examined: v(T.BodyPartExamined),
    view_position: v(T.ViewPosition),
    laterality: v(T.Laterality),
    kvp: n(T.KVP),
    slice_thickness: n(T.SliceThickness),
    pixel_spacing: numberList(deid.values.get(T.PixelSpacing)),
    study_instance_uid: v(T.StudyInstanceUID),
    series_instance_uid: v(T.SeriesInstanceUID),
    sop_instance_uid: v(T.SOPInstanceUID),
    sop_class_uid: v(T.SOPClassUID),
    transfer_syntax_uid: file.transferSyntaxUid,
    transfer_syntax: file.transferSyntaxName,
    encoding: file.encoding,
    rows: pm.rows,
    columns: pm.columns,
    number_of_frames: pm.frames,
    samples_per_pixel: pm.samplesPerPixel,
    photometric_interpretation: pm.photometric,
    bits_allocated: pm.bitsAllocated,
    bits_stored: pm.bitsStored,
    high_bit: pm.highBit,
    pixel_representation: pm.pixelRepresentation,
    rescale_slope: modality.slope,
    rescale_intercept: modality.intercept,
    rescale_type: modality.type ?? null,
    window_center: window?.center ?? null,
    window_width: window?.width ?? null,
    voi_lut_function: window?.function ?? null,
    patient_identity_removed: 'YES',
    deidentification_method: deid.values.get(T.DeidentificationMethod)!,
  };
}

export function acquisitionFacts(
  meta: Pick<DicomMetadata, 'modality' | 'manufacturer' | 'manufacturer_model_name' | 'view_position' | 'body_part_examined' | 'kvp' | 'patient_age_band' | 'patient_sex'>,
): AcquisitionFacts {
  return {
    modality: meta.modality,
    manufacturer: meta.manufacturer,
    device_model: meta.manufacturer_model_name,
    view_position: meta.view_position,
    body_part: meta.body_part_examined,
    kvp: meta.kvp === null ? null : String(Math.round(meta.kvp)),
    patient_age_band: meta.patient_age_band,
    patient_sex: meta.patient_sex,
  };
}
