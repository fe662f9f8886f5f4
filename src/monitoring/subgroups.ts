/**
 * Performance by subgroup (FDA's GMLP asks for it by age, sex, site, scanner): a model version
 * declares its subgroup columns in its metadata, and every check reports accuracy, sensitivity and
 * specificity per subgroup of the labelled window, each with a 95 % Wilson interval.
 *
 *   metadata.subgroups = ["sex", "site", "image.manufacturer", { "column": "age", "edges": [40, 65] }]
 *   metadata.subgroup_targets = { "accuracy": 0.85, "sensitivity": 0.8 }      (optional)
 *   metadata.subgroup_min_samples = 30                                           (optional)
 *
 * Columns are flattened input names (DICOM acquisition facts are `image.manufacturer`,
 * `image.station_name`, `image.body_part`, `image.view_position`, …); numeric columns are cut at
 * `edges` into [−∞, e₁), [e₁, e₂), …, [e_k, ∞). A subgroup with fewer than the minimum number of
 * labels gets numbers but no verdict. A subgroup is below target when the upper end of its interval
 * for a metric lies below that metric's target; that decision uses a Bonferroni-adjusted level
 * (0.05 / number of subgroup-metric pairs judged), so many subgroups do not raise false alarms.
 * The worst subgroup is the judged one with the lowest accuracy upper bound.
 */
import { wilsonInterval } from '../stats/multiple-testing.js';
import { asNumber, categoryOf, isMissingValue } from '../stats/reference-profile.js';
import { flattenInput } from './drift-report.js';

export type SubgroupColumn = string | { column: string; edges: number[] };

export interface SubgroupSpec {
  columns: SubgroupColumn[];
  targets: Partial<Record<SubgroupMetric, number>>;
  minSamples: number;
}

export type SubgroupMetric = 'accuracy' | 'sensitivity' | 'specificity';

export interface MetricInterval {
  value: number | null;
  n: number;
  /** 95 % Wilson interval */
  ci95: [number, number] | null;
  target: number | null;
  /** the decision's interval upper end at the adjusted level */
  upper_adjusted: number | null;
  below_target: boolean;
}

export interface SubgroupPerformance {
  column: string;
  value: string;
  n: number;
  sufficient: boolean;
  metrics: Record<SubgroupMetric, MetricInterval>;
  below_target: boolean;
}

export interface SubgroupReport {
  min_samples: number;
  targets: Partial<Record<SubgroupMetric, number>>;
  /** pairs (subgroup, metric with a target) judged, and the level each was judged at */
  judged: number;
  level: number;
  subgroups: SubgroupPerformance[];
  worst: SubgroupPerformance | null;
  below_target: SubgroupPerformance[];
}

/** Reads a version's subgroup declaration from its metadata (null when it declares none). */
export function subgroupSpec(metadata: Record<string, unknown>, defaults: { minAccuracy?: number; minSamples?: number } = {}): SubgroupSpec | null {
  const raw = metadata.subgroups;
  if (!Array.isArray(raw) || raw.length === 0) return null;
  const columns: SubgroupColumn[] = [];
  for (const c of raw) {
    if (typeof c === 'string' && c) columns.push(c);
    else if (c && typeof c === 'object' && typeof (c as { column?: unknown }).column === 'string') {
      const edges = (c as { edges?: unknown }).edges;
      columns.push({
        column: (c as { column: string }).column,
        edges: Array.isArray(edges) ? edges.filter((e): e is number => typeof e === 'number' && Number.isFinite(e)).sort((a, b) => a - b) : [],
      });
    }
  }
  if (!columns.length) return null;
  const t = (metadata.subgroup_targets ?? {}) as Record<string, unknown>;
  const targets: Partial<Record<SubgroupMetric, number>> = {};
  for (const m of ['accuracy', 'sensitivity', 'specificity'] as const) if (typeof t[m] === 'number') targets[m] = t[m] as number;
  if (targets.accuracy === undefined && defaults.minAccuracy !== undefined) targets.accuracy = defaults.minAccuracy;
  const minSamples = typeof metadata.subgroup_min_samples === 'number' ? metadata.subgroup_min_samples : (defaults.minSamples ?? 30);
  return { columns, targets, minSamples };
}

