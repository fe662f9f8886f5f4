/**
 * One set of migrations for SQLite and PostgreSQL, written with Kysely's schema builder using only
 * column types both databases understand. Add a migration; never edit one that has shipped.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

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

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return migrations;
  },
};
