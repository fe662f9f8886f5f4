/**
 * The audit trail: changes made over HTTP write chained rows with the authenticated principal (in
 * the change's transaction); `vitals audit verify` names a row edited or removed directly in SQLite;
 * the export's CSV lists the steps and its PDF, turned back into text, is a readable report.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, listAudit, verifyChain } from '../src/audit/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');
const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const row = Object.fromEntries(features.map((f) => [f, Number(csv.rows[0]![csv.columns.indexOf(f)])]));

describe('audit trail', () => {
  let t: TestApp;
  const vitals = (...args: string[]) =>
    spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, VITALS_HOME: t.home, LOG_LEVEL: 'silent', VITALS_DEMO: 'false' }, encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => t?.dispose());

  it('records HTTP changes with the authenticated principal, old and new ground truth, and a chain that verifies', async () => {
    const versions = (await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions` })).json();
    const list = (versions.versions ?? versions) as Array<{ version: string; aliases: string[] }>;
    const challenger = list.find((v) => v.aliases.includes('challenger'))!;
    const promote = await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/${challenger.version}/promote`, payload: { reason: 'better recall on the March cohort' } });
    expect(promote.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/rollback`, payload: { reason: 'clinician complaint' } })).statusCode).toBe(200);
    const p = (await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: DEMO_MODEL, features: row } })).json();
    for (const label of ['benign', 'malignant']) {
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/predictions/${p.prediction_id}/ground-truth`, payload: { ground_truth: label, overwrite: true } })).statusCode).toBe(200);
    }
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/keys', payload: { name: 'ward-7', role: 'viewer' } })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/keys/ward-7' })).statusCode).toBe(200);

    const rows = await listAudit(t.services.database.db, {});
    const actions = rows.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['model.registered', 'model.promoted', 'model.rolled_back', 'ground_truth.set', 'ground_truth.overwrite', 'api_key.create', 'api_key.revoke']));
    const promoted = rows.find((r) => r.action === 'model.promoted' && r.reason === 'better recall on the March cohort')!;
    expect(promoted).toMatchObject({ principal: 'local-admin', role: 'admin', target: `model:${DEMO_MODEL}@${challenger.version}` });
    expect(promoted.request_id).toBeTruthy();
    expect(promoted.client).toBe('127.0.0.1');
    const overwrite = rows.find((r) => r.action === 'ground_truth.overwrite')!;
    expect(JSON.parse(overwrite.details)).toEqual({ old: 'benign', new: 'malignant', source: 'api' });
    expect(rows.find((r) => r.action === 'model.registered')!.principal).toBe('demo'); // no request: the service's actor, role system
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(await verifyChain(t.services.database.db)).toMatchObject({ ok: true, rows: rows.length, head: rows.at(-1)!.hash });
  });

  it('GET /api/v1/audit filters and pages with a cursor', async () => {
    const promoted = (await t.app.inject({ url: '/api/v1/audit?action=model.promoted&principal=local-admin' })).json();
    expect(promoted.events.length).toBeGreaterThanOrEqual(1);
    expect(promoted.events.every((e: { action: string; principal: string }) => e.action === 'model.promoted' && e.principal === 'local-admin')).toBe(true);
    const all = (await t.app.inject({ url: '/api/v1/audit?limit=1000' })).json().events.map((e: { seq: number }) => e.seq);
    const paged: number[] = [];
    for (let cursor: number | null = 0; cursor !== null; ) {
      const page: { events: Array<{ seq: number }>; next_cursor: number | null } = (await t.app.inject({ url: `/api/v1/audit?limit=3&cursor=${cursor}` })).json();
      paged.push(...page.events.map((e: { seq: number }) => e.seq));
      cursor = page.next_cursor;
    }
    expect(paged).toEqual(all);
    expect((await t.app.inject({ url: '/api/v1/audit?from=yesterday-ish' })).statusCode).toBe(422);
    expect((await t.app.inject({ url: '/api/v1/audit?from=2999-01-01' })).json().events).toEqual([]);
  });

  it('concurrent appends never fork the chain', async () => {
    const audit = new AuditTrail();
    const db = t.services.database.db;
    await Promise.all(Array.from({ length: 25 }, (_, i) => db.transaction().execute((tx) => audit.record(tx, { action: 'test.concurrent', target: `t:${i}`, actor: 'test' }))));
    expect((await verifyChain(db)).ok).toBe(true);
  });

  it('exports CSV and a readable PDF; verify exits 0, then names a row edited or removed in SQLite', async () => {
    const day = new Date().toISOString().slice(0, 10);
    const exported = vitals('audit', 'export', '--date', day, '--format', 'csv');
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/model\.promoted,.*better recall on the March cohort/);
    expect(exported.stdout).toMatch(/,local-admin,admin,ground_truth\.overwrite,prediction:/);

    const pdfFile = join(t.home, 'report.pdf');
    const pdf = vitals('audit', 'export', '--format', 'pdf', '--out', pdfFile);
    expect(pdf.status, pdf.stderr).toBe(0);
    const text = (await new PDFParse({ data: readFileSync(pdfFile) }).getText()).text;
    expect(text).toContain('compliance report');
    expect(text).toMatch(/Chain verification:\s*intact/);
    expect(text).toMatch(/model\.promoted: \d+/);
    expect(text).toContain('local-admin (admin)');
    expect(text).toContain('better recall on the March cohort');
    expect(text).toContain('clinician complaint');

    expect(vitals('audit', 'verify').status).toBe(0);
    const raw = new SqliteDatabase(join(t.home, 'vitals.db'));
    try {
      const promoted = raw.prepare("select seq, reason from audit_events where action = 'model.promoted' and reason like 'better%'").get() as { seq: number; reason: string };
      raw.prepare('update audit_events set reason = ? where seq = ?').run('routine', promoted.seq);
      const changed = vitals('audit', 'verify');
      expect(changed.status).toBe(1);
      expect(changed.stderr).toContain(`audit row ${promoted.seq} `);
      expect(changed.stderr).toMatch(/was changed/);
      raw.prepare('update audit_events set reason = ? where seq = ?').run(promoted.reason, promoted.seq);
      expect(vitals('audit', 'verify').status).toBe(0);
      raw.prepare('delete from audit_events where seq = 3').run();
      const removed = vitals('audit', 'verify');
      expect(removed.status).toBe(1);
      expect(removed.stderr).toMatch(/audit row 4 .*row\(s\) 3 were removed/);
    } finally {
      raw.close();
    }
  });
});
