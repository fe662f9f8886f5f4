/**
 * Tables and columns of the MLflow REST API (src/tracking/mlflow). MLflow runs are the Vitals
 * tracking runs and MLflow registered models the Vitals models: these add only what MLflow has and
 * Vitals had not — lifecycle stages (soft delete), experiment tags, dataset inputs, the run
 * artifacts' index over the content-addressed store, and the MLflow numbering of model versions.
 */
import type { Kysely, Migration } from 'kysely';

const mlflow: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('experiments')
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull().defaultTo('active'))
      .execute();
    await db.schema
      .alterTable('experiments')
      .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await db.schema.alterTable('experiments').addColumn('artifact_location', 'text').execute();
    await db.schema.alterTable('experiments').addColumn('updated_at', 'text').execute();
    await db.schema
      .alterTable('tracking_runs')
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull().defaultTo('active'))
      .execute();
    await db.schema.alterTable('tracking_runs').addColumn('user_id', 'text').execute();
    await db.schema
      .alterTable('tracking_runs')
      .addColumn('inputs', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute(); // JSON DatasetInput[]
    await db.schema.alterTable('tracking_runs').addColumn('deleted_at', 'text').execute();
    // JSON { key: [step, timestamp ms] } of the value in `metrics` (MLflow shows each latest metric's step and time)
    await db.schema
      .alterTable('tracking_runs')
      .addColumn('metric_positions', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await db.schema
      .createTable('mlflow_artifacts')
      .addColumn('path', 'text', (c) => c.primaryKey()) // <experiment id>/<run id>/artifacts/<relative path>
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('size_bytes', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mlflow_registered_models')
      .addColumn('model_id', 'text', (c) => c.primaryKey().references('models.id'))
      .addColumn('tags', 'text', (c) => c.notNull()) // JSON Record<string, string>
      .addColumn('user_id', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mlflow_model_versions')
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('description', 'text')
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('status_message', 'text')
      /** the servable Vitals version (its artifacts held an ONNX model), else null */
      .addColumn('vitals_version_id', 'text', (c) => c.references('model_versions.id'))
      .addColumn('user_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('mlflow_model_versions_pk', ['model_id', 'version'])
      .execute();
  },
};

export const trackingMigrations: Record<string, Migration> = {
  '0117_mlflow': mlflow,
};
