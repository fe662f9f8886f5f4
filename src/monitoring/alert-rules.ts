/**
 * Alert rules evaluated on every monitoring report. Each rule gives a condition that is firing or
 * not; the alert store turns transitions into firing/resolved alerts, deduplicated by
 * model + version + rule, and re-notifies a still-firing alert only after the cooldown.
 */
import type { AlertSeverity } from './notifiers.js';
import type { MonitoringReport } from './monitoring-report.js';

export interface AlertThresholds {
  minAccuracy: number;
  maxP95LatencyMs: number;
  maxErrorRate: number;
  /** optional: alert (warning) when the callers' 4xx rate exceeds this */
  maxClientErrorRate?: number;
}

export interface AlertCondition {
  rule: 'data_drift' | 'decay' | 'accuracy_below' | 'latency_p95_above' | 'error_rate_above' | 'client_error_rate_above' | 'subgroup_below_target';
  severity: AlertSeverity;
  firing: boolean;
  message: string;
  details: Record<string, unknown>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function evaluateAlertRules(report: MonitoringReport, t: AlertThresholds): AlertCondition[] {
  const name = `${report.model_name} ${report.version}`;
  const out: AlertCondition[] = [];
  const drift = report.drift;
  if (drift) {
    out.push({
      rule: 'data_drift',
      severity: drift.dataset_drift ? 'critical' : 'warning',
      firing: drift.drift_detected,
      message: drift.drift_detected ? `${name}: data drift in ${drift.drifted_features.length} feature(s): ${drift.drifted_features.slice(0, 5).join(', ')}` : `${name}: no data drift`,
      details: {
        drifted_features: drift.drifted_features,
        drift_score: drift.drift_score,
        correction: drift.correction,
        p_values: Object.fromEntries(drift.drifted_features.map((f) => [f, { raw: drift.feature_drifts[f]!.p_value, adjusted: drift.feature_drifts[f]!.p_value_adjusted }])),
      },
    });
  }
  const decay = report.decay;
  if (decay?.sufficient && decay.current_accuracy !== null) {
    const acc = decay.metrics.find((m) => m.metric === 'accuracy');
    // below the minimum only when the always-valid upper bound is: a noisy dip does not page anyone
    const upper = acc?.current_upper ?? decay.current_accuracy;
    out.push({
      rule: 'decay',
      severity: 'critical',
      firing: decay.decay_detected,
      message: decay.decay_detected ? `${name}: accuracy fell from ${decay.baseline_accuracy?.toFixed(3)} to ${decay.current_accuracy.toFixed(3)} over ${decay.labels} labels` : `${name}: no decay`,
      details: {
        current_accuracy: decay.current_accuracy,
        baseline_accuracy: decay.baseline_accuracy,
        accuracy_decay: decay.accuracy_decay,
        labels: decay.labels,
        current_upper: acc?.current_upper ?? null,
        baseline_lower: acc?.baseline_lower ?? null,
      },
    });
    out.push({
      rule: 'accuracy_below',
      severity: 'critical',
      firing: upper < t.minAccuracy,
      message: `${name}: accuracy ${decay.current_accuracy.toFixed(3)}, at most ${upper.toFixed(3)} with 95% confidence (minimum ${t.minAccuracy})`,
      details: { current_accuracy: decay.current_accuracy, current_upper: upper, minimum: t.minAccuracy },
    });
  }
  const sub = report.subgroups;
  if (sub && sub.judged > 0) {
    const below = sub.below_target;
    const worst = below.length
      ? below.reduce((a, b) => ((b.metrics.accuracy.upper_adjusted ?? b.metrics.accuracy.value ?? 1) < (a.metrics.accuracy.upper_adjusted ?? a.metrics.accuracy.value ?? 1) ? b : a))
      : null;
    out.push({
      rule: 'subgroup_below_target',
      severity: 'critical',
      firing: worst !== null,
      message: worst
        ? `${name}: subgroup ${worst.column} = "${worst.value}" below target (${Object.entries(worst.metrics)
            .filter(([, m]) => m.below_target)
            .map(([k, m]) => `${k} ${m.value?.toFixed(3)} < ${m.target}`)
            .join(', ')}; ${worst.n} labels)`
        : `${name}: every subgroup meets its targets`,
      details: {
        worst: worst ? { column: worst.column, value: worst.value, n: worst.n, metrics: worst.metrics } : null,
        below_target: below.map((b) => `${b.column}=${b.value}`),
        targets: sub.targets,
        level: sub.level,
      },
    });
  }
  if (report.operations.p95_latency_ms !== null) {
    out.push({
      rule: 'latency_p95_above',
      severity: 'warning',
      firing: report.operations.p95_latency_ms > t.maxP95LatencyMs,
      message: `${name}: p95 latency ${report.operations.p95_latency_ms.toFixed(0)} ms (limit ${t.maxP95LatencyMs} ms)`,
      details: { p95_latency_ms: report.operations.p95_latency_ms, limit_ms: t.maxP95LatencyMs },
    });
  }
  if (report.operations.requests > 0) {
    out.push({
      rule: 'error_rate_above',
      severity: 'critical',
      firing: report.operations.error_rate > t.maxErrorRate,
      message: `${name}: model error rate ${pct(report.operations.error_rate)} (limit ${pct(t.maxErrorRate)})`,
      details: { error_rate: report.operations.error_rate, errors: report.operations.errors, requests: report.operations.requests, client_errors: report.operations.client_errors },
    });
    if (t.maxClientErrorRate !== undefined) {
      out.push({
        rule: 'client_error_rate_above',
        severity: 'warning',
        firing: report.operations.client_error_rate > t.maxClientErrorRate,
        message: `${name}: ${pct(report.operations.client_error_rate)} of requests rejected as invalid (limit ${pct(t.maxClientErrorRate)})`,
        details: { client_error_rate: report.operations.client_error_rate, client_errors: report.operations.client_errors, requests: report.operations.requests },
      });
    }
  }
  return out;
}
