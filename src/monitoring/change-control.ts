/**
 * Change control as code (FDA's predetermined change control plans): a model's acceptance criteria
 * are registered before retraining, and a candidate version is accepted only when it meets all of
 * them on labelled data. Each criterion names a metric (accuracy, sensitivity, specificity), overall
 * or for one subgroup (a column value, or a numeric band), a minimum sample size and a lower bound
 * that the metric's 95 % Wilson interval must clear: "sensitivity for site = B is at least 0.85 with
 * 95 % confidence, on at least 100 positives". The evaluation is pure; the evidence it returns is
 * stored per version (JSON) and rendered as a readable page.
 */
import { VitalsError } from '../errors.js';
import { uuidv7 } from '../ids.js';
import type { ModelRegistry } from '../registry/index.js';
import { wilsonInterval } from '../stats/multiple-testing.js';
import type { Database } from '../store/index.js';
import { asNumber, categoryOf, isMissingValue } from '../stats/reference-profile.js';
import { flattenInput } from './drift-report.js';
import type { PredictionLog } from './prediction-log.js';

export type CriterionMetric = 'accuracy' | 'sensitivity' | 'specificity';

export interface AcceptanceCriterion {
  metric: CriterionMetric;
  /** a subgroup: `value` for a category, or `[min, max)` for a numeric band; omitted = overall */
  subgroup?: { column: string; value?: string; min?: number; max?: number };
  /** the metric's denominator (all rows, positives, negatives) must reach this */
  min_samples: number;
  /** the lower end of the 95 % Wilson interval must be at least this */
  lower_bound: number;
}

export interface CriterionResult {
  criterion: AcceptanceCriterion;
  n: number;
  value: number | null;
  ci95: [number, number] | null;
  passed: boolean;
  reason: string;
}

export interface AcceptanceEvidence {
  model: string;
  version: string;
  passed: boolean;
  evaluated_at: string;
  labelled_rows: number;
  results: CriterionResult[];
}

function inSubgroup(flat: Record<string, unknown>, s: NonNullable<AcceptanceCriterion['subgroup']>): boolean {
  const v = flat[s.column];
  if (isMissingValue(v)) return false;
  if (s.value !== undefined) return categoryOf(v) === s.value;
  const n = asNumber(v);
  if (n === null || !Number.isFinite(n)) return false;
  return (s.min === undefined || n >= s.min) && (s.max === undefined || n < s.max);
}

const describeSubgroup = (s?: AcceptanceCriterion['subgroup']) => (!s ? 'overall' : s.value !== undefined ? `${s.column} = ${s.value}` : `${s.column} in [${s.min ?? '-inf'}, ${s.max ?? 'inf'})`);

export function describeCriterion(c: AcceptanceCriterion): string {
  return `${c.metric} (${describeSubgroup(c.subgroup)}) ≥ ${c.lower_bound} at 95 % confidence, n ≥ ${c.min_samples}`;
}

