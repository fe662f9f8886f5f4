/** Response schemas of the dashboard's aggregate endpoints (the single source of their types). */
import { z } from 'zod';

const num = z.number().nullable();

export const bucketPoint = z.object({ t: z.string(), count: z.number(), errors: z.number(), error_rate: num, p50_ms: num, p99_ms: num });
export const seriesSummary = z.object({ count: z.number(), errors: z.number(), error_rate: num, p50_ms: num, p99_ms: num, mean_ms: num });
export const series = z.object({ summary: seriesSummary, buckets: z.array(bucketPoint) });

export const versionBadge = z.object({ id: z.string(), version: z.string() }).nullable();

export const driftedFeature = z.object({ feature: z.string(), effect: z.number(), p_value: z.number() });

export const overviewRow = z.object({
  model_id: z.string(),
  name: z.string(),
  task: z.string(),
  modality: z.string(),
  production: versionBadge,
  challenger: versionBadge,
  release: z.object({ id: z.string(), mode: z.string(), treatment_version: z.string(), traffic_split: z.number() }).nullable(),
  hour: series,
  day: series,
  drift: z.object({ checked_at: z.string(), share: num, drifted: z.number(), features: z.number(), top: z.array(driftedFeature) }).nullable(),
  accuracy: z.object({ realized: num, estimated: num, baseline: num, labels: z.number(), window: z.number(), label_coverage: num }).nullable(),
  health: z.object({ score: z.number(), band: z.string(), checked_at: z.string() }).nullable(),
  open_alerts: z.object({ total: z.number(), critical: z.number(), warning: z.number(), info: z.number() }),
  last_production_change: z
    .object({ action: z.string(), from_version: z.string().nullable(), to_version: z.string().nullable(), actor: z.string(), reason: z.string().nullable(), at: z.string() })
    .nullable(),
});
export const overviewView = z.object({ generated_at: z.string(), models: z.array(overviewRow) }).describe('DashboardOverview');

export const driftCell = z.object({ effect: z.number(), p_value: z.number(), drifted: z.boolean() });
export const modelPageView = z
  .object({
    generated_at: z.string(),
    model: z.looseObject({ id: z.string(), name: z.string(), task: z.string(), modality: z.string() }),
    predictions: z.object({ total: z.number(), by_version: z.record(z.string(), z.number()) }),
    versions: z.array(
      z.looseObject({
        id: z.string(),
        version: z.string(),
        status: z.string(),
        aliases: z.array(z.string()),
        metrics: z.record(z.string(), z.number()),
        lineage: z.record(z.string(), z.unknown()),
        created_at: z.string(),
        created_by: z.string(),
        predictions: z.number(),
      }),
    ),
    history: z.array(
      z.looseObject({
        id: z.string(),
        action: z.string(),
        alias: z.string().nullable(),
        from_version: z.string().nullable(),
        to_version: z.string().nullable(),
        actor: z.string(),
        reason: z.string().nullable(),
        created_at: z.string(),
      }),
    ),
    window: z.enum(['hour', 'day', 'week']),
    traffic: series,
    traffic_by_version: z.record(z.string(), series),
    drift: z.object({
      checks: z.array(z.object({ id: z.string(), version: z.string(), at: z.string(), share: num, health: num, accuracy: num, estimated_accuracy: num })),
      features: z.array(z.string()),
      /** cells[feature][i] is the feature's drift in checks[i] (null: not measured then) */
      cells: z.record(z.string(), z.array(driftCell.nullable())),
      /** reference vs current of each feature in the latest check */
      latest: z.record(z.string(), z.looseObject({ type: z.string(), reference: z.record(z.string(), z.unknown()), current: z.record(z.string(), z.unknown()) })),
    }),
    release_tests: z.array(
      z.looseObject({
        id: z.string(),
        name: z.string(),
        mode: z.string(),
        status: z.string(),
        traffic_split: z.number(),
        control_version: z.string(),
        treatment_version: z.string(),
        decision: z.string().nullable(),
        winner: z.string().nullable(),
        decision_reason: z.string().nullable(),
        created_at: z.string(),
        ended_at: z.string().nullable(),
        evaluation: z.looseObject({}).nullable(),
      }),
    ),
    input_spec: z.looseObject({ kind: z.string() }).nullable(),
    labels: z.array(z.string()),
  })
  .describe('DashboardModelPage');

export const page = <T extends z.ZodType>(item: T) => z.object({ total: z.number(), limit: z.number(), offset: z.number(), items: z.array(item) });

export const alertItem = z.object({
  id: z.string(),
  model_id: z.string(),
  model_name: z.string(),
  version: z.string().nullable(),
  rule: z.string(),
  severity: z.string(),
  status: z.string(),
  message: z.string(),
  fired_at: z.string(),
  last_seen_at: z.string(),
  resolved_at: z.string().nullable(),
  details: z.unknown(),
});
export const alertsView = page(alertItem)
  .extend({ counts: z.object({ firing: z.number(), resolved: z.number() }) })
  .describe('DashboardAlerts');

export const stageSummary = z.object({ name: z.string(), status: z.string(), duration_ms: z.number().nullable(), error: z.string().nullable(), log_tail: z.array(z.string()) });
export const pipelineRunItem = z.object({
  id: z.string(),
  pipeline: z.string(),
  model_name: z.string().nullable(),
  trigger: z.string(),
  status: z.string(),
  error: z.string().nullable(),
  created_by: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  stages: z.array(stageSummary),
  progress: z.object({ done: z.number(), total: z.number() }),
});
export const pipelineRunsView = page(pipelineRunItem)
  .extend({ pipelines: z.array(z.string()) })
  .describe('DashboardPipelineRuns');

export const experimentRunItem = z.object({
  id: z.string(),
  experiment: z.string(),
  name: z.string().nullable(),
  status: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  metrics: z.record(z.string(), z.number()),
  params: z.record(z.string(), z.unknown()),
});
export const experimentRunsView = page(experimentRunItem)
  .extend({ experiments: z.array(z.object({ name: z.string(), runs: z.number() })), metric_keys: z.array(z.string()) })
  .describe('DashboardExperimentRuns');

export const featureHint = z.object({
  type: z.enum(['numeric', 'categorical']),
  mean: z.number().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  p05: z.number().optional(),
  p95: z.number().optional(),
  categories: z.array(z.string()).optional(),
});
export const inputFormView = z
  .object({ model: z.string(), version: z.string(), modality: z.string(), input_spec: z.looseObject({ kind: z.string() }), labels: z.array(z.string()), hints: z.record(z.string(), featureHint) })
  .describe('DashboardInputForm');
