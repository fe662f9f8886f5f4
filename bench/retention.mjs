/**
 * The retention purge beside live predictions (SQLite): N old rows (default 200,000, 10 features
 * each) are purged while the prediction log records rows one after another with commit ack, and
 * the time each row takes to be committed is measured: with no purge (the reference), during the
 * batched purge (2,000 rows per transaction, 20 ms pause), and during the same purge as one delete
 * statement (what batching avoids). Also the cost of secure_delete=fast on inserts. Prints JSON and writes bench/results/retention.json.
 *
 *   npm run build && node bench/retention.mjs [rows]
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { AuditTrail } from '../dist/audit/index.js';
import { PredictionLog, purgePredictions } from '../dist/monitoring/index.js';
import { openDatabase } from '../dist/store/index.js';

const N = Number(process.argv[2] ?? 200_000);
const work = mkdtempSync(join(tmpdir(), 'vitals-bench-retention-'));
const DAY = 86400_000;
const ALL_COUNTED = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/** A UUIDv7 of a past millisecond (src/ids.ts's uuidv7 never goes back in time within a process). */
function oldId(ms) {
  const b = randomBytes(16);
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Inserts N old rows; returns the milliseconds it took (secure_delete as the store sets it, or off). */
function fillOld(file, secureDelete = 'fast') {
  const db = new SqliteDatabase(file);
  db.pragma('foreign_keys = OFF');
  db.pragma(`secure_delete = ${secureDelete}`);
  const t0 = performance.now();
  const ins = db.prepare(
    "insert into prediction_logs (id, model_id, version_id, model_name, version, source, input, prediction, latency_ms, created_at) values (?, 'm', 'v', 'bench', '1.0.0', 'api', ?, 'negative', 3.2, ?)",
  );
  const start = Date.now() - 200 * DAY;
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const input = JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, f) => [`f${f}`, Math.round(Math.random() * 1000) / 1000])));
      ins.run(oldId(start + i), input, new Date(start + i).toISOString());
    }
  })();
  const ms = performance.now() - t0;
  db.close();
  return ms;
}

function stats(latencies) {
  const s = [...latencies].sort((a, b) => a - b);
  const q = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 100) / 100;
  return { commits: s.length, p50_ms: q(0.5), p99_ms: q(0.99), max_ms: Math.round(s[s.length - 1] * 100) / 100 };
}

/** Records rows one at a time (each waits for its commit) until `until()` resolves; returns the commit latencies. */
async function load(log, until) {
  const latencies = [];
  let done = false;
  const stop = until().then(() => {
    done = true;
  });
  while (!done) {
    const t0 = performance.now();
    log.record({ model_id: 'm', model_name: 'bench', version_id: 'v', version: '1.0.0', source: 'api', input: { f0: Math.random() }, prediction: 'negative', latency_ms: 1 });
    await log.committed();
    latencies.push(performance.now() - t0);
  }
  await stop;
  return latencies;
}

try {
  const home = join(work, 'home');
  const database = await openDatabase(undefined, home);
  const file = join(home, 'vitals.db');
  const log = new PredictionLog(database, { flushMs: 20, batchSize: 500, ack: 'commit', groupMs: 2 });
  const audit = new AuditTrail();
  const purge = (batchSize) => purgePredictions(database, audit, { cutoff: new Date(Date.now() - 90 * DAY), countedUpTo: ALL_COUNTED, batchSize, pauseMs: 20, retentionDays: 90 });

  await load(log, () => new Promise((r) => setTimeout(r, 500))); // warm up the writer thread
  const idle = stats(await load(log, () => new Promise((r) => setTimeout(r, 3000))));

  // what secure_delete=fast (every store connection) costs when writing rows: compared with off
  const insertOff = fillOld(file, 'off');
  await purge(N + 1);
  const insertFast = fillOld(file);
  let t0 = performance.now();
  let batched;
  const duringBatched = stats(await load(log, async () => (batched = await purge(2000))));
  const batchedMs = Math.round(performance.now() - t0);

  fillOld(file);
  t0 = performance.now();
  let single;
  const duringSingle = stats(await load(log, async () => (single = await purge(N + 1))));
  const singleMs = Math.round(performance.now() - t0);

  await log.close();
  await database.close();
  const result = {
    old_rows: N,
    idle,
    during_batched_purge: { ...duringBatched, purge_ms: batchedMs, purged: batched.rows, batches: batched.batches, rows_per_s: Math.round((batched.rows / batchedMs) * 1000) },
    during_single_delete: { ...duringSingle, purge_ms: singleMs, purged: single.rows },
    insert_secure_delete_fast_vs_off: Math.round((insertFast / insertOff) * 100) / 100,
    batched_p99_vs_idle: Math.round((duringBatched.p99_ms / Math.max(0.01, idle.p99_ms)) * 10) / 10,
    single_max_vs_batched_max: Math.round((duringSingle.max_ms / Math.max(0.01, duringBatched.max_ms)) * 10) / 10,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/retention.json', `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
