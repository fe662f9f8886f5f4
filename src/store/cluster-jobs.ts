/**
 * Work that must happen once per cluster per interval (a monitoring sweep, a release-test look, the
 * retraining schedule): every process that runs the background loop asks to claim the job's next
 * turn, and one conditional UPDATE decides. It needs no advisory lock and reads the same on SQLite
 * and PostgreSQL; a worker that dies mid-job only delays that job's next turn by one interval.
 */
import type { Kysely, Migration } from 'kysely';
import type { Database } from './database.js';

export interface ClusterJobsTable {
  name: string;
  /** when the current turn was claimed (ISO time) */
  last_run_at: string;
  /** who claimed it: host and pid, for the logs */
  owner: string;
}
export interface ClusterJobsSchema {
  cluster_jobs: ClusterJobsTable;
}

export const clusterJobsMigrations: Record<string, Migration> = {
  '0180_cluster_jobs': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('cluster_jobs')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('last_run_at', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

const NEVER = new Date(0).toISOString();

/**
 * Claims the job's turn when its last one began at least `intervalMs` ago (with a 10 % margin, so
 * timers that drift a little apart do not skip a turn). True for exactly one caller per turn.
 */
export async function claimTurn(database: Database, name: string, intervalMs: number, owner: string, now = new Date()): Promise<boolean> {
  const db = database.db as unknown as Kysely<ClusterJobsSchema>;
  await db
    .insertInto('cluster_jobs')
    .values({ name, last_run_at: NEVER, owner: '' })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const due = new Date(now.getTime() - intervalMs * 0.9).toISOString();
  const res = await db.updateTable('cluster_jobs').set({ last_run_at: now.toISOString(), owner }).where('name', '=', name).where('last_run_at', '<=', due).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Claims one slot of a schedule (a cron time): true for exactly one caller per slot, and only for a
 * slot later than the last one claimed. The first call records the slot without claiming it, so a
 * schedule starts with the next slot rather than catching up on one from before it was configured.
 */
export async function claimSlot(database: Database, name: string, slot: Date, owner: string): Promise<boolean> {
  const db = database.db as unknown as Kysely<ClusterJobsSchema>;
  const at = slot.toISOString();
  const inserted = await db
    .insertInto('cluster_jobs')
    .values({ name, last_run_at: at, owner })
    .onConflict((oc) => oc.column('name').doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return false;
  const res = await db.updateTable('cluster_jobs').set({ last_run_at: at, owner }).where('name', '=', name).where('last_run_at', '<', at).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Remembers when something last happened (e.g. the last successful scheduled backup), under its own name. */
export async function recordJobTime(database: Database, name: string, at: Date, owner: string, trx?: Kysely<any>): Promise<void> {
  const db = (trx ?? database.db) as unknown as Kysely<ClusterJobsSchema>;
  await db
    .insertInto('cluster_jobs')
    .values({ name, last_run_at: at.toISOString(), owner })
    .onConflict((oc) => oc.column('name').doUpdateSet({ last_run_at: at.toISOString(), owner }))
    .execute();
}

export async function jobTime(database: Database, name: string): Promise<Date | null> {
  const db = database.db as unknown as Kysely<ClusterJobsSchema>;
  const row = await db.selectFrom('cluster_jobs').select('last_run_at').where('name', '=', name).executeTakeFirst();
  return row ? new Date(row.last_run_at) : null;
}
