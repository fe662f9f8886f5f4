/**
 * The composition root: the one place that turns Settings into wired services and an HTTP app.
 * Everything with side effects (database, files, worker threads, timers) is created here and passed in.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ZodTypeProvider, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { AbTesting, BlueGreenDeployments } from '../abtest/index.js';
import { type AccessRecorder, AuditTrail, accessRecorder, auditPlugin, listAudit } from '../audit/index.js';
import { abTestPlugin } from '../abtest/routes.js';
import { ApiKeys, Authenticator, authPlugin, installAuth, isLoopback } from '../auth/index.js';
import { DataDir } from '../files/data-dir.js';
import { ConfigError, ignoredSettingNotes, type Settings } from '../config/index.js';
import { startMetricsListener } from './metrics-listener.js';
import { PredictionRollups, dashboardPlugin } from '../dashboard/index.js';
import { Lineage, lineagePlugin } from '../lineage/index.js';
import { Messaging, messagingPlugin } from '../messaging/index.js';
import { type Metrics, createMetrics, httpLabels } from '../metrics.js';
import { ModelMonitor } from '../monitoring/model-monitor.js';
import { ReportPool } from '../monitoring/report-pool.js';
import { AlertNotifier } from '../monitoring/notifiers.js';
import { PredictionLog } from '../monitoring/prediction-log.js';
import { ReportGroundTruth, monitoringPlugin, registryLabelSpace, reportLabelsPlugin } from '../monitoring/index.js';
import { type DeidKey, deidentifyImagePayload, loadDeidKey, multimodalPlugin } from '../multimodal/index.js';
import { ScheduledBackups } from '../backup/index.js';
import { Gauge } from 'prom-client';
import { type CronSchedule, Pipelines, commandEnv, parseCron, pipelinesPlugin } from '../pipelines/index.js';
import { ExperimentTracking, createMlflowApi, mlflowPlugin, trackingRoutes } from '../tracking/index.js';
import { ArtifactStore, ModelRegistry } from '../registry/index.js';
import { registryPlugin } from '../registry/routes.js';
import type { TrafficRouter } from '../routing/index.js';
import { InferencePool, Predictor, bindTensors, loadSession } from '../serving/index.js';
import { kservePlugin } from '../serving/kserve-routes.js';
import { servingPlugin } from '../serving/routes.js';
import { type Database, openDatabase } from '../store/index.js';
import { RouteMethods, installErrorHandler, installMethodNotAllowed } from './error-handler.js';
import { openApiTransform } from './openapi.js';
import { BODY_LIMITS, declarationProblems } from './route-kit.js';
import { commonResponses } from './route-responses.js';
import { checkDependencies } from './health-checks.js';
import { systemPlugin } from './system-routes.js';

import { VERSION } from './version.js';
export { VERSION };

/** Plugins still being converted to declared routes (issue 10): tracked here until they land. */
const PENDING_DECLARATIONS: string[] = [];

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
  /** the only folder whose files requests may name */
  dataDir: DataDir;
  apiKeys: ApiKeys;
  authenticator: Authenticator;
  /** per-5-minute rollups of the prediction log that the dashboard reads */
  rollups: PredictionRollups;
  /** radiology reports → ground truth of the predictions made on their studies */
  reportLabels: ReportGroundTruth;
  /** the de-identification key: DEID_SALT, or the one generated into VITALS_HOME/deid.key */
  deidKey: DeidKey;
  /** BACKUP_SCHEDULE: the worker's scheduled backups (absent without a schedule) */
  backups?: ScheduledBackups;
  /** the audit trail (services write their rows in their transactions) and the recorder of patient-data reads */
  audit: AuditTrail;
  access: AccessRecorder;
  /** traceability of predictions and versions (reads only) */
  lineage: Lineage;
  startedAt: Date;
}

/** One row of the route table: what a route declared (tests walk these). */
export interface RouteEntry {
  method: string;
  url: string;
  permission?: string;
  bodyLimit?: number;
  responses: string[];
}

