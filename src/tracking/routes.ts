/** Experiment tracking over HTTP: the tracker's calls, so a Python training script can log with plain requests. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ExperimentTracking } from './experiment-tracking.js';
import { FINISH_STATUSES } from './experiment-tracking.js';

const runParams = z.object({ run_id: z.string() });

export function trackingRoutes(tracking: ExperimentTracking): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    const tags = ['tracking'];
    app.get('/api/v1/tracking/experiments', { schema: { tags, summary: 'Experiments and their run counts' } }, async () => ({ experiments: await tracking.listExperiments() }));
    app.post('/api/v1/tracking/runs', {
      schema: { tags, summary: 'Start a run', body: z.object({ experiment: z.string().min(1), name: z.string().optional(), config: z.record(z.string(), z.unknown()).optional(), tags: z.record(z.string(), z.string()).optional() }) },
    }, async (req, reply) => reply.code(201).send(await tracking.startRun(req.body.experiment, req.body)));
    app.get('/api/v1/tracking/runs/:run_id', { schema: { tags, params: runParams } }, async (req) => tracking.getRun(req.params.run_id));
    app.post('/api/v1/tracking/runs/:run_id/config', { schema: { tags, summary: 'log_model_config', params: runParams, body: z.record(z.string(), z.unknown()) } }, async (req) => {
      await tracking.logConfig(req.params.run_id, req.body);
      return tracking.getRun(req.params.run_id);
    });
    app.post('/api/v1/tracking/runs/:run_id/steps', {
      schema: { tags, summary: 'log_training_step', params: runParams, body: z.object({ epoch: z.number().int().min(0), loss: z.number(), learning_rate: z.number().optional(), metrics: z.record(z.string(), z.number()).optional() }) },
    }, async (req) => {
      await tracking.logTrainingStep(req.params.run_id, req.body.epoch, req.body.loss, req.body.learning_rate, req.body.metrics);
      return { ok: true };
    });
    app.post('/api/v1/tracking/runs/:run_id/metrics', {
      schema: { tags, summary: 'log_metrics', params: runParams, body: z.object({ metrics: z.record(z.string(), z.number()), step: z.number().int().min(0).optional() }) },
    }, async (req) => {
      await tracking.logMetrics(req.params.run_id, req.body.metrics, req.body.step);
      return { ok: true };
    });
    app.post('/api/v1/tracking/runs/:run_id/finish', { schema: { tags, summary: 'finish', params: runParams, body: z.object({ status: z.enum(FINISH_STATUSES).default('completed') }) } }, async (req) =>
      tracking.finish(req.params.run_id, req.body.status),
    );
    app.get('/api/v1/tracking/runs/:run_id/history/:key', { schema: { tags, params: z.object({ run_id: z.string(), key: z.string() }) } }, async (req) => ({ points: await tracking.history(req.params.run_id, req.params.key) }));
    app.get('/api/v1/tracking/experiments/:name/runs', { schema: { tags, params: z.object({ name: z.string() }) } }, async (req) => ({ runs: await tracking.listRuns(req.params.name) }));
    app.get('/api/v1/tracking/experiments/:name/best', {
      schema: { tags, summary: 'The best completed run by a metric', params: z.object({ name: z.string() }), querystring: z.object({ metric: z.string(), mode: z.enum(['max', 'min']).default('max') }) },
    }, async (req) => ({ run: await tracking.bestRun(req.params.name, req.query.metric, req.query.mode) }));
    app.post('/api/v1/tracking/compare', { schema: { tags, summary: 'Compare runs: metrics side by side and the config keys that differ', body: z.object({ run_ids: z.array(z.string()).min(1) }) } }, async (req) => tracking.compare(req.body.run_ids));
  };
}