/** Evaluates every criterion on labelled rows (positive class = labels[1]). */
export function evaluateAcceptance(
  criteria: readonly AcceptanceCriterion[],
  rows: ReadonlyArray<{ input: unknown; prediction: string | null; ground_truth: string | null }>,
  labels: readonly string[],
  meta: { model: string; version: string; now?: Date },
): AcceptanceEvidence {
  const positive = labels[1] ?? '1';
  const labelled = rows.filter((r) => r.prediction !== null && r.ground_truth !== null).map((r) => ({ ...r, flat: flattenInput(r.input) }));
  const results = criteria.map((criterion): CriterionResult => {
    const group = criterion.subgroup ? labelled.filter((r) => inSubgroup(r.flat, criterion.subgroup!)) : labelled;
    const denominator =
      criterion.metric === 'accuracy' ? group : criterion.metric === 'sensitivity' ? group.filter((r) => r.ground_truth === positive) : group.filter((r) => r.ground_truth !== positive);
    const successes =
      criterion.metric === 'accuracy'
        ? denominator.filter((r) => r.prediction === r.ground_truth).length
        : criterion.metric === 'sensitivity'
          ? denominator.filter((r) => r.prediction === positive).length
          : denominator.filter((r) => r.prediction !== positive).length;
    const n = denominator.length;
    if (n === 0) return { criterion, n, value: null, ci95: null, passed: false, reason: 'no labelled rows for this criterion' };
    const ci95 = wilsonInterval(successes, n, 0.05);
    const value = successes / n;
    if (n < criterion.min_samples) return { criterion, n, value, ci95, passed: false, reason: `only ${n} of the ${criterion.min_samples} labelled rows required` };
    const passed = ci95[0] >= criterion.lower_bound;
    return {
      criterion,
      n,
      value,
      ci95,
      passed,
      reason: passed ? `lower bound ${ci95[0].toFixed(3)} ≥ ${criterion.lower_bound}` : `lower bound ${ci95[0].toFixed(3)} < ${criterion.lower_bound} (estimate ${value.toFixed(3)})`,
    };
  });
  return {
    model: meta.model,
    version: meta.version,
    passed: results.length > 0 && results.every((r) => r.passed),
    evaluated_at: (meta.now ?? new Date()).toISOString(),
    labelled_rows: labelled.length,
    results,
  };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The evidence as a self-contained, readable HTML page. */
export function renderEvidenceHtml(e: AcceptanceEvidence): string {
  const rows = e.results
    .map(
      (r) =>
        `<tr><td>${escapeHtml(describeCriterion(r.criterion))}</td><td>${r.n}</td><td>${r.value === null ? '—' : r.value.toFixed(3)}</td>` +
        `<td>${r.ci95 ? `${r.ci95[0].toFixed(3)} – ${r.ci95[1].toFixed(3)}` : '—'}</td><td>${r.passed ? 'pass' : 'FAIL'}</td><td>${escapeHtml(r.reason)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acceptance evidence: ${escapeHtml(e.model)} ${escapeHtml(e.version)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3rem .6rem;text-align:left}</style></head>
<body><h1>Acceptance evidence: ${escapeHtml(e.model)} ${escapeHtml(e.version)}</h1>
<p><strong>${e.passed ? 'Accepted' : 'Not accepted'}</strong>: ${e.results.filter((r) => r.passed).length} of ${e.results.length} criteria met on ${e.labelled_rows} labelled rows, evaluated ${escapeHtml(e.evaluated_at)}.</p>
<table><thead><tr><th>criterion</th><th>n</th><th>value</th><th>95 % Wilson interval</th><th>result</th><th>why</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}

/** Where plans and evidence live, and the labelled rows a version is judged on. */
export class ChangeControl {
  constructor(
    private readonly database: Database,
    private readonly registry: Pick<ModelRegistry, 'getModel' | 'getVersion'>,
    private readonly log: Pick<PredictionLog, 'labelledWindow'>,
    private readonly maxRows = 100_000,
  ) {}

  /** Registers (or replaces) a model's acceptance criteria; do it before retraining. */
  async setPlan(modelRef: string, criteria: AcceptanceCriterion[], actor: string): Promise<{ model_id: string; criteria: AcceptanceCriterion[]; registered_by: string; registered_at: string }> {
    const model = await this.registry.getModel(modelRef);
    const row = { model_id: model.id, criteria: JSON.stringify(criteria), registered_by: actor, registered_at: new Date().toISOString() };
    await this.database.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('acceptance_plans').where('model_id', '=', model.id).execute();
      await tx.insertInto('acceptance_plans').values(row).execute();
    });
    return { ...row, criteria };
  }

  async getPlan(modelRef: string): Promise<{ model_id: string; criteria: AcceptanceCriterion[]; registered_by: string; registered_at: string } | null> {
    const model = await this.registry.getModel(modelRef);
    const row = await this.database.db.selectFrom('acceptance_plans').selectAll().where('model_id', '=', model.id).executeTakeFirst();
    return row ? { ...row, criteria: JSON.parse(row.criteria) as AcceptanceCriterion[] } : null;
  }

  /**
   * Judges a version against its model's plan on the given labelled rows (the CI/CD pipeline passes
   * its hold-out predictions), or on the version's labelled predictions in the log, and stores the
   * evidence. Throws 409 when the model has no registered criteria.
   */
  async evaluate(modelRef: string, versionRef: string, rows?: Array<{ input: unknown; prediction: string | null; ground_truth: string | null }>): Promise<AcceptanceEvidence> {
    const plan = await this.getPlan(modelRef);
    const version = await this.registry.getVersion(modelRef, versionRef);
    if (!plan) {
      throw new VitalsError('CONFLICT', `model "${version.model_name}" has no acceptance criteria: register them (PUT …/change-control/{model}/criteria) before evaluating a candidate`);
    }
    const labelled = rows ?? (await this.log.labelledWindow(version.id, this.maxRows));
    const evidence = evaluateAcceptance(plan.criteria, labelled, version.output_spec.labels, { model: version.model_name, version: version.version });
    await this.database.db
      .insertInto('acceptance_evidence')
      .values({ id: uuidv7(), model_id: version.model_id, version_id: version.id, passed: evidence.passed ? 1 : 0, evidence: JSON.stringify(evidence), created_at: evidence.evaluated_at })
      .execute();
    return evidence;
  }

  /** The latest evidence stored for a version (null when never evaluated). */
  async evidence(modelRef: string, versionRef: string): Promise<AcceptanceEvidence | null> {
    const version = await this.registry.getVersion(modelRef, versionRef);
    const row = await this.database.db.selectFrom('acceptance_evidence').select('evidence').where('version_id', '=', version.id).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? (JSON.parse(row.evidence) as AcceptanceEvidence) : null;
  }
}
