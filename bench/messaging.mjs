#!/usr/bin/env node
// Messaging benchmark: publish throughput and publish → handler latency of every bus implementation,
// in one run, on loopback.
//
//   npm run build && node bench/messaging.mjs [--messages 20000] [--latency-messages 1000] [--with-brokers]
//
// Implementations: embedded on SQLite (always), embedded on PostgreSQL (DATABASE_URL_BENCH, else
// DATABASE_URL_TEST), RabbitMQ (RABBITMQ_URL_BENCH, else RABBITMQ_URL_TEST), Kafka
// (KAFKA_BOOTSTRAP_BENCH, else KAFKA_BOOTSTRAP_TEST). One whose address is not given is skipped
// with a printed line. --with-brokers starts RabbitMQ and Kafka with scripts/services/*.sh when no
// address is given (and stops those it started). Writes bench/results/messaging.json.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { uuidv7 } from '../dist/ids.js';
import { EmbeddedBus, Outbox, OutboxRelay, TopicMap } from '../dist/messaging/index.js';
import { KafkaBus } from '../dist/messaging/kafka-bus.js';
import { RabbitMqBus } from '../dist/messaging/rabbitmq-bus.js';
import { openDatabase } from '../dist/store/index.js';
import { REPO_ROOT, codeInfo, machineInfo, percentile, printTable, round, writeResult } from './lib/common.mjs';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    'single-messages': { type: 'string', default: '1000' },
    'latency-messages': { type: 'string', default: '1000' },
    'latency-interval-ms': { type: 'string', default: '2' },
    'outbox-messages': { type: 'string', default: '5000' },
    batch: { type: 'string', default: '500' },
    'with-brokers': { type: 'boolean', default: false },
  },
});
const N = Number(args.messages);
const SINGLE = Number(args['single-messages']);
const LAT_N = Number(args['latency-messages']);
const LAT_GAP = Number(args['latency-interval-ms']);
const OUTBOX_N = Number(args['outbox-messages']);
const BATCH = Number(args.batch);

/** A patient_data-sized message (~300 bytes of JSON). */
const payload = (i) =>
  JSON.stringify({
    patient_id: `P${String(i % 997).padStart(4, '0')}`,
    event_type: 'vitals_update',
    data: { heart_rate: 60 + (i % 40), spo2: 0.9 + (i % 10) / 100, bp: '120/80', ward: 'ICU-3', note: 'x'.repeat(120) },
    t: Date.now(),
  });
const msgs = (topic, n, keyed = true) => Array.from({ length: n }, (_, i) => ({ id: uuidv7(), topic, key: keyed ? `P${i % 997}` : null, value: payload(i) }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(2);
  }
}

// --------------------------------------------------------------- brokers ---

