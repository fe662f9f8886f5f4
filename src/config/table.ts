/**
 * The README's configuration table, generated from the schema (defaults) and the groups below (meanings),
 * so it cannot drift: scripts/make-config-table.mjs writes it between markers, test/config-table.test.ts
 * fails when the README differs. Every schema setting must sit in exactly one group (the test checks).
 */
import { type Settings, settingsSchema } from './config.js';

type Key = keyof Settings;
export interface SettingGroup {
  keys: Key[];
  meaning: string;
  /** where the schema has no default but one is computed at run time */
  defaults?: string;
}

export const SETTING_GROUPS: SettingGroup[] = [
  { keys: ['PORT', 'HOST'], meaning: 'where the API listens; a non-loopback `HOST` needs keys or OIDC ([docs/security.md](docs/security.md))' },
  { keys: ['VITALS_HOME'], meaning: 'SQLite file and artifact folder' },
  { keys: ['DATABASE_URL'], meaning: '`postgres://user:pass@host/db` for PostgreSQL, or `sqlite:/path/file.db`', defaults: '(SQLite under `VITALS_HOME`)' },
  { keys: ['VITALS_DEMO'], meaning: 'bootstrap the demo models into an empty registry' },
  {
    keys: ['VITALS_ROLE'],
    meaning:
      '`all` (one process does everything), `api` (HTTP only: no background loop, no pipeline jobs, no checks every N predictions) or `worker` (`vitals worker`); each background turn runs once per database, whatever the replica count ([docs/deployment.md](docs/deployment.md))',
  },
  { keys: ['API_KEY'], meaning: 'one more admin key from the environment (≥ 16 characters); named keys with roles come from `vitals keys create`' },
  { keys: ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_ROLES_CLAIM'], meaning: 'OIDC bearer tokens' },
  { keys: ['AUTH_DISABLED'], meaning: 'every caller is admin (never on a shared network)' },
  { keys: ['METRICS_AUTH'], meaning: '`/metrics` needs a key' },
  { keys: ['RATE_LIMIT_PER_MINUTE', 'RATE_LIMIT_ANONYMOUS_PER_MINUTE', 'RATE_LIMIT_ROLES'], meaning: 'per principal / per anonymous IP / per role (`predictor=60000`); 0 turns a limit off' },
  { keys: ['TLS_CERT_FILE', 'TLS_KEY_FILE'], meaning: 'serve HTTPS (PEM files)' },
  { keys: ['DATA_DIR'], meaning: 'the only folder whose files requests may name' },
  { keys: ['PIPELINES_DIR'], meaning: "the operator's pipelines (`<name>/dvc.yaml`), started by name" },
  {
    keys: ['PIPELINE_WORKER', 'PIPELINE_COMMAND_TIMEOUT_SECONDS', 'PIPELINE_LEASE_SECONDS', 'PIPELINE_POLL_MS'],
    meaning: 'run pipeline jobs in this process; time limit of one command; job lease; poll interval',
  },
  { keys: ['FETCH_ALLOWED_HOSTS'], meaning: 'hosts an `image_url` may be fetched from (comma-separated; empty refuses `image_url`)' },
  { keys: ['MODEL_PATH'], meaning: 'a bare ONNX file served by `/predict`' },
  { keys: ['MODEL_NAME'], meaning: 'a registered model served by `/predict` (`name`, `name@alias`, `name@1.2.0`)' },
  { keys: ['DEVICE'], meaning: '`auto`, `cpu` or `cuda`; cuda only where the CUDA provider is installed, else a log line and CPU' },
  { keys: ['INFERENCE_WORKERS', 'INFERENCE_THREADS'], meaning: 'inference worker threads and intra-op threads per worker', defaults: 'cores, cores/workers' },
  {
    keys: ['INFERENCE_MAX_SESSIONS', 'INFERENCE_MAX_QUEUE'],
    meaning: 'ONNX sessions per inference worker (least recently used released beyond it); inference batches waiting before 503 + `Retry-After`',
  },
  { keys: ['ENABLE_BATCHING', 'BATCH_SIZE', 'BATCH_MAX_WAIT_MS'], meaning: 'dynamic batching of concurrent requests' },
  { keys: ['BATCH_WAIT_TIME'], meaning: "the seed's name for the batching wait, in seconds (`0.05` = `BATCH_MAX_WAIT_MS=50`); `BATCH_MAX_WAIT_MS` wins when both are set" },
  { keys: ['CACHE_SIZE', 'CACHE_TTL'], meaning: 'prediction cache for identical inputs (entries, seconds; 0 disables)' },
  { keys: ['MAX_IMAGE_SIZE_MB', 'SUPPORTED_IMAGE_FORMATS'], meaning: 'image upload limit and accepted formats' },
  { keys: ['MODEL_MONITORING_ENABLED'], meaning: 'record every prediction in the prediction log' },
  {
    keys: ['PREDICTION_LOG_ACK'],
    meaning:
      '`commit`: a prediction is answered once its log row is committed, so none is lost even on SIGKILL; `async`: answered at once, and rows of the last `PREDICTION_LOG_FLUSH_MS` are lost if the process is killed (docs/architecture.md)',
  },
  {
    keys: ['PREDICTION_LOG_GROUP_MS', 'PREDICTION_LOG_FLUSH_MS', 'PREDICTION_LOG_BATCH_SIZE'],
    meaning: "group commit of the log's writer thread: at most one commit per `GROUP_MS` with commit ack, every `FLUSH_MS` with async ack, at once at `BATCH_SIZE` rows",
  },
  {
    keys: ['PREDICTION_LOG_RETENTION_DAYS'],
    meaning:
      'patient-data retention: the worker deletes prediction rows (inputs, outputs, labels) older than this, in batches, once per cluster, with an audit row; monitoring checks, reports, alerts and the dashboard counts stay; 0 keeps them ([docs/operations.md](docs/operations.md))',
  },
  { keys: ['PREDICTION_LOG_SYNC'], meaning: 'SQLite writer: `normal` survives a process crash; `full` also power loss (an fsync per group commit)' },
  { keys: ['METRICS_ENABLED'], meaning: '`/metrics` in Prometheus format' },
  { keys: ['PROMETHEUS_PORT'], meaning: 'also serve `/metrics` (only) on this port of `HOST`, as the seed scrapes it; not started with `METRICS_AUTH=true` (a log line says so)' },
  { keys: ['LOG_LEVEL'], meaning: 'fatal, error, warn(ing), info, debug, trace, silent' },
  {
    keys: ['DATA_DRIFT_THRESHOLD', 'MODEL_DECAY_THRESHOLD', 'MONITORING_WINDOW_SIZE', 'MONITORING_CHECK_INTERVAL', 'MONITORING_CHECK_EVERY_N'],
    meaning: 'monitoring: drift and decay thresholds, window, seconds between checks, and a check every N predictions (see docs/monitoring.md)',
  },
  { keys: ['ALERT_MIN_ACCURACY', 'ALERT_MAX_P95_LATENCY_MS', 'ALERT_MAX_ERROR_RATE', 'ALERT_COOLDOWN_SECONDS'], meaning: 'alert rule thresholds and re-notification cooldown' },
  { keys: ['ALERT_WEBHOOK_URL', 'SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY', 'PAGERDUTY_EVENTS_URL'], meaning: 'alert channels' },
  { keys: ['SMTP_HOST', 'SMTP_PORT', 'SMTP_SECURE', 'SMTP_USER', 'SMTP_PASSWORD', 'ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO'], meaning: 'e-mail alerts (`ALERT_EMAIL_TO` comma-separated)' },
  {
    keys: ['RETRAIN_SCHEDULE_DAYS', 'RETRAIN_CRON', 'RETRAIN_CHECK_INTERVAL'],
    meaning: 'retraining schedule: every N days, or a 5-field UTC cron that replaces it; seconds between looks at schedules',
  },
  {
    keys: ['AB_TEST_CHECK_INTERVAL', 'AB_TEST_MIN_SAMPLES'],
    meaning: 'how often active A/B, canary and shadow tests are evaluated (s); predictions per variant before a promotion (see docs/ab-testing.md)',
  },
  { keys: ['MESSAGE_QUEUE_TYPE'], meaning: 'the bus: `embedded` (in the database), `rabbitmq` or `kafka` (see docs/messaging.md)' },
  {
    keys: ['RABBITMQ_URL', 'RABBITMQ_HOST', 'RABBITMQ_PORT', 'RABBITMQ_USER', 'RABBITMQ_PASSWORD', 'RABBITMQ_EXCHANGE', 'RABBITMQ_PREFETCH'],
    meaning: 'RabbitMQ: `RABBITMQ_URL` wins over host/port/user/password',
  },
  {
    keys: ['KAFKA_BOOTSTRAP_SERVERS', 'KAFKA_CLIENT_ID', 'KAFKA_TOPIC_PARTITIONS', 'KAFKA_TOPIC_PATIENT_DATA', 'KAFKA_TOPIC_IMAGING_DATA', 'KAFKA_TOPIC_ALERTS'],
    meaning: 'Kafka brokers, client id, partitions of created topics, topic names',
  },
  {
    keys: ['MESSAGING_TOPICS', 'MESSAGE_MAX_BYTES', 'MESSAGING_MAX_ATTEMPTS', 'MESSAGING_RETRY_BACKOFF_MS', 'MESSAGING_CONSUMERS_ENABLED', 'MESSAGING_PUBLISH_PREDICTIONS', 'MESSAGING_IMAGE_DIR'],
    meaning: 'topic overrides (`predictions=vitals.predictions`), message size, retries, consumers, prediction events, the folder `image_path` messages may name',
  },
  { keys: ['OUTBOX_RELAY_INTERVAL_MS', 'OUTBOX_BATCH_SIZE', 'EMBEDDED_BUS_POLL_MS', 'EMBEDDED_BUS_LEASE_MS', 'EMBEDDED_BUS_RETENTION_HOURS'], meaning: 'the outbox relay and the embedded bus' },
  {
    keys: ['MULTI_MODALITY_ENABLED', 'DEID_SALT', 'DEID_DATES', 'MAX_DECODED_IMAGE_MB', 'DICOMWEB_URL', 'DICOMWEB_TOKEN'],
    meaning:
      'multi-modal processing, de-identification (without `DEID_SALT` a key is generated once into `VITALS_HOME/deid.key`, mode 0600; set it to share one key between machines) and the PACS (DICOMweb) path',
  },
  {
    keys: ['BACKUP_SCHEDULE', 'BACKUP_KEEP', 'BACKUP_DIR'],
    meaning:
      'scheduled backups: a 5-field UTC cron, run by the worker once per cluster; the newest N scheduled backups are kept; the folder (another disk, ideally) ([docs/operations.md](docs/operations.md))',
    defaults: '—, 7, `VITALS_HOME/backups`',
  },
  {
    keys: ['MODEL_ARCHITECTURE', 'AUTO_OPTIMIZE', 'IMAGE_PROCESSING_BACKEND', 'TEXT_PROCESSING_BACKEND'],
    meaning:
      "the chest X-ray seed's settings, accepted and logged once as not applying: an ONNX file carries its architecture, ONNX Runtime always optimises, images go through sharp, text through the built-in processing",
  },
];

function shownDefault(key: Key): string {
  const field = settingsSchema.shape[key];
  const parsed = field.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return '—';
  const v = parsed.data as unknown;
  if (Array.isArray(v)) return v.length ? `\`${v.join(',')}\`` : '—';
  if (typeof v === 'object' && v !== null) return Object.keys(v).length ? JSON.stringify(v) : '—';
  return String(v);
}

export const TABLE_BEGIN = '<!-- config-table:begin (generated by scripts/make-config-table.mjs from src/config) -->';
export const TABLE_END = '<!-- config-table:end -->';

export function renderConfigTable(): string {
  const rows = SETTING_GROUPS.map((g) => `| ${g.keys.map((k) => `\`${k}\``).join(', ')} | ${g.defaults ?? g.keys.map(shownDefault).join(', ')} | ${g.meaning} |`);
  return ['| setting | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The README with the table between the markers replaced; throws when the markers are missing. */
export function withConfigTable(readme: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error('README.md has no config-table markers');
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n${renderConfigTable()}\n${readme.slice(end)}`;
}
