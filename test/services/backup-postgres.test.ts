/**
 * Backup and restore on a real PostgreSQL server with the real CLI: `vitals backup` (pg_dump on an
 * exported snapshot) of a running service, more changes, `vitals restore` into a fresh database:
 * registry, alias history, predictions, ground truth and audit trail are those of the backup moment
 * and `vitals audit verify` exits 0; a non-empty target is refused without --force.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const base = process.env.DATABASE_URL_TEST;
if (!base) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');
const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const row = (i: number) => Object.fromEntries(features.map((f) => [f, Number(csv.rows[i]![csv.columns.indexOf(f)])]));
const TABLES = ['models', 'model_versions', 'model_aliases', 'model_events', 'artifacts', 'prediction_logs', 'audit_events'];

const suffix = `${process.pid}_${Date.now()}`;
const dbUrl = (name: string) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};
const src = `vitals_backup_src_${suffix}`;
const dst = `vitals_backup_dst_${suffix}`;

async function admin(q: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
}

async function snapshot(url: string): Promise<Record<string, unknown[]>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of TABLES) out[t] = (await c.query(`select * from ${t} order by 1`)).rows;
    return out;
  } finally {
    await c.end();
  }
}

describe('vitals backup / restore (PostgreSQL)', () => {
  let t: TestApp;
  const scratch = mkdtempSync(join(tmpdir(), 'vitals-backup-pg-'));
  const vitals = (url: string, home: string, ...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, VITALS_HOME: home, LOG_LEVEL: 'silent', VITALS_DEMO: 'false' },
      encoding: 'utf8',
      timeout: 180_000,
    });

  beforeAll(async () => {
    await admin(`create database ${src}`);
    await admin(`create database ${dst}`);
    t = await startTestApp({ DATABASE_URL: dbUrl(src), MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  }, 180_000);
  afterAll(async () => {
    await t?.dispose();
    rmSync(scratch, { recursive: true, force: true });
    await admin(`drop database if exists ${src} with (force)`);
    await admin(`drop database if exists ${dst} with (force)`);
  });

  it('restores into a fresh database the state of the backup moment', { timeout: 600_000 }, async () => {
    const predict = async (i: number) => (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row(i) } })).json().prediction_id as string;
    const gt = async (id: string, label: string) =>
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/predictions/${id}/ground-truth`, payload: { ground_truth: label } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/challenger/promote`, payload: { reason: 'before backup' } })).statusCode).toBe(200);
    const p1 = await predict(0);
    await gt(p1, 'benign');
    await t.services.predictionLog.flush();
    const atBackup = await snapshot(dbUrl(src));

    const dir = join(scratch, 'b');
    const b = vitals(dbUrl(src), t.home, 'backup', '--out', dir);
    expect(b.status, b.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ dialect: 'postgres', database: 'database/vitals.pgdump', audit: { head: (atBackup.audit_events!.at(-1) as { hash: string }).hash } });

    expect((await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/rollback`, payload: { reason: 'after backup' } })).statusCode).toBe(200);
    await gt(p1, 'malignant');
    await t.services.predictionLog.flush();
    expect(await snapshot(dbUrl(src))).not.toEqual(atBackup);

    expect(vitals(dbUrl(src), t.home, 'restore', dir).stderr).toMatch(/not empty.*--force/);
    const fresh = join(scratch, 'fresh');
    const r = vitals(dbUrl(dst), fresh, 'restore', dir);
    expect(r.status, r.stderr).toBe(0);
    const restored = await snapshot(dbUrl(dst));
    expect({ ...restored, audit_events: restored.audit_events!.slice(0, -1) }).toEqual(atBackup);
    expect(restored.audit_events!.at(-1)).toMatchObject({ action: 'system.restored', prev_hash: manifest.audit.head });
    const verify = vitals(dbUrl(dst), fresh, 'audit', 'verify');
    expect(verify.status, verify.stderr).toBe(0);
  });
});
