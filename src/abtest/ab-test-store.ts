/** Rows of `ab_tests` and `release_events` in and out of the database. */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { notFound } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { AbTestsTable, Database, Schema } from '../store/index.js';
import { type AbTest, type AbTestConfig, DEFAULT_TEST_CONFIG, type ReleaseEvent, type SequentialState } from './types.js';

export interface StoredTest extends AbTest {
  sequential_state: SequentialState;
  last_evaluation: unknown;
}

const parse = <T>(text: string | null, fallback: T): T => (text ? (JSON.parse(text) as T) : fallback);

export class AbTestStore {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  async insert(row: AbTestsTable, tx: Kysely<Schema> | Transaction<Schema> = this.db): Promise<void> {
    await tx.insertInto('ab_tests').values(row).execute();
  }

  async update(id: string, patch: Partial<AbTestsTable>): Promise<void> {
    await this.db
      .updateTable('ab_tests')
      .set({ ...patch, updated_at: nowIso() })
      .where('id', '=', id)
      .execute();
  }

  /** A test by id, or else the newest test with that name (the seed's scripts address tests by name). */
  async get(ref: string): Promise<StoredTest> {
    const byId = await this.select().where('ab_tests.id', '=', ref).executeTakeFirst();
    const row = byId ?? (await this.select().where('ab_tests.name', '=', ref).orderBy('ab_tests.id', 'desc').executeTakeFirst());
    if (!row) throw notFound(`A/B test "${ref}"`);
    return toTest(row);
  }

  async list(filter: { status?: string; modelId?: string; limit?: number } = {}): Promise<StoredTest[]> {
    let q = this.select();
    if (filter.status) q = q.where('ab_tests.status', '=', filter.status);
    if (filter.modelId) q = q.where('ab_tests.model_id', '=', filter.modelId);
    return (
      await q
        .orderBy('ab_tests.id', 'desc')
        .limit(filter.limit ?? 500)
        .execute()
    ).map(toTest);
  }

  async activeForModelName(modelName: string): Promise<StoredTest | null> {
    const row = await this.select().where('ab_tests.model_name', '=', modelName).where('ab_tests.status', '=', 'active').orderBy('ab_tests.id', 'desc').executeTakeFirst();
    return row ? toTest(row) : null;
  }

  /** `tx`: write the event in the caller's transaction (e.g. with its outbox event). */
  async recordEvent(
    e: { test_id: string | null; model_id: string; action: string; actor: string; reason?: string | null; details?: Record<string, unknown> },
    tx: Kysely<Schema> | Transaction<Schema> = this.db,
  ): Promise<ReleaseEvent> {
    const row = { id: uuidv7(), test_id: e.test_id, model_id: e.model_id, action: e.action, actor: e.actor, reason: e.reason ?? null, details: JSON.stringify(e.details ?? {}), created_at: nowIso() };
    await tx.insertInto('release_events').values(row).execute();
    return { ...row, details: e.details ?? {} };
  }

  async events(filter: { testId?: string; modelId?: string; limit?: number }): Promise<ReleaseEvent[]> {
    let q = this.db.selectFrom('release_events').selectAll();
    if (filter.testId) q = q.where('test_id', '=', filter.testId);
    if (filter.modelId) q = q.where('model_id', '=', filter.modelId);
    const rows = await q
      .orderBy('id')
      .limit(filter.limit ?? 1000)
      .execute();
    return rows.map((r) => ({ ...r, details: parse(r.details, {}) }));
  }

  private select() {
    return this.db
      .selectFrom('ab_tests')
      .innerJoin('model_versions as c', 'c.id', 'ab_tests.control_version_id')
      .innerJoin('model_versions as t', 't.id', 'ab_tests.treatment_version_id')
      .selectAll('ab_tests')
      .select(['c.version as control_version', 't.version as treatment_version']);
  }
}

function toTest(row: Selectable<AbTestsTable> & { control_version: string; treatment_version: string }): StoredTest {
  return {
    id: row.id,
    name: row.name,
    model_id: row.model_id,
    model_name: row.model_name,
    mode: row.mode as AbTest['mode'],
    status: row.status as AbTest['status'],
    control_version_id: row.control_version_id,
    control_version: row.control_version,
    treatment_version_id: row.treatment_version_id,
    treatment_version: row.treatment_version,
    traffic_split: Number(row.traffic_split),
    metric: row.metric as AbTest['metric'],
    decision_mode: row.decision_mode as AbTest['decision_mode'],
    hash_seed: row.hash_seed,
    config: { ...DEFAULT_TEST_CONFIG, ...parse<Partial<AbTestConfig>>(row.config, {}) },
    canary_stage: row.canary_stage === null ? null : Number(row.canary_stage),
    split_changed_at: row.split_changed_at,
    decision: row.decision as AbTest['decision'],
    winner: row.winner as AbTest['winner'],
    decision_reason: row.decision_reason,
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
    ended_at: row.ended_at,
    sequential_state: parse(row.sequential_state, {}),
    last_evaluation: parse(row.last_evaluation, null),
  };
}
