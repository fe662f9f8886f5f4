/**
 * The migrations of every capability for SQLite and PostgreSQL, written with Kysely's schema builder
 * using only column types both databases understand. Each capability owns its migrations (its
 * folder's migrations.ts); add a migration, never edit one that has shipped.
 */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { abtestMigrations } from '../abtest/migrations.js';
import { authMigrations } from '../auth/migrations.js';
import { messagingMigrations } from '../messaging/migrations.js';
import { pipelinesMigrations } from '../pipelines/migrations.js';
import { registryMigrations } from '../registry/migrations.js';
import { monitoringMigrations } from '../monitoring/migrations.js';
import { trackingMigrations } from '../tracking/migrations.js';
import { dashboardMigrations } from '../dashboard/migrations.js';
import { clusterJobsMigrations } from './cluster-jobs.js';
import { auditMigrations } from '../audit/migrations.js';

/**
 * The prediction log's table, made by the shipped 0001_initial until it was split by owner: on a
 * database made then, this finds the table and does nothing (ifNotExists).
 */
const initialPredictionLog: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('prediction_logs')
      .ifNotExists()
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
    await db.schema.createIndex('prediction_logs_version_idx').ifNotExists().on('prediction_logs').columns(['version_id', 'id']).execute();
    await db.schema.createIndex('prediction_logs_model_idx').ifNotExists().on('prediction_logs').columns(['model_id', 'id']).execute();
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

/** A/B, canary and shadow release tests (src/abtest), their audit trail, and blue-green slots. */

/** Pipeline runs, the durable job queue that executes them, retraining policies, experiment tracking (src/pipelines, src/tracking). */
/** Experiment tracking's tables, made by the shipped 0005_pipelines until it was split by owner (ifNotExists). */
const trackingTables: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('experiments')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('tracking_runs')
      .ifNotExists()
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
    await db.schema.createIndex('tracking_runs_experiment_idx').ifNotExists().on('tracking_runs').columns(['experiment_id', 'id']).execute();
    await db.schema
      .createTable('tracking_steps')
      .ifNotExists()
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
    await db.schema.createIndex('prediction_logs_labelled_idx').on('prediction_logs').columns(['version_id', 'id']).where(sql.ref('ground_truth'), 'is not', null).execute();
  },
};

/**
 * Every capability's migrations, in the declared order of the capabilities (the migrator runs them
 * in name order; names are unique across capabilities). Monitoring and tracking tables still live
 * here until their folders take them.
 */
export const migrations: Record<string, Migration> = {
  ...registryMigrations,
  '0001_initial_prediction_log': initialPredictionLog,
  '0002_monitoring': monitoring,
  '0006_labelled_index': labelledIndex,
  ...messagingMigrations,
  ...abtestMigrations,
  ...pipelinesMigrations,
  '0005_pipelines_tracking': trackingTables,
  ...authMigrations,
  ...monitoringMigrations,
  ...trackingMigrations,
  ...dashboardMigrations,
  ...clusterJobsMigrations,
  ...auditMigrations,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