export interface VitalsApp {
  app: FastifyInstance;
  services: Services;
  /** every route as registered, with its declaration */
  routes: RouteEntry[];
  /** drains the prediction log, stops workers and closes the database */
  close(): Promise<void>;
}

export async function createServices(settings: Settings, onLogError: (err: unknown) => void = () => undefined): Promise<Services> {
  const home = resolve(settings.VITALS_HOME);
  const backupSchedule = settings.BACKUP_SCHEDULE ? parseBackupSchedule(settings.BACKUP_SCHEDULE) : undefined; // refused before anything opens
  const database = await openDatabase(settings.DATABASE_URL, home);
  const metrics = createMetrics(settings.METRICS_ENABLED);
  const pool = new InferencePool({
    workers: settings.INFERENCE_WORKERS,
    threadsPerWorker: settings.INFERENCE_THREADS,
    device: settings.DEVICE,
    maxSessionsPerWorker: settings.INFERENCE_MAX_SESSIONS,
    maxQueue: settings.INFERENCE_MAX_QUEUE,
  });
  // The audit trail: services write their rows in the transactions of their changes (src/audit).
  const audit = new AuditTrail();
  // Without DEID_SALT, a key generated once into the state folder: pseudonyms survive restarts.
  const deidKey = loadDeidKey(home, settings.DEID_SALT);
  const payloadDeid = { salt: deidKey.salt, dates: settings.DEID_DATES, maxInflatedBytes: Math.round(settings.MAX_DECODED_IMAGE_MB * 1024 * 1024) };
  // a study is recorded, and a report matched, by identifiers keyed with the same key
  const deidSalt = deidKey.salt;
  // Built first: the registry, prediction log and monitor write their events to its outbox.
  // Images in messages are de-identified before any of them is stored (outbox, embedded bus, broker).
  const messaging = await Messaging.create(settings, database, { registry: metrics.registry, audit, filter: (m) => deidentifyImagePayload(m, payloadDeid) });
  const registry = new ModelRegistry(
    database,
    new ArtifactStore(resolve(home, 'artifacts')),
    async (artifact, specs) => {
      bindTensors(await loadSession(pool, { key: artifact.sha256, path: artifact.path }), specs.input_spec, specs.output_spec, specs.task);
    },
    messaging.outbox,
    audit,
  );
  const predictionLog = new PredictionLog(database, {
    flushMs: settings.PREDICTION_LOG_FLUSH_MS,
    batchSize: settings.PREDICTION_LOG_BATCH_SIZE,
    ack: settings.PREDICTION_LOG_ACK,
    groupMs: settings.PREDICTION_LOG_GROUP_MS,
    synchronous: settings.PREDICTION_LOG_SYNC,
    metrics,
    onError: onLogError,
    outbox: settings.MESSAGING_PUBLISH_PREDICTIONS ? messaging.outbox : undefined,
    audit,
    // ground truth must be one of the model's labels (issue 14)
    labelSpaceOf: registryLabelSpace(registry),
  });
  const abTests = new AbTesting(database, registry, predictionLog, undefined, { minSamples: settings.AB_TEST_MIN_SAMPLES, outbox: messaging.outbox, audit });
  const router = abTests.router;
  const predictor = new Predictor(registry, pool, predictionLog, metrics, {
    router,
    batchSize: settings.BATCH_SIZE,
    enableBatching: settings.ENABLE_BATCHING,
    batchMaxWaitMs: settings.BATCH_MAX_WAIT_MS,
    cacheSize: settings.CACHE_SIZE,
    cacheTtlSeconds: settings.CACHE_TTL,
    supportedImageFormats: settings.SUPPORTED_IMAGE_FORMATS,
    modelPath: settings.MODEL_PATH,
    defaultModel: settings.MODEL_NAME,
    monitoringEnabled: settings.MODEL_MONITORING_ENABLED,
    deidSalt,
  });
  const reportLabels = new ReportGroundTruth(database, registry, predictionLog, { salt: deidSalt, labelSpaceOf: registryLabelSpace(registry), audit });
  const notifier = new AlertNotifier({
    webhookUrl: settings.ALERT_WEBHOOK_URL,
    slackWebhookUrl: settings.SLACK_WEBHOOK_URL,
    pagerDuty: settings.PAGERDUTY_ROUTING_KEY ? { routingKey: settings.PAGERDUTY_ROUTING_KEY, eventsUrl: settings.PAGERDUTY_EVENTS_URL } : undefined,
    email:
      settings.SMTP_HOST && settings.ALERT_EMAIL_TO.length
        ? {
            host: settings.SMTP_HOST,
            port: settings.SMTP_PORT,
            secure: settings.SMTP_SECURE,
            user: settings.SMTP_USER,
            password: settings.SMTP_PASSWORD,
            from: settings.ALERT_EMAIL_FROM,
            to: settings.ALERT_EMAIL_TO,
          }
        : undefined,
  });
  const monitor = new ModelMonitor(database, registry, predictionLog, metrics, notifier, {
    windowSize: settings.MONITORING_WINDOW_SIZE,
    driftThreshold: settings.DATA_DRIFT_THRESHOLD,
    decayThreshold: settings.MODEL_DECAY_THRESHOLD,
    thresholds: { minAccuracy: settings.ALERT_MIN_ACCURACY, maxP95LatencyMs: settings.ALERT_MAX_P95_LATENCY_MS, maxErrorRate: settings.ALERT_MAX_ERROR_RATE },
    cooldownSeconds: settings.ALERT_COOLDOWN_SECONDS,
    // an api replica only serves: the worker's scheduled sweep checks what it logged
    checkEveryPredictions: settings.MODEL_MONITORING_ENABLED && settings.VITALS_ROLE !== 'api' ? settings.MONITORING_CHECK_EVERY_N : 0,
    outbox: messaging.outbox,
    audit,
    // the statistics of every check run in a worker thread, off the serving thread (issue 13)
    reportPool: new ReportPool(),
  });
  predictionLog.onRecord((versionId) => monitor.observe(versionId));
  const blueGreen = new BlueGreenDeployments(database, registry, abTests.store, (versionId) => predictor.probe(versionId));
  const tracking = new ExperimentTracking(database);
  const pipelines = new Pipelines(
    database,
    registry,
    { predictionLog, monitor, abTests, pool, tracking },
    {
      home,
      windowSize: settings.MONITORING_WINDOW_SIZE,
      driftThreshold: settings.DATA_DRIFT_THRESHOLD,
      scheduleDays: settings.RETRAIN_SCHEDULE_DAYS,
      cron: settings.RETRAIN_CRON,
      leaseMs: settings.PIPELINE_LEASE_SECONDS * 1000,
      pollMs: settings.PIPELINE_POLL_MS,
      outbox: messaging.outbox,
      audit,
      onError: onLogError,
      pipelinesDir: settings.PIPELINES_DIR ? resolve(settings.PIPELINES_DIR) : undefined,
      pipelineEnv: commandEnv(),
      pipelineTimeoutMs: settings.PIPELINE_COMMAND_TIMEOUT_SECONDS * 1000,
    },
  );
  const dataDir = new DataDir(settings.DATA_DIR);
  const apiKeys = new ApiKeys(database.db, audit);
  const authenticator = new Authenticator({
    keys: apiKeys,
    envKey: settings.API_KEY,
    oidc: settings.AUTH_JWKS_URL ? { jwksUrl: settings.AUTH_JWKS_URL, issuer: settings.AUTH_ISSUER, audience: settings.AUTH_AUDIENCE, rolesClaim: settings.AUTH_ROLES_CLAIM } : undefined,
    disabled: settings.AUTH_DISABLED,
    loopback: isLoopback(settings.HOST),
  });
  const rollups = new PredictionRollups(database.db);
  const backups = backupSchedule ? scheduledBackups(settings, backupSchedule, database, audit, home, metrics) : undefined;
  await messaging.start(); // the outbox relay; consumers start with `serve`/`worker` (startConsumers)
  return {
    settings,
    database,
    registry,
    predictionLog,
    pool,
    predictor,
    monitor,
    notifier,
    metrics,
    messaging,
    abTests,
    router,
    blueGreen,
    pipelines,
    tracking,
    dataDir,
    apiKeys,
    authenticator,
    rollups,
    reportLabels,
    deidKey,
    backups,
    audit,
    access: accessRecorder(database.db, audit),
    lineage: new Lineage({ predictionLog, registry, runs: pipelines.runs, tracking, abTests, auditOf: (target) => listAudit(database.db, { target }) }),
    startedAt: new Date(),
  };
}

