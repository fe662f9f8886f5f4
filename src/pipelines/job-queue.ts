/**
 * A durable job queue on the platform database, the well-kept PostgreSQL pattern (as in pg-boss and
 * Que): a worker claims the oldest available job with `SELECT … FOR UPDATE SKIP LOCKED`, so several
 * workers share the work without blocking each other, and holds it under a lease it renews by
 * heartbeat. A job whose lease ran out (its worker crashed or hung) is re-queued while attempts
 * remain, else marked failed with the reason — never silently lost. On SQLite the same table is used;
 * writes are serialised by the database, so the claim is one atomic UPDATE … RETURNING.
 */
import { sql } from 'kysely';
import { nowIso, uuidv7 } from '../ids.js';
import type { Database, PipelineJobsTable } from '../store/index.js';

export interface Job {
  id: string;
  kind: string;
  run_id: string | null;
  payload: Record<string, unknown>;
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
}

export interface JobQueueOptions {
  /** how long a claim holds without a heartbeat */
  leaseMs?: number;
  now?: () => Date;
}

const toJob = (r: PipelineJobsTable): Job => ({
  id: r.id,
  kind: r.kind,
  run_id: r.run_id,
  payload: JSON.parse(r.payload),
  status: r.status as Job['status'],
  attempts: Number(r.attempts),
  max_attempts: Number(r.max_attempts),
  locked_by: r.locked_by,
  lease_until: r.lease_until,
  last_error: r.last_error,
  created_at: r.created_at,
});

export class JobQueue {
  readonly leaseMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly database: Database,
    options: JobQueueOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.now = options.now ?? (() => new Date());
  }

  private iso(offsetMs = 0): string {
    return new Date(this.now().getTime() + offsetMs).toISOString();
  }

  async enqueue(kind: string, payload: Record<string, unknown>, options: { runId?: string; maxAttempts?: number; delayMs?: number } = {}): Promise<Job> {
    const now = nowIso();
    const row: PipelineJobsTable = {
      id: uuidv7(),
      kind,
      run_id: options.runId ?? null,
      payload: JSON.stringify(payload),
      status: 'queued',
      attempts: 0,
      max_attempts: options.maxAttempts ?? 3,
      available_at: this.iso(options.delayMs ?? 0),
      locked_by: null,
      lease_until: null,
      heartbeat_at: null,
      last_error: null,
      created_at: now,
      updated_at: now,
    };
    await this.database.db.insertInto('pipeline_jobs').values(row).execute();
    return toJob(row);
  }

  /** Claims the oldest available job of the given kinds for `workerId`, or returns null. */
  async claim(workerId: string, kinds?: string[]): Promise<Job | null> {
    const db = this.database.db;
    const now = this.iso();
    const pg = this.database.dialect === 'postgres';
    const next = db
      .selectFrom('pipeline_jobs')
      .select('id')
      .where('status', '=', 'queued')
      .where('available_at', '<=', now)
      .$if(!!kinds?.length, (q) => q.where('kind', 'in', kinds!))
      .orderBy('id')
      .limit(1)
      .$if(pg, (q) => q.forUpdate().skipLocked());
    const row = await db
      .updateTable('pipeline_jobs')
      .set({ status: 'running', locked_by: workerId, lease_until: this.iso(this.leaseMs), heartbeat_at: now, attempts: sql<number>`attempts + 1`, updated_at: now })
      .where('id', '=', (eb) => eb.selectFrom(next.as('n')).select('n.id'))
      .where('status', '=', 'queued')
      .returningAll()
      .executeTakeFirst();
    return row ? toJob(row) : null;
  }

  /** Renews the lease; false when the job is no longer this worker's (recovered meanwhile). */
  async heartbeat(jobId: string, workerId: string): Promise<boolean> {
    const res = await this.database.db
      .updateTable('pipeline_jobs')
      .set({ lease_until: this.iso(this.leaseMs), heartbeat_at: this.iso(), updated_at: this.iso() })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async complete(jobId: string, workerId: string): Promise<boolean> {
    const res = await this.database.db
      .updateTable('pipeline_jobs')
      .set({ status: 'done', lease_until: null, updated_at: this.iso() })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Puts a running job back in the queue, to be claimed again after `delayMs` (its work waits on data).
   * The claim it used is given back: waiting is not a failed attempt.
   */
  async snooze(jobId: string, workerId: string, delayMs: number): Promise<boolean> {
    const res = await this.database.db
      .updateTable('pipeline_jobs')
      .set({ status: 'queued', locked_by: null, lease_until: null, available_at: this.iso(delayMs), attempts: sql<number>`attempts - 1`, updated_at: this.iso() })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** A job that threw: failed for good (the run records why); retrying a deterministic failure helps no one. */
  async fail(jobId: string, workerId: string, error: string): Promise<void> {
    await this.database.db
      .updateTable('pipeline_jobs')
      .set({ status: 'failed', last_error: error.slice(0, 4000), lease_until: null, updated_at: this.iso() })
      .where('id', '=', jobId)
      .where('locked_by', '=', workerId)
      .execute();
  }

  /**
   * Jobs whose lease expired: re-queued while attempts remain, else failed. Each row is moved by a
   * conditional update, so two workers recovering at once move it once.
   */
  async recoverExpired(): Promise<{ requeued: Job[]; failed: Job[] }> {
    const now = this.iso();
    const expired = await this.database.db.selectFrom('pipeline_jobs').selectAll().where('status', '=', 'running').where('lease_until', '<', now).execute();
    const requeued: Job[] = [];
    const failed: Job[] = [];
    for (const r of expired) {
      const retry = Number(r.attempts) < Number(r.max_attempts);
      const reason = `worker ${r.locked_by} stopped heartbeating (lease ran out at ${r.lease_until})${retry ? '; re-queued' : `; gave up after ${r.attempts} attempts`}`;
      const res = await this.database.db
        .updateTable('pipeline_jobs')
        .set({ status: retry ? 'queued' : 'failed', locked_by: null, lease_until: null, available_at: now, last_error: reason, updated_at: now })
        .where('id', '=', r.id)
        .where('status', '=', 'running')
        .where('lease_until', '=', r.lease_until)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) > 0) (retry ? requeued : failed).push(toJob({ ...r, status: retry ? 'queued' : 'failed', last_error: reason }));
    }
    return { requeued, failed };
  }

  async get(id: string): Promise<Job | null> {
    const row = await this.database.db.selectFrom('pipeline_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toJob(row) : null;
  }

  async list(filter: { status?: Job['status']; limit?: number } = {}): Promise<Job[]> {
    let q = this.database.db.selectFrom('pipeline_jobs').selectAll();
    if (filter.status) q = q.where('status', '=', filter.status);
    return (
      await q
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 100)
        .execute()
    ).map(toJob);
  }
}
