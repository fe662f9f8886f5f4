/**
 * Issue 12, scheduled backups (BACKUP_SCHEDULE, BACKUP_KEEP, BACKUP_DIR) on SQLite: the worker's job
 * takes a backup at each slot of a 5-minute schedule (the clock is driven by the test), once per
 * slot however many processes look, keeps the newest BACKUP_KEEP of the folders the schedule made
 * and never touches other folders; each backup and deletion is an audit row; /metrics shows the last
 * success; a kept backup passes `checkBackup` and carries the de-identification key.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../src/audit/index.js';
import { checkBackup, createBackup } from '../src/backup/index.js';
import { ConfigError } from '../src/config/index.js';
import { defaultJobs, scheduledBackupJob, startBackgroundLoop } from '../src/server/background-loop.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const silent = { info() {}, warn() {}, error() {} };
const MIN = 60_000;

describe('scheduled backups', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'vitals-scheduled-'));
  beforeAll(async () => {
    t = await startTestApp({ BACKUP_SCHEDULE: '*/5 * * * *', BACKUP_KEEP: 2, BACKUP_DIR: dir });
  });
  afterAll(async () => {
    await t?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One look of the worker's job at time `at` (the background loop's turn, not a direct call). */
  const lookAt = (at: number) => startBackgroundLoop(t.services, silent, { once: true, jobs: [scheduledBackupJob({ now: () => new Date(at) })] }).idle();
  const ours = () =>
    readdirSync(dir)
      .filter((n) => n.startsWith('vitals-scheduled-'))
      .sort();

  it('is a job of the background loop only when a schedule is set, and refuses a bad schedule at start', async () => {
    expect(defaultJobs(t.services).map((j) => j.name)).toContain('scheduled-backups');
    expect(defaultJobs({ ...t.services, backups: undefined }).map((j) => j.name)).not.toContain('scheduled-backups');
    const bad = startTestApp({ BACKUP_SCHEDULE: '*/5 * * *' });
    await expect(bad).rejects.toBeInstanceOf(ConfigError);
    await expect(bad).rejects.toThrow(/BACKUP_SCHEDULE="\*\/5 \* \* \*": cron expression .* needs 5 fields/);
  });

  it('backs up once per slot, keeps the newest two it made, and leaves other folders alone', { timeout: 120_000 }, async () => {
    // a manual backup and a look-alike folder without the schedule's manifest: never deleted
    await createBackup({ databaseUrl: undefined, home: t.home }, join(dir, 'manual-before-upgrade'));
    mkdirSync(join(dir, 'vitals-scheduled-20000101T000000Z'));
    writeFileSync(join(dir, 'vitals-scheduled-20000101T000000Z', 'manifest.json'), '{"format":"vitals-backup/1","files":[]}');

    const t0 = Date.UTC(2030, 0, 1, 12, 2); // 12:02: the schedule's last slot is 12:00
    await lookAt(t0); // the first look only notes the slot: a new schedule does not back up the past
    expect(ours()).toEqual(['vitals-scheduled-20000101T000000Z']);
    await lookAt(t0 + 4 * MIN); // 12:06 → the 12:05 slot
    await lookAt(t0 + 6 * MIN); // 12:08: same slot, nothing
    // two processes looking at once at 12:11: one backup of 12:10
    await Promise.all([t.services.backups!.tick(new Date(t0 + 9 * MIN), 'a'), t.services.backups!.tick(new Date(t0 + 9 * MIN), 'b')]);
    expect(ours()).toEqual(['vitals-scheduled-20000101T000000Z', 'vitals-scheduled-20300101T120500Z', 'vitals-scheduled-20300101T121000Z']);
    await lookAt(t0 + 14 * MIN); // 12:16 → 12:15; 12:05 is deleted (BACKUP_KEEP=2)
    expect(ours()).toEqual(['vitals-scheduled-20000101T000000Z', 'vitals-scheduled-20300101T121000Z', 'vitals-scheduled-20300101T121500Z']);
    expect(existsSync(join(dir, 'manual-before-upgrade', 'manifest.json'))).toBe(true);
    expect(readdirSync(dir).some((n) => n.endsWith('.partial'))).toBe(false);

    const kept = join(dir, 'vitals-scheduled-20300101T121500Z');
    const manifest = await checkBackup(kept);
    expect(manifest.origin).toEqual({ schedule: '*/5 * * * *', slot: '2030-01-01T12:15:00.000Z' });
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['database/vitals.db', 'state/deid.key']));
    expect(readFileSync(join(kept, 'state', 'deid.key'), 'utf8').trim()).toBe(t.services.deidKey.salt);

    const db = t.services.database.db;
    const created = await listAudit(db, { action: 'backup.created' });
    expect(created.map((a) => a.target)).toEqual(['backup:vitals-scheduled-20300101T120500Z', 'backup:vitals-scheduled-20300101T121000Z', 'backup:vitals-scheduled-20300101T121500Z']);
    expect(created.every((a) => a.principal === 'system:backup-schedule' && a.outcome === 'success')).toBe(true);
    expect(JSON.parse(created[2]!.details)).toMatchObject({ slot: '2030-01-01T12:15:00.000Z', dir: kept, dialect: 'sqlite', files: manifest.files.length });
    const deleted = await listAudit(db, { action: 'backup.deleted' });
    expect(deleted.map((a) => a.target)).toEqual(['backup:vitals-scheduled-20300101T120500Z']);
    expect((await verifyChain(db)).ok).toBe(true);

    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    const line = /^vitals_backup_last_success_timestamp_seconds (\S+)$/m.exec(metrics);
    expect(line, metrics.slice(0, 200)).not.toBeNull();
    expect(Math.abs(Number(line![1]) * 1000 - Date.parse(created[2]!.at))).toBeLessThan(5000);
  });

  it('records a failed backup and leaves no partial folder', async () => {
    const blocked = join(t.home, 'not-a-folder');
    writeFileSync(blocked, 'a file where BACKUP_DIR should be');
    const failing = await startTestApp({ BACKUP_SCHEDULE: '0 * * * *', BACKUP_DIR: blocked });
    try {
      const b = failing.services.backups!;
      await b.tick(new Date(Date.UTC(2030, 0, 1, 10, 30)), 'x'); // notes the 10:00 slot
      await expect(b.tick(new Date(Date.UTC(2030, 0, 1, 11, 1)), 'x')).rejects.toThrow();
      const rows = await listAudit(failing.services.database.db, { action: 'backup.created' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ outcome: 'failure', target: 'backup:vitals-scheduled-20300101T110000Z' });
      expect(rows[0]!.reason).toMatch(/not-a-folder/);
      expect(await b.lastSuccess()).toBeNull();
    } finally {
      await failing.dispose();
    }
  });
});
