/**
 * Scale-out on loopback: two `vitals serve --role api` processes and one `vitals worker` (compiled, as
 * users start them) on one PostgreSQL and one real Kafka broker (KRaft, scripts/services/kafka.sh, on
 * a port of this file's own). Concurrent clients send 20,000 predictions of the demo model
 * round-robin to both replicas and the ground truth of each one to the OTHER replica (a committed row
 * is visible to every replica). A drift-triggered retraining policy is set first.
 *
 * Midway the features shift (×3). The worker's monitoring sweep fires exactly one data-drift alert to a
 * webhook, however many sweeps follow; the alert starts exactly one retraining run, which learns the
 * new distribution from the predictions labelled after the alert (data.since_trigger: it waits for
 * them) and releases its model through an A/B test that
 * the worker decides exactly once (one decision in the release events, the audit trail and on Kafka),
 * after which the run deploys it. One api replica is SIGKILLed mid-load; clients retry on the
 * survivor; every prediction id any client received is in prediction_logs. Prints one- vs two-replica
 * throughput (for the record only: on 2 shared cores the replicas compete for the same CPUs).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from '../../src/messaging/index.js';
import { KafkaBus } from '../../src/messaging/kafka-bus.js';
import { DEMO_DATA, DEMO_MODEL } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import { openDatabase, truncateAll } from '../../src/store/index.js';
import { brokerRunning, brokerScript, startBroker } from '../helpers/brokers.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');
const databaseUrl: string = url;
/** a broker of its own: messaging-kafka.test.ts stops and restarts the default one (59092) in its fault test */
const KAFKA_ENV = { VITALS_KAFKA_PORT: '59192' };

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

const CLIENTS = 24;
const LABEL_BATCH = 10; // a client sends its labels in batches of this many, each batch to the replica that did not answer them
const ONE_REPLICA = 1500; // predictions to replica 0 only, for the throughput reference
const BEFORE_SHIFT = 2500; // then both replicas, unshifted
const AFTER_SHIFT = 16_000; // then both replicas, shifted; replica 1 is killed halfway through these
const TOTAL = ONE_REPLICA + BEFORE_SHIFT + AFTER_SHIFT;
const WINDOW = 250;
const CHECK_INTERVAL_S = 2;
/** the retrained model's release test: labelled predictions per variant before a promotion */
const AB_MIN_SAMPLES = 200;
/** the newest labelled predictions the retraining run learns from */
const TRAIN_ROWS = 300;

