/**
 * Reports as labels over HTTP: a model's report label policy (which observation it predicts and how
 * a report's finding becomes its label), and the endpoint a RIS or a script posts reports to.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessRecorder } from '../audit/index.js';
import { notFound } from '../errors.js';
import { OBSERVATIONS } from '../multimodal/index.js';
import { auditContextOf } from '../server/principal.js';
import { BODY_LIMITS, declare, errorResponses } from '../server/route-kit.js';
import { DEFAULT_POLICY, type ReportGroundTruth } from './report-ground-truth.js';

export interface ReportLabelsDeps {
  reports: Pick<ReportGroundTruth, 'setPolicy' | 'getPolicy' | 'ingest'>;
  /** a report is patient-level data: each one labelled is an audited read */
  access: AccessRecorder;
}

/** Longest report accepted, in characters (the multi-modality text limit). */
const MAX_REPORT_CHARS = 200_000;

const observation = z.enum(OBSERVATIONS);
const finding = z.enum(['positive', 'negative', 'uncertain']).nullable();

const policyBody = z.object({
  observation: observation.describe('the CheXpert observation the model predicts, e.g. Pneumonia'),
  positive_label: z.string().min(1).describe('the model label for a report positive for the observation, e.g. PNEUMONIA'),
  negative_label: z.string().min(1).describe('the model label for a report negative for it, e.g. NORMAL'),
  uncertain: z.enum(['positive', 'negative', 'skip']).default(DEFAULT_POLICY.uncertain).describe('an uncertain finding becomes positive (U-Ones), negative (U-Zeros) or no label (skip)'),
  absent: z
    .enum(['negative', 'skip', 'negative_if_no_finding'])
    .default(DEFAULT_POLICY.absent)
    .describe('a report that does not mention the observation: negative, no label (skip), or negative only when the report says the study is normal (No Finding)'),
});
const policyView = policyBody.extend({ model_id: z.string(), model: z.string(), set_by: z.string(), set_at: z.string() }).describe('ReportLabelPolicy');

const reportBody = z.object({
  text: z.string().min(1).max(MAX_REPORT_CHARS).describe('the report (findings and impression are read; indication and history are not)'),
  study_instance_uid: z.string().max(64).optional().describe('the StudyInstanceUID as the RIS has it (matched against the de-identified UID of the predicted DICOM)'),
  accession_number: z.string().min(1).max(64).optional().describe('the accession number as the RIS has it'),
});
const resultView = z
  .object({
    prediction_id: z.string(),
    model: z.string(),
    version: z.string().nullable(),
    status: z.enum(['labelled', 'unchanged', 'kept_existing_label', 'skipped', 'no_policy', 'invalid_label']),
    observation: observation.optional(),
    finding: finding.optional(),
    label: z.string().optional(),
    previous: z.string().nullable().optional(),
    reason: z.string().optional(),
  })
  .describe('ReportLabelResult');
const ingestView = z
  .object({
    observations: z.record(z.string(), finding).describe('the 14 CheXpert observations of the report'),
    matched: z.number().describe('predictions of the report’s study'),
    labelled: z.number(),
    results: z.array(resultView),
  })
  .describe('ReportIngestResult');
const modelParam = z.object({ model_id: z.string() });

export function reportLabelsPlugin({ reports, access }: ReportLabelsDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['monitoring'];

    app.put(
      '/api/v1/mlops/monitoring/:model_id/report-label-policy',
      {
        ...declare('monitoring:write'),
        schema: {
          tags,
          params: modelParam,
          summary: 'Set how radiology reports label this model: the observation it predicts, its labels for positive and negative, and what uncertain or unmentioned findings become',
          body: policyBody,
          response: { 200: policyView, ...errorResponses(404) },
        },
      },
      async (req) => reports.setPolicy(req.params.model_id, req.body, auditContextOf(req)),
    );

    app.get(
      '/api/v1/mlops/monitoring/:model_id/report-label-policy',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: { tags, params: modelParam, summary: 'The report label policy of a model', response: { 200: policyView, ...errorResponses(404) } },
      },
      async (req) => {
        const policy = await reports.getPolicy(req.params.model_id);
        if (!policy) throw notFound(`report label policy of "${req.params.model_id}"`);
        return policy;
      },
    );

    app.post(
      '/api/v1/mlops/monitoring/reports',
      {
        // text up to MAX_REPORT_CHARS characters (UTF-8: up to 4 bytes each) plus the JSON around it
        ...declare('monitoring:write', MAX_REPORT_CHARS * 4 + 4096),
        schema: {
          tags,
          summary:
            'A radiology report for a study: labelled with the 14 CheXpert observations, and its derived label attached (source: report) to every prediction made on that study, per each model’s report label policy',
          body: reportBody,
          response: { 200: ingestView, ...errorResponses(413) },
        },
      },
      async (req) => {
        const context = auditContextOf(req);
        const result = await reports.ingest(req.body, context);
        // named by fingerprint and counts: the text and the study identifiers stay out of the audit trail and the logs
        await access.recordAccess({
          action: 'report.labelled',
          target: `text:sha256:${createHash('sha256').update(req.body.text).digest('hex')}`,
          context,
          details: { chars: req.body.text.length, matched: result.matched, labelled: result.labelled },
        });
        req.log.info({ matched: result.matched, labelled: result.labelled }, 'report labelled');
        return result;
      },
    );
  };
}
