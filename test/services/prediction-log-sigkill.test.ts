/**
 * Durable acknowledgement under a crash: a real `vitals serve` process (compiled, as users start it)
 * answers 8 concurrent clients and is killed with SIGKILL mid-load. With PREDICTION_LOG_ACK=commit
 * (the default) every prediction id a client received is in the log after the restart, and ground
 * truth can be attached to each of them (the failure users saw: answered ids that 404). On SQLite
 * and on PostgreSQL. (bench/serving.mjs --sigkill prints what the async ack loses, for comparison.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DATA } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { openDatabase, truncateAll } from '../../src/store/index.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const featureNames = csv.columns.filter((c) => c !== 'diagnosis');
const body = (i: number) => JSON.stringify({ model: 'breast-cancer', features: Object.fromEntries(featureNames.map((f) => [f, Number(csv.rows[i % csv.rows.length]![csv.columns.indexOf(f)])])) });

const CLIENTS = 8;
/** SIGKILL after this many answered predictions, while all clients are still sending */
const KILL_AFTER = 600;

function serve(home: string, env: Record<string, string>): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: root,
    // CACHE_SIZE=0: every request is a real inference and a new row. PREDICTION_LOG_ACK unset: the default.
    env: { ...process.env, VITALS_HOME: home, LOG_LEVEL: 'silent', CACHE_SIZE: '0', DATABASE_URL: '', PREDICTION_LOG_ACK: '', ...env },
  });
  const started = new Promise<string>((resolvePromise, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running on (http:\/\/localhost:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1]!.replace('localhost', '127.0.0.1'));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code, signal) => reject(new Error(`server exited (${code ?? signal}): ${out}`)));
  });
  return { child, url: started };
}

/** Runs the load, kills the server mid-way and returns every prediction id a client was answered with. */
async function answeredBeforeSigkill(home: string, env: Record<string, string>): Promise<{ ids: string[]; failedAfterKill: number }> {
  const { child, url: started } = serve(home, env);
  const base = await started;
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ids: string[] = [];
  let killed = false;
  let failedAfterKill = 0;
  const client = async (c: number) => {
    for (let i = c; ; i += CLIENTS) {
      if (killed) return;
      try {
        const res = await fetch(`${base}/api/v1/ml-models/predict`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'keep-alive' }, body: body(i) });
        const json = (await res.json()) as { prediction_id?: string };
        // The client counts an id only once it has the whole answer, as a real client would.
        if (res.status !== 200 || !json.prediction_id) throw new Error(`status ${res.status}: ${JSON.stringify(json)}`);
        ids.push(json.prediction_id);
        if (ids.length >= KILL_AFTER && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      } catch (err) {
        if (!killed) throw err;
        failedAfterKill++;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
  await exited;
  return { ids, failedAfterKill };
}

/** Restarts `vitals serve` on the same data and attaches ground truth to every id (a lost id answers not_found). */
async function labelAfterRestart(home: string, env: Record<string, string>, ids: string[]): Promise<{ updated: number; missing: string[] }> {
  const { child, url: started } = serve(home, env);
  try {
    const base = await started;
    const res = await fetch(`${base}/api/v1/mlops/monitoring/ground-truth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ labels: ids.map((prediction_id) => ({ prediction_id, ground_truth: 'benign' })) }),
    });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { updated: number; results: Array<{ prediction_id: string; status: string }> };
    return { updated: out.updated, missing: out.results.filter((r) => r.status !== 'updated').map((r) => r.prediction_id) };
  } finally {
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
}

async function loggedIds(databaseUrl: string | undefined, home: string, ids: string[]): Promise<Set<string>> {
  const database = await openDatabase(databaseUrl, home);
  try {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await database.db
        .selectFrom('prediction_logs')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  } finally {
    await database.close();
  }
}

async function clearPostgres(): Promise<void> {
  const database = await openDatabase(url, '/tmp/unused');
  await truncateAll(database);
  await database.close();
}

describe.each([
  { name: 'SQLite', databaseUrl: undefined as string | undefined },
  { name: 'PostgreSQL', databaseUrl: url },
])('SIGKILL under load on $name', ({ name, databaseUrl }) => {
  it('loses no answered prediction with PREDICTION_LOG_ACK=commit (the default)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-sigkill-'));
    const env: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl } : {};
    if (databaseUrl) await clearPostgres();
    try {
      const { ids, failedAfterKill } = await answeredBeforeSigkill(home, env);
      expect(ids.length).toBeGreaterThanOrEqual(KILL_AFTER);
      const found = await loggedIds(databaseUrl, home, ids);
      const lost = ids.filter((id) => !found.has(id));
      const labelled = await labelAfterRestart(home, env, ids);
      console.log(`[sigkill ${name}, commit ack] ${ids.length} answered before SIGKILL (${failedAfterKill} requests cut off), ${lost.length} lost; ${labelled.updated} labelled after restart`);
      expect(lost).toEqual([]);
      expect(labelled.missing).toEqual([]);
      expect(labelled.updated).toBe(ids.length);
    } finally {
      rmSync(home, { recursive: true, force: true });
      if (databaseUrl) await clearPostgres();
    }
  });
});
