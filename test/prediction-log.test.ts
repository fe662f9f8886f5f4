/**
 * The prediction log's writer thread on a real SQLite file: rows committed by its own connection
 * (seen by a second one), the outbox rows in the same transaction, the 503 a caller waiting for its
 * commit gets when the write fails (and the row kept and written once the database recovers), and the
 * in-memory database that no second connection can open (written on the event loop instead).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PredictionLog, type PredictionOutbox, type PredictionRecord } from '../src/monitoring/prediction-log.js';
import { type Database, openDatabase } from '../src/store/index.js';

const entry = (i: number, over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  model_id: 'm1',
  model_name: 'breast-cancer',
  version_id: 'v1',
  version: '1.0.0',
  source: 'api',
  input: { mean_radius: i },
  prediction: 'benign',
  probabilities: { benign: 0.8, malignant: 0.2 },
  confidence: 0.8,
  latency_ms: 1.25,
  ...over,
});

/** The outbox as the writer thread uses it: its size limit and the relay's wake-up. */
function outboxProbe(): PredictionOutbox & { announced: number } {
  const probe = {
    announced: 0,
    maxMessageBytes: 1_000_000,
    announce: () => void probe.announced++,
    enqueueEvents: async () => {
      throw new Error('the writer thread writes outbox rows itself');
    },
  };
  return probe;
}

