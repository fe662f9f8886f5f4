/**
 * The dashboard's tables and the indexes its aggregate queries read through. The rollup keeps
 * per-5-minute and per-hour counts and latency histograms so the overview never scans raw prediction rows.
 */
import type { Kysely, Migration } from 'kysely';

const rollups: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('prediction_rollups')
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('bucket_seconds', 'integer', (c) => c.notNull())
      .addColumn('version_id', 'text', (c) => c.notNull())
      .addColumn('bucket_start', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('errors', 'integer', (c) => c.notNull())
      .addColumn('latency_count', 'integer', (c) => c.notNull())
      .addColumn('latency_sum', 'double precision', (c) => c.notNull())
      .addColumn('latency_hist', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('prediction_rollups_pk', ['model_id', 'bucket_seconds', 'bucket_start', 'version_id'])
      .execute();
    await db.schema
      .createTable('rollup_cursors')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_id', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // Read paths of the dashboard: latest check of a model, open alerts, runs of an experiment by time.
    await db.schema.createIndex('monitoring_checks_model_idx').on('monitoring_checks').columns(['model_id', 'id']).execute();
    await db.schema.createIndex('alerts_status_idx').on('alerts').columns(['status', 'fired_at']).execute();
    await db.schema.createIndex('alerts_model_idx').on('alerts').columns(['model_id', 'fired_at']).execute();
    await db.schema.createIndex('model_events_alias_idx').on('model_events').columns(['model_id', 'alias', 'id']).execute();
    await db.schema.createIndex('pipeline_runs_created_idx').on('pipeline_runs').columns(['created_at']).execute();
    await db.schema.createIndex('tracking_runs_started_idx').on('tracking_runs').columns(['experiment_id', 'started_at']).execute();
  },
};

export const dashboardMigrations: Record<string, Migration> = {
  '0116_dashboard_rollups': rollups,
};
