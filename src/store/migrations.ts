/**
 * One set of migrations for SQLite and PostgreSQL, written with Kysely's schema builder using only
 * column types both databases understand. Add a migration; never edit one that has shipped.
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { dashboardMigrations } from '../dashboard/migrations.js';

const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('models')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('task', 'text', (c) => c.notNull())
      .addColumn('modality', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('artifacts')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('media_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('model_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('major', 'integer', (c) => c.notNull())
      .addColumn('minor', 'integer', (c) => c.notNull())
      .addColumn('patch', 'integer', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('artifact_sha256', 'text', (c) => c.notNull().references('artifacts.sha256'))
      .addColumn('artifact_size', 'bigint', (c) => c.notNull())
      .addColumn('input_spec', 'text', (c) => c.notNull())
      .addColumn('output_spec', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('reference_profile', 'text')
      .addColumn('lineage', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('model_versions_model_version_unique', ['model_id', 'version'])
      .execute();

    await db.schema
      .createTable('model_aliases')
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull().references('model_versions.id'))
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_aliases_pk', ['model_id', 'alias'])
      .execute();

    await db.schema
      .createTable('model_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('alias', 'text')
      .addColumn('from_version_id', 'text')
      .addColumn('to_version_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('model_events_model_idx').on('model_events').columns(['model_id', 'id']).execute();

    await db.schema
      .createTable('prediction_logs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text')
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('version', 'text')
      .addColumn('variant', 'text')
      .addColumn('request_id', 'text')
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('prediction', 'text')
      .addColumn('probabilities', 'text')
      .addColumn('confidence', 'double precision')
      .addColumn('latency_ms', 'double precision')
      .addColumn('ground_truth', 'text')
      .addColumn('ground_truth_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('prediction_logs_version_idx').on('prediction_logs').columns(['version_id', 'id']).execute();
    await db.schema.createIndex('prediction_logs_model_idx').on('prediction_logs').columns(['model_id', 'id']).execute();
  },
};

const monitoring: Migration = {
  async up(db: Kysely<any>) {
    // Failed predictions are logged too (prediction null, error set): the error rate needs them.
    await db.schema.alterTable('prediction_logs').addColumn('error', 'text').execute();

    await db.schema
      .createTable('monitoring_checks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('window_size', 'integer', (c) => c.notNull())
      .addColumn('drift_score', 'double precision')
      .addColumn('health_score', 'double precision')
      .addColumn('accuracy', 'double precision')
      .addColumn('estimated_accuracy', 'double precision')
      .addColumn('report', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('monitoring_checks_version_idx').on('monitoring_checks').columns(['version_id', 'id']).execute();

    await db.schema
      .createTable('alerts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('version_id', 'text')
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('dedup_key', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('fired_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('last_notified_at', 'text')
      .addColumn('resolved_at', 'text')
      .execute();
    await db.schema.createIndex('alerts_dedup_idx').on('alerts').columns(['dedup_key', 'status']).execute();
  },
};

/** Messaging: the transactional outbox, the embedded bus (log, groups, deliveries) and dead letters. */
const messaging: Migration = {
  async up(db: Kysely<any>) {
    // Platform events written in the same transaction as the state change; the relay publishes and deletes them.
    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey()) // UUIDv7: relay order, and the message id consumers dedupe on
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('bus_messages')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('published_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bus_messages_topic_idx').on('bus_messages').columns(['topic', 'id']).execute();

    await db.schema
      .createTable('bus_groups')
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('bus_groups_pk', ['topic', 'group_name'])
      .execute();

    // One row per (group, message) not yet handled: deleted on ack, leased while a consumer works on it.
    await db.schema
      .createTable('bus_deliveries')
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('available_at', 'text', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'text')
      .addColumn('last_error', 'text')
      .addPrimaryKeyConstraint('bus_deliveries_pk', ['topic', 'group_name', 'message_id'])
      .execute();
    await db.schema.createIndex('bus_deliveries_key_idx').on('bus_deliveries').columns(['topic', 'group_name', 'msg_key', 'message_id']).execute();
    await db.schema.createIndex('bus_deliveries_message_idx').on('bus_deliveries').columns(['message_id']).execute();

    await db.schema
      .createTable('bus_dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('msg_key', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('headers', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('error', 'text', (c) => c.notNull())
      .addColumn('failed_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('bus_dead_letters_group_idx').on('bus_dead_letters').columns(['topic', 'group_name', 'id']).execute();
  },
};

/** A/B, canary and shadow release tests (src/abtest), their audit trail, and blue-green slots. */
const abtests: Migration = {
  async up(db: Kysely<any>) {
    // The prediction log is the single source of truth for a test: each row says which test and variant
    // answered; a shadow row points at the prediction it copied (its ground truth is the primary's).
    await db.schema.alterTable('prediction_logs').addColumn('ab_test_id', 'text').execute();
    await db.schema.alterTable('prediction_logs').addColumn('shadow_of', 'text').execute();
    await db.schema.createIndex('prediction_logs_ab_test_idx').on('prediction_logs').columns(['ab_test_id', 'variant']).execute();

    await db.schema
      .createTable('ab_tests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('model_name', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull()) // ab | canary | shadow
      .addColumn('status', 'text', (c) => c.notNull()) // active | completed | stopped
      .addColumn('control_version_id', 'text', (c) => c.notNull().references('model_versions.id'))
      .addColumn('treatment_version_id', 'text', (c) => c.notNull().references('model_versions.id'))
      .addColumn('traffic_split', 'double precision', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('decision_mode', 'text', (c) => c.notNull()) // auto | recommend-only
      .addColumn('hash_seed', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('canary_stage', 'integer')
      .addColumn('split_changed_at', 'text', (c) => c.notNull())
      .addColumn('sequential_state', 'text')
      .addColumn('decision', 'text')
      .addColumn('winner', 'text')
      .addColumn('decision_reason', 'text')
      .addColumn('last_evaluation', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('ended_at', 'text')
      .execute();
    await db.schema.createIndex('ab_tests_model_status_idx').on('ab_tests').columns(['model_id', 'status']).execute();

    await db.schema
      .createTable('release_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('test_id', 'text')
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('release_events_test_idx').on('release_events').columns(['test_id', 'id']).execute();
    await db.schema.createIndex('release_events_model_idx').on('release_events').columns(['model_id', 'id']).execute();

    await db.schema
      .createTable('deployment_slots')
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('slot', 'text', (c) => c.notNull()) // blue | green
      .addColumn('version_id', 'text', (c) => c.references('model_versions.id'))
      .addColumn('live', 'integer', (c) => c.notNull())
      .addColumn('health', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('deployment_slots_pk', ['model_id', 'slot'])
      .execute();
  },
};

/** Pipeline runs, the durable job queue that executes them, retraining policies, experiment tracking (src/pipelines, src/tracking). */
const pipelines: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('pipeline_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('pipeline', 'text', (c) => c.notNull()) // cicd | dvc:<file> | …
      .addColumn('model_name', 'text')
      .addColumn('trigger', 'text', (c) => c.notNull()) // manual | scheduled | drift | decay | api | cli
      // Debounce: one incident (a firing alert, a schedule slot) starts at most one run, across replicas.
      .addColumn('incident_key', 'text', (c) => c.unique())
      .addColumn('status', 'text', (c) => c.notNull()) // queued | running | waiting | succeeded | failed | rejected
      .addColumn('request', 'text', (c) => c.notNull()) // JSON: what was asked
      .addColumn('stages', 'text', (c) => c.notNull()) // JSON: StageRecord[]
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull())
      .addColumn('result', 'text', (c) => c.notNull()) // JSON: decision, versions, test id
      .addColumn('error', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('pipeline_runs_model_idx').on('pipeline_runs').columns(['model_name', 'id']).execute();

    // Jobs: claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL); a lease that is not renewed is recovered.
    await db.schema
      .createTable('pipeline_jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull()) // queued | running | done | failed
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('available_at', 'text', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('lease_until', 'text')
      .addColumn('heartbeat_at', 'text')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('pipeline_jobs_status_idx').on('pipeline_jobs').columns(['status', 'available_at']).execute();

    await db.schema
      .createTable('retraining_policies')
      .addColumn('model_name', 'text', (c) => c.primaryKey())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull()) // JSON RetrainingPolicy
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('experiments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tracking_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id'))
      .addColumn('name', 'text')
      .addColumn('status', 'text', (c) => c.notNull()) // running | completed | failed | killed
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('metrics', 'text', (c) => c.notNull()) // JSON: latest value of each metric
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('ended_at', 'text')
      .execute();
    await db.schema.createIndex('tracking_runs_experiment_idx').on('tracking_runs').columns(['experiment_id', 'id']).execute();
    await db.schema
      .createTable('tracking_steps')
      .addColumn('run_id', 'text', (c) => c.notNull().references('tracking_runs.id'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tracking_steps_pk', ['run_id', 'key', 'step'])
      .execute();
  },
};

/**
 * The decay window reads the latest labelled rows of a version. Without this partial index a
 * version with few labels is scanned end to end on every check; both SQLite and PostgreSQL support it.
 */
const labelledIndex: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createIndex('prediction_logs_labelled_idx')
      .on('prediction_logs')
      .columns(['version_id', 'id'])
      .where(sql.ref('ground_truth'), 'is not', null)
      .execute();
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_monitoring': monitoring,
  '0003_messaging': messaging,
  '0004_abtests': abtests,
  '0005_pipelines': pipelines,
  '0006_labelled_index': labelledIndex,
  ...dashboardMigrations,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
