/**
 * The monitoring windows of a version, read by the report worker thread on its own connection, so
 * a check neither runs its reads nor parses their rows on the serving thread. The same queries as
 * `PredictionLog.window` / `labelledWindow` (index prediction_logs_version_idx, and the partial
 * prediction_logs_labelled_idx), in plain SQL for better-sqlite3 and pg.
 */
import type { PredictionLogsTable } from '../store/index.js';
import type { PredictionLogEntry } from './prediction-log.js';

/** How the worker opens the platform's database (Database.connection). */
export type WindowSource = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface WindowRequest {
  source: WindowSource;
  versionId: string;
  size: number;
}

/** The two queries; `p(n)` is the dialect's n-th placeholder. */
type Placeholder = (n: number) => string;
const WINDOW = (p: Placeholder) => `select * from prediction_logs where version_id = ${p(1)} order by id desc limit ${p(2)}`;
const LABELLED = (p: Placeholder) => `select * from prediction_logs where version_id = ${p(1)} and ground_truth is not null and error is null order by id desc limit ${p(2)}`;

type Reader = (query: (p: Placeholder) => string, params: unknown[]) => Promise<PredictionLogsTable[]>;
const readers = new Map<string, Promise<Reader>>();

async function open(source: WindowSource): Promise<Reader> {
  if (source.kind === 'sqlite') {
    const { default: SqliteDatabase } = await import('better-sqlite3');
    const db = new SqliteDatabase(source.file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    return async (query, params) => db.prepare(query(() => '?')).all(...params) as PredictionLogsTable[];
  }
  const { default: pg } = await import('pg');
  pg.types.setTypeParser(20, (v: string) => Number(v)); // as store/database.ts does on the main thread
  // One connection, closed when idle, never holding the thread (or the process) open.
  const pool = new pg.Pool({ connectionString: source.url, max: 1, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
  return async (query, params) =>
    (
      await pool.query(
        query((n) => `$${n}`),
        params,
      )
    ).rows as PredictionLogsTable[];
}

function reader(source: WindowSource): Promise<Reader> {
  const key = source.kind === 'sqlite' ? `sqlite:${source.file}` : `pg:${source.url}`;
  let r = readers.get(key);
  if (!r) {
    r = open(source);
    r.catch(() => readers.delete(key));
    readers.set(key, r);
  }
  return r;
}

/** The last `size` predictions of a version and its last `size` labelled, successful ones, newest first. */
export async function readWindows(req: WindowRequest): Promise<{ window: PredictionLogEntry[]; labelled: PredictionLogEntry[] }> {
  const read = await reader(req.source);
  const [window, labelled] = await Promise.all([read(WINDOW, [req.versionId, req.size]), read(LABELLED, [req.versionId, req.size])]);
  return { window: window.map(toEntry), labelled: labelled.map(toEntry) };
}

/** A stored row as the log answers it: input and probabilities parsed, absent newer columns as null. */
export function toEntry(row: PredictionLogsTable): PredictionLogEntry {
  return {
    ...row,
    error: row.error ?? null,
    ground_truth_source: row.ground_truth_source ?? null,
    study_uid: row.study_uid ?? null,
    accession_key: row.accession_key ?? null,
    input: JSON.parse(row.input),
    probabilities: row.probabilities ? JSON.parse(row.probabilities) : null,
  };
}
