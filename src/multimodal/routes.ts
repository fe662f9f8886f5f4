/**
 * Multi-modality endpoints (the seed's `/api/v1/multi-modality/…`): an image (DICOM, NIfTI, PNG,
 * JPEG, TIFF) with an optional report, a report alone, and studies pulled from a DICOMweb PACS.
 * Responses are de-identified; logs carry counts and codes, never attribute values.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessRecorder, AuditEntry } from '../audit/index.js';
import { VitalsError } from '../errors.js';
import type { Settings } from '../config/index.js';
import { fileField } from '../server/openapi.js';
import { auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, declare, errorResponses, view } from '../server/route-kit.js';
import { TRANSFER_SYNTAXES } from './dicom-tags.js';
import { DicomwebClient } from './dicomweb-client.js';
import { formatsFromSetting } from './medical-image.js';
import { DEFAULT_MAX_TEXT_CHARS, MultiModalityProcessor, type MultiModalityResult } from './processor.js';
import type { ReportType } from './text-report.js';

/** Only the settings the multimodal routes read (the composition root passes them). */
export interface MultimodalDeps {
  settings: Pick<Settings, 'MAX_IMAGE_SIZE_MB' | 'SUPPORTED_IMAGE_FORMATS' | 'MAX_DECODED_IMAGE_MB' | 'DEID_SALT' | 'DEID_DATES' | 'MULTI_MODALITY_ENABLED' | 'DICOMWEB_URL' | 'DICOMWEB_TOKEN'>;
  /** every image, report or DICOMweb study processed is a read of patient-level data: audited */
  access: AccessRecorder;
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/**
 * Runs one processing of patient data and writes its audit row: the outcome, and what was processed
 * named by fingerprint (sha256) and counts, never by file name or attribute values (they may name the
 * patient). A failure is recorded too, then answered.
 */
async function audited<T>(
  access: AccessRecorder,
  req: FastifyRequest,
  entry: Pick<AuditEntry, 'action' | 'target' | 'details'>,
  work: () => Promise<T>,
  after: (r: T) => Record<string, unknown>,
): Promise<T> {
  const context = auditContextOf(req);
  let result: T;
  try {
    result = await work();
  } catch (err) {
    const code = err instanceof VitalsError ? err.code : 'INTERNAL_ERROR';
    await access
      .recordAccess({ ...entry, outcome: 'failure', context, details: { ...entry.details, error: code } })
      .catch((auditErr) => req.log.error({ err: auditErr }, 'could not write the audit row of a failed processing'));
    throw err;
  }
  await access.recordAccess({ ...entry, context, details: { ...entry.details, ...after(result) } });
  return result;
}

const uploadForm = z.object({
  file: fileField('the image: DICOM, NIfTI (.nii/.nii.gz), PNG, JPEG or TIFF'),
  modality: z.string().optional().describe('the modality, when the file does not say (CT, MR, CR, …)'),
  text_report: z.string().optional().describe('the report that goes with the image'),
  report_type: z.enum(['radiology', 'clinical', 'pathology', 'other']).optional(),
});

/** an object whose fields pass through undocumented (service interfaces carry no index signature) */
const openObject = z.looseObject({}) as unknown as z.ZodType<object>;

const textReportView = view({
  report_type: z.string(),
  text_length: z.number(),
  word_count: z.number(),
  sections: openObject,
  extracted_entities: openObject,
  negated_entities: openObject,
  entities: z.array(openObject),
  entity_status: openObject,
  findings: z.array(z.string()),
  measurements: z.array(openObject),
  observations: z.record(z.string(), z.enum(['positive', 'negative', 'uncertain']).nullable()).describe('the 14 CheXpert observations: positive, negative, uncertain, or null when not mentioned'),
});

const resultView = view({
  modality: z.string().nullable(),
  processed_at: z.string(),
  image: view({ format: z.string() }).describe('the decoded image: format, dimensions, de-identified metadata, statistics'),
  text_report: textReportView.nullable(),
}).describe('MultiModalityResult');

const textView = textReportView.extend({ processed_at: z.string() });

const capabilitiesView = view({
  enabled: z.boolean(),
  supported_formats: z.array(z.string()),
  max_image_size_mb: z.number(),
  max_decoded_image_mb: z.number(),
  dicom_transfer_syntaxes: z.array(z.string()),
  deidentification: openObject,
  dicomweb: view({ configured: z.boolean() }),
});

const dicomwebView = view({
  matched: z.number(),
  processed: z.number(),
  results: z.array(resultView),
  failed: z.array(view({ index: z.number(), code: z.string(), message: z.string() })),
  processed_at: z.string(),
});

const REPORT_TYPES = ['radiology', 'clinical', 'pathology', 'other'] as const;

const textBody = z.object({
  text: z.string().min(1).max(DEFAULT_MAX_TEXT_CHARS).describe('the report: radiology, clinical or pathology free text'),
  report_type: z.enum(REPORT_TYPES).default('radiology'),
});

const dicomwebBody = z.object({
  study_instance_uid: z
    .string()
    .regex(/^[0-9.]{1,64}$/)
    .optional(),
  series_instance_uid: z
    .string()
    .regex(/^[0-9.]{1,64}$/)
    .optional(),
  modality: z
    .string()
    .regex(/^[A-Z]{1,16}$/)
    .optional(),
  study_date: z
    .string()
    .regex(/^\d{8}(-\d{8})?$/)
    .optional()
    .describe('YYYYMMDD or a range YYYYMMDD-YYYYMMDD'),
  limit: z.number().int().min(1).max(100).default(10).describe('most instances to retrieve and process'),
  text_report: z.string().max(DEFAULT_MAX_TEXT_CHARS).optional(),
  report_type: z.enum(REPORT_TYPES).default('radiology'),
});

interface FormData {
  file?: { bytes: Buffer; filename: string };
  fields: Record<string, string>;
}

async function readForm(req: FastifyRequest): Promise<FormData> {
  if (!req.isMultipart()) throw new VitalsError('MISSING_FILE', 'send multipart/form-data with the image in a field named "file" (curl -F "file=@scan.dcm" -F modality=CT)');
  const form: FormData = { fields: {} };
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      const bytes = await part.toBuffer();
      if (part.fieldname === 'file') form.file = { bytes, filename: part.filename };
    } else if (typeof part.value === 'string') form.fields[part.fieldname] = part.value;
  }
  return form;
}

