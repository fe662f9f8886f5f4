/**
 * Roles and once-per-cluster turns on SQLite: each background turn is claimed by one caller, and a
 * real `vitals worker` answers /health and /metrics on its own port. (The same claims across
 * PostgreSQL connections: test/services/cluster-jobs-postgres.test.ts.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { startBackgroundLoop } from '../src/server/background-loop.js';
import { claimTurn } from '../src/store/cluster-jobs.js';
import { migrateToLatest, openDatabase } from '../src/store/index.js';
import { startTestApp } from './helpers/app.js';

describe('cluster turns', () => {
  it('gives each turn of a job to one caller, and the next turn once its interval has passed', async () => {
    const database = await openDatabase(undefined, mkdtempSync(join(tmpdir(), 'vitals-turns-')));
    try {
      await migrateToLatest(database.db);
      const t0 = new Date('2026-12-01T00:00:00Z');
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => claimTurn(database, 'monitoring', 60_000, `p${i}`, t0)));
      expect(first.filter(Boolean)).toHaveLength(1);
      expect(await claimTurn(database, 'monitoring', 60_000, 'late', new Date(t0.getTime() + 30_000))).toBe(false);
      expect(await claimTurn(database, 'ab-tests', 60_000, 'other job', t0)).toBe(true); // turns are per job
      expect(await claimTurn(database, 'monitoring', 60_000, 'next', new Date(t0.getTime() + 60_000))).toBe(true);
    } finally {
      await database.close();
    }
  });

  it('a turn that outlasts its interval is not joined by the next one in the same process', async () => {
    const t = await startTestApp();
    let inFlight = 0;
    let most = 0;
    let turns = 0;
    const slow = {
      name: 'slow-sweep',
      intervalMs: 20,
      async run() {
        turns++;
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 150));
        inFlight--;
      },
    };
    const loop = startBackgroundLoop(t.services, { info() {}, warn() {}, error() {} }, { jobs: [slow] });
    try {
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      loop.stop();
      await loop.idle();
      await t.dispose();
    }
    expect(turns).toBeGreaterThanOrEqual(2); // later turns still run
    expect(most).toBe(1);
  });

  it('an api replica does not check every N predictions (its worker sweeps)', async () => {
    const api = await startTestApp({ VITALS_ROLE: 'api', MONITORING_CHECK_EVERY_N: 5 });
    const all = await startTestApp({ MONITORING_CHECK_EVERY_N: 5 });
    try {
      expect(api.services.monitor.options.checkEveryPredictions).toBe(0);
      expect(all.services.monitor.options.checkEveryPredictions).toBe(5);
    } finally {
      await api.dispose();
      await all.dispose();
    }
  });
});

describe('two replicas starting on an empty database', () => {
  it("bootstrap the demo once: the one that loses the race carries on with the winner's models", async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-twins-'));
    const a = await startTestApp({ VITALS_HOME: home });
    const b = await startTestApp({ VITALS_HOME: home });
    try {
      const results = await Promise.all([bootstrapDemo(a.services.registry), bootstrapDemo(b.services.registry)]);
      expect(results.filter(Boolean).length).toBeLessThanOrEqual(1);
      const versions = await a.services.registry.listVersions((await a.services.registry.getModel('breast-cancer')).id);
      expect(versions.map((v) => v.version).sort()).toEqual(['1.0.0', '1.1.0']);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  }, 180_000);
});

describe('vitals worker', () => {
  it('answers /health and /metrics on its own port, refuses a bad one with exit 2, and stops on SIGTERM', async () => {
    const root = new URL('..', import.meta.url).pathname;
    const cli = join(root, 'dist/cli/main.js');
    const home = mkdtempSync(join(tmpdir(), 'vitals-worker-'));
    const env = { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent' };
    const bad = spawn(process.execPath, [cli, 'worker', '--port', 'eighty'], { cwd: root, env });
    let badErr = '';
    bad.stderr.on('data', (d: Buffer) => (badErr += d.toString()));
    expect(await new Promise((r) => bad.on('exit', r))).toBe(2);
    expect(badErr).toMatch(/--port must be a port number/);

    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [cli, 'worker', '--port', String(port)], { cwd: root, env: { ...env, HOST: '127.0.0.1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 600 && !out.includes('vitals worker running'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(`health and metrics on http://127.0.0.1:${port}`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'healthy', role: 'worker', database: 'ok' });
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^# HELP /m);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
