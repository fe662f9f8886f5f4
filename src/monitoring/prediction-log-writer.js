// The prediction log's writer thread (node:worker_threads): its own database connection (SQLite in
// WAL mode, or a one-connection pg pool), group commit of the rows the main thread hands over, and
// the `prediction.recorded` outbox rows in the same transaction (none while no consumer group reads
// them, when the bus is the embedded one: it would drop them at publish). Plain JS, so the same file runs from
// src/ under vitest and from dist/ (like serving/inference-worker.js).
//
// main → worker: { type: 'rows', seq, rows: unknown[][] }   (positional, in COLUMNS order)
//                { type: 'flush' }                          (commit what is held now: a read waits for it)
//                { type: 'close' }                          (drain, close the connection, exit)
// worker → main: { type: 'ready' }
//                { type: 'committed', upTo: seq, rows, outbox }   (every batch ≤ upTo is durable)
//                { type: 'failed', upTo: seq, message }           (kept; retried after a back-off)
//                { type: 'closed', pending }
import { randomFillSync } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

/** The prediction_logs columns, in the order of a row's values (shared with prediction-log.ts). */
export const COLUMNS = [
  'id',
  'model_id',
  'model_name',
  'version_id',
  'version',
  'variant',
  'request_id',
  'source',
  'input',
  'prediction',
  'probabilities',
  'confidence',
  'latency_ms',
  'ground_truth',
  'ground_truth_at',
  'error',
  'ab_test_id',
  'shadow_of',
  'created_at',
  'study_uid',
  'accession_key',
  'ground_truth_source',
];
const OUTBOX_COLUMNS = ['id', 'topic', 'msg_key', 'payload', 'headers', 'attempts', 'last_error', 'created_at'];
const C = Object.fromEntries(COLUMNS.map((c, i) => [c, i]));

/** The summary published on `predictions` (no features, no image facts: no patient data on the bus). */
export function predictionEvent(r) {
  return {
    prediction_id: r[C.id],
    model_id: r[C.model_id],
    model_name: r[C.model_name],
    version_id: r[C.version_id],
    version: r[C.version],
    variant: r[C.variant],
    source: r[C.source],
    request_id: r[C.request_id],
    prediction: r[C.prediction],
    confidence: r[C.confidence],
    probabilities: r[C.probabilities] ? JSON.parse(r[C.probabilities]) : null,
    latency_ms: r[C.latency_ms],
    error: r[C.error] ?? null,
    created_at: r[C.created_at],
  };
}

