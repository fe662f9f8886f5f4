/**
 * Monitoring endpoints as one Fastify plugin over a narrow set of dependencies: record predictions
 * made elsewhere (the seed's `/record`), attach ground truth that arrives later, read monitoring
 * status, history and alerts, and run a check on demand. GET routes only read stored checks;
 * `POST …/check` is the one route that runs a check.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccessRecorder } from '../audit/index.js';
import { actorOf, auditContextOf } from '../server/principal.js';
import type { ModelRegistry } from '../registry/index.js';
import { BODY_LIMITS, declare, errorBody, errorResponses } from '../server/route-kit.js';
import { VitalsError, notFound } from '../errors.js';
import { type AcceptanceEvidence, renderEvidenceHtml } from './change-control.js';
import type { ModelMonitor, ModelStatus } from './model-monitor.js';
import { EQUIPMENT_FEATURE, POPULATION_FEATURE, type MonitoringReport } from './monitoring-report.js';
import type { PredictionLog } from './prediction-log.js';

/** What the monitoring routes need, and nothing more. */
export interface MonitoringDeps {
  monitor: Pick<ModelMonitor, 'status' | 'statusAll' | 'checkModel' | 'history' | 'listAlerts' | 'getAlert' | 'alerts' | 'changeControl'>;
  predictionLog: Pick<PredictionLog, 'record' | 'attachGroundTruth' | 'get' | 'list'>;
  registry: Pick<ModelRegistry, 'getModel' | 'getVersion'>;
  /** reads of prediction rows (patient-level inputs) are audited */
  access: AccessRecorder;
}

/** The seed documents' monitoring shape, with the full report beside it. */
function seedStatus(status: ModelStatus) {
  const r = status.latest;
  return {
    model_id: status.model_name,
    model_uuid: status.model_id,
    version: r?.version ?? null,
    status: r ? r.status : 'no_checks_yet',
    drift_status: {
      drift_detected: r?.drift?.drift_detected ?? false,
      drift_score: r?.drift?.drift_score ?? null,
      timestamp: r?.timestamp ?? null,
      drifted_features: r?.drift?.drifted_features ?? [],
      feature_drifts: r?.drift?.feature_drifts ?? {},
    },
    decay_status: {
      decay_detected: r?.decay.decay_detected ?? false,
      current_accuracy: r?.decay.current_accuracy ?? null,
      baseline_accuracy: r?.decay.baseline_accuracy ?? null,
      accuracy_decay: r?.decay.accuracy_decay ?? null,
      estimated_accuracy: r?.decay.estimated_accuracy ?? null,
      labels: r?.decay.labels ?? 0,
    },
    health: r ? { score: r.health.score, band: r.health.band } : null,
    estimated_performance: r?.estimated_performance ?? null,
    subgroups: r?.subgroups ?? null,
    recommendations: r?.recommendations ?? [],
    recent_alerts: status.recent_alerts,
  };
}

function productionView(status: ModelStatus) {
  const r: MonitoringReport | null = status.latest;
  const categorical = Object.values(r?.drift?.feature_drifts ?? {}).filter((f) => f.type === 'categorical' && f.drifted);
  const change = (f: (typeof categorical)[number]) => ({ feature: f.feature, ...f.largest_shift, js_distance: f.effect, p_value: f.p_value });
  return {
    model_id: status.model_name,
    version: r?.version ?? null,
    timestamp: r?.timestamp ?? null,
    health_score: r?.health.score ?? null,
    health_band: r?.health.band ?? null,
    health_components: r?.health.components ?? null,
    drift: r
      ? {
          detected: r.drift?.drift_detected ?? false,
          score: r.drift?.drift_score ?? null,
          drifted_features: r.drift?.drifted_features ?? [],
          prediction_drift: r.outputs.prediction_drift,
          confidence: r.outputs.confidence,
        }
      : null,
    performance: r ? { ...r.decay, ...r.operations } : null,
    equipment_changes: categorical.filter((f) => EQUIPMENT_FEATURE.test(f.feature)).map(change),
    population_changes: categorical.filter((f) => POPULATION_FEATURE.test(f.feature)).map(change),
    window: r?.window ?? null,
    estimated_performance: r?.estimated_performance ?? null,
    subgroups: r?.subgroups ?? null,
    recommendations: r?.recommendations ?? [],
    versions: status.versions.map((v) => ({ version: v.version, health_score: v.health.score, drift_score: v.drift?.drift_score ?? null, status: v.status })),
    recent_alerts: status.recent_alerts,
  };
}

