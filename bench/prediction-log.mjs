#!/usr/bin/env node
// Prediction-log ingestion benchmark: rows/s through PredictionLog.record() + close(), against a
// naive one-INSERT-per-row loop on the same driver, in SQLite (temp dir) and, when a URL is given,
// PostgreSQL (DATABASE_URL_BENCH, else DATABASE_URL_TEST).
//
//   npm run build && node bench/prediction-log.mjs [--rows 50000] [--pg-naive-rows 2000] [--wait-idle 10]
//
// PostgreSQL runs in a throwaway schema (bench_<random>, dropped at the end) so it never touches the
// tables that tests share. Writes bench/results/prediction-log.json.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { nowIso, uuidv7 } from '../dist/ids.js';
import { PredictionLog } from '../dist/monitoring/prediction-log.js';
import { openDatabase } from '../dist/store/index.js';
import { migrationProvider } from '../dist/store/migrations.js';
import { FOREIGN_LOAD_WARN_CORES, codeInfo, foreignCores, loadCsvRows, machineBusyMs, machineInfo, printTable, round, waitForQuiet, writeResult } from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    'sqlite-naive-rows': { type: 'string', default: '' },
    'pg-naive-rows': { type: 'string', default: '2000' },
    'flush-ms': { type: 'string', default: '200' },
    'batch-size': { type: 'string', default: '500' },
    'paced-slice': { type: 'string', default: '32' },
    'wait-idle': { type: 'string', default: '10' },
  },
});
const ROWS = Number(args.rows);
const SQLITE_NAIVE_ROWS = Number(args['sqlite-naive-rows'] || ROWS);
const PG_NAIVE_ROWS = Number(args['pg-naive-rows']);
const LOG_OPTIONS = { flushMs: Number(args['flush-ms']), batchSize: Number(args['batch-size']) };
const PACED_SLICE = Number(args['paced-slice']);
const PG_URL = process.env.DATABASE_URL_BENCH || process.env.DATABASE_URL_TEST || '';

// ---------------------------------------------------------------- rows ---

const csv = loadCsvRows();
const MODEL = { model_id: uuidv7(), model_name: 'breast-cancer', version_id: uuidv7(), version: '1.0.0' };

/** What the predictor hands PredictionLog.record for one tabular request (see src/serving/predictor.ts). */
function entry(i) {
  const row = csv[i % csv.length];
  const pMalignant = ((i * 7919) % 1000) / 1000;
  const malignant = pMalignant >= 0.5;
  return {
    ...MODEL,
    variant: null,
    request_id: randomUUID(),
    source: 'api',
    input: row.features,
    prediction: malignant ? 'malignant' : 'benign',
    probabilities: { benign: 1 - pMalignant, malignant: pMalignant },
    confidence: malignant ? pMalignant : 1 - pMalignant,
    latency_ms: 0.5 + (i % 100) / 50,
  };
}
const entries = Array.from({ length: ROWS }, (_, i) => entry(i));

/** The row PredictionLog.record builds (same serialisation work), for the reference loops. */
function toRow(e) {
  const now = nowIso();
  return {
    id: uuidv7(),
    model_id: e.model_id,
    model_name: e.model_name,
    version_id: e.version_id,
    version: e.version,
    variant: e.variant,
    request_id: e.request_id,
    source: e.source,
    input: JSON.stringify(e.input),
    prediction: String(e.prediction),
    probabilities: JSON.stringify(e.probabilities),
    confidence: e.confidence,
    latency_ms: e.latency_ms,
    ground_truth: null,
    ground_truth_at: null,
    created_at: now,
  };
}
/** The columns the reference loops insert: those of the row above. */
const COLUMNS = Object.keys(toRow(entries[0] ?? entry(0)));

async function countRows(database) {
  const r = await sql`select count(*) as n from prediction_logs`.execute(database.db);
  return Number(r.rows[0].n);
}

// ------------------------------------------------------------ PredictionLog ---

/** burst: record every row in one synchronous loop, then close() (drains). */
async function viaPredictionLogBurst(database, n) {
  const before = await countRows(database);
  const log = new PredictionLog(database, { ...LOG_OPTIONS, onError: (err) => console.error('  flush failed:', err.message) });
  const t0 = performance.now();
  const recordStart = t0;
  for (let i = 0; i < n; i++) log.record(entries[i]);
  const recordMs = performance.now() - recordStart;
  await log.close();
  const ms = performance.now() - t0;
  const written = (await countRows(database)) - before;
  return { rows: n, written, seconds: round(ms / 1000, 3), rows_per_s: round((n / ms) * 1000, 0), record_us_per_row: round((recordMs * 1000) / n, 2) };
}

/**
 * paced: rows arrive in slices of PACED_SLICE with a turn of the event loop between slices (as
 * requests do in a server), so flushes interleave with arrivals. Reports the event-loop delay the
 * flushes cause: on SQLite every write runs synchronously on this thread.
 */