// UUIDv7 as src/ids.ts makes them (time-ordered), for the outbox rows' ids.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;
let lastMs = 0;
let seqInMs = 0;
function random(n) {
  if (poolOffset + n > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += n;
  return pool.subarray(poolOffset - n, poolOffset);
}
function uuidv7() {
  let now = Date.now();
  if (now <= lastMs) {
    seqInMs = (seqInMs + 1) & 0xfff;
    if (seqInMs === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    seqInMs = random(2).readUInt16BE(0) & 0x7ff;
  }
  const b = Buffer.from(random(16));
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seqInMs >> 8);
  b[7] = seqInMs & 0xff;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The outbox rows of a batch, in the envelope messaging/outbox.ts writes. */
export function outboxRows(rows, topic, maxBytes) {
  const now = new Date().toISOString();
  const headers = JSON.stringify({ 'vitals-event-type': 'prediction.recorded' });
  const out = [];
  for (const r of rows) {
    const id = uuidv7();
    const payload = JSON.stringify({ event_id: id, type: 'prediction.recorded', occurred_at: now, source: 'vitals', data: predictionEvent(r) });
    // An event over MESSAGE_MAX_BYTES (a model with thousands of classes) is skipped, never the log row.
    if (Buffer.byteLength(payload) > maxBytes) continue;
    out.push([id, topic, r[C.model_id], payload, headers, 0, null, now]);
  }
  return out;
}

/** SQLite: synchronous writes on this thread, which is the point of having one. */
async function openSqlite({ file, synchronous }) {
  const { default: SqliteDatabase } = await import('better-sqlite3');
  const db = new SqliteDatabase(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  // Patient data must not outlive its rows: space freed or left behind by a page split is zeroed
  // (fast: only where that costs no extra I/O; the retention purge turns it fully on for its deletes).
  db.pragma('secure_delete = fast');
  // A re-sent batch (after a writer restart) finds its rows already there: keep the first copy.
  const insertLog = db.prepare(`insert into prediction_logs (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')}) on conflict (id) do nothing`);
  const insertOutbox = db.prepare(`insert into outbox (${OUTBOX_COLUMNS.join(', ')}) values (${OUTBOX_COLUMNS.map(() => '?').join(', ')})`);
  const hasGroup = db.prepare('select 1 from bus_groups where topic = ? limit 1').pluck();
  const write = db.transaction((rows, outbox) => {
    for (const r of rows) insertLog.run(r);
    // Read in the transaction: a group that subscribes after it gets the events committed after it.
    if (!outbox || (outbox.unreadGroupTopic && !hasGroup.get(outbox.unreadGroupTopic))) return 0;
    const events = outboxRows(rows, outbox.topic, outbox.maxBytes);
    for (const e of events) insertOutbox.run(e);
    return events.length;
  });
  return {
    write: async (rows, outbox) => write(rows, outbox),
    close: async () => db.close(),
  };
}

/** PostgreSQL: its own pool of one connection; multi-row INSERTs under the bound-parameter limit. */
async function openPostgres({ url }) {
  const { default: pg } = await import('pg');
  const client = new pg.Pool({ connectionString: url, max: 1 });
  const chunked = async (c, table, columns, rows, suffix) => {
    const per = Math.floor(30_000 / columns.length);
    for (let i = 0; i < rows.length; i += per) {
      const part = rows.slice(i, i + per);
      const values = part.map((_, j) => `(${columns.map((__, k) => `$${j * columns.length + k + 1}`).join(', ')})`).join(', ');
      await c.query(`insert into ${table} (${columns.join(', ')}) values ${values}${suffix}`, part.flat());
    }
  };
  return {
    async write(rows, outbox) {
      const c = await client.connect();
      try {
        await c.query('begin');
        await chunked(c, 'prediction_logs', COLUMNS, rows, ' on conflict (id) do nothing');
        let events = [];
        if (outbox && (!outbox.unreadGroupTopic || (await c.query('select 1 from bus_groups where topic = $1 limit 1', [outbox.unreadGroupTopic])).rowCount))
          events = outboxRows(rows, outbox.topic, outbox.maxBytes);
        if (events.length) await chunked(c, 'outbox', OUTBOX_COLUMNS, events, '');
        await c.query('commit');
        return events.length;
      } catch (err) {
        await c.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
    close: () => client.end(),
  };
}

async function main() {
  const { target, outbox, groupMs, groupRows, eager } = workerData;
  const store = target.kind === 'postgres' ? await openPostgres(target) : await openSqlite(target);
  /** batches received and not yet committed, in order */
  let pending = [];
  let pendingRows = 0;
  let writing = false;
  let timer;
  let lastCommitEnd = 0;
  let failures = 0;
  let closing = false;
  /** a reader waits for the rows held: commit them without the group wait (async ack's flushMs can be minutes) */
  let urgent = false;
  const cancel = () => {
    clearTimeout(timer);
    clearImmediate(timer);
    timer = undefined;
  };

  const schedule = () => {
    if (writing || timer || !pending.length) return;
    const since = performance.now() - lastCommitEnd;
    // Group commit: at most one commit per groupMs; a full group (or an idle writer, when eager) goes at once.
    const wait = failures ? Math.min(2000, 100 * 2 ** Math.min(failures, 5)) : pendingRows >= groupRows || closing || urgent ? 0 : eager ? Math.max(0, groupMs - since) : groupMs;
    timer = wait > 0 ? setTimeout(commit, wait) : setImmediate(commit);
  };

  async function commit() {
    timer = undefined;
    if (!pending.length) return;
    writing = true;
    const batches = pending;
    pending = [];
    pendingRows = 0;
    urgent = false;
    const rows = batches.length === 1 ? batches[0].rows : batches.flatMap((b) => b.rows);
    const upTo = batches[batches.length - 1].seq;
    try {
      const events = await store.write(rows, outbox);
      failures = 0;
      parentPort.postMessage({ type: 'committed', upTo, rows: rows.length, outbox: events });
    } catch (err) {
      failures++;
      pending = batches.concat(pending); // keep accepted rows, in order; retried after a back-off
      pendingRows += rows.length;
      parentPort.postMessage({ type: 'failed', upTo, message: String(err?.message ?? err) });
    } finally {
      writing = false;
      lastCommitEnd = performance.now();
      if (closing && !pending.length) finish();
      else schedule();
    }
  }

  let finished = false;
  async function finish() {
    if (finished) return;
    finished = true;
    cancel();
    await store.close().catch(() => undefined);
    parentPort.postMessage({ type: 'closed', pending: pendingRows });
    parentPort.close();
  }

  parentPort.on('message', (m) => {
    if (m.type === 'rows') {
      pending.push(m);
      pendingRows += m.rows.length;
      schedule();
    } else if (m.type === 'flush') {
      urgent = pending.length > 0;
      if (urgent && !writing && !failures) {
        cancel();
        schedule();
      }
    } else if (m.type === 'close') {
      closing = true;
      if (m.abandon || (!writing && !pending.length)) void finish();
      else if (!writing) {
        cancel();
        failures = 0;
        schedule();
      }
    }
  });
  parentPort.postMessage({ type: 'ready' });
}

if (parentPort && workerData?.target) {
  main().catch((err) => {
    parentPort.postMessage({ type: 'fatal', message: String(err?.message ?? err) });
    parentPort.close();
  });
}
