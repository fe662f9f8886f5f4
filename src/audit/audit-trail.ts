/**
 * The audit trail: one row per state change, written in the transaction of the change (no change
 * without its row), chained by sha256 so that an edited, removed or reordered row is found by
 * `verify`. There is deliberately no update or delete here.
 */
import { createHash } from 'node:crypto';
import { type Kysely, PostgresAdapter, type Transaction, sql } from 'kysely';
import { uuidv7 } from '../ids.js';
import type { AuditEventsTable, AuditSchema } from './tables.js';

/** Who asked for a change, from the authenticated request (server/principal.ts `auditContextOf`). */
export interface AuditContext {
  principal: string;
  role: string;
  request_id?: string | null;
  client?: string | null;
}

export interface AuditEntry {
  action: string;
  target: string;
  outcome?: 'success' | 'failure' | 'denied';
  reason?: string | null;
  details?: Record<string, unknown>;
  /** absent for changes the platform makes itself (pipelines, schedules): recorded as `system` */
  context?: AuditContext;
  /** the actor when there is no request context (e.g. `pipeline:<run id>`) */
  actor?: string;
}

export type AuditRow = AuditEventsTable;

/** What a service needs to write its audit rows: narrow, so services depend on this and not the class. */
export interface AuditRecorder {
  record(trx: Kysely<any> | Transaction<any>, entry: AuditEntry): Promise<AuditRow>;
}

/** A fixed key for pg_advisory_xact_lock: one appender at a time across every connection. */
const PG_LOCK_KEY = 7_421_120;

/** JSON with keys sorted at every level: the same row always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const { seq, id, at, principal, role, action, target, outcome, reason, request_id, client, details, prev_hash } = row;
  const canonical = canonicalJson({ seq: Number(seq), id, at, principal, role, action, target, outcome, reason, request_id, client, details, prev_hash });
  return createHash('sha256').update(prev_hash).update('\n').update(canonical).digest('hex');
}

export class AuditTrail implements AuditRecorder {
  async record(trx: Kysely<any> | Transaction<any>, entry: AuditEntry): Promise<AuditRow> {
    const db = trx as Kysely<AuditSchema>;
    // Serialise appends: on PostgreSQL an advisory lock held to the end of the caller's transaction;
    // SQLite has one writer at a time, and the unique prev_hash refuses a fork in any case.
    if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`select pg_advisory_xact_lock(${PG_LOCK_KEY})`.execute(db);
    const last = await db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const ctx = entry.context;
    const base = {
      seq: Number(last?.seq ?? 0) + 1,
      id: uuidv7(),
      at: new Date().toISOString(),
      principal: ctx?.principal ?? entry.actor ?? 'system',
      role: ctx?.role ?? 'system',
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome ?? 'success',
      reason: entry.reason ?? null,
      request_id: ctx?.request_id ?? null,
      client: ctx?.client ?? null,
      details: canonicalJson(entry.details ?? {}),
      prev_hash: last?.hash ?? '',
    };
    const row = { ...base, hash: rowHash(base) };
    await db.insertInto('audit_events').values(row).execute();
    return row;
  }
}

/**
 * Reads of patient-level data (a prediction's inputs, its lineage, a DICOM processed) change nothing,
 * so there is no transaction to join: each read writes its row in a transaction of its own, before the
 * data is answered. A read whose row cannot be written is refused (the caller gets the error), never
 * answered unrecorded.
 */
export interface AccessRecorder {
  recordAccess(entry: AuditEntry): Promise<AuditRow>;
}

export function accessRecorder(db: Kysely<any>, audit: AuditRecorder): AccessRecorder {
  return { recordAccess: (entry) => db.transaction().execute((tx) => audit.record(tx, entry)) };
}

export interface VerifyResult {
  ok: boolean;
  rows: number;
  /** the last row's hash: what a backup manifest records */
  head: string | null;
  /** the first bad row and what is wrong with it */
  problem?: { seq: number; id: string | null; kind: 'changed' | 'removed' | 'out_of_order'; message: string };
}

/** Walks the chain in seq order, in pages, and stops at the first row that does not follow. */
export async function verifyChain(db: Kysely<any>): Promise<VerifyResult> {
  const adb = db as Kysely<AuditSchema>;
  let prev: { seq: number; hash: string } = { seq: 0, hash: '' };
  let rows = 0;
  for (;;) {
    const page = await adb.selectFrom('audit_events').selectAll().where('seq', '>', prev.seq).orderBy('seq').limit(1000).execute();
    if (!page.length) break;
    for (const raw of page) {
      const r = { ...raw, seq: Number(raw.seq) };
      if (r.prev_hash !== prev.hash) {
        const kind = r.seq !== prev.seq + 1 ? 'removed' : 'out_of_order';
        const message =
          kind === 'removed'
            ? `audit row ${r.seq} (${r.id}) follows row ${prev.seq}: row(s) ${prev.seq + 1}${r.seq - 1 > prev.seq + 1 ? `–${r.seq - 1}` : ''} were removed`
            : `audit row ${r.seq} (${r.id}) does not follow row ${prev.seq}: its prev_hash is not that row's hash (inserted or reordered)`;
        return { ok: false, rows, head: prev.hash || null, problem: { seq: r.seq, id: r.id, kind, message } };
      }
      if (rowHash(r) !== r.hash) {
        return {
          ok: false,
          rows,
          head: prev.hash || null,
          problem: { seq: r.seq, id: r.id, kind: 'changed', message: `audit row ${r.seq} (${r.id}, ${r.action} ${r.target}) was changed after it was written: its hash does not match its content` },
        };
      }
      prev = { seq: r.seq, hash: r.hash };
      rows++;
    }
  }
  return { ok: true, rows, head: prev.hash || null };
}

export interface AuditQuery {
  from?: string;
  to?: string;
  principal?: string;
  action?: string;
  target?: string;
  /** rows after this seq (cursor pagination) */
  after?: number;
  limit?: number;
}

export async function listAudit(db: Kysely<any>, q: AuditQuery): Promise<AuditRow[]> {
  let query = (db as Kysely<AuditSchema>).selectFrom('audit_events').selectAll();
  if (q.from) query = query.where('at', '>=', q.from);
  if (q.to) query = query.where('at', '<', q.to);
  if (q.principal) query = query.where('principal', '=', q.principal);
  if (q.action) query = query.where('action', '=', q.action);
  if (q.target) query = query.where('target', '=', q.target);
  if (q.after) query = query.where('seq', '>', q.after);
  const rows = await query
    .orderBy('seq')
    .limit(q.limit ?? 1000)
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}
