/**
 * Scale-out on loopback: two `vitals serve --role api` processes and one `vitals worker` (compiled, as
 * users start them) on one PostgreSQL and the embedded bus. 8 clients send predictions of the demo
 * model round-robin to both replicas and the ground truth of each one to the OTHER replica (200 and
 * `updated`: a committed row is visible to every replica). Midway the features shift (×3) and the
 * worker's monitoring sweep fires exactly one data-drift alert to a webhook, however many sweeps
 * follow. One api replica is SIGKILLed mid-load; clients retry on the survivor; every prediction id
 * any client received is in prediction_logs. Prints one- vs two-replica throughput (for the record).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DATA, DEMO_MODEL } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { openDatabase, truncateAll } from '../../src/store/index.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');
const databaseUrl: string = url;

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/cli/main.js');
const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const featureNames = csv.columns.filter((c) => c !== 'diagnosis');
const target = csv.columns.indexOf('diagnosis');
/** a fixed shuffle of the rows, so any window is a fair sample of the reference data */
const order = csv.rows.map((_, i) => i);
for (let i = order.length - 1, s = 7; i > 0; i--) {
  s = (s * 1103515245 + 12345) % 2 ** 31;
  const j = s % (i + 1);
  [order[i], order[j]] = [order[j]!, order[i]!];
}
/** the shift: these features ×3 (the size of a unit change, mm → a wrong scale) */
const SHIFTED = new Set(['mean_radius', 'mean_texture', 'mean_perimeter', 'mean_area', 'worst_radius', 'worst_area']);
const rowOf = (i: number) => csv.rows[order[i % order.length]!]!;
const features = (i: number, shifted: boolean) => Object.fromEntries(featureNames.map((f) => [f, Number(rowOf(i)[csv.columns.indexOf(f)]) * (shifted && SHIFTED.has(f) ? 3 : 1)]));

const CLIENTS = 8;
const ONE_REPLICA = 300; // predictions to replica 0 only, for the throughput reference
const BEFORE_SHIFT = 900; // then both replicas, unshifted
const AFTER_SHIFT = 1200; // then both replicas, shifted; replica 1 is killed halfway through these
const WINDOW = 250;
const CHECK_INTERVAL_S = 2;

const env = (webhook: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'silent',
  CACHE_SIZE: '0', // every request is a real inference and a new row
  PREDICTION_LOG_ACK: '', // the default: commit before the answer
  API_KEY: '',
  MONITORING_CHECK_INTERVAL: String(CHECK_INTERVAL_S),
  MONITORING_WINDOW_SIZE: String(WINDOW),
  AB_TEST_CHECK_INTERVAL: String(CHECK_INTERVAL_S),
  // ALERT_COOLDOWN_SECONDS stays at its default (3600): with 0 every sweep re-sends a reminder of the open alert
  ALERT_WEBHOOK_URL: webhook,
  MESSAGE_QUEUE_TYPE: 'embedded',
});