function reportType(v: string | undefined): ReportType {
  if (v === undefined || v === '') return 'radiology';
  if ((REPORT_TYPES as readonly string[]).includes(v)) return v as ReportType;
  throw new VitalsError('VALIDATION_FAILED', `report_type must be one of ${REPORT_TYPES.join(', ')}`, { fields: [{ field: 'report_type', message: 'unknown report type' }] });
}

/** The response is the seed's shape; acquisition facts stay internal (they feed monitoring). */
function publicResult(r: MultiModalityResult & { facts?: unknown }): MultiModalityResult {
  const { facts: _facts, ...rest } = r;
  return rest;
}

/** The multi-modality capability: one Fastify plugin, given only the settings it reads. */
export function multimodalPlugin(s: MultimodalDeps): FastifyPluginAsync {
  const { access } = s;
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const settings = s.settings;
    const maxFileBytes = Math.round(settings.MAX_IMAGE_SIZE_MB * 1024 * 1024);
    const processor = new MultiModalityProcessor({
      maxFileBytes,
      supportedFormats: settings.SUPPORTED_IMAGE_FORMATS,
      limits: { maxDecodedBytes: Math.round(settings.MAX_DECODED_IMAGE_MB * 1024 * 1024) },
      deid: { salt: settings.DEID_SALT, dates: settings.DEID_DATES },
    });
    if (settings.MULTI_MODALITY_ENABLED && processor.ephemeralSalt) {
      app.log.warn('DEID_SALT is not set: patient pseudonyms and remapped UIDs are stable only until this process restarts');
    }
    const ensureEnabled = () => {
      if (!settings.MULTI_MODALITY_ENABLED) throw new VitalsError('FEATURE_DISABLED', 'multi-modality processing is disabled (MULTI_MODALITY_ENABLED=false)');
    };
    const tags = ['multi-modality'];
    // the file plus the other form fields (a report of up to DEFAULT_MAX_TEXT_CHARS) and multipart framing
    const uploadLimit = maxFileBytes + DEFAULT_MAX_TEXT_CHARS * 4 + 64 * 1024;

    const processUpload = async (req: FastifyRequest, requireReport: boolean) => {
      ensureEnabled();
      const form = await readForm(req);
      if (!form.file) throw new VitalsError('MISSING_FILE', 'no file field in the form: send the image in a field named "file"');
      if (requireReport && !form.fields.text_report?.trim()) {
        throw new VitalsError('VALIDATION_FAILED', 'process-multi-modality needs both an image (file) and a report (text_report)', { fields: [{ field: 'text_report', message: 'is required' }] });
      }
      const file = form.file;
      const result = await audited(
        access,
        req,
        {
          action: 'multimodal.image_processed',
          target: `image:sha256:${sha256(file.bytes)}`,
          details: { route: req.routeOptions.url, bytes: file.bytes.byteLength, with_report: !!form.fields.text_report?.trim() },
        },
        () =>
          processor.processImagingData({
            bytes: file.bytes,
            filename: file.filename,
            modality: form.fields.modality,
            textReport: form.fields.text_report,
            reportType: reportType(form.fields.report_type),
          }),
        (r) => ({ format: r.image.format, modality: r.modality }),
      );
      req.log.info({ format: result.image.format, bytes: form.file.bytes.byteLength, entities: result.text_report?.entities.length ?? 0 }, 'multi-modality image processed');
      return publicResult(result);
    };

    app.post(
      '/api/v1/multi-modality/process-image',
      {
        ...declare('multimodal:process', uploadLimit),
        schema: {
          tags,
          summary: 'Process a medical image (multipart: file, modality, text_report): metadata (de-identified), statistics, report',
          consumes: ['multipart/form-data'],
          multipart: uploadForm,
          response: { 200: resultView, ...errorResponses(400, 404, 413, 415) },
        },
      },
      async (req) => processUpload(req, false),
    );

    app.post(
      '/api/v1/multi-modality/process-multi-modality',
      {
        ...declare('multimodal:process', uploadLimit),
        schema: {
          tags,
          summary: 'Process an image together with its report (multipart: file, modality, text_report)',
          consumes: ['multipart/form-data'],
          multipart: uploadForm.extend({ text_report: z.string().describe('the report that goes with the image (required)') }),
          response: { 200: resultView, ...errorResponses(400, 404, 413, 415) },
        },
      },
      async (req) => processUpload(req, true),
    );

    app.post(
      '/api/v1/multi-modality/process-text',
      {
        // text up to DEFAULT_MAX_TEXT_CHARS characters (UTF-8: up to 4 bytes each) plus the JSON around it
        ...declare('multimodal:process', DEFAULT_MAX_TEXT_CHARS * 4 + 4096),
        schema: { tags, summary: 'Structure a report: sections, entities with status, findings, measurements', body: textBody, response: { 200: textView, ...errorResponses(404, 413) } },
      },
      async (req) => {
        ensureEnabled();
        const { text, report_type } = req.body;
        const analysis = await audited(
          access,
          req,
          { action: 'multimodal.text_processed', target: `text:sha256:${sha256(text)}`, details: { report_type, chars: text.length } },
          async () => processor.processTextOnly(text, report_type),
          (r) => ({ entities: r.entities.length }),
        );
        return { ...analysis, processed_at: new Date().toISOString() };
      },
    );

    app.get(
      '/api/v1/multi-modality/capabilities',
      { ...declare('multimodal:process', BODY_LIMITS.none), schema: { tags, summary: 'Accepted formats, limits and transfer syntaxes', response: { 200: capabilitiesView, ...errorResponses() } } },
      async () => ({
        enabled: settings.MULTI_MODALITY_ENABLED,
        supported_formats: [...formatsFromSetting(settings.SUPPORTED_IMAGE_FORMATS)],
        max_image_size_mb: settings.MAX_IMAGE_SIZE_MB,
        max_decoded_image_mb: settings.MAX_DECODED_IMAGE_MB,
        dicom_transfer_syntaxes: Object.keys(TRANSFER_SYNTAXES),
        deidentification: { profile: 'DICOM PS3.15 Basic Application Level Confidentiality Profile', dates: settings.DEID_DATES, stable_pseudonyms: !processor.ephemeralSalt },
        dicomweb: settings.DICOMWEB_URL ? { configured: true } : { configured: false },
      }),
    );

    app.post(
      '/api/v1/multi-modality/dicomweb/process',
      {
        ...declare('multimodal:process', BODY_LIMITS.json),
        schema: {
          tags,
          summary: 'Find instances on the DICOMweb server (QIDO-RS), retrieve them (WADO-RS) and process each',
          body: dicomwebBody,
          response: { 200: dicomwebView, ...errorResponses(404, 502) },
        },
      },
      async (req) => {
        ensureEnabled();
        if (!settings.DICOMWEB_URL) throw new VitalsError('FEATURE_DISABLED', 'no DICOMweb server is configured: set DICOMWEB_URL (e.g. http://127.0.0.1:8042/dicom-web)');
        const client = new DicomwebClient({ baseUrl: settings.DICOMWEB_URL, token: settings.DICOMWEB_TOKEN, maxResponseBytes: maxFileBytes + 1024 * 1024 });
        const b = req.body;
        // the query's identifiers stay out of the row (UIDs identify a study); the instances are named by fingerprint
        const query = { study_instance_uid: b.study_instance_uid, series_instance_uid: b.series_instance_uid, modality: b.modality, study_date: b.study_date };
        const instances: string[] = [];
        return audited(
          access,
          req,
          {
            action: 'multimodal.dicomweb_processed',
            target: `dicomweb:${new URL(settings.DICOMWEB_URL).host}`,
            details: { query_fields: Object.keys(query).filter((k) => query[k as keyof typeof query] !== undefined) },
          },
          async () => {
            const refs = await client.searchInstances({
              StudyInstanceUID: b.study_instance_uid,
              SeriesInstanceUID: b.series_instance_uid,
              Modality: b.modality,
              StudyDate: b.study_date,
              limit: b.limit,
            });
            const processed: MultiModalityResult[] = [];
            const failed: Array<{ index: number; code: string; message: string }> = [];
            for (const [index, ref] of refs.slice(0, b.limit).entries()) {
              try {
                const bytes = await client.retrieveInstance(ref);
                instances.push(sha256(bytes));
                processed.push(publicResult(await processor.processImagingData({ bytes, filename: 'instance.dcm', textReport: b.text_report, reportType: b.report_type })));
              } catch (err) {
                if (!(err instanceof VitalsError)) throw err;
                failed.push({ index, code: err.code, message: err.message });
              }
            }
            req.log.info({ matched: refs.length, processed: processed.length, failed: failed.length }, 'DICOMweb instances processed');
            return { matched: refs.length, processed: processed.length, results: processed, failed, processed_at: new Date().toISOString() };
          },
          (r) => ({ matched: r.matched, processed: r.processed, failed: r.failed.length, instances_sha256: instances }),
        );
      },
    );
  };
}
