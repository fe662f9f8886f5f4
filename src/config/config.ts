/**
 * One typed config for the whole service. Sources, lowest precedence first:
 * defaults → optional YAML file (`--config`) → `.env` file → process environment.
 * Names are the seed documents' settings (DESIGN.md); the composition root is the only reader.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { applySeedAliases, flattenSeedYaml } from './seed-settings.js';

// Accepts the seeds' Python spellings too (True/False).
const bool = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes' || v === 'on'),
);
const int = (min: number) => z.coerce.number().int().min(min);
const num = (min: number, max = Number.POSITIVE_INFINITY) => z.coerce.number().min(min).max(max);

/** Each key is the environment variable's name; the YAML file may use the same names or lower_snake_case. */
export const settingsSchema = z.object({
  /** loopback by default: any other address needs credentials (see docs/security.md) */
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0).max(65535).default(8000),
  VITALS_HOME: z.string().default('.vitals'),
  /** the only folder whose files a request may name (training CSVs, model files); relative to the working directory */
  DATA_DIR: z.string().default('data'),
  DATABASE_URL: z.string().optional(),
  LOG_LEVEL: z
    .preprocess(
      (v) => (typeof v === 'string' ? ({ warning: 'warn', critical: 'fatal' }[v.toLowerCase()] ?? v.toLowerCase()) : v),
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    )
    .default('info'),
  /** a single admin key from the environment (named "env-api-key"); `vitals keys create` makes named keys with roles */
  API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /** the explicit, loudly logged escape: every caller is admin (never on a shared network) */
  AUTH_DISABLED: bool.default(false),
  /** OIDC: verify bearer JWTs against this JWKS (issuer and audience must match) */
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_ISSUER: z.string().optional(),
  AUTH_AUDIENCE: z.string().optional(),
  /** the JWT claim holding the caller's roles (an array or a space-separated string); the strongest known role wins */
  AUTH_ROLES_CLAIM: z.string().default('roles'),
  /** /metrics needs a key with system:read */
  METRICS_AUTH: bool.default(false),
  /** requests per minute: per principal, per IP for anonymous callers; 0 turns the limit off */
  RATE_LIMIT_PER_MINUTE: int(0).default(6000),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(0).default(300),
  /** per-role overrides, e.g. "predictor=60000,viewer=600" */
  RATE_LIMIT_ROLES: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const out: Record<string, number> = {};
      for (const pair of (s ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const [role, n] = pair.split('=');
        if (!role || !n || !/^\d+$/.test(n.trim())) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not role=number` });
          continue;
        }
        out[role.trim()] = Number(n);
      }
      return out;
    }),
  /** HTTPS: PEM files */
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  /** hosts an imaging_data image_url may be fetched from (empty: image_url is refused) */
  FETCH_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((s) =>
      s
        ? s
            .split(',')
            .map((h) => h.trim().toLowerCase())
            .filter(Boolean)
        : [],
    ),
  VITALS_DEMO: bool.default(true),

  MODEL_PATH: z.string().optional(),
  MODEL_NAME: z.string().optional(),
  DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  INFERENCE_WORKERS: int(1).optional(),
  INFERENCE_THREADS: int(1).optional(),
  /** ONNX sessions each inference worker keeps open; the least recently used beyond it is released (bounded memory) */
  INFERENCE_MAX_SESSIONS: int(1).default(16),
  /** inference batches waiting for a worker before predictions are refused with 503 + Retry-After */
  INFERENCE_MAX_QUEUE: int(1).default(1000),
  BATCH_SIZE: int(1).max(4096).default(32),
  ENABLE_BATCHING: bool.default(true),
  BATCH_MAX_WAIT_MS: num(0, 1000).default(2),
  CACHE_SIZE: int(0).default(10000),
  CACHE_TTL: num(0).default(300),
  MAX_IMAGE_SIZE_MB: num(0.001).default(50),
  SUPPORTED_IMAGE_FORMATS: z
    .string()
    .default('png,jpg,jpeg,tiff,tif,dcm,nii,nii.gz')
    .transform((s) =>
      s
        .split(',')
        .map((f) => f.trim().toLowerCase().replace(/^\./, ''))
        .filter(Boolean),
    ),

  METRICS_ENABLED: bool.default(true),
  /** async ack: longest a row waits before its group is written */
  PREDICTION_LOG_FLUSH_MS: int(1).default(200),
  /** a group of this many rows is committed at once */
  PREDICTION_LOG_BATCH_SIZE: int(1).default(500),
  /** commit: a prediction is answered once its log row is committed (never lost); async: answered at once, rows of the last moments are lost on a crash */
  PREDICTION_LOG_ACK: z.enum(['commit', 'async']).default('commit'),
  /** commit ack: at most one group commit per this many ms (an idle writer commits at once) */
  PREDICTION_LOG_GROUP_MS: num(0, 50).default(2),
  /** SQLite writer: normal survives a process crash (SIGKILL); full also survives power loss, at an fsync per commit */
  PREDICTION_LOG_SYNC: z.enum(['normal', 'full']).default('normal'),
  /** prediction rows (inputs, outputs, labels) older than this many days are deleted by the worker; checks, reports and counts stay. 0 keeps them */
  PREDICTION_LOG_RETENTION_DAYS: num(0).default(90),

  MODEL_MONITORING_ENABLED: bool.default(true),
  DATA_DRIFT_THRESHOLD: num(0, 1).default(0.1),
  MODEL_DECAY_THRESHOLD: num(0, 1).default(0.05),
  MONITORING_WINDOW_SIZE: int(1).default(1000),
  MONITORING_CHECK_INTERVAL: int(1).default(3600),
  RETRAIN_SCHEDULE_DAYS: int(1).default(30),
  /** a 5-field cron expression (UTC) for scheduled retraining; replaces RETRAIN_SCHEDULE_DAYS where set */
  RETRAIN_CRON: z.string().optional(),
  /** seconds between looks at retraining schedules and waiting pipeline runs */
  RETRAIN_CHECK_INTERVAL: int(1).default(300),
  /** run pipeline jobs in this process (serve and worker); false leaves them to other workers */
  PIPELINE_WORKER: bool.default(true),
  /** all: one process does everything; api: HTTP only; worker: the background loop, pipeline jobs and consumers */
  VITALS_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** the operator's pipelines: `<name>/dvc.yaml` folders; the API starts them by name, never by path */
  PIPELINES_DIR: z.string().optional(),
  /** time limit of one pipeline command */
  PIPELINE_COMMAND_TIMEOUT_SECONDS: int(1).default(3600),
  /** a pipeline job's lease: a worker that stops heartbeating for this long loses the job */
  PIPELINE_LEASE_SECONDS: int(1).default(60),
  PIPELINE_POLL_MS: int(10).default(1000),
  /** also check a version after this many new predictions (0: only every MONITORING_CHECK_INTERVAL) */
  MONITORING_CHECK_EVERY_N: int(0).default(500),
  /** seconds between automatic looks at active A/B, canary and shadow tests */
  AB_TEST_CHECK_INTERVAL: int(1).default(60),
  /** predictions per variant before a test may promote (the seed recommends at least 1000) */
  AB_TEST_MIN_SAMPLES: int(0).default(1000),
  ALERT_MIN_ACCURACY: num(0, 1).default(0.8),
  ALERT_MAX_P95_LATENCY_MS: num(1).default(2000),
  ALERT_MAX_ERROR_RATE: num(0, 1).default(0.05),
  ALERT_COOLDOWN_SECONDS: int(0).default(3600),
  ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  SLACK_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  PAGERDUTY_ROUTING_KEY: z.string().optional(),
  PAGERDUTY_EVENTS_URL: z.url({ protocol: /^https?$/ }).optional(),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: int(1).max(65535).default(587),
  SMTP_SECURE: bool.default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  ALERT_EMAIL_FROM: z.string().default('vitals@localhost'),
  ALERT_EMAIL_TO: z
    .string()
    .optional()
    .transform((s) =>
      s
        ? s
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean)
        : [],
    ),

  MESSAGE_QUEUE_TYPE: z.enum(['embedded', 'rabbitmq', 'kafka']).default('embedded'),
  RABBITMQ_HOST: z.string().default('localhost'),
  RABBITMQ_PORT: int(1).max(65535).default(5672),
  RABBITMQ_USER: z.string().default('guest'),
  RABBITMQ_PASSWORD: z.string().default('guest'),
  KAFKA_BOOTSTRAP_SERVERS: z.string().default('localhost:9092'),
  KAFKA_TOPIC_PATIENT_DATA: z.string().default('patient-data'),
  KAFKA_TOPIC_IMAGING_DATA: z.string().default('imaging-data'),
  KAFKA_TOPIC_ALERTS: z.string().default('alerts'),
  /** amqp://user:pass@host:port/vhost; when set it wins over RABBITMQ_HOST/PORT/USER/PASSWORD */
  RABBITMQ_URL: z
    .string()
    .regex(/^amqps?:\/\//, 'must start with amqp:// or amqps://')
    .optional(),
  RABBITMQ_EXCHANGE: z.string().min(1).default('vitals'),
  RABBITMQ_PREFETCH: int(1).max(65535).default(32),
  KAFKA_CLIENT_ID: z.string().min(1).default('vitals'),
  KAFKA_TOPIC_PARTITIONS: int(1).default(3),
  /** extra or overriding logical → broker topic names: "predictions=vitals.predictions,lab_results=lab-results" */
  MESSAGING_TOPICS: z.string().optional(),
  MESSAGE_MAX_BYTES: int(1024).default(1_000_000),
  MESSAGING_MAX_ATTEMPTS: int(1).default(5),
  MESSAGING_RETRY_BACKOFF_MS: int(1).default(500),
  MESSAGING_CONSUMERS_ENABLED: bool.default(true),
  MESSAGING_PUBLISH_PREDICTIONS: bool.default(true),
  /** imaging_data messages may name files by `image_path` only inside this folder */
  MESSAGING_IMAGE_DIR: z.string().optional(),
  OUTBOX_RELAY_INTERVAL_MS: int(10).default(500),
  OUTBOX_BATCH_SIZE: int(1).max(5000).default(500),
  EMBEDDED_BUS_POLL_MS: int(10).default(200),
  EMBEDDED_BUS_LEASE_MS: int(100).default(60_000),
  EMBEDDED_BUS_RETENTION_HOURS: num(0).default(72),
  MULTI_MODALITY_ENABLED: bool.default(true),
  /** secret key for patient pseudonyms, UID remapping and date shifts (when unset: generated once into VITALS_HOME/deid.key, mode 0600) */
  DEID_SALT: z.string().min(16).optional(),
  /** de-identified dates: shifted by a per-patient offset (keeps intervals) or removed */
  DEID_DATES: z.enum(['shift', 'remove']).default('shift'),
  /** ceiling on decoded pixels (all frames) and on any decompression (deflate, gzip), in MB */
  MAX_DECODED_IMAGE_MB: num(1).default(512),
  DICOMWEB_URL: z.url().optional(),
  DICOMWEB_TOKEN: z.string().optional(),

  /** a 5-field cron expression (UTC): the worker takes a backup into BACKUP_DIR at each slot */
  BACKUP_SCHEDULE: z.string().optional(),
  /** scheduled backups kept; older folders the schedule made are deleted */
  BACKUP_KEEP: int(1).default(7),
  /** where scheduled backups go (default VITALS_HOME/backups; better another disk) */
  BACKUP_DIR: z.string().optional(),

  // The chest X-ray seed's settings (seed-settings.ts maps them; the server logs once why one cannot apply).
  /** seed name of BATCH_MAX_WAIT_MS, in seconds (0.05 = 50 ms); BATCH_MAX_WAIT_MS wins when both are set */
  BATCH_WAIT_TIME: num(0, 1).optional(),
  /** a separate listener serving only /metrics on this port (same HOST); off when unset */
  PROMETHEUS_PORT: int(1).max(65535).optional(),
  /** accepted and ignored with a log line: an ONNX file carries its own architecture */
  MODEL_ARCHITECTURE: z.string().optional(),
  /** accepted; ONNX Runtime always runs its full graph optimisations (false is logged as ignored) */
  AUTO_OPTIMIZE: bool.default(true),
  /** accepted and ignored with a log line: images are decoded by sharp (libvips) */
  IMAGE_PROCESSING_BACKEND: z.enum(['opencv', 'pillow']).optional(),
  /** accepted and ignored with a log line: clinical text uses the built-in processing */
  TEXT_PROCESSING_BACKEND: z.enum(['spacy', 'nltk']).optional(),
});

export type Settings = z.output<typeof settingsSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  configFile?: string;
  dotenvFile?: string | false;
  overrides?: Partial<Record<keyof Settings, unknown>>;
}

const knownKeys = new Set(Object.keys(settingsSchema.shape));

function normaliseKeys(raw: Record<string, unknown>, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flat = flattenSeedYaml(raw, source, (problem) => {
    throw new ConfigError([problem]);
  });
  for (const [key, value] of Object.entries(flat)) {
    const upper = key.toUpperCase();
    if (!knownKeys.has(upper)) throw new ConfigError([`${source}: unknown setting "${key}"`]);
    out[upper] = value;
  }
  return out;
}

/** Loads and validates settings; throws ConfigError naming every bad setting. */
export function loadConfig(options: LoadConfigOptions = {}): Settings {
  const env = options.env ?? process.env;
  let fromFile: Record<string, unknown> = {};
  if (options.configFile) {
    const path = resolve(options.configFile);
    if (!existsSync(path)) throw new ConfigError([`config file not found: ${path}`]);
    const parsed = parseYaml(readFileSync(path, 'utf8')) ?? {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError([`${path}: expected a mapping of settings`]);
    fromFile = normaliseKeys(parsed as Record<string, unknown>, path);
  }
  let fromDotenv: Record<string, unknown> = {};
  const dotenvPath = options.dotenvFile === false ? undefined : resolve(options.dotenvFile ?? '.env');
  if (dotenvPath && existsSync(dotenvPath)) {
    const parsed = parseDotenv(readFileSync(dotenvPath));
    fromDotenv = Object.fromEntries(Object.entries(parsed).filter(([k]) => knownKeys.has(k)));
  }
  const fromEnv = Object.fromEntries(Object.entries(env).filter(([k, v]) => knownKeys.has(k) && v !== undefined && v !== ''));
  const merged = applySeedAliases({ ...fromFile, ...fromDotenv, ...fromEnv, ...(options.overrides ?? {}) });
  const result = settingsSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => {
        const key = String(i.path[0] ?? '');
        return `${key}=${JSON.stringify(merged[key as keyof typeof merged])}: ${i.message}`;
      }),
    );
  }
  return result.data;
}
