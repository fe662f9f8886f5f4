/** Health, readiness, Prometheus metrics and the root page. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../store/index.js';
import { BODY_LIMITS, declare, errorBody, errorResponses, view } from './route-kit.js';
import { VERSION } from './version.js';
import { checkDependencies } from './health-checks.js';

export interface SystemRouteDeps {
  database: Pick<Database, 'db' | 'dialect'>;
  /** the default model `/predict` serves, when one is configured */
  defaultModel?: () => Promise<{ modelName: string; version: string; session: { provider: string } }>;
  predictionLog: { readonly pending: number };
  pool: { readonly workers: number; readonly threadsPerWorker: number; readonly queueSize: number; readonly maxQueue?: number };
  /** the message bus, when configured (reported, not required: the outbox holds events meanwhile) */
  bus?: () => Promise<{ queue_type: string; connected: boolean }>;
  device: string;
  startedAt: Date;
  /** Prometheus text, or undefined when METRICS_ENABLED=false */
  metrics?: { contentType: string; text(): Promise<string> };
}

const checkView = z.object({ status: z.enum(['ok', 'degraded', 'down']), required: z.boolean(), reason: z.string() });
const healthView = view({
  status: z.enum(['healthy', 'degraded', 'unhealthy']).describe('unhealthy (503): a required dependency is down; degraded: another is not ok'),
  checks: z.object({ database: checkView, bus: checkView, default_model: checkView, inference_pool: checkView }),
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
        let model: { loaded: boolean; [key: string]: unknown } = { loaded: false };
        const defaultModel = s.defaultModel
          ? async () => {
              const served = await s.defaultModel!().catch((err: Error) => {
                model = { loaded: false, error: err.message };
                throw err;
              });
              model = { loaded: true, name: served.modelName, version: served.version, provider: served.session.provider };
              return served;
            }
          : undefined;
        const { status, checks } = await checkDependencies({
          database: () => s.database.db.selectFrom('models').select('id').limit(1).execute(),
          bus: s.bus,
          defaultModel,
          pool: s.pool,
        });
        return reply.code(status === 'unhealthy' ? 503 : 200).send({
          status,
          checks,
          version: VERSION,
          uptime_seconds: Math.round((Date.now() - s.startedAt.getTime()) / 1000),
          timestamp: new Date().toISOString(),
          database: { status: checks.database.status === 'ok' ? 'ok' : `error: ${checks.database.reason}`, dialect: s.database.dialect },
          model,
          prediction_log: { pending: s.predictionLog.pending },
          inference: { workers: s.pool.workers, threads_per_worker: s.pool.threadsPerWorker, device: s.device, queued: s.pool.queueSize },
        });
      },
    );
    // Liveness: the process answers. No dependency is checked, so a down database never gets it restarted.
    app.get(
      '/health/live',
      {
        ...declare('public', BODY_LIMITS.none),
        schema: {
          tags: ['system'],
          summary: 'Liveness: the process is up (readiness with each dependency is /health)',
          response: { 200: z.object({ status: z.literal('alive'), uptime_seconds: z.number() }), ...errorResponses() },
        },
      },
      async () => ({ status: 'alive' as const, uptime_seconds: Math.round((Date.now() - s.startedAt.getTime()) / 1000) }),
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