const label = z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? Number(v) : v));

const recordBody = z.object({
  features: z.record(z.string(), z.unknown()),
  prediction: label,
  probability: z.union([z.array(z.number()), z.record(z.string(), z.number()), z.number()]).optional(),
  ground_truth: label.optional(),
  version: z.string().optional().describe('semver, alias or version id; default: the production version'),
  variant: z.string().optional(),
  latency_ms: z.number().optional(),
});

const openView = (description: string) => z.looseObject({}).describe(description);
const alertView = z.looseObject({ id: z.string(), rule: z.string(), severity: z.string(), status: z.string(), message: z.string() }).describe('Alert');
const seedStatusView = z
  .looseObject({
    model_id: z.string(),
    model_uuid: z.string(),
    version: z.string().nullable(),
    status: z.string().describe('ok, insufficient_data, or no_checks_yet (run POST …/check)'),
    drift_status: z.looseObject({ drift_detected: z.boolean(), drift_score: z.number().nullable(), drifted_features: z.array(z.string()) }),
    decay_status: z.looseObject({ decay_detected: z.boolean(), labels: z.number() }),
    health: z.looseObject({ score: z.number(), band: z.string() }).nullable(),
    recommendations: z.array(z.string()),
    recent_alerts: z.array(alertView),
  })
  .describe('MonitoringStatus');
const productionViewSchema = z
  .looseObject({ model_id: z.string(), version: z.string().nullable(), health_score: z.number().nullable(), recommendations: z.array(z.string()), recent_alerts: z.array(alertView) })
  .describe('ProductionMonitoring');
const predictionView = z.looseObject({ id: z.string(), model_id: z.string(), created_at: z.string() }).describe('PredictionLogEntry');
const modelParam = z.object({ model_id: z.string() });
const alertEventView = z
  .object({
    id: z.string(),
    alert_id: z.string(),
    action: z.enum(['acknowledged', 'assigned', 'commented', 'resolved', 'action_taken']),
    actor: z.string(),
    comment: z.string().nullable(),
    assignee: z.string().nullable(),
    action_kind: z.enum(['rollback', 'retrain', 'release_test', 'none']).nullable(),
    reference: z.string().nullable(),
    created_at: z.string(),
  })
  .describe('AlertEvent');
const alertDetailView = alertView.extend({
  handling: z.object({
    acknowledged_by: z.string().nullable(),
    acknowledged_at: z.string().nullable(),
    assignee: z.string().nullable(),
    actions_taken: z.array(z.object({ kind: z.string(), actor: z.string(), reference: z.string().nullable(), at: z.string() })),
    events: z.array(alertEventView),
    suggested_actions: z.array(z.object({ kind: z.string(), title: z.string(), method: z.literal('POST'), href: z.string() })),
  }),
});
const alertParam = z.object({ alert_id: z.string() });
const comment = z.string().min(1).max(4000);

/** A bulk ground-truth item's own failure, or undefined for a failure that is not the item's. */
const BULK_STATUSES = ['updated', 'not_found', 'invalid_label', 'conflict'] as const;
function bulkFailure(err: unknown): { status: (typeof BULK_STATUSES)[number]; message: string; allowed_labels?: string[] } | undefined {
  if (!(err instanceof VitalsError)) return undefined;
  const status = err.code === 'PREDICTION_NOT_FOUND' ? 'not_found' : err.code === 'INVALID_LABEL' ? 'invalid_label' : err.code === 'GROUND_TRUTH_EXISTS' ? 'conflict' : undefined;
  if (!status) return undefined;
  const allowed = err.details?.allowed_labels as string[] | undefined;
  return { status, message: err.message, ...(allowed ? { allowed_labels: allowed } : {}) };
}

