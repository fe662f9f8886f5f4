/**
 * Opens the platform database chosen by URL scheme (MLflow's store-URI idea):
 * `postgres://…` → PostgreSQL via pg; `sqlite:path`, a file path or nothing → SQLite via better-sqlite3.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { Schema } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  dialect: DialectName;
  /** where the database lives, with any password removed */
  location: string;
  /** how another connection (the prediction log's writer thread) opens the same database; absent for in-memory SQLite */
  connection?: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  close(): Promise<void>;
}

/** PostgreSQL 23505 and SQLite's UNIQUE/PRIMARY KEY constraint: someone else made that row first. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function describeDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

export async function openDatabase(url: string | undefined, home: string): Promise<Database> {
  let database: Database;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    // imported here: a start on SQLite does not load the PostgreSQL client
    const { default: pg } = await import('pg');
    // PostgreSQL returns int8 (bigint, count(*)) as strings; our counts and sizes fit in a double.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    database = { db, dialect: 'postgres', location: describeDatabaseUrl(url), connection: { kind: 'postgres', url }, close: () => db.destroy() };
  } else {
    const file = url ? url.replace(/^sqlite:(\/\/)?/, '') : resolve(home, 'vitals.db');
    if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    // WAL lets readers run beside the prediction-log writer; NORMAL sync is durable across process crashes.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // deleted or moved rows leave no readable remains (patient data retention; fast: no extra I/O)
    sqlite.pragma('secure_delete = fast');
    const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
    database = { db, dialect: 'sqlite', location: file, connection: file === ':memory:' || file === '' ? undefined : { kind: 'sqlite', file: resolve(file) }, close: () => db.destroy() };
  }
  await migrateToLatest(database.db);
  return database;
}

export async function migrateToLatest(db: Kysely<Schema>): Promise<void> {
  // Unordered: a migration split off by its owner (e.g. 0001_initial_prediction_log) may sort before
  // ones a database already ran; each such migration is idempotent (ifNotExists).
  const migrator = new Migrator({ db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    // no migration ran: the database could not be reached (the cause says why; the CLI prints it in one line)
    if (!failed) throw new Error(`cannot open the database: ${String((error as Error)?.message ?? error)}`, { cause: error });
    throw new Error(`database migration ${failed.migrationName} failed: ${String((error as Error)?.message ?? error)}`, { cause: error });
  }
}

/** Removes every row of every table: for tests that share one PostgreSQL database. */
export async function truncateAll(database: Database): Promise<void> {
  const tables = [
    'cluster_jobs',
    'audit_events',
    'prediction_rollups',
    'rollup_cursors',
    'mlflow_artifacts',
    'mlflow_model_versions',
    'mlflow_registered_models',
    'acceptance_evidence',
    'acceptance_plans',
    'report_label_policies',
    'alert_events',
    'api_keys',
    'tracking_steps',
    'tracking_runs',
    'experiments',
    'retraining_policies',
    'pipeline_jobs',
    'pipeline_runs',
    'release_events',
    'deployment_slots',
    'ab_tests',
    'outbox',
    'bus_deliveries',
    'bus_dead_letters',
    'bus_groups',
    'bus_messages',
    'alerts',
    'monitoring_checks',
    'prediction_logs',
    'model_events',
    'model_aliases',
    'model_versions',
    'artifacts',
    'models',
  ];
  for (const t of tables) await sql`delete from ${sql.table(t)}`.execute(database.db);
}