function startProcess(args: string[], e: NodeJS.ProcessEnv, ready: RegExp, home: string): { child: ChildProcess; ready: Promise<RegExpExecArray>; output: () => string } {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...e, VITALS_HOME: home } });
  let out = '';
  const started = new Promise<RegExpExecArray>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${args.join(' ')} did not start: ${out}`)), 150_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code, signal) => rej(new Error(`${args.join(' ')} exited (${code ?? signal}): ${out}`)));
  });
  return { child, ready: started, output: () => out };
}

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => res(p));
    });
  });

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));

async function clearPostgres(): Promise<void> {
  const database = await openDatabase(databaseUrl, '/tmp/unused');
  await truncateAll(database);
  await database.close();
}

describe('scale-out: two api replicas and one worker on one PostgreSQL', () => {
  const home = mkdtempSync(join(tmpdir(), 'vitals-scale-out-'));
  const notices: Array<{ event: string; alert: { id: string; rule: string; dedup_key?: string; model_name?: string } }> = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      notices.push(JSON.parse(body));
      res.writeHead(200).end();
    });
  });
  const children: ChildProcess[] = [];
  const bases: string[] = [];
  let workerPort = 0;

  beforeAll(async () => {
    await clearPostgres();
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const e = env(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    const apiReady = /running on (http:\/\/localhost:\d+)/;
    // The first replica bootstraps the demo models into the empty registry; the second starts on it.
    const first = startProcess(['serve', '--role', 'api', '--port', '0', '--host', '127.0.0.1'], e, apiReady, home);
    children.push(first.child);
    bases.push((await first.ready)[1]!.replace('localhost', '127.0.0.1'));
    workerPort = await freePort();
    const second = startProcess(['serve', '--role', 'api', '--port', '0', '--host', '127.0.0.1'], e, apiReady, home);
    const worker = startProcess(['worker', '--port', String(workerPort)], { ...e, HOST: '127.0.0.1' }, /vitals worker running/, home);
    children.push(second.child, worker.child);
    bases.push((await second.ready)[1]!.replace('localhost', '127.0.0.1'));
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(exited));
    receiver.close();
    await clearPostgres();
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('serves across replicas, alerts once, and loses no answered prediction when a replica is killed', async () => {
    const health = await fetch(`http://127.0.0.1:${workerPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ role: 'worker', database: 'ok' });

    const ids: string[] = [];
    const dead = new Set<number>();
    let retries = 0;
    let labelled = 0;
    const post = async (replica: number, path: string, payload: unknown): Promise<{ status: number; json: any; replica: number }> => {
      for (;;) {
        const r = dead.has(replica) ? 1 - replica : replica;
        try {
          const res = await fetch(`${bases[r]}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
          return { status: res.status, json: await res.json(), replica: r };
        } catch (err) {
          // a connection refused or cut off: only expected from the replica that was killed
          if (!dead.has(r)) throw err;
          retries++;
          replica = 1 - r;
        }
      }
    };
    /** one prediction and its label: predict on `replica`, label on the other one (or on the same, `sameReplica`) */
    const one = async (i: number, replica: number, shifted: boolean, sameReplica = false) => {
      const p = await post(replica, '/api/v1/ml-models/predict', { model: DEMO_MODEL, features: features(i, shifted) });
      if (p.status !== 200 || !p.json.prediction_id) throw new Error(`predict: ${p.status} ${JSON.stringify(p.json)}`);
      ids.push(p.json.prediction_id);
      const g = await post(sameReplica ? p.replica : 1 - p.replica, '/api/v1/mlops/monitoring/ground-truth', { labels: [{ prediction_id: p.json.prediction_id, ground_truth: rowOf(i)[target] }] });
      expect(g.status).toBe(200);
      expect(g.json.results[0]).toMatchObject({ prediction_id: p.json.prediction_id, status: 'updated' });
      labelled++;
    };
    /** `count` predictions over CLIENTS concurrent clients; returns predictions per second */
    const phase = async (from: number, count: number, pick: (i: number) => number, shifted: boolean, opts: { sameReplica?: boolean; onEach?: (done: number) => void } = {}) => {
      let next = from;
      let done = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          for (let i = next++; i < from + count; i = next++) {
            await one(i, pick(i), shifted, opts.sameReplica);
            opts.onEach?.(++done);
          }
        }),
      );
      return count / ((performance.now() - t0) / 1000);
    };

    const oneReplica = await phase(0, ONE_REPLICA, () => 0, false, { sameReplica: true });
    const twoReplicas = await phase(ONE_REPLICA, BEFORE_SHIFT, (i) => i % 2, false);
    const victim = children[1]!;
    await phase(ONE_REPLICA + BEFORE_SHIFT, AFTER_SHIFT, (i) => i % 2, true, {
      onEach: (done) => {
        if (done === AFTER_SHIFT / 2 && !dead.has(1)) {
          dead.add(1);
          victim.kill('SIGKILL');
        }
      },
    });
    await exited(victim);
    expect(victim.signalCode).toBe('SIGKILL');

    // the worker sweeps every CHECK_INTERVAL_S: wait for the drift alert, then for several more sweeps
    const driftFired = () => notices.filter((n) => n.event === 'firing' && n.alert.rule === 'data_drift');
    const deadline = Date.now() + 90_000;
    while (driftFired().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 4 * CHECK_INTERVAL_S * 1000));
    const fired = driftFired();
    expect(fired).toHaveLength(1);
    const database = await openDatabase(databaseUrl, home);
    try {
      const alerts = await database.db.selectFrom('alerts').select(['id', 'dedup_key', 'status']).where('rule', '=', 'data_drift').execute();
      expect(alerts.filter((a) => a.status === 'firing')).toHaveLength(1);
      expect(fired[0]!.alert.id).toBe(alerts.find((a) => a.status === 'firing')!.id);
      const keys = notices.filter((n) => n.event === 'firing').map((n) => `${n.alert.rule}:${n.alert.id}`);
      expect(new Set(keys).size).toBe(keys.length); // no alert delivered twice

      const found = new Set<string>();
      let withTruth = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await database.db
          .selectFrom('prediction_logs')
          .select(['id', 'ground_truth'])
          .where('id', 'in', ids.slice(i, i + 500))
          .execute();
        for (const r of rows) {
          found.add(r.id);
          if (r.ground_truth !== null) withTruth++;
        }
      }
      const lost = ids.filter((id) => !found.has(id));
      const runs = await database.db
        .selectFrom('cluster_jobs')
        .selectAll()
        .execute()
        .catch(() => []);
      console.log(
        `[scale-out] ${ids.length} predictions answered (${labelled} labelled, all but the first ${ONE_REPLICA} on the other replica), ${lost.length} lost, ${withTruth} rows with ground truth; ` +
          `${retries} requests retried after the SIGKILL; ${notices.length} webhook notices (${fired.length} data_drift firing); ` +
          `throughput (predict + label, ${CLIENTS} clients): one replica ${oneReplica.toFixed(0)}/s, two replicas ${twoReplicas.toFixed(0)}/s; cluster_jobs rows: ${runs.length}`,
      );
      expect(ids).toHaveLength(ONE_REPLICA + BEFORE_SHIFT + AFTER_SHIFT);
      expect(new Set(ids).size).toBe(ids.length);
      expect(lost).toEqual([]);
      expect(withTruth).toBe(ids.length);
      expect(retries).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  }, 240_000);
});
