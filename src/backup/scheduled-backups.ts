/**
 * Scheduled backups (BACKUP_SCHEDULE, BACKUP_KEEP, BACKUP_DIR): at each slot of a 5-field UTC cron
 * expression, one process of the cluster (the worker role; `claimSlot` decides) takes a backup into
 * BACKUP_DIR/vitals-scheduled-<slot>, then deletes the oldest of the folders this schedule made
 * beyond the newest BACKUP_KEEP. Only a folder named like ours whose manifest says it was made by
 * the schedule is ever deleted; a manual `vitals backup --out` there is left alone.
 * Every backup (and every failure) and every deletion is an audit row.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { AuditRecorder } from '../audit/index.js';
import { claimSlot, jobTime, recordJobTime } from '../store/cluster-jobs.js';
import type { Database } from '../store/index.js';
import { type Installation, MANIFEST, type Manifest, createBackup } from './backup.js';

/** The slice of pipelines/cron.ts a schedule needs (the composition root passes `parseCron(...)`). */
export interface Schedule {
  expression: string;
  previous(at: Date, horizonDays?: number): Date | null;
}

export interface ScheduledBackupOptions {
  database: Database;
  audit: AuditRecorder;
  installation: Installation;
  dir: string;
  schedule: Schedule;
  keep: number;
}

export interface ScheduledBackupRun {
  slot: string;
  dir: string;
  manifest: Manifest;
  duration_ms: number;
  deleted: string[];
}

const PREFIX = 'vitals-scheduled-';
const NAME = /^vitals-scheduled-\d{8}T\d{6}Z$/;
/** cluster_jobs rows: the last slot claimed, and the last success */
const SLOT = 'backup-schedule:slot';
const SUCCESS = 'backup-schedule:last-success';

/** A slot's folder name: sortable, and nothing in it comes from outside. */
const folderName = (slot: Date) =>
  `${PREFIX}${slot
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;

export class ScheduledBackups {
  readonly dir: string;

  constructor(private readonly o: ScheduledBackupOptions) {
    this.dir = resolve(o.dir);
  }

  /**
   * Takes the backup of the latest slot at or before `now` when no process of the cluster has taken
   * it yet; returns undefined when there is nothing to do.
   */
  async tick(now: Date, owner: string): Promise<ScheduledBackupRun | undefined> {
    const slot = this.o.schedule.previous(now);
    if (!slot || !(await claimSlot(this.o.database, SLOT, slot, owner))) return undefined;
    return this.run(slot, owner);
  }

  private async run(slot: Date, owner: string): Promise<ScheduledBackupRun> {
    const name = folderName(slot);
    const final = join(this.dir, name);
    // Written beside its final name and renamed when complete: a folder with our name is always a whole backup.
    const partial = `${final}.partial`;
    const started = performance.now();
    let manifest: Manifest;
    try {
      await rm(partial, { recursive: true, force: true });
      // The manifest says who made it; pruning deletes only folders that say so.
      manifest = await createBackup(this.o.installation, partial, { origin: { schedule: this.o.schedule.expression, slot: slot.toISOString() } });
      await rename(partial, final);
    } catch (err) {
      await rm(partial, { recursive: true, force: true }).catch(() => undefined);
      await this.record('backup.created', `backup:${name}`, { slot: slot.toISOString(), dir: final }, String((err as Error).message ?? err));
      throw err;
    }
    const durationMs = Math.round(performance.now() - started);
    const bytes = manifest.files.reduce((n, f) => n + f.bytes, 0);
    await this.record(
      'backup.created',
      `backup:${name}`,
      {
        slot: slot.toISOString(),
        dir: final,
        dialect: manifest.dialect,
        files: manifest.files.length,
        bytes,
        audit_head: manifest.audit.head,
        duration_ms: durationMs,
      },
      undefined,
      (tx) => recordJobTime(this.o.database, SUCCESS, new Date(), owner, tx),
    );
    const deleted = await this.prune();
    return { slot: slot.toISOString(), dir: final, manifest, duration_ms: durationMs, deleted };
  }

  /** The folders this schedule made, newest first (by slot, which the name carries). */
  async list(): Promise<Array<{ name: string; manifest: Manifest }>> {
    if (!existsSync(this.dir)) return [];
    const out: Array<{ name: string; manifest: Manifest }> = [];
    for (const e of await readdir(this.dir, { withFileTypes: true })) {
      if (!e.isDirectory() || !NAME.test(e.name)) continue;
      const manifest = await readFile(join(this.dir, e.name, MANIFEST), 'utf8')
        .then((t) => JSON.parse(t) as Manifest)
        .catch(() => undefined);
      if (manifest?.format === 'vitals-backup/1' && manifest.origin?.schedule) out.push({ name: e.name, manifest });
    }
    return out.sort((a, b) => (a.name < b.name ? 1 : -1));
  }

  private async prune(): Promise<string[]> {
    const deleted: string[] = [];
    for (const old of (await this.list()).slice(this.o.keep)) {
      await rm(join(this.dir, old.name), { recursive: true, force: true });
      deleted.push(old.name);
      await this.record('backup.deleted', `backup:${old.name}`, { dir: join(this.dir, old.name), created_at: old.manifest.created_at, keep: this.o.keep });
    }
    return deleted;
  }

  private async record(action: string, target: string, details: Record<string, unknown>, failure?: string, also?: (tx: Kysely<any>) => Promise<void>): Promise<void> {
    await this.o.database.db.transaction().execute(async (tx) => {
      await also?.(tx);
      await this.o.audit.record(tx, {
        action,
        target,
        actor: 'system:backup-schedule',
        outcome: failure ? 'failure' : 'success',
        reason: failure ?? `BACKUP_SCHEDULE ${this.o.schedule.expression}`,
        details,
      });
    });
  }

  /** When the newest scheduled backup of this cluster succeeded (kept in the database, so every replica's /metrics agrees). */
  lastSuccess(): Promise<Date | null> {
    return jobTime(this.o.database, SUCCESS);
  }
}
