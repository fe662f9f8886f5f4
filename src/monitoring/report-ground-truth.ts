/**
 * Reports as labels: a radiology report that arrives for a study a model already predicted on
 * becomes that prediction's ground truth, so an X-ray model's accuracy is monitored without anyone
 * labelling by hand.
 *
 * The report is labelled with the 14 CheXpert observations (multimodal/chexpert-labeler.ts); its
 * study (StudyInstanceUID or accession number from the RIS) is keyed the way the prediction path
 * keyed the DICOM it predicted on (multimodal/study-identity.ts), and every prediction of that
 * study gets the label its model's policy derives: the observation the model predicts, the model
 * labels for positive and negative, and what an uncertain or unmentioned finding becomes. Labels
 * are attached with source `report`: they never replace a label a person gave (ground-truth.ts).
 * The report's text is not stored.
 */
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { VitalsError } from '../errors.js';
import { OBSERVATIONS, type Observation, type ReportLabels, checkReportIdentifiers, labelReport, studyKeys } from '../multimodal/index.js';
import type { ModelRegistry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import type { LabelSpaceOf } from './ground-truth.js';
import type { PredictionLog } from './prediction-log.js';

/** What an uncertain finding becomes (CheXpert's U-Ones, U-Zeros, U-Ignore). */
export type UncertainPolicy = 'positive' | 'negative' | 'skip';
/** What a finding the report does not mention becomes; `negative_if_no_finding`: negative when No Finding is positive. */
export type AbsentPolicy = 'negative' | 'skip' | 'negative_if_no_finding';

export interface ReportLabelPolicy {
  observation: Observation;
  positive_label: string;
  negative_label: string;
  uncertain: UncertainPolicy;
  absent: AbsentPolicy;
}

export interface StoredReportLabelPolicy extends ReportLabelPolicy {
  model_id: string;
  model: string;
  set_by: string;
  set_at: string;
}

export interface IncomingReport {
  text: string;
  study_instance_uid?: string;
  accession_number?: string;
}

export type ReportLabelStatus = 'labelled' | 'unchanged' | 'kept_existing_label' | 'skipped' | 'no_policy' | 'invalid_label';

export interface ReportLabelResult {
  prediction_id: string;
  model: string;
  version: string | null;
  status: ReportLabelStatus;
  /** the observation the model's policy reads, and what the report says of it */
  observation?: Observation;
  finding?: 'positive' | 'negative' | 'uncertain' | null;
  /** the label derived (labelled, unchanged, kept_existing_label) */
  label?: string;
  previous?: string | null;
  reason?: string;
}

export interface ReportIngestResult {
  observations: ReportLabels['observations'];
  /** predictions of the report's study */
  matched: number;
  labelled: number;
  results: ReportLabelResult[];
}

export const DEFAULT_POLICY = { uncertain: 'skip', absent: 'negative_if_no_finding' } as const;

/** The label a policy derives from a report's observations, or why there is none. */
export function labelFromReport(policy: ReportLabelPolicy, observations: ReportLabels['observations']): { label: string } | { skip: string } {
  const finding = observations[policy.observation];
  const pos = { label: policy.positive_label };
  const neg = { label: policy.negative_label };
  if (finding === 'positive') return pos;
  if (finding === 'negative') return neg;
  if (finding === 'uncertain') {
    if (policy.uncertain === 'skip') return { skip: `the report is uncertain about ${policy.observation} (the policy skips uncertain findings)` };
    return policy.uncertain === 'positive' ? pos : neg;
  }
  if (policy.absent === 'negative') return neg;
  if (policy.absent === 'negative_if_no_finding' && observations['No Finding'] === 'positive') return neg;
  return {
    skip:
      policy.absent === 'skip'
        ? `the report does not mention ${policy.observation} (the policy skips unmentioned findings)`
        : `the report does not mention ${policy.observation} and does not say the study is normal`,
  };
}

export class ReportGroundTruth {
  constructor(
    private readonly database: Database,
    private readonly registry: Pick<ModelRegistry, 'getModel'>,
    private readonly log: Pick<PredictionLog, 'attachGroundTruth' | 'findByStudy'>,
    private readonly options: { salt: string; labelSpaceOf: LabelSpaceOf; audit?: AuditRecorder },
  ) {}

  /** Sets (or replaces) a model's policy; the labels must be the model's own. */
  async setPolicy(modelRef: string, policy: ReportLabelPolicy, audit: AuditContext): Promise<StoredReportLabelPolicy> {
    const model = await this.registry.getModel(modelRef);
    if (!OBSERVATIONS.includes(policy.observation)) throw new VitalsError('VALIDATION_FAILED', `observation must be one of ${OBSERVATIONS.join(', ')}`);
    const space = await this.options.labelSpaceOf({ model_id: model.id, version_id: null });
    if (space?.task === 'regression') throw new VitalsError('VALIDATION_FAILED', `model "${model.name}" is a regression model: reports label classification models`);
    if (policy.positive_label === policy.negative_label) {
      throw new VitalsError('VALIDATION_FAILED', 'positive_label and negative_label must differ', { fields: [{ field: 'negative_label', message: 'equals positive_label' }] });
    }
    for (const field of ['positive_label', 'negative_label'] as const) {
      if (space && !space.labels.includes(policy[field])) {
        throw new VitalsError('INVALID_LABEL', `${field} "${policy[field]}" is not a label of model "${model.name}": use one of ${space.labels.join(', ')}`, {
          allowed_labels: space.labels,
          fields: [{ field, message: 'not a label of the model' }],
        });
      }
    }
    const row = { model_id: model.id, ...policy, set_by: audit.principal, set_at: new Date().toISOString() };
    await this.database.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('report_label_policies').where('model_id', '=', model.id).execute();
      await tx.insertInto('report_label_policies').values(row).execute();
      await this.options.audit?.record(tx, { action: 'report_label_policy.set', target: `model:${model.name}`, context: audit, details: { ...policy } });
    });
    return { ...row, model: model.name };
  }

  async getPolicy(modelRef: string): Promise<StoredReportLabelPolicy | null> {
    const model = await this.registry.getModel(modelRef);
    const row = await this.database.db.selectFrom('report_label_policies').selectAll().where('model_id', '=', model.id).executeTakeFirst();
    return row ? toPolicy(row, model.name) : null;
  }

  /** Labels a report and attaches the derived labels to the predictions of its study. */
  async ingest(report: IncomingReport, audit?: AuditContext): Promise<ReportIngestResult> {
    const keys = studyKeys(this.options.salt, checkReportIdentifiers(report));
    const { observations } = labelReport(report.text);
    const predictions = await this.log.findByStudy(keys);
    const policies = new Map<string, StoredReportLabelPolicy | null>();
    const results: ReportLabelResult[] = [];
    for (const p of predictions) {
      if (!policies.has(p.model_id)) {
        const row = await this.database.db.selectFrom('report_label_policies').selectAll().where('model_id', '=', p.model_id).executeTakeFirst();
        policies.set(p.model_id, row ? toPolicy(row, p.model_name) : null);
      }
      const policy = policies.get(p.model_id);
      const base = { prediction_id: p.id, model: p.model_name, version: p.version };
      if (!policy) {
        results.push({ ...base, status: 'no_policy', reason: `model "${p.model_name}" has no report label policy (PUT /api/v1/mlops/monitoring/${p.model_name}/report-label-policy)` });
        continue;
      }
      const finding = observations[policy.observation];
      const derived = labelFromReport(policy, observations);
      const about = { observation: policy.observation, finding };
      if ('skip' in derived) {
        results.push({ ...base, ...about, status: 'skipped', reason: derived.skip });
        continue;
      }
      try {
        const entry = await this.log.attachGroundTruth(p.id, derived.label, audit, { source: 'report' });
        results.push({ ...base, ...about, status: entry.previous === derived.label ? 'unchanged' : 'labelled', label: derived.label, previous: entry.previous });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'GROUND_TRUTH_EXISTS') results.push({ ...base, ...about, status: 'kept_existing_label', label: derived.label, reason: (err as Error).message });
        else if (code === 'INVALID_LABEL') results.push({ ...base, ...about, status: 'invalid_label', label: derived.label, reason: (err as Error).message });
        else throw err;
      }
    }
    return { observations, matched: predictions.length, labelled: results.filter((r) => r.status === 'labelled').length, results };
  }
}

function toPolicy(
  row: { model_id: string; observation: string; positive_label: string; negative_label: string; uncertain: string; absent: string; set_by: string; set_at: string },
  model: string,
): StoredReportLabelPolicy {
  return {
    model_id: row.model_id,
    model,
    observation: row.observation as Observation,
    positive_label: row.positive_label,
    negative_label: row.negative_label,
    uncertain: row.uncertain as UncertainPolicy,
    absent: row.absent as AbsentPolicy,
    set_by: row.set_by,
    set_at: row.set_at,
  };
}