describe('the prediction log writer thread (SQLite file)', () => {
  let home: string;
  let database: Database;
  let reader: SqliteDatabase.Database;
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'vitals-plog-'));
    database = await openDatabase(undefined, home);
    reader = new SqliteDatabase(join(home, 'vitals.db'), { readonly: true });
  });
  afterEach(async () => {
    reader.close();
    await database.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers once rows are committed by its own connection, with their outbox events in the same transaction', async () => {
    const outbox = outboxProbe();
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit', outbox });
    expect(database.connection).toEqual({ kind: 'sqlite', file: join(home, 'vitals.db') });
    const ids = Array.from({ length: 300 }, (_, i) => log.record(entry(i)));
    expect(log.pending).toBe(300);
    await log.committed();
    expect(log.pending).toBe(0);
    // A second connection sees every row: the commit happened, not just a hand-over.
    const rows = reader.prepare('select id, input, probabilities, confidence from prediction_logs order by id').all() as Array<{
      id: string;
      input: string;
      probabilities: string;
      confidence: number;
    }>;
    expect(rows.map((r) => r.id)).toEqual(ids);
    expect(JSON.parse(rows[7]!.input)).toEqual({ mean_radius: 7 });
    expect(JSON.parse(rows[7]!.probabilities)).toEqual({ benign: 0.8, malignant: 0.2 });
    const events = reader.prepare("select topic, msg_key, payload, headers from outbox where topic = 'predictions'").all() as Array<{
      topic: string;
      msg_key: string;
      payload: string;
      headers: string;
    }>;
    expect(events).toHaveLength(300);
    const event = JSON.parse(events[0]!.payload);
    expect(event).toMatchObject({
      type: 'prediction.recorded',
      source: 'vitals',
      data: { prediction_id: ids[0], model_name: 'breast-cancer', prediction: 'benign', probabilities: { benign: 0.8, malignant: 0.2 } },
    });
    expect(event.data).not.toHaveProperty('input'); // no patient features on the bus
    expect(JSON.parse(events[0]!.headers)).toEqual({ 'vitals-event-type': 'prediction.recorded' });
    // The relay is woken (at most every 50 ms) for events another connection committed.
    for (let i = 0; i < 40 && !outbox.announced; i++) await new Promise((r) => setTimeout(r, 25));
    expect(outbox.announced).toBeGreaterThan(0);
    // Callers outside the predictor (external records) get the same promise.
    const external = await log.recordDurably(entry(999, { source: 'external' }));
    expect(reader.prepare('select source from prediction_logs where id = ?').get(external)).toEqual({ source: 'external' });
    // Reads through the log see the same rows (the ground-truth join by id).
    await expect(log.attachGroundTruth(ids[3]!, 'malignant')).resolves.toMatchObject({ id: ids[3], ground_truth: 'malignant', input: { mean_radius: 3 } });
    await log.close();
    expect(() => log.record(entry(0))).toThrow(/shutting down/);
  });

  it('on the embedded bus writes no prediction events while no consumer group reads them, and every one after a group subscribes', async () => {
    const outbox = { ...outboxProbe(), unreadDroppedFor: (topic: string) => `vitals.${topic}` };
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit', outbox });
    const count = () => (reader.prepare("select count(*) as n from outbox where topic = 'predictions'").get() as { n: number }).n;
    for (let i = 0; i < 50; i++) log.record(entry(i));
    await log.committed();
    expect(count()).toBe(0);
    // Another group on another topic does not count.
    await database.db.insertInto('bus_groups').values({ topic: 'vitals.alerts', group_name: 'pager', created_at: new Date().toISOString() }).execute();
    log.record(entry(50));
    await log.committed();
    expect(count()).toBe(0);
    await database.db.insertInto('bus_groups').values({ topic: 'vitals.predictions', group_name: 'warehouse', created_at: new Date().toISOString() }).execute();
    const after = Array.from({ length: 20 }, (_, i) => log.record(entry(100 + i)));
    await log.committed();
    expect(count()).toBe(20);
    const ids = (reader.prepare("select payload from outbox where topic = 'predictions' order by id").all() as Array<{ payload: string }>).map((r) => JSON.parse(r.payload).data.prediction_id);
    expect(ids).toEqual(after);
    expect((reader.prepare('select count(*) as n from prediction_logs').get() as { n: number }).n).toBe(71);
    await log.close();
  });

  it('answers a caller waiting for its commit with a 503 when the write fails, keeps the row and writes it once the database recovers', async () => {
    const errors: unknown[] = [];
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit', onError: (e) => errors.push(e) });
    const writer = new SqliteDatabase(join(home, 'vitals.db'));
    writer.exec(`create trigger poison before insert on prediction_logs when new.model_id = 'poisoned' begin select raise(abort, 'disk on fire'); end`);
    const id = log.record(entry(1, { model_id: 'poisoned' }));
    const failure = await log.committed().then(
      () => null,
      (e) => e,
    );
    expect(failure).toMatchObject({ code: 'LOG_UNAVAILABLE', statusCode: 503, details: { retry_after_seconds: 1 } });
    expect(String(failure.message)).toMatch(/disk on fire/);
    expect(errors.length).toBeGreaterThan(0);
    expect(log.pending).toBe(1);
    // The database recovers: the writer's retry commits the kept row.
    writer.exec('drop trigger poison');
    writer.close();
    for (let i = 0; i < 100 && log.pending; i++) await new Promise((r) => setTimeout(r, 50));
    expect(log.pending).toBe(0);
    expect(reader.prepare('select model_id from prediction_logs where id = ?').get(id)).toEqual({ model_id: 'poisoned' });
    await log.close();
  });

  it('restarts a writer thread that dies and writes every batch it had not acknowledged, once', async () => {
    const errors: unknown[] = [];
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit', onError: (e) => errors.push(e) });
    const first = Array.from({ length: 40 }, (_, i) => log.record(entry(i)));
    await log.committed();
    const second = Array.from({ length: 60 }, (_, i) => log.record(entry(100 + i)));
    await new Promise((r) => setImmediate(r)); // handed to the thread
    // The thread dies (as on an uncaught native error) with the second batch in hand.
    const writer = (log as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer;
    await writer.worker.terminate();
    await log.committed().catch(() => undefined); // those callers may get the 503; the rows are kept
    for (let i = 0; i < 100 && log.pending; i++) await new Promise((r) => setTimeout(r, 50));
    expect(log.pending).toBe(0);
    const ids = (reader.prepare('select id from prediction_logs order by id').all() as Array<{ id: string }>).map((r) => r.id);
    expect(ids).toEqual([...first, ...second]); // all of them, none twice
    await log.close();
  });

  it('starts no thread for a log that records nothing', async () => {
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000 });
    expect((log as unknown as { writer: { worker?: unknown } }).writer.worker).toBeUndefined();
    await log.close();
  });

  it('with async ack, keeps rows in the writer until flushMs and drains them on close', async () => {
    const log = new PredictionLog(database, { flushMs: 60_000, batchSize: 10_000, ack: 'async' });
    for (let i = 0; i < 49; i++) log.record(entry(i));
    await log.recordDurably(entry(49)); // async ack: resolves before the commit
    await new Promise((r) => setTimeout(r, 100));
    expect(reader.prepare('select count(*) as n from prediction_logs').get()).toEqual({ n: 0 });
    expect(log.pending).toBe(50);
    await log.close();
    expect(reader.prepare('select count(*) as n from prediction_logs').get()).toEqual({ n: 50 });
  });

  it('with async ack, a read (the monitoring window) commits the held rows now instead of waiting for flushMs', async () => {
    // flushMs of 10 minutes: before, window() waited for it, and `vitals serve` hung on SIGTERM with a check in that read
    const log = new PredictionLog(database, { flushMs: 600_000, batchSize: 10_000, ack: 'async' });
    const ids = Array.from({ length: 30 }, (_, i) => log.record(entry(i)));
    const window = await log.window('v1', 100);
    expect(window.map((e) => e.id)).toEqual([...ids].reverse());
    expect(reader.prepare('select count(*) as n from prediction_logs').get()).toEqual({ n: 30 });
    // rows that arrive while that commit runs are committed right after it by the next read
    const more = Array.from({ length: 5 }, (_, i) => log.record(entry(100 + i)));
    expect(await log.count('m1')).toBe(35);
    expect((await log.get(more[4]!)).input).toEqual({ mean_radius: 104 });
    await log.close();
  });
});

describe('the prediction log on in-memory SQLite', () => {
  it('writes on the event loop (no second connection can open the database) with the same contract', async () => {
    const database = await openDatabase('sqlite::memory:', tmpdir());
    expect(database.connection).toBeUndefined();
    const log = new PredictionLog(database, { flushMs: 10_000, batchSize: 10_000, ack: 'commit' });
    const ids = Array.from({ length: 20 }, (_, i) => log.record(entry(i)));
    await log.committed();
    expect(log.pending).toBe(0);
    expect(await log.count('m1')).toBe(20);
    expect((await log.get(ids[5]!)).input).toEqual({ mean_radius: 5 });
    await log.close();
    await database.close();
  });

  it('with async ack, a read commits the held rows now (the same contract as the writer thread)', async () => {
    const database = await openDatabase('sqlite::memory:', tmpdir());
    const log = new PredictionLog(database, { flushMs: 600_000, batchSize: 10_000, ack: 'async' });
    const ids = Array.from({ length: 20 }, (_, i) => log.record(entry(i)));
    expect((await log.window('v1', 100)).map((e) => e.id)).toEqual([...ids].reverse());
    await log.close();
    await database.close();
  });
});
