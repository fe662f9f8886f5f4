/**
 * Prediction-log endpoints: record predictions made elsewhere (the seed's `/record`), attach ground
 * truth that arrives later, and read the log.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../server/app.js';
import type { ModelStatus } from './model-monitor.js';
import { EQUIPMENT_FEATURE, POPULATION_FEATURE, type MonitoringReport } from './monitoring-report.js';


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
    drift: r ? { detected: r.drift?.drift_detected ?? false, score: r.drift?.drift_score ?? null, drifted_features: r.drift?.drifted_features ?? [], prediction_drift: r.outputs.prediction_drift, confidence: r.outputs.confidence } : null,
    performance: r ? { ...r.decay, ...r.operations } : null,
    equipment_changes: categorical.filter((f) => EQUIPMENT_FEATURE.test(f.feature)).map(change),
    population_changes: categorical.filter((f) => POPULATION_FEATURE.test(f.feature)).map(change),
    window: r?.window ?? null,
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

export function monitoringRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['monitoring'];

    app.post(
      '/api/v1/mlops/monitoring/:model_id/record',
      { schema: { tags, summary: 'Record a prediction made outside Vitals (features, prediction, probability, ground_truth)', params: z.object({ model_id: z.string() }), body: recordBody } },
      async (req, reply) => {
        const model = await s.registry.getModel(req.params.model_id);
        const version = req.body.version
          ? await s.registry.getVersion(model.id, req.body.version)
          : model.aliases.production
            ? await s.registry.getVersion(model.id, 'production')
            : undefined;
        const p = req.body.probability;
        const probabilities = typeof p === 'number' ? [1 - p, p] : (p ?? null);
        const confidence = Array.isArray(probabilities) ? Math.max(...probabilities) : probabilities ? Math.max(...Object.values(probabilities)) : null;
        const id = s.predictionLog.record({
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

    const truthBody = z.object({ ground_truth: label });
    app.post(
      '/api/v1/predictions/:id/ground-truth',
      { schema: { tags, summary: 'Attach the true outcome to an earlier prediction', params: z.object({ id: z.string() }), body: truthBody } },
      async (req) => s.predictionLog.attachGroundTruth(req.params.id, req.body.ground_truth),
    );
    app.post(
      '/api/v1/mlops/monitoring/ground-truth',
      {
        schema: {
          tags,
          summary: 'Attach ground truth to many predictions: {labels: [{prediction_id, ground_truth}]}',
          body: z.object({ labels: z.array(z.object({ prediction_id: z.string(), ground_truth: label })).min(1).max(10_000) }),
        },
      },
      async (req) => {
        const results = [];
        for (const l of req.body.labels) {
          try {
            await s.predictionLog.attachGroundTruth(l.prediction_id, l.ground_truth);
            results.push({ prediction_id: l.prediction_id, status: 'updated' });
          } catch (err) {
            results.push({ prediction_id: l.prediction_id, status: 'not_found', message: (err as Error).message });
          }
        }
        return { updated: results.filter((r) => r.status === 'updated').length, results };
      },
    );
    const statusOf = async (modelRef: string) => {
      let status = await s.monitor.status(modelRef);
      if (!status.latest && status.versions.length === 0) {
        const model = await s.registry.getModel(modelRef);
        if (Object.keys(model.aliases).length) {
          for (const v of await s.registry.listVersions(model.id)) if (v.aliases.length && v.status !== 'archived') await s.monitor.checkVersion(v.id);
          status = await s.monitor.status(modelRef);
        }
      }
      return status;
    };
    const modelParam = z.object({ model_id: z.string() });

    app.get('/api/v1/mlops/monitoring', { schema: { tags, summary: 'Monitoring status of every model (drift, decay, recent alerts)' } }, async () => {
      const models = await s.registry.listModels();
      return { models: await Promise.all(models.map(async (m) => seedStatus(await statusOf(m.id)))) };
    });
    app.get('/api/v1/mlops/monitoring/:model_id', { schema: { tags, params: modelParam, summary: 'Monitoring status of one model: drift_status, decay_status, recent_alerts' } }, async (req) =>
      seedStatus(await statusOf(req.params.model_id)),
    );
    app.post('/api/v1/mlops/monitoring/:model_id/check', { schema: { tags, params: modelParam, summary: 'Run a monitoring check now on the model’s production, challenger and staging versions' } }, async (req) => {
      const model = await s.registry.getModel(req.params.model_id);
      const reports = [];
      for (const v of await s.registry.listVersions(model.id)) if (v.aliases.length && v.status !== 'archived') reports.push(await s.monitor.checkVersion(v.id));
      return { model_id: model.name, reports };
    });
    app.get(
      '/api/v1/mlops/monitoring/:model_id/history',
      { schema: { tags, params: modelParam, querystring: z.object({ limit: z.coerce.number().int().min(1).max(5000).default(200) }), summary: 'Time series of checks: drift, health and accuracy over time' } },
      async (req) => ({ model_id: req.params.model_id, checks: await s.monitor.history(req.params.model_id, req.query.limit) }),
    );
    app.get('/api/v1/mlops/production-monitoring', { schema: { tags, summary: 'Production overview: health score, drift and performance of every model' } }, async () => {
      const models = await s.registry.listModels();
      const views = await Promise.all(models.map(async (m) => productionView(await statusOf(m.id))));
      return { models: views, alerts_firing: (await s.monitor.listAlerts({ status: 'firing' })).length, timestamp: new Date().toISOString() };
    });
    app.get(
      '/api/v1/mlops/production-monitoring/alerts',
      { schema: { tags, querystring: z.object({ status: z.enum(['firing', 'resolved']).optional(), model: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }), summary: 'Alerts, newest first' } },
      async (req) => {
        const modelId = req.query.model ? (await s.registry.getModel(req.query.model)).id : undefined;
        return { alerts: await s.monitor.listAlerts({ status: req.query.status, modelId, limit: req.query.limit }) };
      },
    );
    app.get('/api/v1/mlops/production-monitoring/:model_id', { schema: { tags, params: modelParam, summary: 'Health score, drift, performance, equipment and population changes of one model' } }, async (req) =>
      productionView(await statusOf(req.params.model_id)),
    );

    app.get('/api/v1/predictions/:id', { schema: { tags, params: z.object({ id: z.string() }) } }, async (req) => s.predictionLog.get(req.params.id));
    app.get(
      '/api/v1/predictions',
      {
        schema: {
          tags,
          summary: 'The latest predictions of a model, newest first',
          querystring: z.object({ model: z.string(), version: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), labeled: z.coerce.boolean().optional() }),
        },
      },
      async (req) => {
        const model = await s.registry.getModel(req.query.model);
        const version = req.query.version ? await s.registry.getVersion(model.id, req.query.version) : undefined;
        return { predictions: await s.predictionLog.list({ modelId: model.id, versionId: version?.id, limit: req.query.limit, withGroundTruth: req.query.labeled }) };
      },
    );
  };
}
