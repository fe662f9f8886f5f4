/**
 * Prediction-log endpoints: record predictions made elsewhere (the seed's `/record`), attach ground
 * truth that arrives later, and read the log.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../server/app.js';

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
