/** Release tests: tests, their events, blue-green slots (and the log columns a test reads by). Never edit a shipped migration. */
import { type Kysely, type Migration, sql } from 'kysely';

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

/** At most one active release test per model, even when two replicas start one at once. */
const oneActiveTest: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('ab_tests_one_active_idx').unique().on('ab_tests').column('model_id').where(sql.ref('status'), '=', 'active').execute();
  },
};

export const abtestMigrations: Record<string, Migration> = { '0004_abtests': abtests, '0008_one_active_test': oneActiveTest };
