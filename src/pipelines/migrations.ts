/** Pipeline runs, the job queue, retraining policies. Never edit a shipped migration. */
import type { Kysely, Migration } from 'kysely';

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
  },
};

export const pipelinesMigrations: Record<string, Migration> = { '0005_pipelines': pipelines };