function groupOf(value: unknown, column: SubgroupColumn): string | null {
  if (isMissingValue(value)) return null;
  if (typeof column === 'string') return categoryOf(value);
  const n = asNumber(value);
  if (n === null || Number.isNaN(n)) return null;
  const edges = column.edges;
  let k = 0;
  while (k < edges.length && n >= edges[k]!) k++;
  const lo = k === 0 ? '-inf' : String(edges[k - 1]);
  const hi = k === edges.length ? 'inf' : String(edges[k]);
  return `[${lo}, ${hi})`;
}

export function computeSubgroups(labelled: Array<{ input: unknown; prediction: string | null; ground_truth: string | null }>, labels: string[], spec: SubgroupSpec, alpha = 0.05): SubgroupReport {
  const positive = labels[1] ?? '1';
  const binary = labels.length === 2;
  const rows = labelled.filter((r) => r.prediction !== null && r.ground_truth !== null).map((r) => ({ ...r, flat: flattenInput(r.input) }));
  const groups = new Map<string, { column: string; value: string; rows: typeof rows }>();
  for (const column of spec.columns) {
    const name = typeof column === 'string' ? column : column.column;
    for (const r of rows) {
      const g = groupOf(r.flat[name], column);
      if (g === null) continue;
      const key = `${name}\u0000${g}`;
      if (!groups.has(key)) groups.set(key, { column: name, value: g, rows: [] });
      groups.get(key)!.rows.push(r);
    }
  }
  const counts = [...groups.values()].map((g) => {
    const correct = g.rows.filter((r) => r.prediction === r.ground_truth).length;
    const pos = g.rows.filter((r) => r.ground_truth === positive);
    const neg = g.rows.filter((r) => r.ground_truth !== positive);
    return {
      g,
      k: {
        accuracy: [correct, g.rows.length],
        sensitivity: binary ? [pos.filter((r) => r.prediction === positive).length, pos.length] : [0, 0],
        specificity: binary ? [neg.filter((r) => r.prediction !== positive).length, neg.length] : [0, 0],
      } as Record<SubgroupMetric, [number, number]>,
    };
  });
  // Bonferroni over every (sufficient subgroup, metric with a target and data) pair
  let judged = 0;
  for (const { g, k } of counts) {
    if (g.rows.length < spec.minSamples) continue;
    for (const m of Object.keys(spec.targets) as SubgroupMetric[]) if (k[m][1] > 0) judged++;
  }
  const level = judged > 0 ? alpha / judged : alpha;
  const subgroups: SubgroupPerformance[] = counts.map(({ g, k }) => {
    const sufficient = g.rows.length >= spec.minSamples;
    const metrics = {} as Record<SubgroupMetric, MetricInterval>;
    for (const m of ['accuracy', 'sensitivity', 'specificity'] as const) {
      const [s, n] = k[m];
      const target = spec.targets[m] ?? null;
      const upper = n > 0 && target !== null ? wilsonInterval(s, n, 2 * level)[1] : null; // one-sided at `level`
      metrics[m] = {
        value: n > 0 ? s / n : null,
        n,
        ci95: n > 0 ? wilsonInterval(s, n, 0.05) : null,
        target,
        upper_adjusted: upper,
        below_target: sufficient && upper !== null && target !== null && upper < target,
      };
    }
    return { column: g.column, value: g.value, n: g.rows.length, sufficient, metrics, below_target: Object.values(metrics).some((x) => x.below_target) };
  });
  subgroups.sort((a, b) => a.column.localeCompare(b.column) || a.value.localeCompare(b.value));
  const judgedGroups = subgroups.filter((s) => s.sufficient);
  const worst = judgedGroups.reduce<SubgroupPerformance | null>((w, s) => (!w || (s.metrics.accuracy.ci95?.[1] ?? 1) < (w.metrics.accuracy.ci95?.[1] ?? 1) ? s : w), null);
  return { min_samples: spec.minSamples, targets: spec.targets, judged, level, subgroups, worst, below_target: subgroups.filter((s) => s.below_target) };
}
