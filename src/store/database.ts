/**
 * Opens the platform database chosen by URL scheme (MLflow's store-URI idea):
 * `postgres://…` → PostgreSQL via pg; `sqlite:path`, a file path or nothing → SQLite via better-sqlite3.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  dialect: DialectName;
  /** where the database lives, with any password removed */
  location: string;
  close(): Promise<void>;
}

// PostgreSQL returns int8 (bigint, count(*)) as strings; our counts and sizes fit in a double.
pg.types.setTypeParser(20, (v: string) => Number(v));

export function describeDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export async function openDatabase(url: string | undefined, home: string): Promise<Database> {
  let database: Database;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    database = { db, dialect: 'postgres', location: describeDatabaseUrl(url), close: () => db.destroy() };
  } else {
    const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : resolve(home, 'vitals.db');
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    // WAL lets readers run beside the prediction-log writer; NORMAL sync is durable across process crashes.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
    database = { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
  }
  await migrateToLatest(database.db);
  return database;
}

export async function migrateToLatest(db: Kysely<Schema>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String((error as Error)?.message ?? error)}`);
  }
}

/** Removes every row of every table: for tests that share one PostgreSQL database. */
export async function truncateAll(database: Database): Promise<void> {
  const tables = ['prediction_rollups', 'rollup_cursors', 'tracking_steps', 'tracking_runs', 'experiments', 'retraining_policies', 'pipeline_jobs', 'pipeline_runs', 'release_events', 'deployment_slots', 'ab_tests', 'outbox', 'bus_deliveries', 'bus_dead_letters', 'bus_groups', 'bus_messages', 'alerts', 'monitoring_checks', 'prediction_logs', 'model_events', 'model_aliases', 'model_versions', 'artifacts', 'models'];
  for (const t of tables) await sql`delete from ${sql.table(t)}`.execute(database.db);
}