const evidenceBody = (e: AcceptanceEvidence) => ({ ...e, results: e.results.map((r) => ({ ...r })) });

export function monitoringPlugin(deps: MonitoringDeps): FastifyPluginAsync {
  const { monitor, predictionLog, registry, access } = deps;
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['monitoring'];

    app.post(
      '/api/v1/mlops/monitoring/:model_id/record',
      {
        ...declare('monitoring:write'),
        schema: {
          tags,
          summary: 'Record a prediction made outside Vitals (features, prediction, probability, ground_truth)',
          params: modelParam,
          body: recordBody,
          response: {
            201: z.object({ prediction_id: z.string(), model_id: z.string(), version: z.string().nullable(), message: z.string() }),
            ...errorResponses(404, 503),
          },
        },
      },
      async (req, reply) => {
        const model = await registry.getModel(req.params.model_id);
        const version = req.body.version ? await registry.getVersion(model.id, req.body.version) : model.aliases.production ? await registry.getVersion(model.id, 'production') : undefined;
        const p = req.body.probability;
        const probabilities = typeof p === 'number' ? [1 - p, p] : (p ?? null);
        const confidence = Array.isArray(probabilities) ? Math.max(...probabilities) : probabilities ? Math.max(...Object.values(probabilities)) : null;
        const id = predictionLog.record({
          model_id: model.id,
          model_name: model.name,
          version_id: version?.id ?? null,
          version: version?.version ?? null,
          variant: req.body.variant ?? null,
          request_id: req.id,
          source: 'external',
          input: req.body.features,
          prediction: req.body.prediction,
          probabilities,
          confidence,
          latency_ms: req.body.latency_ms ?? null,
          ground_truth: req.body.ground_truth ?? null,
        });
        return reply.code(201).send({ prediction_id: id, model_id: model.id, version: version?.version ?? null, message: 'prediction recorded' });
      },
    );

    const overwrite = z.boolean().optional().describe('replace a label the prediction already has (the old one is kept in the audit trail and returned as previous)');
    const truthBody = z.object({ ground_truth: label, overwrite });
    app.post(
      '/api/v1/predictions/:id/ground-truth',
      {
        ...declare('monitoring:write'),
        schema: {
          tags,
          summary: "Attach the true outcome to an earlier prediction: one of the model's labels (a number for regression); a different second label needs overwrite: true",
          params: z.object({ id: z.string() }),
          body: truthBody,
          response: { 200: predictionView.extend({ previous: z.string().nullable().describe('the label it had before (null: none)') }), ...errorResponses(404, 409) },
        },
      },
      async (req) => ({ ...(await predictionLog.attachGroundTruth(req.params.id, req.body.ground_truth, auditContextOf(req), { overwrite: req.body.overwrite })) }),
    );
    const bulkResult = z.object({
      prediction_id: z.string(),
      status: z.enum(BULK_STATUSES),
      previous: z.string().nullable().optional(),
      message: z.string().optional(),
      allowed_labels: z.array(z.string()).optional(),
    });
    const bulkView = z
      .object({ updated: z.number(), failed: z.number(), results: z.array(bulkResult) })
      .describe('GroundTruthBulkResult: 200 all updated, 207 some failed, 422 all failed (see each result)');
    app.post(
      '/api/v1/mlops/monitoring/ground-truth',
      {
        // 10,000 labels of ~100 bytes each exceed the 1 MiB JSON default
        ...declare('monitoring:write', BODY_LIMITS.batch),
        schema: {
          tags,
          summary: 'Attach ground truth to many predictions: {labels: [{prediction_id, ground_truth, overwrite?}], overwrite?}; 207 when some items fail, 422 when all do',
          body: z.object({
            labels: z
              .array(z.object({ prediction_id: z.string(), ground_truth: label, overwrite }))
              .min(1)
              .max(10_000),
            overwrite: overwrite.describe('the default for items that do not say'),
          }),
          response: { 200: bulkView, 207: bulkView, ...errorResponses(413), 422: z.union([bulkView, errorBody]) },
        },
      },
      async (req, reply) => {
        const results: Array<z.infer<typeof bulkResult>> = [];
        for (const l of req.body.labels) {
          try {
            const entry = await predictionLog.attachGroundTruth(l.prediction_id, l.ground_truth, auditContextOf(req), { overwrite: l.overwrite ?? req.body.overwrite });
            results.push({ prediction_id: l.prediction_id, status: 'updated', previous: entry.previous });
          } catch (err) {
            const item = bulkFailure(err);
            if (!item) throw err; // not the item's fault (e.g. the database is unavailable): the whole request fails
            results.push({ prediction_id: l.prediction_id, ...item });
          }
        }
        const updated = results.filter((r) => r.status === 'updated').length;
        const failed = results.length - updated;
        return reply.code(failed === 0 ? 200 : updated === 0 ? 422 : 207).send({ updated, failed, results });
      },
    );

    app.get(
      '/api/v1/mlops/monitoring',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Monitoring status of every model (drift, decay, recent alerts), from the latest stored checks',
          response: { 200: z.object({ models: z.array(seedStatusView) }), ...errorResponses() },
        },
      },
      async () => ({ models: (await monitor.statusAll()).map(seedStatus) }),
    );
    app.get(
      '/api/v1/mlops/monitoring/:model_id',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          params: modelParam,
          summary: 'Monitoring status of one model from its latest stored check: drift_status, decay_status, recent_alerts',
          response: { 200: seedStatusView, ...errorResponses(404) },
        },
      },
      async (req) => seedStatus(await monitor.status(req.params.model_id)),
    );
    app.post(
      '/api/v1/mlops/monitoring/:model_id/check',
      {
        ...declare('monitoring:write', BODY_LIMITS.none),
        schema: {
          tags,
          params: modelParam,
          summary: 'Run a monitoring check now on the model’s production, challenger and staging versions (stores and returns the reports)',
          response: { 200: z.object({ model_id: z.string(), reports: z.array(openView('MonitoringReport')) }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const { model_name, reports } = await monitor.checkModel(req.params.model_id);
        return { model_id: model_name, reports: reports.map((r) => ({ ...r })) };
      },
    );
    app.get(
      '/api/v1/mlops/monitoring/:model_id/history',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          params: modelParam,
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(5000).default(200) }),
          summary: 'Time series of checks: drift, health and accuracy over time',
          response: { 200: z.object({ model_id: z.string(), checks: z.array(openView('MonitoringCheck')) }), ...errorResponses(404) },
        },
      },
      async (req) => ({ model_id: req.params.model_id, checks: await monitor.history(req.params.model_id, req.query.limit) }),
    );
    app.get(
      '/api/v1/mlops/production-monitoring',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'Production overview: health score, drift and performance of every model',
          response: { 200: z.object({ models: z.array(productionViewSchema), alerts_firing: z.number(), timestamp: z.string() }), ...errorResponses() },
        },
      },
      async () => {
        const views = (await monitor.statusAll()).map(productionView);
        return { models: views, alerts_firing: (await monitor.listAlerts({ status: 'firing' })).length, timestamp: new Date().toISOString() };
      },
    );
    app.get(
      '/api/v1/mlops/production-monitoring/alerts',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          querystring: z.object({ status: z.enum(['firing', 'resolved']).optional(), model: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
          summary: 'Alerts, newest first',
          response: { 200: z.object({ alerts: z.array(alertView) }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const modelId = req.query.model ? (await registry.getModel(req.query.model)).id : undefined;
        return { alerts: await monitor.listAlerts({ status: req.query.status, modelId, limit: req.query.limit }) };
      },
    );
    app.get(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          params: alertParam,
          summary: 'One alert: how it has been handled (acknowledged, assigned, comments, actions taken) and the actions it may lead to',
          response: { 200: alertDetailView, ...errorResponses(404) },
        },
      },
      async (req) => monitor.getAlert(req.params.alert_id),
    );
    const step = { 200: alertEventView, ...errorResponses(404, 409) };
    app.post(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id/acknowledge',
      {
        ...declare('monitoring:write'),
        schema: { tags, params: alertParam, summary: 'Acknowledge an alert (it stops re-notifying while it fires)', body: z.object({ comment: comment.optional() }).nullish(), response: step },
      },
      async (req) => monitor.alerts.acknowledge(req.params.alert_id, auditContextOf(req), req.body?.comment ?? undefined),
    );
    app.post(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id/assign',
      {
        ...declare('monitoring:write'),
        schema: { tags, params: alertParam, summary: 'Assign an alert to a person', body: z.object({ assignee: z.string().min(1).max(200), comment: comment.optional() }), response: step },
      },
      async (req) => monitor.alerts.assign(req.params.alert_id, auditContextOf(req), req.body.assignee, req.body.comment),
    );
    app.post(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id/comments',
      { ...declare('monitoring:write'), schema: { tags, params: alertParam, summary: 'Comment on an alert', body: z.object({ comment }), response: step } },
      async (req) => monitor.alerts.comment(req.params.alert_id, auditContextOf(req), req.body.comment),
    );
    app.post(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id/actions',
      {
        ...declare('monitoring:write'),
        schema: {
          tags,
          params: alertParam,
          summary: 'Record the follow-up taken for an alert (rollback, retrain, release_test, none) and what it produced',
          body: z.object({ kind: z.enum(['rollback', 'retrain', 'release_test', 'none']), reference: z.string().max(200).optional(), comment: comment.optional() }),
          response: step,
        },
      },
      async (req) => monitor.alerts.recordAction(req.params.alert_id, auditContextOf(req), req.body.kind, req.body.reference, req.body.comment),
    );
    app.post(
      '/api/v1/mlops/production-monitoring/alerts/:alert_id/resolve',
      {
        ...declare('monitoring:write'),
        schema: { tags, params: alertParam, summary: 'Resolve an alert by hand (409 when already resolved)', body: z.object({ comment: comment.optional() }).nullish(), response: step },
      },
      async (req) => monitor.alerts.resolve(req.params.alert_id, auditContextOf(req), req.body?.comment ?? undefined),
    );
    // change control: acceptance criteria registered before retraining, evidence per version
    const criterion = z.object({
      metric: z.enum(['accuracy', 'sensitivity', 'specificity']),
      subgroup: z.object({ column: z.string().min(1), value: z.string().optional(), min: z.number().optional(), max: z.number().optional() }).optional(),
      min_samples: z.number().int().min(1),
      lower_bound: z.number().min(0).max(1),
    });
    const planView = z.object({ model_id: z.string(), criteria: z.array(criterion), registered_by: z.string(), registered_at: z.string() });
    const evidenceView = z
      .looseObject({
        model: z.string(),
        version: z.string(),
        passed: z.boolean(),
        evaluated_at: z.string(),
        labelled_rows: z.number(),
        results: z.array(z.looseObject({ passed: z.boolean(), reason: z.string() })),
      })
      .describe('AcceptanceEvidence');
    const versionParams = z.object({ model_id: z.string(), version: z.string() });
    app.put(
      '/api/v1/mlops/change-control/:model_id/criteria',
      {
        ...declare('models:write'),
        schema: {
          tags,
          params: modelParam,
          summary: 'Register the acceptance criteria a retrained candidate must meet (metrics overall and per subgroup, minimum samples, Wilson lower bounds)',
          body: z.object({ criteria: z.array(criterion).min(1).max(200) }),
          response: { 200: planView, ...errorResponses(404) },
        },
      },
      async (req) => monitor.changeControl.setPlan(req.params.model_id, req.body.criteria, actorOf(req)),
    );
    app.get(
      '/api/v1/mlops/change-control/:model_id/criteria',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: { tags, params: modelParam, summary: 'The registered acceptance criteria of a model', response: { 200: planView, ...errorResponses(404) } },
      },
      async (req) => {
        const plan = await monitor.changeControl.getPlan(req.params.model_id);
        if (!plan) throw notFound(`acceptance criteria of "${req.params.model_id}"`);
        return plan;
      },
    );
    app.post(
      '/api/v1/mlops/change-control/:model_id/versions/:version/evaluate',
      {
        ...declare('monitoring:write', BODY_LIMITS.none),
        schema: {
          tags,
          params: versionParams,
          summary: 'Judge a version against the criteria on its labelled predictions; stores and returns the evidence',
          response: { 200: evidenceView, ...errorResponses(404, 409) },
        },
      },
      async (req) => evidenceBody(await monitor.changeControl.evaluate(req.params.model_id, req.params.version)),
    );
    app.get(
      '/api/v1/mlops/change-control/:model_id/versions/:version/evidence',
      {
        ...declare('models:read', BODY_LIMITS.none),
        schema: {
          tags,
          params: versionParams,
          querystring: z.object({ format: z.enum(['json', 'html']).default('json') }),
          summary: 'The latest acceptance evidence of a version, as JSON or as a readable page (format=html)',
          response: { 200: z.union([evidenceView, z.string()]), ...errorResponses(404) },
          mediaTypes: { 200: ['application/json', 'text/html'] },
        },
      },
      async (req, reply) => {
        const evidence = await monitor.changeControl.evidence(req.params.model_id, req.params.version);
        if (!evidence) throw notFound(`acceptance evidence of "${req.params.model_id}" ${req.params.version}`);
        if (req.query.format === 'html') return reply.type('text/html; charset=utf-8').send(renderEvidenceHtml(evidence));
        return evidenceBody(evidence);
      },
    );
    app.get(
      '/api/v1/mlops/production-monitoring/:model_id',
      {
        ...declare('monitoring:read', BODY_LIMITS.none),
        schema: {
          tags,
          params: modelParam,
          summary: 'Health score, drift, performance, equipment and population changes of one model',
          response: { 200: productionViewSchema, ...errorResponses(404) },
        },
      },
      async (req) => productionView(await monitor.status(req.params.model_id)),
    );

    app.get(
      '/api/v1/predictions/:id',
      {
        ...declare('predictions:read', BODY_LIMITS.none),
        schema: { tags, summary: 'One logged prediction (patient-level row)', params: z.object({ id: z.string() }), response: { 200: predictionView, ...errorResponses(404) } },
      },
      async (req) => {
        const entry = await predictionLog.get(req.params.id);
        await access.recordAccess({
          action: 'prediction.read',
          target: `prediction:${entry.id}`,
          context: auditContextOf(req),
          details: { model: entry.model_name, version: entry.version },
        });
        return { ...entry };
      },
    );
    app.get(
      '/api/v1/predictions',
      {
        ...declare('predictions:read', BODY_LIMITS.none),
        schema: {
          tags,
          summary: 'The latest predictions of a model, newest first (patient-level rows)',
          querystring: z.object({ model: z.string(), version: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), labeled: z.stringbool().optional() }),
          response: { 200: z.object({ predictions: z.array(predictionView) }), ...errorResponses(404) },
        },
      },
      async (req) => {
        const model = await registry.getModel(req.query.model);
        const version = req.query.version ? await registry.getVersion(model.id, req.query.version) : undefined;
        const rows = await predictionLog.list({ modelId: model.id, versionId: version?.id, limit: req.query.limit, withGroundTruth: req.query.labeled });
        // ids are time-ordered: the newest and oldest id name exactly the rows that were read
        if (rows.length)
          await access.recordAccess({
            action: 'prediction.listed',
            target: `model:${model.name}`,
            context: auditContextOf(req),
            details: { version: version?.version ?? null, count: rows.length, newest_id: rows[0]!.id, oldest_id: rows.at(-1)!.id, labeled: req.query.labeled ?? null },
          });
        return { predictions: rows.map((r) => ({ ...r })) };
      },
    );
  };
}
