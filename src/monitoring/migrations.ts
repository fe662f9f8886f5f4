/** Monitoring's migrations after the shared ones (same SQL on SQLite and PostgreSQL). */
import { type Kysely, type Migration, sql } from 'kysely';

const alertWorkflow: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('alert_events')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('comment', 'text')
      .addColumn('assignee', 'text')
      .addColumn('action_kind', 'text')
      .addColumn('reference', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('alert_events_alert').on('alert_events').columns(['alert_id', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('alert_events').execute();
  },
};

const changeControl: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('acceptance_plans')
      .addColumn('model_id', 'text', (c) => c.primaryKey().references('models.id'))
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('registered_by', 'text', (c) => c.notNull())
      .addColumn('registered_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('acceptance_evidence')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('version_id', 'text', (c) => c.notNull().references('model_versions.id'))
      .addColumn('passed', 'integer', (c) => c.notNull())
      .addColumn('evidence', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('acceptance_evidence_version').on('acceptance_evidence').columns(['version_id', 'id']).execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('acceptance_evidence').execute();
    await db.schema.dropTable('acceptance_plans').execute();
  },
};

/**
 * At most one firing alert per dedup key, enforced by the database (a partial unique index, which
 * SQLite and PostgreSQL both support): replicas that check the same version at once can no longer
 * both insert, so an incident fires and pages once. Duplicates left by older releases are resolved
 * first (the oldest firing row of a key stays firing).
 */
const oneFiringAlert: Migration = {
  async up(db: Kysely<any>) {
    await sql`update alerts set status = 'resolved', resolved_at = last_seen_at
      where status = 'firing' and exists (
        select 1 from alerts older where older.dedup_key = alerts.dedup_key and older.status = 'firing' and older.id < alerts.id)`.execute(db);
    await db.schema.createIndex('alerts_one_firing').unique().on('alerts').column('dedup_key').where(sql.ref('status'), '=', 'firing').execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropIndex('alerts_one_firing').execute();
  },
};

/**
 * Reports as labels: the study a prediction imaged (de-identified: the remapped StudyInstanceUID and a
 * keyed hash of the accession number), where each label came from, and each model's policy for
 * turning a report's observations into its labels.
 */
const reportGroundTruth: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('prediction_logs').addColumn('study_uid', 'text').execute();
    await db.schema.alterTable('prediction_logs').addColumn('accession_key', 'text').execute();
    await db.schema.alterTable('prediction_logs').addColumn('ground_truth_source', 'text').execute();
    await db.schema.createIndex('prediction_logs_study_idx').on('prediction_logs').column('study_uid').where(sql.ref('study_uid'), 'is not', null).execute();
    await db.schema.createIndex('prediction_logs_accession_idx').on('prediction_logs').column('accession_key').where(sql.ref('accession_key'), 'is not', null).execute();
    await db.schema
      .createTable('report_label_policies')
      .addColumn('model_id', 'text', (c) => c.primaryKey().references('models.id'))
      .addColumn('observation', 'text', (c) => c.notNull())
      .addColumn('positive_label', 'text', (c) => c.notNull())
      .addColumn('negative_label', 'text', (c) => c.notNull())
      .addColumn('uncertain', 'text', (c) => c.notNull())
      .addColumn('absent', 'text', (c) => c.notNull())
      .addColumn('set_by', 'text', (c) => c.notNull())
      .addColumn('set_at', 'text', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable('report_label_policies').execute();
    await db.schema.dropIndex('prediction_logs_accession_idx').execute();
    await db.schema.dropIndex('prediction_logs_study_idx').execute();
    await db.schema.alterTable('prediction_logs').dropColumn('ground_truth_source').execute();
    await db.schema.alterTable('prediction_logs').dropColumn('accession_key').execute();
    await db.schema.alterTable('prediction_logs').dropColumn('study_uid').execute();
  },
};

export const monitoringMigrations: Record<string, Migration> = {
  '0118_alert_workflow': alertWorkflow,
  '0118_change_control': changeControl,
  '0150_one_firing_alert': oneFiringAlert,
  '0260_report_ground_truth': reportGroundTruth,
};
