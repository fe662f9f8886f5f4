/**
 * What the prediction log says about a test, per variant: counts, accuracy, errors, confidence and
 * latency. The log is the single source of truth (routed predictions, the seed's `/record` rows and
 * ground truth attached later all land there), so a test is evaluated from these aggregates only.
 * The queries read `prediction_logs` (the monitoring capability's table) and never write it.
 */
import { sql } from 'kysely';
import type { Database } from '../store/index.js';
import type { ReleaseMode, Variant } from './types.js';

export interface Moments {
  n: number;
  mean: number;
  /** sample variance (n - 1 in the denominator) */
  variance: number;
}

export interface VariantStats {
  variant: Variant;
  /** every logged prediction, successes and failures */
  predictions: number;
  errors: number;
  /** successful predictions with ground truth */
  labelled: number;
  correct: number;
  /** predictions since the split last changed (the sample-ratio check counts these) */
  since_split: number;
  confidence: Moments;
  latency: Moments;
  /** latencies of successful predictions, the newest LATENCY_SAMPLE (for percentiles) */
  latencies: number[];
}

export interface TestObservations {
  control: VariantStats;
  treatment: VariantStats;
  /** shadow mode: how often the shadow's answer equals the control's on the same input */
  agreement: { n: number; agree: number } | null;
}

/** Latency percentiles and tests use at most this many of the newest predictions per variant. */
export const LATENCY_SAMPLE = 50_000;

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

function moments(n: number, sum: number, sumSq: number): Moments {
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const mean = sum / n;
  return { n, mean, variance: n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : 0 };
}

function momentsOf(xs: number[]): Moments {
  const n = xs.length;
  if (!n) return { n: 0, mean: 0, variance: 0 };
  let mean = 0;
  let m2 = 0;
  xs.forEach((x, i) => {
    const d = x - mean; // Welford: latencies can be large, sums of squares lose digits
    mean += d / (i + 1);
    m2 += d * (x - mean);
  });
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : 0 };
}

interface AggregateRow {
  variant: string | null;
  n: unknown;
  errors: unknown;
  labelled: unknown;
  correct: unknown;
  conf_n: unknown;
  conf_sum: unknown;
  conf_sq: unknown;
  since_split: unknown;
}

export async function readTestObservations(database: Database, test: { id: string; mode: ReleaseMode; split_changed_at: string }): Promise<TestObservations> {
  const db = database.db;
  const rows = (
    await sql<AggregateRow>`
      select variant,
        count(*) as n,
        sum(case when error is not null then 1 else 0 end) as errors,
        sum(case when error is null and ground_truth is not null then 1 else 0 end) as labelled,
        sum(case when error is null and ground_truth is not null and prediction = ground_truth then 1 else 0 end) as correct,
        count(confidence) as conf_n,
        sum(confidence) as conf_sum,
        sum(confidence * confidence) as conf_sq,
        sum(case when created_at >= ${test.split_changed_at} then 1 else 0 end) as since_split
      from prediction_logs
      where ab_test_id = ${test.id}
      group by variant`.execute(db)
  ).rows;

  const latencies = async (variant: string) =>
    (
      await db
        .selectFrom('prediction_logs')
        .select('latency_ms')
        .where('ab_test_id', '=', test.id)
        .where('variant', '=', variant)
        .where('error', 'is', null)
        .where('latency_ms', 'is not', null)
        .orderBy('id', 'desc')
        .limit(LATENCY_SAMPLE)
        .execute()
    ).map((r) => Number(r.latency_ms));

  // In shadow mode the treatment's rows are the shadow copies; their ground truth is the primary's.
  const treatmentLabel = test.mode === 'shadow' ? 'shadow' : 'treatment';
  const build = async (variant: Variant, label: string): Promise<VariantStats> => {
    const r = rows.find((x) => x.variant === label);
    const lat = await latencies(label);
    return {
      variant,
      predictions: num(r?.n),
      errors: num(r?.errors),
      labelled: num(r?.labelled),
      correct: num(r?.correct),
      since_split: num(r?.since_split),
      confidence: moments(num(r?.conf_n), num(r?.conf_sum), num(r?.conf_sq)),
      latency: momentsOf(lat),
      latencies: lat,
    };
  };
  const control = await build('control', 'control');
  const treatment = await build('treatment', treatmentLabel);

  let agreement: TestObservations['agreement'] = null;
  if (test.mode === 'shadow') {
    const joined = (
      await sql<{ labelled: unknown; correct: unknown; compared: unknown; agree: unknown }>`
        select
          sum(case when p.ground_truth is not null then 1 else 0 end) as labelled,
          sum(case when p.ground_truth is not null and s.prediction = p.ground_truth then 1 else 0 end) as correct,
          sum(case when p.error is null then 1 else 0 end) as compared,
          sum(case when p.error is null and s.prediction = p.prediction then 1 else 0 end) as agree
        from prediction_logs s
        join prediction_logs p on p.id = s.shadow_of
        where s.ab_test_id = ${test.id} and s.variant = 'shadow' and s.error is null`.execute(db)
    ).rows[0];
    treatment.labelled = num(joined?.labelled);
    treatment.correct = num(joined?.correct);
    agreement = { n: num(joined?.compared), agree: num(joined?.agree) };
  }
  return { control, treatment, agreement };
}
