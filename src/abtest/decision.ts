/**
 * Decision rules (pure): what a look at a test recommends.
 *
 * 1. Guardrails, at any look once each variant has `guardrail_min_samples` predictions: the
 *    treatment's error rate significantly higher, its p95 latency significantly worse (more of its
 *    predictions slower than the control's p95, and the p95 itself worse by `latency_tolerance` and by
 *    `latency_min_diff_ms`), or
 *    its primary metric significantly worse → rollback.
 * 2. A sample-ratio mismatch (p < 0.001) makes every comparison suspect → continue, never promote.
 * 3. Canary: a stage whose minimum sample and duration are met, with guardrails holding → advance;
 *    advancing past the last stage is a promotion.
 * 4. A/B and shadow: the primary metric significantly better, after `min_samples` per variant and
 *    `min_duration_s` → promote.
 * "Significantly" always means the always-valid (sequential) p-value below alpha, so a decision may be
 * taken at any look without inflating the false-positive rate.
 */
import { type AbTestReport, primaryComparison } from './analysis.js';
import type { AbTest, Decision, SequentialState } from './types.js';

export interface TestDecision {
  decision: Decision;
  recommendation: string;
  /** why: one line per rule that fired or blocked */
  reasons: string[];
}

/** Treatment significantly different from control in the given direction (+1: larger), by the always-valid p-value. */
function sequentiallyWorseOrBetter(state: SequentialState, key: string, alpha: number, direction: 1 | -1): boolean {
  const s = state[key];
  return !!s && s.p < alpha && s.direction === direction;
}

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(digits)}%`);
const fmtP = (p: number | null | undefined) => (p === null || p === undefined ? 'n/a' : p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

export function guardrailBreaches(test: AbTest, r: AbTestReport): string[] {
  const { alpha, guardrail_min_samples: minN, latency_tolerance: tol } = test.config;
  const state = r.sequential_state;
  const out: string[] = [];
  if (r.control.predictions < minN || r.treatment.predictions < minN) return out;
  if (sequentiallyWorseOrBetter(state, 'error_rate', alpha, 1) && (r.error_rate.diff ?? 0) > 0) {
    out.push(`error rate significantly higher: ${pct(r.treatment.error_rate, 2)} vs ${pct(r.control.error_rate, 2)} (always-valid p ${fmtP(r.error_rate.always_valid_p_value)})`);
  }
  const tail = r.latency_p95;
  if (
    sequentiallyWorseOrBetter(state, 'latency_p95', alpha, 1) &&
    tail.ratio !== null &&
    tail.ratio > 1 + tol &&
    (tail.treatment_p95_ms ?? 0) - (tail.control_p95_ms ?? 0) >= test.config.latency_min_diff_ms &&
    (tail.above_control_p95.diff ?? 0) > 0
  ) {
    out.push(
      `p95 latency significantly worse: ${tail.treatment_p95_ms?.toFixed(2)} ms vs ${tail.control_p95_ms?.toFixed(2)} ms ` +
        `(${pct(tail.above_control_p95.treatment.rate)} of treatment predictions slower than the control's p95; always-valid p ${fmtP(tail.above_control_p95.always_valid_p_value)})`,
    );
  }
  const { comparison, higherIsBetter } = primaryComparison(r);
  const worse = higherIsBetter ? -1 : 1;
  const enough = r.primary_metric === 'accuracy' ? r.control.labelled >= minN && r.treatment.labelled >= minN : true;
  if (enough && comparison.diff !== null && Math.sign(comparison.diff) === worse && sequentiallyWorseOrBetter(state, r.primary_metric, alpha, worse)) {
    out.push(`${r.primary_metric} significantly worse: diff ${comparison.diff.toFixed(4)} (always-valid p ${fmtP(comparison.always_valid_p_value)})`);
  }
  return out;
}