const started = [];
function brokerAddress(name, envNames, script) {
  for (const e of envNames) if (process.env[e]) return process.env[e];
  if (!args['with-brokers']) return undefined;
  const wasRunning = spawnSync('bash', [script, 'status'], { stdio: 'ignore' }).status === 0;
  const r = spawnSync('bash', [script, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  const line = r.status === 0 ? r.stdout.trim().split('\n').at(-1) : '';
  if (!line?.includes('=')) {
    console.warn(`--with-brokers: ${script} start failed (exit ${r.status}); ${name} will be skipped`);
    return undefined;
  }
  if (!wasRunning) started.push(script);
  return line.slice(line.indexOf('=') + 1);
}

// ------------------------------------------------------------ measurement ---

async function measure(name, makeBus, database) {
  const opened = [];
  const open = async () => {
    const b = await makeBus();
    opened.push(b);
    await b.connect();
    return b;
  };
  const run = randomUUID().slice(0, 8);
  try {
    const pub = await open();
    const sub = await open();
    const result = { implementation: name };

    // 1. publish throughput, batches of BATCH (what the outbox relay sends), with a live subscriber
    let consumed = 0;
    const topicA = `bench-${run}-throughput`;
    await sub.subscribe(topicA, 'bench', () => void consumed++, { concurrency: 64 });
    await sleep(name === 'kafka' ? 3000 : 200);
    const batch = msgs(topicA, N);
    const t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) await pub.publish(batch.slice(i, i + BATCH));
    const t1 = performance.now();
    await waitFor(() => consumed >= N, 120_000);
    const t2 = performance.now();
    result.publish_batched_msgs_s = round(N / ((t1 - t0) / 1000), 0);
    result.end_to_end_msgs_s = round(N / ((t2 - t0) / 1000), 0);

    // 2. one message per publish call, awaited: the durable round trip of a single publish
    const topicB = `bench-${run}-single`;
    const singles = msgs(topicB, SINGLE);
    const s0 = performance.now();
    for (const m of singles) await pub.publish([m]);
    result.publish_single_msgs_s = round(SINGLE / ((performance.now() - s0) / 1000), 0);

    // 3. latency publish → handler, one message every LAT_GAP ms (a lightly loaded bus)
    const topicC = `bench-${run}-latency`;
    const sentAt = new Map();
    const latencies = [];
    await sub.subscribe(topicC, 'bench', (_p, m) => {
      const t = sentAt.get(m.id);
      if (t !== undefined) latencies.push(performance.now() - t);
    });
    await sleep(name === 'kafka' ? 3000 : 200);
    const lat = msgs(topicC, LAT_N);
    const publishes = [];
    for (const m of lat) {
      sentAt.set(m.id, performance.now());
      const p = pub.publish([m]);
      p.catch(() => undefined); // awaited below; a failure fails the run there
      publishes.push(p);
      await sleep(LAT_GAP);
    }
    await Promise.all(publishes);
    await waitFor(() => latencies.length >= LAT_N, 60_000);
    const sorted = Float64Array.from(latencies).sort();
    result.latency_p50_ms = round(percentile(sorted, 50), 2);
    result.latency_p99_ms = round(percentile(sorted, 99), 2);
    result.latency_max_ms = round(sorted[sorted.length - 1], 2);

    // 4. through the platform's outbox: enqueue in one transaction, relay, consume
    if (database) {
      const topics = new TopicMap({ bench_events: `bench-${run}-outbox` });
      const outbox = new Outbox(database, topics, 1_000_000);
      let got = 0;
      await sub.subscribe(`bench-${run}-outbox`, 'bench', () => void got++, { concurrency: 64 });
      await sleep(name === 'kafka' ? 3000 : 200);
      await database.db.transaction().execute((tx) =>
        outbox.enqueueEvents(
          tx,
          'bench_events',
          Array.from({ length: OUTBOX_N }, (_, i) => ({ type: 'bench.event', key: `P${i % 997}`, data: JSON.parse(payload(i)) })),
        ),
      );
      const relay = new OutboxRelay(database, pub, topics, outbox, { batchSize: 500, intervalMs: 50 });
      const o0 = performance.now();
      relay.start();
      await waitFor(() => got >= OUTBOX_N, 120_000);
      result.outbox_to_handler_msgs_s = round(OUTBOX_N / ((performance.now() - o0) / 1000), 0);
      await relay.close();
    }
    return result;
  } finally {
    for (const b of opened) await b.close().catch(() => undefined);
  }
}

// --------------------------------------------------------------------- run ---

const home = mkdtempSync(join(tmpdir(), 'vitals-bench-msg-'));
const sqlite = await openDatabase(`sqlite:${join(home, 'bench.db')}`, home);
const embeddedOptions = { pollMs: 20, leaseMs: 60_000, retentionHours: 0 };
const implementations = [{ name: 'embedded (SQLite)', makeBus: async () => new EmbeddedBus(sqlite, embeddedOptions), database: sqlite }];
const skipped = [];

const pgUrl = process.env.DATABASE_URL_BENCH || process.env.DATABASE_URL_TEST;
let pgDatabase;
if (pgUrl) {
  pgDatabase = await openDatabase(pgUrl, home);
  implementations.push({ name: 'embedded (PostgreSQL)', makeBus: async () => new EmbeddedBus(pgDatabase, embeddedOptions), database: pgDatabase });
} else skipped.push('embedded (PostgreSQL): set DATABASE_URL_BENCH (or DATABASE_URL_TEST) to a postgres:// URL');

const amqp = brokerAddress('RabbitMQ', ['RABBITMQ_URL_BENCH', 'RABBITMQ_URL_TEST'], join(REPO_ROOT, 'scripts/services/rabbitmq.sh'));
if (amqp) implementations.push({ name: 'rabbitmq', makeBus: async () => new RabbitMqBus({ url: amqp, exchange: 'vitals-bench', prefetch: 256 }), database: sqlite });
else skipped.push('rabbitmq: set RABBITMQ_URL_BENCH (or RABBITMQ_URL_TEST), or pass --with-brokers');

const kafka = brokerAddress('Kafka', ['KAFKA_BOOTSTRAP_BENCH', 'KAFKA_BOOTSTRAP_TEST'], join(REPO_ROOT, 'scripts/services/kafka.sh'));
if (kafka) implementations.push({ name: 'kafka', makeBus: async () => new KafkaBus({ bootstrapServers: kafka.split(','), clientId: 'vitals-bench', partitions: 3 }), database: sqlite });
else skipped.push('kafka: set KAFKA_BOOTSTRAP_BENCH (or KAFKA_BOOTSTRAP_TEST), or pass --with-brokers');

for (const s of skipped) console.log(`SKIPPED ${s}`);
console.log(`messages: ${N} batched (${BATCH}/publish), ${SINGLE} single, ${LAT_N} for latency (one every ${LAT_GAP} ms), ${OUTBOX_N} through the outbox\n`);

const results = [];
let failed = false;
try {
  for (const impl of implementations) {
    process.stdout.write(`${impl.name} … `);
    try {
      const r = await measure(impl.name, impl.makeBus, impl.database);
      results.push(r);
      console.log('done');
    } catch (err) {
      failed = true;
      console.log(`FAILED: ${err.message}`);
      results.push({ implementation: impl.name, error: err.message });
    }
  }
} finally {
  await sqlite.close();
  await pgDatabase?.close();
  rmSync(home, { recursive: true, force: true });
  for (const script of started) spawnSync('bash', [script, 'stop'], { stdio: 'inherit' });
}

console.log();
printTable(
  results
    .filter((r) => !r.error)
    .map((r) => ({
      implementation: r.implementation,
      'publish msg/s (batches)': r.publish_batched_msgs_s,
      'publish msg/s (one by one)': r.publish_single_msgs_s,
      'publish→handler msg/s': r.end_to_end_msgs_s,
      'outbox→handler msg/s': r.outbox_to_handler_msgs_s ?? '',
      'latency p50 ms': r.latency_p50_ms,
      'p99 ms': r.latency_p99_ms,
      'max ms': r.latency_max_ms,
    })),
);
writeResult('messaging.json', { machine: machineInfo(), code: codeInfo(), options: { N, SINGLE, LAT_N, LAT_GAP, OUTBOX_N, BATCH }, skipped, results });
process.exit(failed ? 1 : 0);
