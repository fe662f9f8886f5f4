/**
 * Patient-data retention (PREDICTION_LOG_RETENTION_DAYS): prediction rows older than the cutoff
 * (their inputs, outputs and labels, which are patient-level) are deleted; what monitoring keeps in
 * aggregate stays — the checks and their reports, alerts, and the per-hour counts and latency
 * histograms of the dashboard's rollups (the caller passes the rollup cursor, and only rows the
 * rollup has already counted are deleted, so no total changes).
 *
 * The delete runs in small batches, each its own short transaction with a pause after it, so that
 * the prediction log's writer (and on SQLite every other writer) waits milliseconds at most. The
 * purge is one audit row, written in the transaction of its last batch with the row count and
 * the cutoff; a purge that fails half way records what it deleted with outcome `failure`.
 */
import { sql } from 'kysely';
import type { AuditRecorder } from '../audit/index.js';
import type { Database } from '../store/index.js';

export interface PurgeOptions {
  /** rows created before this time are deleted */
  cutoff: Date;
  /** only rows with an id at or below this one (the dashboard rollup's cursor: rows already counted) */
  countedUpTo: string;
  /** rows per transaction */
  batchSize?: number;
  /** pause between batches, so that other writers get the database */
  pauseMs?: number;
  /** the retention setting, for the audit row */
  retentionDays?: number;
}

export interface PurgeResult {
  rows: number;
  batches: number;
  cutoff: string;
  /** the upper bound on ids that was used (inclusive when it is the rollup cursor) */
  up_to_id: string;
}

/** The smallest UUIDv7 of a millisecond: every id minted before `ms` sorts below it. */
export function idBefore(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function purgePredictions(database: Database, audit: AuditRecorder | undefined, o: PurgeOptions): Promise<PurgeResult> {
  const batchSize = o.batchSize ?? 2000;
  const byTime = idBefore(o.cutoff.getTime());
  // ids are time-ordered: one primary-key range. Rows not yet rolled up wait for the next purge.
  const byCursor = o.countedUpTo < byTime;
  const bound = byCursor ? o.countedUpTo : byTime;
  const result: PurgeResult = { rows: 0, batches: 0, cutoff: o.cutoff.toISOString(), up_to_id: bound };
  const details = () => ({ rows: result.rows, batches: result.batches, cutoff: result.cutoff, retention_days: o.retentionDays ?? null });
  const db = database.db;
  const deleteInBatches = async () => {
    for (;;) {
      const n = await db.transaction().execute(async (tx) => {
        const deleted = await tx
          .deleteFrom('prediction_logs')
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('prediction_logs')
              .select('id')
              .where('id', byCursor ? '<=' : '<', bound)
              .orderBy('id')
              .limit(batchSize),
          )
          .executeTakeFirst();
        const count = Number(deleted.numDeletedRows);
        if (count < batchSize && result.rows + count > 0) {
          await audit?.record(tx, {
            action: 'prediction_log.purged',
            target: 'prediction_logs',
            actor: 'system:retention',
            reason: `older than ${o.retentionDays ?? '?'} days (PREDICTION_LOG_RETENTION_DAYS)`,
            details: { ...details(), rows: result.rows + count, batches: result.batches + 1 },
          });
        }
        return count;
      });
      result.rows += n;
      result.batches++;
      if (n < batchSize) return;
      await sleep(o.pauseMs ?? 20);
    }
  };
  // SQLite: overwrite deleted rows and freed pages with zeros, so purged inputs cannot be read back
  // from the file (the store's connections run with `fast`, which also zeroes what page splits leave).
  if (database.dialect === 'sqlite') await sql`pragma secure_delete = on`.execute(db);
  try {
    await deleteInBatches();
  } catch (err) {
    if (result.rows > 0 && audit) {
      await db
        .transaction()
        .execute((tx) =>
          audit.record(tx, {
            action: 'prediction_log.purged',
            target: 'prediction_logs',
            actor: 'system:retention',
            outcome: 'failure',
            reason: String((err as Error).message ?? err),
            details: details(),
          }),
        )
        .catch(() => undefined);
    }
    throw err;
  } finally {
    if (database.dialect === 'sqlite') await sql`pragma secure_delete = fast`.execute(db);
  }
  // SQLite: the WAL file still holds the page images written when the rows were inserted, until a
  // checkpoint rewinds it. Truncate it now, waiting at most 100 ms for other connections (this runs
  // on the event loop); when they are busy, the next purge tries again.
  if (database.dialect === 'sqlite' && result.rows > 0) {
    await sql`pragma busy_timeout = 100`.execute(db);
    try {
      await sql`pragma wal_checkpoint(truncate)`.execute(db);
    } finally {
      await sql`pragma busy_timeout = 5000`.execute(db);
    }
  }
  return result;
}