export function decide(test: AbTest, r: AbTestReport, now = new Date()): TestDecision {
  const reasons: string[] = [];
  const breaches = guardrailBreaches(test, r);
  if (breaches.length) {
    return {
      decision: 'rollback',
      recommendation: `Roll back: keep ${test.model_name} ${test.control_version} in production and end the test. ${breaches.join('; ')}.`,
      reasons: breaches,
    };
  }
  if (r.sample_ratio?.mismatch) {
    return {
      decision: 'continue',
      recommendation: `Sample-ratio mismatch: observed ${r.sample_ratio.observed.join(' / ')} against an expected split of ${r.sample_ratio.expected_share
        .map((x) => pct(x))
        .join(' / ')} (p ${fmtP(r.sample_ratio.p_value)}). Assignment or logging is broken; results are not trustworthy until it is fixed.`,
      reasons: ['sample-ratio mismatch (p < 0.001)'],
    };
  }
  const elapsed = (now.getTime() - Date.parse(test.created_at)) / 1000;

  if (test.mode === 'canary') {
    const stages = test.config.canary_stages;
    const stage = test.canary_stage ?? 0;
    const stageElapsed = (now.getTime() - Date.parse(test.split_changed_at)) / 1000;
    const stageSamples = r.sample_ratio ? r.sample_ratio.observed[1] : r.treatment.predictions;
    const last = stage >= stages.length - 1;
    const need: string[] = [];
    if (stageSamples < test.config.canary_min_samples) need.push(`${test.config.canary_min_samples - stageSamples} more treatment predictions at this stage`);
    if (stageElapsed < test.config.canary_min_stage_s) need.push(`${Math.ceil(test.config.canary_min_stage_s - stageElapsed)} s more at this stage`);
    if (last && elapsed < test.config.min_duration_s) need.push(`${Math.ceil(test.config.min_duration_s - elapsed)} s more before promotion`);
    if (need.length) {
      return { decision: 'continue', recommendation: `Canary at ${pct(test.traffic_split, 0)} (stage ${stage + 1}/${stages.length}); guardrails hold. Needs ${need.join(' and ')}.`, reasons: need };
    }
    if (last) {
      return {
        decision: 'promote',
        recommendation: `Promote ${test.treatment_version}: the canary reached ${pct(test.traffic_split, 0)} with error rate and p95 latency guardrails holding.`,
        reasons: ['last canary stage completed with guardrails holding'],
      };
    }
    return {
      decision: 'advance',
      recommendation: `Advance the canary from ${pct(stages[stage], 0)} to ${pct(stages[stage + 1], 0)}: guardrails hold after ${stageSamples} treatment predictions at this stage.`,
      reasons: ['canary stage completed with guardrails holding'],
    };
  }

  const { comparison, higherIsBetter } = primaryComparison(r);
  const better = higherIsBetter ? 1 : -1;
  const n = r.sample_size.current_per_variant;
  const minN = test.config.min_samples;
  const significant = comparison.diff !== null && Math.sign(comparison.diff) === better && sequentiallyWorseOrBetter(r.sequential_state, r.primary_metric, test.config.alpha, better);
  if (n.control < minN || n.treatment < minN)
    reasons.push(`${minN} ${r.primary_metric === 'accuracy' ? 'labelled ' : ''}predictions per variant needed (control ${n.control}, treatment ${n.treatment})`);
  if (elapsed < test.config.min_duration_s) reasons.push(`${Math.ceil(test.config.min_duration_s - elapsed)} s of the minimum duration left`);
  if (significant && !reasons.length) {
    return {
      decision: 'promote',
      recommendation:
        `Promote ${test.treatment_version}: ${r.primary_metric} ${describe(comparison.control, comparison.treatment)}, diff ${comparison.diff!.toFixed(4)} ` +
        `(95% CI ${comparison.ci95 ? comparison.ci95.map((x) => x.toFixed(4)).join('…') : 'n/a'}; always-valid p ${fmtP(comparison.always_valid_p_value)}, fixed-horizon p ${fmtP(comparison.p_value)}).`,
      reasons: [`${r.primary_metric} significantly better by the always-valid p-value`],
    };
  }
  if (!significant) reasons.push(`${r.primary_metric}: no significant improvement yet (always-valid p ${fmtP(comparison.always_valid_p_value)}; fixed-horizon p ${fmtP(comparison.p_value)})`);
  const required = r.sample_size.required_per_variant;
  const hint = required !== null ? ` About ${required} per variant detect a ${r.sample_size.mde} change at fixed horizon.` : '';
  return { decision: 'continue', recommendation: `Continue: ${reasons.join('; ')}.${hint}`, reasons };
}

function describe(c: { rate?: number | null; mean?: number | null }, t: { rate?: number | null; mean?: number | null }): string {
  const cv = c.rate ?? c.mean ?? null;
  const tv = t.rate ?? t.mean ?? null;
  return `${tv?.toFixed(4) ?? 'n/a'} vs ${cv?.toFixed(4) ?? 'n/a'}`;
}