const env = (webhook: string, bootstrap: string): NodeJS.ProcessEnv => ({
  ...process.env,
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: 'silent',
  CACHE_SIZE: '0', // every request is a real inference and a new row
  PREDICTION_LOG_ACK: '', // the default: commit before the answer
  API_KEY: '',
  MONITORING_CHECK_INTERVAL: String(CHECK_INTERVAL_S),
  MONITORING_WINDOW_SIZE: String(WINDOW),
  // Only a shift of half a standard deviation alerts (the ×3 one is several). At the default 0.1, a check
  // every 2 s of the retrained version (its reference: a few hundred rows) raises a false alarm in about
  // one run in four: each check is a test at 5 %, and this one makes thirty of them.
  DATA_DRIFT_THRESHOLD: '0.5',
  AB_TEST_CHECK_INTERVAL: String(CHECK_INTERVAL_S),
  RETRAIN_CHECK_INTERVAL: String(CHECK_INTERVAL_S),
  PIPELINE_POLL_MS: '250',
  // ALERT_COOLDOWN_SECONDS stays at its default (3600): with 0 every sweep re-sends a reminder of the open alert
  ALERT_WEBHOOK_URL: webhook,
  MESSAGE_QUEUE_TYPE: 'kafka',
  KAFKA_BOOTSTRAP_SERVERS: bootstrap,
  KAFKA_CLIENT_ID: 'vitals-scale-out',
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function clearPostgres(): Promise<void> {
  const database = await openDatabase(databaseUrl, '/tmp/unused');
  await truncateAll(database);
  await database.close();
}

interface PlatformEvent {
  event_id: string;
  type: string;
  data: Record<string, any>;
}

describe('scale-out: two api replicas and one worker on one PostgreSQL and Kafka', () => {
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
  const outputs: Array<() => string> = [];
  const bases: string[] = [];
  let workerPort = 0;
  let kafkaStartedHere = false;
  /** what the platform published on Kafka, read back by a consumer group of this test's own */
  const published: Array<{ topic: string; id: string; event: PlatformEvent }> = [];
  let observer: KafkaBus | undefined;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    kafkaStartedHere = !(await brokerRunning('kafka', KAFKA_ENV));
    const bootstrap = await startBroker('kafka', KAFKA_ENV);
    await clearPostgres();
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const e = env(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, bootstrap);
    const apiReady = /running on (http:\/\/localhost:\d+)/;
    // The first replica bootstraps the demo models into the empty registry; the second starts on it.
    const first = startProcess(['serve', '--role', 'api', '--port', '0', '--host', '127.0.0.1'], e, apiReady, home);
    children.push(first.child);
    outputs.push(first.output);
    bases.push((await first.ready)[1]!.replace('localhost', '127.0.0.1'));
    workerPort = await freePort();
    const second = startProcess(['serve', '--role', 'api', '--port', '0', '--host', '127.0.0.1'], e, apiReady, home);
    const worker = startProcess(['worker', '--port', String(workerPort)], { ...e, HOST: '127.0.0.1' }, /vitals worker running/, home);
    children.push(second.child, worker.child);
    outputs.push(second.output, worker.output);
    // A new group starts at the earliest retained offset: events of earlier runs are told apart by their ids.
    observer = new KafkaBus({ bootstrapServers: [bootstrap], clientId: 'vitals-scale-out-observer', partitions: 3 });
    await observer.connect();
    const group = `scale-out-observer-${randomUUID()}`;
    for (const topic of ['alerts', 'ab-tests', 'pipelines']) {
      subscriptions.push(await observer.subscribe<PlatformEvent>(topic, group, (event, m) => void published.push({ topic, id: m.id, event })));
    }
    bases.push((await second.ready)[1]!.replace('localhost', '127.0.0.1'));
    await worker.ready;
  }, 240_000);

  afterAll(async () => {
    for (const s of subscriptions) await s.close().catch(() => undefined);
    await observer?.close().catch(() => undefined);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(exited));
    receiver.close();
    await clearPostgres();
    rmSync(home, { recursive: true, force: true });
    if (kafkaStartedHere) await brokerScript('kafka', 'stop', KAFKA_ENV);
  }, 90_000);

  it('serves across replicas, alerts once, retrains and releases once, and loses no answered prediction when a replica is killed', async () => {
    const health = await fetch(`http://127.0.0.1:${workerPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ role: 'worker', database: 'ok' });

    // The operator's policy: retrain on drift, from the labelled prediction log, released through an A/B test.
    const policy = await fetch(`${bases[0]}/api/v1/mlops/retraining/start`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: DEMO_MODEL,
        triggers: ['drift'],
        pipeline: {
          // learn from the traffic after the alert only: the newest rows when it fires are still partly the old distribution
          data: { source: 'prediction_log', limit: TRAIN_ROWS, since_trigger: true, wait_s: 120 },
          // the shifted values lie outside the ranges declared by the current version: that is the drift being learnt
          validation: { check_ranges: false },
          ab_test: { enabled: true, mode: 'ab', traffic_split: 0.5, metric: 'accuracy', config: { min_samples: AB_MIN_SAMPLES } },
        },
      }),
    });
    expect(policy.status, await policy.clone().text()).toBe(200);

    const ids: string[] = [];
    const victim = 1;
    let killed = false;
    const dead = new Set<number>();
    let retries = 0;
    let labelled = 0;
    /** POST to a replica; a request the killed replica cannot answer is sent again to the other one */
    const post = async (replica: number, path: string, payload: unknown): Promise<{ status: number; json: any; replica: number }> => {
      for (;;) {
        const r = dead.has(replica) ? 1 - replica : replica;
        try {
          const res = await fetch(`${bases[r]}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
          return { status: res.status, json: await res.json(), replica: r };
        } catch (err) {
          // a connection refused or cut off: only expected from the replica that was killed
          if (!(killed && r === victim)) throw err;
          dead.add(r);
          retries++;
          replica = 1 - r;
        }
      }
    };
    /** one client's labels waiting to be sent, per replica they go to */
    type Label = { prediction_id: string; ground_truth: string };
    const sendLabels = async (replica: number, labels: Label[]) => {
      const g = await post(replica, '/api/v1/mlops/monitoring/ground-truth', { labels });
      if (g.status !== 200) throw new Error(`ground truth: ${g.status} ${JSON.stringify(g.json)}`);
      for (const [k, l] of labels.entries()) expect(g.json.results[k]).toMatchObject({ prediction_id: l.prediction_id, status: 'updated' });
      labelled += labels.length;
    };
    /** `count` predictions over CLIENTS concurrent clients, labels to the other replica (or the same one); returns predictions per second */
    const phase = async (from: number, count: number, pick: (i: number) => number, shifted: boolean, opts: { sameReplica?: boolean; onEach?: (done: number) => void } = {}) => {
      let next = from;
      let done = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          const pending: Label[][] = [[], []];
          for (let i = next++; i < from + count; i = next++) {
            const p = await post(pick(i), '/api/v1/ml-models/predict', { model: DEMO_MODEL, features: features(i, shifted), user_id: `patient-${i}` });
            if (p.status !== 200 || !p.json.prediction_id) throw new Error(`predict: ${p.status} ${JSON.stringify(p.json)}`);
            ids.push(p.json.prediction_id);
            const to = opts.sameReplica ? p.replica : 1 - p.replica;
            pending[to]!.push({ prediction_id: p.json.prediction_id, ground_truth: rowOf(i)[target]! });
            if (pending[to]!.length >= LABEL_BATCH) await sendLabels(to, pending[to]!.splice(0));
            opts.onEach?.(++done);
          }
          for (const [to, labels] of pending.entries()) if (labels.length) await sendLabels(to, labels);
        }),
      );
      return count / ((performance.now() - t0) / 1000);
    };

    const t0 = performance.now();
    const oneReplica = await phase(0, ONE_REPLICA, () => 0, false, { sameReplica: true });
    const twoReplicas = await phase(ONE_REPLICA, BEFORE_SHIFT, (i) => i % 2, false);
    const shiftedAt = new Date().toISOString();
    await phase(ONE_REPLICA + BEFORE_SHIFT, AFTER_SHIFT, (i) => i % 2, true, {
      onEach: (done) => {
        if (done === AFTER_SHIFT / 2 && !killed) {
          killed = true; // clients find out by a refused or cut connection, and retry on the survivor
          children[victim]!.kill('SIGKILL');
        }
      },
    });
    const loadSeconds = (performance.now() - t0) / 1000;
    await exited(children[victim]!);
    expect(children[victim]!.signalCode).toBe('SIGKILL');
    const survivor = bases[1 - victim]!;
    const getJson = async (path: string) => {
      const res = await fetch(`${survivor}${path}`);
      expect(res.status, path).toBe(200);
      return (await res.json()) as any;
    };

    // The retraining run's A/B test was decided under the load; wait for the run to deploy, then several more sweeps.
    const history = () => getJson(`/api/v1/mlops/retraining/history?model_id=${DEMO_MODEL}`).then((h) => h.history as any[]);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await history()).some((r) => ['succeeded', 'failed', 'rejected'].includes(r.status))) await sleep(500);
    await sleep(4 * CHECK_INTERVAL_S * 1000);

    const driftFired = notices.filter((n) => n.event === 'firing' && n.alert.rule === 'data_drift');
    const runs = await history();
    const database = await openDatabase(databaseUrl, home);
    try {
      const alerts = await database.db.selectFrom('alerts').select(['id', 'version_id', 'status', 'fired_at']).where('rule', '=', 'data_drift').execute();
      const pipelineRuns = await database.db.selectFrom('pipeline_runs').select(['id', 'trigger', 'incident_key', 'status']).execute();
      const tests = await database.db.selectFrom('ab_tests').selectAll().execute();
      const testId = tests[0]?.id ?? '';
      const releaseEvents = await database.db.selectFrom('release_events').select(['action', 'actor']).where('test_id', '=', testId).execute();
      const decidedAudit = await database.db.selectFrom('audit_events').select(['principal', 'target']).where('action', '=', 'abtest.decided').execute();
      const variants = await database.db
        .selectFrom('prediction_logs')
        .select(['variant', (eb) => eb.fn.countAll<string>().as('n')])
        .where('ab_test_id', '=', testId)
        .groupBy('variant')
        .execute();
      const found = new Set<string>();
      let withTruth = 0;
      for (let i = 0; i < ids.length; i += 1000) {
        const rows = await database.db
          .selectFrom('prediction_logs')
          .select(['id', 'ground_truth'])
          .where('id', 'in', ids.slice(i, i + 1000))
          .execute();
        for (const r of rows) {
          found.add(r.id);
          if (r.ground_truth !== null) withTruth++;
        }
      }
      const lost = ids.filter((id) => !found.has(id));
      const model = await getJson(`/api/v1/models/${DEMO_MODEL}`);
      const run = runs[0];
      const distinct = (topic: string, f: (e: PlatformEvent) => boolean) => new Set(published.filter((p) => p.topic === topic && f(p.event)).map((p) => p.id)).size;
      console.log(
        `[scale-out] ${ids.length} predictions answered in ${loadSeconds.toFixed(0)} s (${labelled} labelled, all but the first ${ONE_REPLICA} on the other replica), ${lost.length} lost, ${withTruth} rows with ground truth; ` +
          `${retries} requests retried after the SIGKILL; ${notices.length} webhook notices (${driftFired.length} data_drift firing); shift at ${shiftedAt}, drift alert fired at ${alerts[0]?.fired_at}; ` +
          `retraining runs: ${runs.map((r) => `${r.trigger} ${r.status} ${r.decision} at ${r.finished_at} (${r.previous_version} → ${r.new_version}, ${r.data_rows} rows)`).join('; ')}; ` +
          `release test: ${tests.map((t) => `${t.mode} ${t.status} ${t.decision} (${t.decision_reason})`).join('; ')}, traffic ${variants.map((v) => `${v.variant} ${v.n}`).join(', ')}; ` +
          `events: ${releaseEvents.map((r) => `${r.action} by ${r.actor}`).join(', ')}; ` +
          `throughput (predict + label, ${CLIENTS} clients): one replica ${oneReplica.toFixed(0)}/s, two replicas ${twoReplicas.toFixed(0)}/s`,
      );

      // one drift incident: one alert row, delivered once, published once
      expect(driftFired).toHaveLength(1);
      expect(alerts).toHaveLength(1);
      expect(driftFired[0]!.alert.id).toBe(alerts[0]!.id);
      const keys = notices.filter((n) => n.event === 'firing').map((n) => `${n.alert.rule}:${n.alert.id}`);
      expect(new Set(keys).size).toBe(keys.length); // no alert delivered twice
      expect(distinct('alerts', (e) => e.type === 'alert.fired' && e.data.id === alerts[0]!.id)).toBe(1);

      // one retraining run, started by that alert, released through one A/B test decided once by the worker
      expect(pipelineRuns).toHaveLength(1);
      expect(pipelineRuns[0]).toMatchObject({ trigger: 'drift', incident_key: `alert:${alerts[0]!.id}`, status: 'succeeded' });
      expect(runs).toHaveLength(1);
      expect(run).toMatchObject({ trigger: 'drift', status: 'succeeded', decision: 'promoted_after_ab_test', ab_test_id: testId, data_rows: TRAIN_ROWS });
      const collected = (await getJson(`/api/v1/pipelines/runs/${run.run_id}`)).stages[0].artifacts.source;
      expect(Date.parse(collected.oldest)).toBeGreaterThanOrEqual(Date.parse(alerts[0]!.fired_at)); // shifted rows only
      expect(tests).toHaveLength(1);
      expect(tests[0]).toMatchObject({ mode: 'ab', status: 'completed', decision: 'promote', winner: 'treatment', created_by: `pipeline:${run.run_id}` });
      expect(releaseEvents.filter((r) => r.action === 'promoted' || r.action === 'rolled_back')).toEqual([{ action: 'promoted', actor: 'ab-test' }]);
      expect(decidedAudit).toEqual([{ principal: 'ab-test', target: `abtest:${testId}` }]);
      expect(distinct('ab-tests', (e) => e.type === 'abtest.decided' && e.data.test_id === testId)).toBe(1);
      expect(distinct('pipelines', (e) => e.type === 'pipeline.finished' && e.data.run_id === run.run_id)).toBe(1);
      // both variants served real traffic, and the retrained version is production now
      for (const v of ['control', 'treatment']) expect(Number(variants.find((x) => x.variant === v)?.n ?? 0)).toBeGreaterThanOrEqual(AB_MIN_SAMPLES);
      expect(model.aliases.production).toBe(run.new_version);

      // no answered prediction lost, every label kept
      expect(ids).toHaveLength(TOTAL);
      expect(new Set(ids).size).toBe(ids.length);
      expect(lost).toEqual([]);
      expect(withTruth).toBe(ids.length);
      expect(retries).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  }, 420_000);
});
