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
import { AbTesting, BlueGreenDeployments } from '../abtest/index.js';
import { abTestRoutes } from '../abtest/routes.js';
import type { Settings } from '../config/index.js';
import { PredictionRollups, dashboardPlugin } from '../dashboard/index.js';
import { Messaging, messagingRoutes } from '../messaging/index.js';
import { type Metrics, createMetrics } from '../metrics.js';
import { ModelMonitor } from '../monitoring/model-monitor.js';
import { AlertNotifier } from '../monitoring/notifiers.js';
import { PredictionLog } from '../monitoring/prediction-log.js';
import { monitoringRoutes } from '../monitoring/routes.js';
import { multimodalRoutes } from '../multimodal/index.js';
import { Pipelines, pipelineRoutes } from '../pipelines/index.js';
import { trainingRoutes } from '../pipelines/routes.js';
import { ExperimentTracking, trackingRoutes } from '../tracking/index.js';
import { ArtifactStore, ModelRegistry } from '../registry/index.js';
import { registryRoutes } from '../registry/routes.js';
import { TrafficRouter } from '../routing/index.js';
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
  monitor: ModelMonitor;
  notifier: AlertNotifier;
  metrics: Metrics;
  /** the bus (MESSAGE_QUEUE_TYPE), the outbox and its relay, the seed's MessageQueue API */
  messaging: Messaging;
  /** release tests (A/B, canary, shadow) and the router that sends predictions through them */
  abTests: AbTesting;
  router: TrafficRouter;
  blueGreen: BlueGreenDeployments;
  /** pipeline runs (CI/CD, dvc.yaml), the job queue and worker, automated retraining */
  pipelines: Pipelines;
  tracking: ExperimentTracking;
  /** per-5-minute rollups of the prediction log that the dashboard reads */
  rollups: PredictionRollups;
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
  // Built first: the registry, prediction log and monitor write their events to its outbox.
  const messaging = new Messaging(settings, database, { registry: metrics.registry });
  const registry = new ModelRegistry(database, new ArtifactStore(resolve(home, 'artifacts')), async (artifact, specs) => {
    bindTensors(await loadSession(pool, { key: artifact.sha256, path: artifact.path }), specs.input_spec, specs.output_spec, specs.task);
  }, messaging.outbox);
  const predictionLog = new PredictionLog(database, {
    flushMs: settings.PREDICTION_LOG_FLUSH_MS,
    batchSize: settings.PREDICTION_LOG_BATCH_SIZE,
    metrics,
    onError: onLogError,
    outbox: settings.MESSAGING_PUBLISH_PREDICTIONS ? messaging.outbox : undefined,
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
  const notifier = new AlertNotifier({
    webhookUrl: settings.ALERT_WEBHOOK_URL,
    slackWebhookUrl: settings.SLACK_WEBHOOK_URL,
    pagerDuty: settings.PAGERDUTY_ROUTING_KEY ? { routingKey: settings.PAGERDUTY_ROUTING_KEY, eventsUrl: settings.PAGERDUTY_EVENTS_URL } : undefined,
    email:
      settings.SMTP_HOST && settings.ALERT_EMAIL_TO.length
        ? { host: settings.SMTP_HOST, port: settings.SMTP_PORT, secure: settings.SMTP_SECURE, user: settings.SMTP_USER, password: settings.SMTP_PASSWORD, from: settings.ALERT_EMAIL_FROM, to: settings.ALERT_EMAIL_TO }
        : undefined,
  });
  const monitor = new ModelMonitor(database, registry, predictionLog, metrics, notifier, {
    windowSize: settings.MONITORING_WINDOW_SIZE,
    driftThreshold: settings.DATA_DRIFT_THRESHOLD,
    decayThreshold: settings.MODEL_DECAY_THRESHOLD,
    thresholds: { minAccuracy: settings.ALERT_MIN_ACCURACY, maxP95LatencyMs: settings.ALERT_MAX_P95_LATENCY_MS, maxErrorRate: settings.ALERT_MAX_ERROR_RATE },
    cooldownSeconds: settings.ALERT_COOLDOWN_SECONDS,
    checkEveryPredictions: settings.MODEL_MONITORING_ENABLED ? settings.MONITORING_CHECK_EVERY_N : 0,
    outbox: messaging.outbox,
  });
  predictionLog.onRecord((versionId) => monitor.observe(versionId));
  const abTests = new AbTesting(database, registry, predictionLog, undefined, { minSamples: settings.AB_TEST_MIN_SAMPLES, outbox: messaging.outbox });
  const router = new TrafficRouter((modelName) => abTests.activeTestFor(modelName));
  abTests.useRouter(router);
  predictor.useRouter(router);
  const blueGreen = new BlueGreenDeployments(database, registry, abTests.store, (versionId) => predictor.probe(versionId));
  const tracking = new ExperimentTracking(database);
  const pipelines = new Pipelines(database, registry, { predictionLog, monitor, abTests, pool, tracking }, {
    home,
    windowSize: settings.MONITORING_WINDOW_SIZE,
    driftThreshold: settings.DATA_DRIFT_THRESHOLD,
    scheduleDays: settings.RETRAIN_SCHEDULE_DAYS,
    cron: settings.RETRAIN_CRON,
    leaseMs: settings.PIPELINE_LEASE_SECONDS * 1000,
    pollMs: settings.PIPELINE_POLL_MS,
    outbox: messaging.outbox,
    onError: onLogError,
  });
  const rollups = new PredictionRollups(database.db);
  await messaging.start(); // the outbox relay; consumers start with `serve`/`worker` (startConsumers)
  return { settings, database, registry, predictionLog, pool, predictor, monitor, notifier, metrics, messaging, abTests, router, blueGreen, pipelines, tracking, rollups, startedAt: new Date() };
}

export async function closeServices(services: Services): Promise<void> {
  await services.pipelines.close(); // first: a run in progress finishes its stage's writes
  await services.predictionLog.close();
  await services.notifier.drain();
  await services.messaging.close(); // after the prediction log: its last rows' events are in the outbox
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
  services.messaging.setLogger((err, context) => app.log.warn({ err }, context));

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
        { name: 'pipelines', description: 'CI/CD pipeline runs, dvc.yaml pipelines, automated retraining' },
        { name: 'tracking', description: 'Experiment tracking: config, per-epoch loss and learning rate, metrics, comparison' },
        { name: 'multi-modality', description: 'DICOM, NIfTI, PNG/JPEG/TIFF and clinical reports: de-identified metadata, statistics, findings' },
        { name: 'messaging', description: 'Publish to patient_data, imaging_data, … (Kafka, RabbitMQ or the embedded bus); bus status and outbox backlog' },
        { name: 'ab-testing', description: 'A/B, canary and shadow release tests: assignment, results, sequential statistics, decisions' },
        { name: 'deployments', description: 'Blue-green slots per model: deploy, health-check, switch traffic, roll back' },
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
  await app.register(messagingRoutes(services));
  await app.register(abTestRoutes(services));
  await app.register(trainingRoutes(services));
  await app.register(pipelineRoutes(services));
  await app.register(trackingRoutes(services.tracking));
  if (settings.PIPELINE_WORKER) services.pipelines.startWorker();
  await app.register(multimodalRoutes(services));
  await app.register(dashboardPlugin({ db: services.database.db, dialect: services.database.dialect, registry: services.registry, rollups: services.rollups }));

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