function parseBackupSchedule(expression: string) {
  try {
    return parseCron(expression);
  } catch (err) {
    throw new ConfigError([`BACKUP_SCHEDULE=${JSON.stringify(expression)}: ${(err as Error).message}`]);
  }
}

function scheduledBackups(settings: Settings, schedule: CronSchedule, database: Database, audit: AuditTrail, home: string, metrics: Metrics): ScheduledBackups {
  const backups = new ScheduledBackups({
    database,
    audit,
    installation: { databaseUrl: settings.DATABASE_URL, home },
    dir: settings.BACKUP_DIR ? resolve(settings.BACKUP_DIR) : resolve(home, 'backups'),
    schedule,
    keep: settings.BACKUP_KEEP,
  });
  new Gauge({
    name: 'vitals_backup_last_success_timestamp_seconds',
    help: 'When the last scheduled backup (BACKUP_SCHEDULE) of this installation succeeded, as a Unix time; 0 before the first',
    registers: [metrics.registry],
    async collect() {
      const at = await backups.lastSuccess().catch(() => null);
      this.set(at ? at.getTime() / 1000 : 0);
    },
  });
  return backups;
}

export async function closeServices(services: Services): Promise<void> {
  await services.pipelines.close(); // first: a run in progress finishes its stage's writes
  await services.monitor.close(); // checks in flight finish (their rows, alerts and events) before the pool stops
  await services.predictionLog.close();
  await services.notifier.drain();
  await services.messaging.close(); // after the prediction log: its last rows' events are in the outbox
  await services.pool.close();
  await services.database.close();
}

