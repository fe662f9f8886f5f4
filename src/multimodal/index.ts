/** Multi-modal medical data: DICOM, NIfTI, raster images, de-identification and clinical text. */
export { MultiModalityProcessor, type MultiModalityOptions, type MultiModalityResult, type ImagingInput } from './processor.js';
export {
  describeImage,
  detectImageFormat,
  readDicomImage,
  renderDicomForModel,
  formatsFromSetting,
  DEFAULT_IMAGE_LIMITS,
  type DescribedImage,
  type ImageFormat,
  type ImageLimits,
  type ImageStatistics,
  type ModelReadyImage,
} from './medical-image.js';
export { readDicomFile, detectDicom, type DicomFile } from './dicom-file.js';
export { decodeFrames, readPixelModule, type PixelModule, type DecodedFrames, type StoredArray } from './dicom-pixels.js';
export { readModalityTransform, readVoi, chooseVoi, windowLevel, renderFrame8, valueStatistics, type VoiWindow, type ModalityTransform } from './pixel-values.js';
export { deidentifyDicom, pseudonym, remapUid, dateShiftDays, ageBand, type DeidOptions, type DeidReport } from './dicom-deid.js';
export type { DicomMetadata, AcquisitionFacts } from './dicom-metadata.js';
export { readNifti, gunzipBounded, looksLikeNifti, isGzip, type NiftiVolume } from './nifti.js';
export { readRaster, type RasterImage } from './raster.js';
export { decodeRleFrame } from './rle-decoder.js';
export { labelReport, OBSERVATIONS, type Observation, type ObservationLabel, type ObservationMention, type ReportLabels } from './chexpert-labeler.js';
export { analyseReport, type TextReportAnalysis, type ReportEntity, type ReportType } from './text-report.js';
export { findMeasurements, type Measurement } from './report-measurements.js';
export { DicomwebClient, type InstanceRef, type InstanceQuery } from './dicomweb-client.js';
export { parseMultipartRelated, boundaryOf } from './multipart-related.js';
export { multimodalPlugin, type MultimodalDeps } from './routes.js';
export { readStudyIdentifiers, studyKeys, accessionKey, identifiersFromStudyId, checkReportIdentifiers, type StudyIdentifiers, type StudyKeys } from './study-identity.js';
export { deidentifyDicomFile, type DeidentifiedFile } from './dicom-deid-file.js';
export { deidentifyImagePayload, stripJpegMetadata, stripPngText, type PayloadDeidOptions } from './image-payload.js';
export { loadDeidKey, DEID_KEY_FILE, type DeidKey } from './deid-key.js';
