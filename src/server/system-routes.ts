/** Health, readiness, Prometheus metrics and the root page. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../store/index.js';
import { BODY_LIMITS, declare, errorBody, errorResponses, view } from './route-kit.js';
import { VERSION } from './version.js';

export interface SystemRouteDeps {
  database: Pick<Database, 'db' | 'dialect'>;
  /** the default model `/predict` serves, when one is configured */
  defaultModel?: () => Promise<{ modelName: string; version: string; session: { provider: string } }>;
  predictionLog: { readonly pending: number };
  pool: { readonly workers: number; readonly threadsPerWorker: number; readonly queueSize: number };
  device: string;
  startedAt: Date;
  /** Prometheus text, or undefined when METRICS_ENABLED=false */
  metrics?: { contentType: string; text(): Promise<string> };
}

const healthView = view({
  status: z.enum(['healthy', 'unhealthy']),
  version: z.string(),
  uptime_seconds: z.number(),
  timestamp: z.string(),
  database: view({ status: z.string(), dialect: z.string() }),
  model: view({ loaded: z.boolean() }),
  prediction_log: view({ pending: z.number() }),
  inference: view({ workers: z.number(), threads_per_worker: z.number(), device: z.string(), queued: z.number() }),
});

export function systemPlugin(s: SystemRouteDeps): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/health',
      {
        ...declare('public', BODY_LIMITS.none),
        schema: { tags: ['system'], summary: 'Service health with database, model and prediction-log status', response: { 200: healthView, 503: healthView, ...errorResponses() } },
      },
      async (_req, reply) => {
        let database = 'ok';
        try {
          await s.database.db.selectFrom('models').select('id').limit(1).execute();
        } catch (err) {
          database = `error: ${(err as Error).message}`;
        }
        let model: { loaded: boolean; [key: string]: unknown } = { loaded: false };
        try {
          const served = s.defaultModel ? await s.defaultModel() : undefined;
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
          inference: { workers: s.pool.workers, threads_per_worker: s.pool.threadsPerWorker, device: s.device, queued: s.pool.queueSize },
        });
      },
    );

    app.get(
      '/metrics',
      {
        ...declare('public', BODY_LIMITS.none),
        schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'], response: { 200: z.string(), 404: errorBody } },
      },
      async (_req, reply) => {
        if (!s.metrics) return reply.code(404).send({ error: 'Not Found', code: 'NOT_FOUND', message: 'metrics are disabled (METRICS_ENABLED=false)' });
        return reply.type(s.metrics.contentType).send(await s.metrics.text());
      },
    );
  };
}