export class StartupRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupRefused';
  }
}

/** Listening beyond loopback with no way to sign in would hand the service to anyone who reaches the port. */
async function refuseOpenNetworkBind(settings: Settings, services: Services): Promise<void> {
  if (settings.AUTH_DISABLED || isLoopback(settings.HOST)) return;
  if (await services.authenticator.credentialsConfigured()) return;
  await closeServices(services);
  throw new StartupRefused(
    `refusing to listen on ${settings.HOST} with no credentials configured: anyone who reaches the port would be admin.\n` +
      '  Create a key first:  vitals keys create --name admin --role admin   (then send it as "Authorization: Bearer <key>")\n' +
      '  or configure OIDC (AUTH_JWKS_URL), or bind to 127.0.0.1 (the default). AUTH_DISABLED=true turns this check off.',
  );
}

export async function buildApp(settings: Settings, options: { logger?: boolean | object } = {}): Promise<VitalsApp> {
  const maxImageBytes = Math.round(settings.MAX_IMAGE_SIZE_MB * 1024 * 1024);
  const app = Fastify({
    logger: options.logger ?? { level: settings.LOG_LEVEL },
    // JSON bodies are capped at 1 MiB; a route that takes more declares its own limit (route-kit).
    bodyLimit: BODY_LIMITS.json,
    // One routing table for every spelling: /%61pi/… and //api/… are /api/…, so no check can be bypassed.
    // A path parameter longer than a name may be reaches the route's schema (422 naming the limit), not
    // the router's 414 (its default cap is 100 characters).
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 2048 },
    requestIdHeader: 'x-request-id',
    ...(settings.TLS_CERT_FILE && settings.TLS_KEY_FILE ? { https: { cert: readFileSync(settings.TLS_CERT_FILE), key: readFileSync(settings.TLS_KEY_FILE) } } : {}),
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  // JSON (and multipart uploads) only: a text/plain body is a 415 that says what to send, not a schema error
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const services = await createServices(settings, (err) => app.log.error({ err }, 'prediction log flush failed; rows kept for retry'));
  await refuseOpenNetworkBind(settings, services);
  if (settings.AUTH_DISABLED) app.log.warn('AUTH_DISABLED=true: every caller is admin, with no credentials. Never run this way on a shared network.');
  // Seed settings that cannot apply say so once; PROMETHEUS_PORT opens its own /metrics listener with the API.
  for (const note of ignoredSettingNotes(settings)) app.log.warn(note);
  if (services.deidKey.file) {
    const note = `DEID_SALT is not set: pseudonyms use the key ${services.deidKey.source === 'generated' ? 'generated now into' : 'in'} ${services.deidKey.file} (mode 0600, kept across restarts and in backups)`;
    // replicas on other machines would each make their own key, and pseudonyms would differ between them
    if (services.database.dialect === 'postgres') app.log.warn(`${note}; with several machines, set DEID_SALT (the same secret on each)`);
    else app.log.info(note);
  }
  if (settings.PROMETHEUS_PORT !== undefined && settings.METRICS_ENABLED && !settings.METRICS_AUTH) {
    const port = settings.PROMETHEUS_PORT;
    let metricsServer: import('node:http').Server | undefined;
    app.addHook('onListen', async () => {
      metricsServer = await startMetricsListener({ contentType: services.metrics.registry.contentType, text: () => services.metrics.registry.metrics() }, settings.HOST, port);
      app.log.info(`metrics also on http://${settings.HOST}:${port}/metrics (PROMETHEUS_PORT)`);
    });
    app.addHook('onClose', async () => {
      await new Promise((done) => (metricsServer ? metricsServer.close(done) : done(undefined)));
    });
  }
  const routeMethods = new RouteMethods(app);
  installErrorHandler(app, services.metrics, { maxImageMb: settings.MAX_IMAGE_SIZE_MB, notRouted: installMethodNotAllowed(app, routeMethods) });
  // Every route declares its permission, body limit and responses; one that does not cannot start.
  const undeclared: string[] = [];
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD') return;
    const record = () => {
      for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
        routes.push({ method, url: route.url, permission: route.config?.permission, bodyLimit: route.bodyLimit, responses: Object.keys((route.schema?.response as object | undefined) ?? {}) });
      }
    };
    if (route.url === '/docs' || route.url.startsWith('/docs/')) {
      // the API's own description (swagger-ui's routes): open, like /health, so a browser can read it
      route.config = { ...route.config, permission: 'public' };
      route.bodyLimit = BODY_LIMITS.none;
      record();
      return;
    }
    for (const p of declarationProblems(route as never)) undeclared.push(`${p.method} ${p.url}: ${p.problem}`);
    if (route.schema?.response) route.schema = { ...route.schema, response: { ...commonResponses(route, route.schema.response as Record<string, unknown>), ...(route.schema.response as object) } };
    record();
  });
  services.messaging.setLogger((err, context) => app.log.warn({ err }, context));

  await app.register(fastifyMultipart, { limits: { fileSize: maxImageBytes, files: 1, fields: 20 } });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Vitals API',
        version: VERSION,
        description: 'Vitals: model registry, ONNX serving (seed API, tabular API and the Open Inference Protocol), prediction log and monitoring.',
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
        { name: 'mlflow', description: 'The MLflow REST API (tracking, model registry, artifact proxy) for the official MLflow client' },
        { name: 'multi-modality', description: 'DICOM, NIfTI, PNG/JPEG/TIFF and clinical reports: de-identified metadata, statistics, findings' },
        { name: 'messaging', description: 'Publish to patient_data, imaging_data, … (Kafka, RabbitMQ or the embedded bus); bus status and outbox backlog' },
        { name: 'ab-testing', description: 'A/B, canary and shadow release tests: assignment, results, sequential statistics, decisions' },
        { name: 'deployments', description: 'Blue-green slots per model: deploy, health-check, switch traffic, roll back' },
        { name: 'system', description: 'Health, metrics' },
      ],
    },
    transform: openApiTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  app.addHook('onResponse', async (req, reply) => {
    const labels = httpLabels(req.method, req.routeOptions?.url, reply.statusCode);
    services.metrics.httpRequests.inc(labels);
    services.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await installAuth(app, {
    authenticator: services.authenticator,
    metricsAuth: settings.METRICS_AUTH,
    rateLimit: { perMinute: settings.RATE_LIMIT_PER_MINUTE, anonymousPerMinute: settings.RATE_LIMIT_ANONYMOUS_PER_MINUTE, roles: settings.RATE_LIMIT_ROLES },
  });

  const s = services;
  const defaultModel = settings.MODEL_PATH || settings.MODEL_NAME ? () => s.predictor.serveDefault() : undefined;
  await app.register(
    systemPlugin({
      database: s.database,
      defaultModel,
      predictionLog: s.predictionLog,
      pool: s.pool,
      // /health reports the bus (issue 14)
      bus: () => s.messaging.status(),
      device: settings.DEVICE,
      startedAt: s.startedAt,
      metrics: settings.METRICS_ENABLED ? { contentType: s.metrics.registry.contentType, text: () => s.metrics.registry.metrics() } : undefined,
    }),
  );
  await app.register(authPlugin({ keys: s.apiKeys }));
  await app.register(auditPlugin({ db: s.database.db }));
  await app.register(registryPlugin({ registry: s.registry, dataDir: s.dataDir }));
  await app.register(
    servingPlugin({
      predictor: s.predictor,
      pool: s.pool,
      limits: { maxImageBytes },
      serving: { batching: settings.ENABLE_BATCHING, maxBatchSize: settings.BATCH_SIZE, maxWaitMs: settings.BATCH_MAX_WAIT_MS, cacheSize: settings.CACHE_SIZE, cacheTtlSeconds: settings.CACHE_TTL },
    }),
  );
  await app.register(
    kservePlugin({
      predictor: s.predictor,
      registry: s.registry,
      database: s.database,
      batching: { enabled: settings.ENABLE_BATCHING, maxBatchSize: settings.BATCH_SIZE, maxWaitMs: settings.BATCH_MAX_WAIT_MS },
      modelPathConfigured: !!settings.MODEL_PATH,
      // /v2/health/ready: the same checks as /health
      checkDependencies: () => checkDependencies({ database: () => s.database.db.selectFrom('models').select('id').limit(1).execute(), bus: () => s.messaging.status(), defaultModel, pool: s.pool }),
    }),
  );
  await app.register(monitoringPlugin({ monitor: s.monitor, predictionLog: s.predictionLog, registry: s.registry, access: s.access }));
  await app.register(lineagePlugin({ lineage: s.lineage, access: s.access }));
  await app.register(reportLabelsPlugin({ reports: s.reportLabels, access: s.access }));
  await app.register(messagingPlugin({ messaging: s.messaging, maxMessageBytes: settings.MESSAGE_MAX_BYTES }));
  await app.register(abTestPlugin({ abTests: s.abTests, blueGreen: s.blueGreen }));
  await app.register(pipelinesPlugin({ pipelines: s.pipelines, dataDir: s.dataDir }));
  await app.register(trackingRoutes({ tracking: s.tracking }));
  await app.register(mlflowPlugin({ ...createMlflowApi(s.database, s.registry, s.registry.artifacts), allowedMethods: (path) => routeMethods.allowed(path) }));
  // the same key as the bus payloads: one patient, one pseudonym
  await app.register(multimodalPlugin({ settings: { ...settings, DEID_SALT: services.deidKey.salt }, access: s.access }));
  await app.register(dashboardPlugin({ db: services.database.db, dialect: services.database.dialect, registry: services.registry, rollups: services.rollups }));
  await app.ready();
  const pending = undeclared.filter((u) => !PENDING_DECLARATIONS.some((prefix) => u.includes(prefix)));
  if (pending.length) {
    await closeServices(services);
    throw new Error(`routes without a complete declaration (see server/route-kit.ts):\n  ${pending.join('\n  ')}`);
  }
  if (settings.PIPELINE_WORKER && settings.VITALS_ROLE === 'all') services.pipelines.startWorker();

  let closed = false;
  return {
    app,
    services,
    routes,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await closeServices(services);
    },
  };
}
