/** Health, readiness, Prometheus metrics and the root page. */
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from './app.js';
import { VERSION } from './version.js';

export function systemRoutes(s: Services): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', { schema: { tags: ['system'], summary: 'Service health with database, model and prediction-log status' } }, async (_req, reply) => {
      let database = 'ok';
      try {
        await s.database.db.selectFrom('models').select('id').limit(1).execute();
      } catch (err) {
        database = `error: ${(err as Error).message}`;
      }
      let model: Record<string, unknown> = { loaded: false };
      try {
        const served = s.settings.MODEL_PATH || s.settings.MODEL_NAME ? await s.predictor.serveDefault() : undefined;
        if (served) model = { loaded: true, name: served.modelName, version: served.version, provider: served.session.provider };
      } catch (err) {
        model = { loaded: false, error: (err as Error).message };
      }
      const healthy = database === 'ok';
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'healthy' : 'unhealthy',
        version: VERSION,
        uptime_seconds: Math.round((Date.now() - s.startedAt.getTime()) / 1000),
        timestamp: new Date().toISOString(),
        database: { status: database, dialect: s.database.dialect },
        model,
        prediction_log: { pending: s.predictionLog.pending },
        inference: { workers: s.pool.workers, threads_per_worker: s.pool.threadsPerWorker, device: s.settings.DEVICE, queued: s.pool.queueSize },
      });
    });

    app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
      if (!s.settings.METRICS_ENABLED) return reply.code(404).send({ error: 'Not Found', code: 'NOT_FOUND', message: 'metrics are disabled (METRICS_ENABLED=false)' });
      return reply.type(s.metrics.registry.contentType).send(await s.metrics.registry.metrics());
    });

  };
}