async function viaPredictionLogPaced(database, n) {
  const before = await countRows(database);
  const log = new PredictionLog(database, { ...LOG_OPTIONS, onError: (err) => console.error('  flush failed:', err.message) });
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    log.record(entries[i]);
    if ((i + 1) % PACED_SLICE === 0) await yieldToLoop();
  }
  await log.close();
  const ms = performance.now() - t0;
  h.disable();
  const written = (await countRows(database)) - before;
  return {
    rows: n,
    written,
    seconds: round(ms / 1000, 3),
    rows_per_s: round((n / ms) * 1000, 0),
    event_loop_delay_ms: { p50: round(h.percentile(50) / 1e6, 2), p99: round(h.percentile(99) / 1e6, 2), max: round(h.max / 1e6, 2) },
  };
}

// ------------------------------------------------------------------ SQLite ---

function sqliteRaw(file) {
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL'); // the same pragmas as openDatabase
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

async function sqliteSuite() {
  const results = {};
  const dir = mkdtempSync(join(tmpdir(), 'vitals-bench-plog-'));
  try {
    // PredictionLog, burst and paced, each into a fresh database made by openDatabase (migrations).
    for (const [name, fn] of [
      ['predictionlog_burst', viaPredictionLogBurst],
      ['predictionlog_paced', viaPredictionLogPaced],
    ]) {
      const database = await openDatabase(undefined, join(dir, name));
      try {
        console.log(`  sqlite ${name}: ${ROWS} rows…`);
        results[name] = await fn(database, ROWS);
      } finally {
        await database.close();
      }
    }
    // References on the same driver: the schema from openDatabase, then raw better-sqlite3.
    const refHome = join(dir, 'reference');
    await (await openDatabase(undefined, refHome)).close();
    const db = sqliteRaw(join(refHome, 'vitals.db'));
    try {
      const insert = db.prepare(`insert into prediction_logs (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => `@${c}`).join(', ')})`);
      console.log(`  sqlite naive: ${SQLITE_NAIVE_ROWS} single-row INSERTs, autocommit…`);
      let t0 = performance.now();
      for (let i = 0; i < SQLITE_NAIVE_ROWS; i++) insert.run(toRow(entries[i % ROWS]));
      let ms = performance.now() - t0;
      results.naive_insert_per_row = { rows: SQLITE_NAIVE_ROWS, seconds: round(ms / 1000, 3), rows_per_s: round((SQLITE_NAIVE_ROWS / ms) * 1000, 0) };

      console.log(`  sqlite raw batched: ${ROWS} rows, prepared INSERT, one transaction per ${LOG_OPTIONS.batchSize} rows…`);
      const many = db.transaction((rows) => {
        for (const r of rows) insert.run(r);
      });
      t0 = performance.now();
      for (let i = 0; i < ROWS; i += LOG_OPTIONS.batchSize) {
        const rows = [];
        for (let j = i; j < Math.min(ROWS, i + LOG_OPTIONS.batchSize); j++) rows.push(toRow(entries[j]));
        many(rows);
      }
      ms = performance.now() - t0;
      results.raw_prepared_batched = { rows: ROWS, seconds: round(ms / 1000, 3), rows_per_s: round((ROWS / ms) * 1000, 0) };
      const total = db.prepare('select count(*) as n from prediction_logs').get().n;
      if (total !== SQLITE_NAIVE_ROWS + ROWS) throw new Error(`reference table holds ${total} rows, expected ${SQLITE_NAIVE_ROWS + ROWS}`);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

// -------------------------------------------------------------- PostgreSQL ---

/** A URL whose sessions use only `schema` (libpq `options=-c search_path=…`). */
function withSearchPath(url, schema) {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/** Like openDatabase's PostgreSQL branch (pg.Pool max 10, Kysely PostgresDialect), migrated inside `schema`. */
async function openPgInSchema(url, schema) {
  const pool = new pg.Pool({ connectionString: withSearchPath(url, schema), max: 10 });
  const db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableSchema: schema });
  const { error, results } = await migrator.migrateToLatest();
  if (error || results?.some((r) => r.status === 'Error')) throw new Error(`migrating the bench schema failed: ${error?.message ?? error}`);
  return { db, dialect: 'postgres', location: schema, close: () => db.destroy() };
}

async function pgSuite(url) {
  const results = {};
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  try {
    const database = await openPgInSchema(url, schema);
    try {
      for (const [name, fn] of [
        ['predictionlog_burst', viaPredictionLogBurst],
        ['predictionlog_paced', viaPredictionLogPaced],
      ]) {
        console.log(`  postgres ${name}: ${ROWS} rows…`);
        results[name] = await fn(database, ROWS);
      }
    } finally {
      await database.close();
    }
    // Reference: one client, one awaited single-row INSERT at a time (autocommit).
    const client = new pg.Client({ connectionString: withSearchPath(url, schema) });
    await client.connect();
    try {
      const text = `insert into prediction_logs (${COLUMNS.join(', ')}) values (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;
      console.log(`  postgres naive: ${PG_NAIVE_ROWS} single-row INSERTs, autocommit…`);
      const t0 = performance.now();
      for (let i = 0; i < PG_NAIVE_ROWS; i++) {
        const r = toRow(entries[i % ROWS]);
        await client.query({ name: 'bench-insert', text, values: COLUMNS.map((c) => r[c]) });
      }
      const ms = performance.now() - t0;
      results.naive_insert_per_row = { rows: PG_NAIVE_ROWS, seconds: round(ms / 1000, 3), rows_per_s: round((PG_NAIVE_ROWS / ms) * 1000, 0) };
    } finally {
      await client.end();
    }
    const server = await admin.query('show server_version');
    results.server_version = server.rows[0].server_version;
  } finally {
    await admin.query(`drop schema if exists ${schema} cascade`).catch((err) => console.error(`  could not drop schema ${schema}: ${err.message}`));
    await admin.end();
  }
  return results;
}

// -------------------------------------------------------------------- main ---

function summarise(db, r) {
  const out = [];
  const ref = r.naive_insert_per_row.rows_per_s;
  const row = (name, x) =>
    out.push({
      database: db,
      method: name,
      rows: x.rows,
      seconds: x.seconds.toFixed(2),
      'rows/s': String(x.rows_per_s),
      '÷ naive': (x.rows_per_s / ref).toFixed(1),
      'loop delay p99/max ms': x.event_loop_delay_ms ? `${x.event_loop_delay_ms.p99}/${x.event_loop_delay_ms.max}` : '',
      written: x.written ?? '',
    });
  row('PredictionLog burst (record×N, close)', r.predictionlog_burst);
  row(`PredictionLog paced (${PACED_SLICE}/tick)`, r.predictionlog_paced);
  if (r.raw_prepared_batched) row(`raw prepared, 1 tx/${LOG_OPTIONS.batchSize} rows`, r.raw_prepared_batched);
  row('naive 1 INSERT/row (reference)', r.naive_insert_per_row);
  return out;
}

async function main() {
  const info = machineInfo();
  console.log(`Vitals prediction-log benchmark — ${info.cpus} × ${info.cpu_model}, Node ${info.node}`);
  console.log(`${ROWS} rows (30 features, probabilities, confidence); PredictionLog flushMs=${LOG_OPTIONS.flushMs} batchSize=${LOG_OPTIONS.batchSize}`);
  const out = {
    benchmark: 'prediction-log',
    date: new Date().toISOString(),
    machine: info,
    code: codeInfo(),
    rows: ROWS,
    options: LOG_OPTIONS,
    paced_slice: PACED_SLICE,
    sqlite: null,
    postgres: null,
  };
  const problems = [];

  await waitForQuiet({ maxWaitS: Number(args['wait-idle']) });
  console.log('\n▶ SQLite (temp dir, WAL, synchronous=NORMAL)');
  const busy0 = machineBusyMs();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  out.sqlite = await sqliteSuite();
  const own = process.cpuUsage(own0);
  out.sqlite.foreign_cpu_cores = foreignCores({ busy0, busy1: machineBusyMs(), ownCpuMs: (own.user + own.system) / 1000, seconds: (performance.now() - t0) / 1000 });
  if (out.sqlite.foreign_cpu_cores > FOREIGN_LOAD_WARN_CORES) {
    console.warn(`  ⚠ other processes used ${out.sqlite.foreign_cpu_cores} cores during the SQLite runs: numbers are skewed`);
  }

  if (PG_URL) {
    const source = process.env.DATABASE_URL_BENCH ? 'DATABASE_URL_BENCH' : 'DATABASE_URL_TEST';
    console.log(`\n▶ PostgreSQL (${source}, throwaway schema)`);
    try {
      out.postgres = { url_from: source, ...(await pgSuite(PG_URL)) };
    } catch (err) {
      problems.push(`postgres: ${err.message}`);
      out.postgres = { url_from: source, error: err.message };
    }
  } else {
    console.log('\n▶ PostgreSQL: SKIPPED — no URL given (set DATABASE_URL_BENCH or DATABASE_URL_TEST, e.g. from `bash scripts/services/postgres.sh start`)');
    out.postgres = { skipped: 'no DATABASE_URL_BENCH or DATABASE_URL_TEST' };
  }

  const table = summarise('sqlite', out.sqlite);
  if (out.postgres?.naive_insert_per_row) table.push(...summarise('postgres', out.postgres));
  console.log('');
  printTable(table, undefined, 2);

  for (const [db, r] of [
    ['sqlite', out.sqlite],
    ['postgres', out.postgres],
  ]) {
    if (!r?.predictionlog_burst) continue;
    out[db].ratio_vs_naive = {
      burst: round(r.predictionlog_burst.rows_per_s / r.naive_insert_per_row.rows_per_s, 2),
      paced: round(r.predictionlog_paced.rows_per_s / r.naive_insert_per_row.rows_per_s, 2),
    };
    for (const k of ['predictionlog_burst', 'predictionlog_paced']) {
      if (r[k].written !== r[k].rows) problems.push(`${db} ${k}: ${r[k].written} rows in the table, ${r[k].rows} recorded`);
    }
  }
  out.problems = problems;
  const file = writeResult('prediction-log.json', out);
  console.log(`\nresults: ${file}`);
  if (problems.length) {
    console.error(`\n✖ FAILED: ${problems.join('; ')}`);
    process.exit(1);
  }
}

await main();
