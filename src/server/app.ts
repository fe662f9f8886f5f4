/**
 * The composition root: the one place that turns Settings into wired services and an HTTP app.
 * Everything with side effects (database, files, worker threads, timers) is created here and passed in.
 */
import { resolve } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ZodTypeProvider, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Settings } from '../config/index.js';
import { type Metrics, createMetrics } from '../metrics.js';
import { PredictionLog } from '../monitoring/prediction-log.js';
import { monitoringRoutes } from '../monitoring/routes.js';
import { trainingRoutes } from '../pipelines/routes.js';
import { ArtifactStore, ModelRegistry } from '../registry/index.js';
import { registryRoutes } from '../registry/routes.js';
import { InferencePool, Predictor, bindTensors, loadSession } from '../serving/index.js';
import { kserveRoutes } from '../serving/kserve-routes.js';
import { servingRoutes } from '../serving/routes.js';
import { type Database, openDatabase } from '../store/index.js';
import { installErrorHandler } from './error-handler.js';
import { systemRoutes } from './system-routes.js';

import { VERSION } from './version.js';
export { VERSION };

export interface Services {
  settings: Settings;
  database: Database;
  registry: ModelRegistry;
  predictionLog: PredictionLog;
  pool: InferencePool;
  predictor: Predictor;
  metrics: Metrics;
  startedAt: Date;
}

export interface VitalsApp {
  app: FastifyInstance;
  services: Services;
  /** drains the prediction log, stops workers and closes the database */
  close(): Promise<void>;
}

export async function createServices(settings: Settings, onLogError: (err: unknown) => void = () => undefined): Promise<Services> {
  const home = resolve(settings.VITALS_HOME);
  const database = await openDatabase(settings.DATABASE_URL, home);
  const metrics = createMetrics(settings.METRICS_ENABLED);
  const pool = new InferencePool({ workers: settings.INFERENCE_WORKERS, threadsPerWorker: settings.INFERENCE_THREADS, device: settings.DEVICE });
  const registry = new ModelRegistry(database, new ArtifactStore(resolve(home, 'artifacts')), async (artifact, specs) => {
    bindTensors(await loadSession(pool, { key: artifact.sha256, path: artifact.path }), specs.input_spec, specs.output_spec, specs.task);
  });
  const predictionLog = new PredictionLog(database, {
    flushMs: settings.PREDICTION_LOG_FLUSH_MS,
    batchSize: settings.PREDICTION_LOG_BATCH_SIZE,
    metrics,
    onError: onLogError,
  });
  const predictor = new Predictor(registry, pool, predictionLog, metrics, {
    batchSize: settings.BATCH_SIZE,
    enableBatching: settings.ENABLE_BATCHING,
    batchMaxWaitMs: settings.BATCH_MAX_WAIT_MS,
    cacheSize: settings.CACHE_SIZE,
    cacheTtlSeconds: settings.CACHE_TTL,
    supportedImageFormats: settings.SUPPORTED_IMAGE_FORMATS,
    modelPath: settings.MODEL_PATH,
    defaultModel: settings.MODEL_NAME,
    monitoringEnabled: settings.MODEL_MONITORING_ENABLED,
  });
  return { settings, database, registry, predictionLog, pool, predictor, metrics, startedAt: new Date() };
}

export async function closeServices(services: Services): Promise<void> {
  await services.predictionLog.close();
  await services.pool.close();
  await services.database.close();
}

export async function buildApp(settings: Settings, options: { logger?: boolean | object } = {}): Promise<VitalsApp> {
  const maxImageBytes = Math.round(settings.MAX_IMAGE_SIZE_MB * 1024 * 1024);
  const app = Fastify({
    logger: options.logger ?? { level: settings.LOG_LEVEL },
    // A batch of base64 images may be large; each image is still checked against MAX_IMAGE_SIZE_MB.
    bodyLimit: Math.max(16 * 1024 * 1024, Math.ceil(maxImageBytes * 1.4) * 8),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const services = await createServices(settings, (err) => app.log.error({ err }, 'prediction log flush failed; rows kept for retry'));
  installErrorHandler(app, services.metrics);

  await app.register(fastifyMultipart, { limits: { fileSize: maxImageBytes, files: 1, fields: 20 } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vitals API',
        version: VERSION,
        description:
          'Vitals: model registry, ONNX serving (seed API, tabular API and the Open Inference Protocol), prediction log and monitoring.',
      },
      tags: [
        { name: 'serving', description: 'Predictions: tabular, image (chest X-ray model-server API)' },
        { name: 'kserve', description: 'Open Inference Protocol (KServe V2)' },
        { name: 'registry', description: 'Models, versions, aliases, promotion and rollback' },
        { name: 'versioning', description: 'Seed-compatible versioning endpoints' },
        { name: 'monitoring', description: 'Prediction log and ground truth' },
        { name: 'training', description: 'Built-in trainers' },
        { name: 'system', description: 'Health, metrics' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (req, reply) => {
    const labels = { method: req.method, route: req.routeOptions?.url ?? 'unmatched', status: String(reply.statusCode) };
    services.metrics.httpRequests.inc(labels);
    services.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  if (settings.API_KEY) {
    const key = settings.API_KEY;
    app.addHook('onRequest', async (req, reply) => {
      const mutating = req.method !== 'GET' && req.method !== 'HEAD';
      if (!mutating || !req.url.startsWith('/api/')) return;
      const given = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer\s+/i, '');
      if (given !== key) {
        return reply.code(401).send({ error: 'Unauthorized', code: 'UNAUTHORIZED', message: 'send the API key in the X-API-Key header or as a Bearer token' });
      }
    });
  }

  await app.register(systemRoutes(services));
  await app.register(registryRoutes(services));
  await app.register(servingRoutes(services));
  await app.register(kserveRoutes(services));
  await app.register(monitoringRoutes(services));
  await app.register(trainingRoutes(services));

  let closed = false;
  return {
    app,
    services,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await closeServices(services);
    },
  };
}
