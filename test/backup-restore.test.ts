/**
 * Backup and restore with the real CLI on SQLite: a backup taken while the service runs, then more
 * changes, then a restore (into a fresh home, and with --force over the live one) gives back the
 * registry, alias history, predictions, ground truth and audit trail of the backup moment, and
 * `vitals audit verify` exits 0. A damaged backup is refused naming the file; a non-empty target
 * without --force is refused.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(features.map((f) => [f, Number(csv.rows[i]![csv.columns.indexOf(f)])]));

const TABLES = ['models', 'model_versions', 'model_aliases', 'model_events', 'artifacts', 'prediction_logs', 'audit_events'] as const;
/** Every row of the tables the issue names, in a stable order: what "the same state" means here. */
function snapshot(dbFile: string): Record<string, unknown[]> {
  const db = new SqliteDatabase(dbFile, { readonly: true });
  try {
    return Object.fromEntries(TABLES.map((t) => [t, db.prepare(`select * from ${t} order by 1`).all()]));
  } finally {
    db.close();
  }
}

describe('vitals backup / restore (SQLite)', () => {
  let t: TestApp;
  let closed = false;
  const scratch = mkdtempSync(join(tmpdir(), 'vitals-backup-'));
  const vitals = (home: string, ...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: 'false' }, encoding: 'utf8', timeout: 180_000 });
  const predict = async (i: number) => (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(i) } })).json().prediction_id as string;
  const groundTruth = async (id: string, label: string) =>
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/predictions/${id}/ground-truth`, payload: { ground_truth: label } })).statusCode).toBe(200);

  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => {
    if (!closed) await t?.dispose();
    else rmSync(t.home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('restores the state of the backup moment, refuses a damaged backup and a non-empty target', { timeout: 600_000 }, async () => {
    const versions = (await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions` })).json();
    const list = (versions.versions ?? versions) as Array<{ version: string; aliases: string[] }>;
    const challenger = list.find((v) => v.aliases.includes('challenger'))!;
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/${challenger.version}/promote`, payload: { reason: 'before backup' } })).statusCode).toBe(200);
    const p1 = await predict(0);
    await groundTruth(p1, 'benign');
    await t.services.predictionLog.flush();
    const dbFile = join(t.home, 'vitals.db');
    const atBackup = snapshot(dbFile);
    expect(atBackup.prediction_logs!.length).toBeGreaterThan(0);

    // while the service runs
    const backupDir = join(scratch, 'b1');
    const b = vitals(t.home, 'backup', '--out', backupDir);
    expect(b.status, b.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'));
    expect(manifest.audit.head).toBe((atBackup.audit_events!.at(-1) as { hash: string }).hash);
    expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(['database/vitals.db', expect.stringMatching(/^artifacts\/sha256\/.+\.onnx$/)]));

    // more changes after the backup
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/rollback`, payload: { reason: 'after backup' } })).statusCode).toBe(200);
    await groundTruth(p1, 'malignant');
    await groundTruth(await predict(1), 'malignant');
    await t.services.predictionLog.flush();
    expect(snapshot(dbFile)).not.toEqual(atBackup);

    // a fresh machine: restore into an empty home
    const fresh = join(scratch, 'fresh');
    const r = vitals(fresh, 'restore', backupDir);
    expect(r.status, r.stderr).toBe(0);
    const restored = snapshot(join(fresh, 'vitals.db'));
    expect({ ...restored, audit_events: restored.audit_events!.slice(0, -1) }).toEqual(atBackup);
    expect(restored.audit_events!.at(-1)).toMatchObject({ action: 'system.restored', principal: 'cli', prev_hash: manifest.audit.head });
    const verify = vitals(fresh, 'audit', 'verify');
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`${atBackup.audit_events!.length + 1} rows`);
    const again = vitals(fresh, 'models', 'history', DEMO_MODEL);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('before backup');
    expect(again.stdout).not.toContain('after backup');

    // over the live home: refused without --force, then replaced (service stopped first)
    const refused = vitals(t.home, 'restore', backupDir);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/not empty.*--force/);
    await t.close();
    closed = true;
    const forced = vitals(t.home, 'restore', backupDir, '--force');
    expect(forced.status, forced.stderr).toBe(0);
    const live = snapshot(dbFile);
    expect({ ...live, audit_events: live.audit_events!.slice(0, -1) }).toEqual(atBackup);
    expect(vitals(t.home, 'audit', 'verify').status).toBe(0);

    // a damaged backup is refused, naming the file, before anything is touched
    const artifact = manifest.files.find((f: { path: string }) => f.path.startsWith('artifacts/')).path as string;
    const original = readFileSync(join(backupDir, artifact));
    appendFileSync(join(backupDir, artifact), 'x');
    const damaged = vitals(join(scratch, 'fresh2'), 'restore', backupDir);
    expect(damaged.status).not.toBe(0);
    expect(damaged.stderr).toContain(`backup is damaged: ${artifact}`);
    writeFileSync(join(backupDir, artifact), original);
    const db = readFileSync(join(backupDir, 'database/vitals.db'));
    db[db.length - 100] = db[db.length - 100]! ^ 0xff;
    writeFileSync(join(backupDir, 'database/vitals.db'), db);
    const damagedDb = vitals(join(scratch, 'fresh3'), 'restore', backupDir);
    expect(damagedDb.status).not.toBe(0);
    expect(damagedDb.stderr).toContain('backup is damaged: database/vitals.db does not match its sha256');
    expect(existsSync(join(scratch, 'fresh3', 'vitals.db'))).toBe(false);
    expect(vitals(t.home, 'backup', '--out', backupDir).stderr).toMatch(/is not empty/);
  });
});
