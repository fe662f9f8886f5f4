/**
 * The prediction log: one row per prediction, written in batches off the request path.
 * `record` returns the id at once; rows are flushed every `flushMs` or `batchSize` rows.
 * A failed flush keeps the rows and retries; `close()` drains everything (SIGTERM path).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Transaction } from 'kysely';
import { VitalsError, notFound } from '../errors.js';
import { nowIso, uuidv7, uuidv7Floor } from '../ids.js';
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import type { Metrics } from '../metrics.js';
import type { Database, PredictionLogsTable, Schema } from '../store/index.js';
import { COLUMNS, predictionEvent } from './prediction-log-writer.js';
import { type WindowSource, toEntry } from './log-windows.js';
import { type LabelSpaceOf, checkLabel, labelConflict, reportLabelRefused } from './ground-truth.js';
import { type PurgeOptions, type PurgeResult, purgePredictions } from './prediction-retention.js';

export interface PredictionRecord {
  model_id: string;
  model_name: string;
  version_id?: string | null;
  version?: string | null;
  variant?: string | null;
  request_id?: string | null;
  source: 'api' | 'image' | 'external' | 'kserve' | 'batch';
  input: unknown;
  prediction?: string | number | null;
  probabilities?: Record<string, number> | number[] | null;
  confidence?: number | null;
  latency_ms?: number | null;
  ground_truth?: string | number | null;
  /** error code when the prediction failed */
  error?: string | null;
  /** the release test that routed it, and for a shadow copy the prediction it copied */
  ab_test_id?: string | null;
  shadow_of?: string | null;
  /** the imaged study, de-identified (multimodal/study-identity.ts): what a report is matched by */
  study_uid?: string | null;
  accession_key?: string | null;
}

/** Where a label came from: a person or system through the API, a bus message, or a radiology report. */
export type GroundTruthSource = 'api' | 'message' | 'report';

export interface PredictionLogEntry {
  id: string;
  model_id: string;
  model_name: string;
  version_id: string | null;
  version: string | null;
  variant: string | null;
  request_id: string | null;
  source: string;
  input: unknown;
  prediction: string | null;
  probabilities: Record<string, number> | number[] | null;
  confidence: number | null;
  latency_ms: number | null;
  ground_truth: string | null;
  ground_truth_at: string | null;
  /** api | message | report; null for labels older than the column */
  ground_truth_source: string | null;
  study_uid: string | null;
  accession_key: string | null;
  error: string | null;
  ab_test_id?: string | null;
  shadow_of?: string | null;
  created_at: string;
}

/** The messaging outbox, as the log uses it: a `prediction.recorded` event per row, in the same transaction. */
export interface PredictionOutbox {
  enqueueEvents(tx: Transaction<Schema>, topic: string, events: Array<{ type: string; data: Record<string, unknown>; key?: string | null }>): Promise<string[]>;
  /** the largest event accepted (MESSAGE_MAX_BYTES); the writer thread skips larger events, never the row */
  readonly maxMessageBytes?: number;
  /** wakes the relay after rows were committed by another connection (the writer thread) */
  announce?(): void;
  /**
   * The bus_groups name of `topic` when the bus drops events no consumer group reads (the embedded
   * bus): the writer then skips them while no group subscribes, instead of writing, relaying and
   * dropping one event per prediction.
   */
  unreadDroppedFor?(topic: string): string | null;
}

/**
 * When a prediction is answered relative to its row's commit:
 * - `commit` (default): after the row is committed (group commit), so an answered prediction is never lost;
 * - `async`: at once; rows accepted in the last moments before a crash (SIGKILL, OOM, power loss) are lost.
 */
export type PredictionLogAck = 'commit' | 'async';

export interface PredictionLogOptions {
  /** async ack: the longest a row waits in the writer before its group is committed */
  flushMs: number;
  /** a group this large commits at once */
  batchSize: number;
  ack?: PredictionLogAck;
  /** commit ack: at most one commit per this many ms (group commit); an idle writer commits at once */
  groupMs?: number;
  /** SQLite writer connection: NORMAL survives a process crash; FULL also survives power loss (an fsync per commit) */
  synchronous?: 'normal' | 'full';
  outbox?: PredictionOutbox;
  /** when given, every ground-truth write records its old and new value in the audit trail */
  audit?: AuditRecorder;
  /** when given, ground truth must be one of the prediction's model labels (or a number for regression) */
  labelSpaceOf?: LabelSpaceOf;
  metrics?: Metrics;
  onError?: (err: unknown) => void;
}

/** The longest a committed row's event waits before the relay is woken (it also polls on its own). */
const ANNOUNCE_MS = 50;

/** Rows accepted but not yet committed, at most: ~100k rows is tens of MB. */
export const MAX_QUEUED_ROWS = 100_000;

type Row = unknown[];
interface Batch {
  seq: number;
  rows: Row[];
  ids: Set<string> | null;
  committed: Deferred;
  /** settles on the first commit or failure: what reads wait for */
  attempted: Deferred;
}

/** A write failure's answer to a caller waiting for its commit (the row is kept and retried). */
const unavailable = (message: string) =>
  new VitalsError('LOG_UNAVAILABLE', `the prediction could not be recorded (${message.split('\n')[0]}); it was not answered, retry shortly`, { retry_after_seconds: 1 });

export class PredictionLog {
  readonly ack: PredictionLogAck;
  private queue: Row[] = [];
  private dispatchScheduled = false;
  private seq = 0;
  /** batches handed to the writer and not yet committed, oldest first */
  private readonly inflight: Batch[] = [];
  private inflightRows = 0;
  private open: Batch;
  private closed = false;
  private readonly writer: LogWriter;
  private readonly observers: Array<(versionId: string | null) => void> = [];

  constructor(
    private readonly database: Database,
    private readonly options: PredictionLogOptions,
  ) {
    this.ack = options.ack ?? 'commit';
    this.open = this.newBatch();
    const events = { committed: (upTo: number) => this.committedUpTo(upTo), failed: (upTo: number, message: string) => this.failedUpTo(upTo, message) };
    const target = writerTarget(database);
    this.writer = target ? new ThreadWriter(target, options, this.ack, events) : new InlineWriter(database, options, this.ack, events);
  }

  /** Called after every recorded prediction (the monitor counts them to trigger checks). */
  onRecord(observer: (versionId: string | null) => void): void {
    this.observers.push(observer);
  }

  /** Accepts a row and returns its id at once; `committed()` says when it is durable. */
  record(entry: PredictionRecord): string {
    if (this.closed) throw new VitalsError('SHUTTING_DOWN', 'the server is shutting down; retry against another replica', { retry_after_seconds: 1 });
    // Bounded memory: while the database cannot keep up (or is down), refuse rather than grow without limit.
    if (this.pending >= MAX_QUEUED_ROWS) {
      throw new VitalsError('LOG_BACKLOG_FULL', `the prediction log has ${this.pending} rows waiting for the database; retry shortly`, { retry_after_seconds: 1 });
    }
    const id = uuidv7();
    const now = nowIso();
    const truth = entry.ground_truth ?? null;
    // Positional, in COLUMNS order: the cheapest shape to hand to the writer thread.
    this.queue.push([
      id,
      entry.model_id,
      entry.model_name,
      entry.version_id ?? null,
      entry.version ?? null,
      entry.variant ?? null,
      entry.request_id ?? null,
      entry.source,
      JSON.stringify(entry.input ?? null),
      entry.prediction === undefined || entry.prediction === null ? null : String(entry.prediction),
      entry.probabilities ? JSON.stringify(entry.probabilities) : null,
      entry.confidence ?? null,
      entry.latency_ms ?? null,
      truth === null ? null : String(truth),
      truth === null ? null : now,
      entry.error ?? null,
      entry.ab_test_id ?? null,
      entry.shadow_of ?? null,
      now,
      entry.study_uid ?? null,
      entry.accession_key ?? null,
      truth === null ? null : 'api',
    ]);
    for (const observe of this.observers) observe(entry.version_id ?? null);
    // Everything recorded in one turn of the event loop goes to the writer as one batch.
    if (this.queue.length >= this.options.batchSize) this.dispatch();
    else if (!this.dispatchScheduled) {
      this.dispatchScheduled = true;
      setImmediate(() => this.dispatch());
    }
    return id;
  }

  /**
   * Records a row for an answer that names its id: with ack=commit resolves once the row is committed
   * (rejects 503 when the write failed), with ack=async at once. For callers outside the predictor.
   */
  async recordDurably(entry: PredictionRecord): Promise<string> {
    const id = this.record(entry);
    if (this.ack === 'commit') await this.committed();
    return id;
  }

  /**
   * Resolves when every row recorded so far is committed; rejects (503, the row is kept and
   * retried) when its write failed. The predictor awaits this before answering when ack=commit.
   */
  committed(): Promise<void> {
    const last = this.queue.length ? this.open : this.inflight[this.inflight.length - 1];
    return last ? last.committed.promise : Promise.resolve();
  }

  /** Rows accepted and not yet committed. */
  get pending(): number {
    return this.queue.length + this.inflightRows;
  }

  /** Waits until every row recorded so far has been written (or its write has failed: rows are kept and retried). */
  async flush(): Promise<void> {
    this.dispatch();
    const last = this.inflight[this.inflight.length - 1];
    if (!last) return;
    // Without this, a read under async ack waited for the next group commit (PREDICTION_LOG_FLUSH_MS),
    // and shutdown waited for a monitoring check stuck in that read.
    this.writer.commitNow();
    await last.attempted.promise;
  }

  private newBatch(): Batch {
    return { seq: ++this.seq, rows: [], ids: null, committed: deferred(true), attempted: deferred(false) };
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    if (!this.queue.length) return;
    const batch = this.open;
    batch.rows = this.queue;
    this.queue = [];
    this.open = this.newBatch();
    this.inflight.push(batch);
    this.inflightRows += batch.rows.length;
    this.options.metrics?.predictionLogQueue.set(this.pending);
    this.writer.send(batch.seq, batch.rows);
  }

  private committedUpTo(upTo: number): void {
    let rows = 0;
    while (this.inflight.length && this.inflight[0]!.seq <= upTo) {
      const b = this.inflight.shift()!;
      rows += b.rows.length;
      this.inflightRows -= b.rows.length;
      b.committed.resolve();
      b.attempted.resolve();
    }
    this.options.metrics?.predictionLogWritten.inc(rows);
    this.options.metrics?.predictionLogQueue.set(this.pending);
    this.announceOutbox();
  }

  private announceTimer?: NodeJS.Timeout;
  /** Wakes the relay at most every ANNOUNCE_MS: one relay pass per group commit would cost more than the commits. */
  private announceOutbox(): void {
    const outbox = this.options.outbox;
    if (!outbox?.announce || this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = undefined;
      outbox.announce?.();
    }, ANNOUNCE_MS);
    this.announceTimer.unref();
  }

  private failedUpTo(upTo: number, message: string): void {
    this.options.metrics?.predictionLogFailures.inc();
    this.options.onError?.(new Error(`prediction log write failed: ${message}`));
    for (const b of this.inflight) {
      if (b.seq > upTo) break;
      // Callers waiting on this batch get a 503 now; the rows stay with the writer and are retried.
      b.committed.reject(unavailable(message));
      b.attempted.resolve();
    }
  }

  /** Is this id recorded and not yet committed? (reads of it wait for the commit) */
  private isPending(id: string): boolean {
    if (this.queue.some((r) => r[0] === id)) return true;
    return this.inflight.some((b) => (b.ids ??= new Set(b.rows.map((r) => r[0] as string))).has(id));
  }

  /**
   * Attaches a label that arrived later (checked against the model's labels when `labelSpaceOf` is
   * given). The same label again is a no-op (redelivered messages). A different label:
   * - from a report (`source: 'report'`) replaces only an earlier report's label (a corrected
   *   report); it never replaces a label a person or system gave (409, and the label stays);
   * - from the API or a message replaces a report's label (those are derived, a person's is not),
   *   and replaces another API/message label only with `overwrite`.
   * Returns the entry and the label it had before.
   */
  async attachGroundTruth(
    predictionId: string,
    groundTruth: string | number,
    audit?: AuditContext,
    options: { overwrite?: boolean; source?: GroundTruthSource } = {},
  ): Promise<PredictionLogEntry & { previous: string | null }> {
    if (this.isPending(predictionId)) await this.flush();
    const row = await this.database.db.selectFrom('prediction_logs').select(['model_id', 'model_name', 'version_id']).where('id', '=', predictionId).executeTakeFirst();
    if (!row) throw notFound(`prediction "${predictionId}"`, 'PREDICTION_NOT_FOUND');
    // Read before the transaction: the registry reads on its own connection.
    const value = checkLabel(this.options.labelSpaceOf ? await this.options.labelSpaceOf(row) : null, groundTruth, row.model_name);
    const source = options.source ?? 'api';
    const now = nowIso();
    const previous = await this.database.db.transaction().execute(async (tx) => {
      const current = await tx.selectFrom('prediction_logs').select(['ground_truth', 'ground_truth_source']).where('id', '=', predictionId).executeTakeFirst();
      const old = current?.ground_truth ?? null;
      const oldSource = old === null ? null : (current?.ground_truth_source ?? 'api'); // labels older than the column were given, not derived
      const record = (action: string) =>
        this.options.audit?.record(tx, {
          action,
          target: `prediction:${predictionId}`,
          context: audit,
          actor: audit ? undefined : 'system',
          details: { old, new: value, source, ...(oldSource && oldSource !== source ? { previous_source: oldSource } : {}) },
        });
      if (old === value) {
        // a person confirming a report's label makes it theirs: a later report no longer replaces it
        if (oldSource === 'report' && source !== 'report') {
          await tx.updateTable('prediction_logs').set({ ground_truth_source: source }).where('id', '=', predictionId).executeTakeFirst();
          await record('ground_truth.confirm');
        }
        return old;
      }
      if (old !== null && oldSource !== 'report') {
        if (source === 'report') throw reportLabelRefused(predictionId, old, oldSource!, value);
        if (!options.overwrite) throw labelConflict(predictionId, old, value);
      }
      await tx.updateTable('prediction_logs').set({ ground_truth: value, ground_truth_at: now, ground_truth_source: source }).where('id', '=', predictionId).executeTakeFirst();
      await record(old === null ? 'ground_truth.set' : 'ground_truth.overwrite');
      return old;
    });
    return { ...(await this.get(predictionId)), previous };
  }

  async get(predictionId: string): Promise<PredictionLogEntry> {
    if (this.isPending(predictionId)) await this.flush();
    const row = await this.database.db.selectFrom('prediction_logs').selectAll().where('id', '=', predictionId).executeTakeFirst();
    if (!row) throw notFound(`prediction "${predictionId}"`, 'PREDICTION_NOT_FOUND');
    return toEntry(row);
  }

  /** The latest entries of a model (optionally one version, optionally only those made at or after `since`), newest first. */
  async list(filter: { modelId: string; versionId?: string; limit?: number; withGroundTruth?: boolean; since?: string }): Promise<PredictionLogEntry[]> {
    await this.flush();
    let q = this.database.db.selectFrom('prediction_logs').selectAll().where('model_id', '=', filter.modelId);
    if (filter.versionId) q = q.where('version_id', '=', filter.versionId);
    // ids are time-ordered: a bound on the id keeps this a range scan of the (model_id, id) index
    if (filter.since) q = q.where('id', '>=', uuidv7Floor(Date.parse(filter.since)));
    if (filter.withGroundTruth) q = q.where('ground_truth', 'is not', null).where('error', 'is', null);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toEntry);
  }

  /** The last `size` entries of a version (successes and failures), newest first: the monitoring window. */
  /**
   * How another thread reads the rows (the report worker's own connection; absent for in-memory
   * SQLite). Call `flush()` first: the writer then has committed every row recorded so far.
   */
  get windowSource(): WindowSource | undefined {
    return this.database.connection;
  }

  async window(versionId: string, size: number): Promise<PredictionLogEntry[]> {
    await this.flush();
    const rows = await this.database.db.selectFrom('prediction_logs').selectAll().where('version_id', '=', versionId).orderBy('id', 'desc').limit(size).execute();
    return rows.map(toEntry);
  }

  /** The last `size` labelled, successful entries of a version, newest first: the decay window. */
  async labelledWindow(versionId: string, size: number): Promise<PredictionLogEntry[]> {
    await this.flush();
    const rows = await this.database.db
      .selectFrom('prediction_logs')
      .selectAll()
      .where('version_id', '=', versionId)
      .where('ground_truth', 'is not', null)
      .where('error', 'is', null)
      .orderBy('id', 'desc')
      .limit(size)
      .execute();
    return rows.map(toEntry);
  }

  /** Successful predictions of one study (by its remapped UID or its accession key), oldest first. */
  async findByStudy(keys: { study_uid: string | null; accession_key: string | null }, limit = 1000): Promise<PredictionLogEntry[]> {
    const { study_uid, accession_key } = keys;
    if (!study_uid && !accession_key) return [];
    await this.flush();
    const rows = await this.database.db
      .selectFrom('prediction_logs')
      .selectAll()
      .where((eb) => eb.or([...(study_uid ? [eb('study_uid', '=', study_uid)] : []), ...(accession_key ? [eb('accession_key', '=', accession_key)] : [])]))
      .where('error', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  async count(modelId?: string): Promise<number> {
    await this.flush();
    let q = this.database.db.selectFrom('prediction_logs').select((eb) => eb.fn.countAll<number>().as('n'));
    if (modelId) q = q.where('model_id', '=', modelId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Deletes rows past retention that the rollups already counted, in batches, with one audit row (prediction-retention.ts). */
  purge(options: PurgeOptions): Promise<PurgeResult> {
    return purgePredictions(this.database, this.options.audit, options);
  }

  /** Stops accepting rows, writes what is queued (retrying a failing database a few times) and stops the writer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatch();
    const left = await this.writer.close();
    if (this.announceTimer) {
      clearTimeout(this.announceTimer);
      this.announceTimer = undefined;
      this.options.outbox?.announce?.(); // the last rows' events go out without waiting for a poll
    }
    if (left > 0) this.options.onError?.(new Error(`prediction log closed with ${left} rows it could not write`));
  }
}

// ---------------------------------------------------------------- writers ---

interface Deferred {
  promise: Promise<void>;
  settled: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(rejectable: boolean): Deferred {
  const d = { settled: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = () => {
      d.settled = true;
      resolve();
    };
    d.reject = (err) => {
      if (d.settled) return;
      d.settled = true;
      if (rejectable) reject(err);
      else resolve();
    };
  });
  // A batch nobody waits on may fail: that must not be an unhandled rejection.
  d.promise.catch(() => undefined);
  return d;
}

interface WriterEvents {
  committed(upTo: number): void;
  failed(upTo: number, message: string): void;
}

/** Takes batches in order, commits them in groups, reports progress; close() drains and returns the rows it could not write. */
interface LogWriter {
  send(seq: number, rows: Row[]): void;
  /** commit what has been sent without waiting for the group interval (a reader waits for it) */
  commitNow(): void;
  close(): Promise<number>;
}

type WriterTarget = NonNullable<Database['connection']>;

function writerTarget(database: Database): WriterTarget | undefined {
  return database.connection;
}

/** A failing database is retried this many times after close() before the rows are given up. */
const CLOSE_ATTEMPTS = 5;

/** The writer thread (prediction-log-writer.js) with its own connection: no database work on the event loop. */
class ThreadWriter implements LogWriter {
  private worker?: Worker;
  private readonly unacked = new Map<number, Row[]>();
  private closing?: { failures: number; done: () => void };
  private exited = false;
  private restarting = false;

  constructor(
    private readonly target: WriterTarget,
    private readonly options: PredictionLogOptions,
    private readonly ack: PredictionLogAck,
    private readonly events: WriterEvents,
  ) {}

  private start(): void {
    const o = this.options.outbox;
    const outbox = o ? { topic: 'predictions', maxBytes: o.maxMessageBytes ?? 1_000_000, unreadGroupTopic: o.unreadDroppedFor?.('predictions') ?? null } : null;
    const worker = new Worker(fileURLToPath(new URL('./prediction-log-writer.js', import.meta.url)), {
      workerData: {
        target: this.target.kind === 'sqlite' ? { ...this.target, synchronous: this.options.synchronous ?? 'normal' } : this.target,
        outbox,
        // commit ack: at most one commit per groupMs, at once when idle; async: every flushMs or batchSize rows.
        eager: this.ack === 'commit',
        groupMs: this.ack === 'commit' ? (this.options.groupMs ?? 2) : this.options.flushMs,
        groupRows: this.options.batchSize,
      },
    });
    this.worker = worker;
    this.exited = false;
    worker.unref();
    worker.on('message', (m: { type: string; upTo?: number; message?: string }) => {
      if (this.worker !== worker) return; // a replaced thread (its committed rows are skipped on resend)
      if (m.type === 'committed') {
        for (const seq of this.unacked.keys()) if (seq <= m.upTo!) this.unacked.delete(seq);
        if (!this.unacked.size && !this.closing) worker.unref();
        this.events.committed(m.upTo!);
      } else if (m.type === 'failed') {
        this.events.failed(m.upTo!, m.message ?? 'unknown error');
        if (this.closing && ++this.closing.failures >= CLOSE_ATTEMPTS) worker.postMessage({ type: 'close', abandon: true });
      } else if (m.type === 'fatal') {
        this.fail(m.message ?? 'the writer could not start');
      } else if (m.type === 'closed') {
        this.exited = true;
        this.closing?.done();
      }
    });
    worker.on('error', (err) => this.worker === worker && this.fail(String(err.message ?? err)));
    worker.on('exit', () => {
      if (this.exited || this.worker !== worker) return;
      this.exited = true;
      if (this.closing) this.closing.done();
      else this.fail('the writer thread stopped');
    });
  }

  /** The thread died (or could not open the database): report the batches it held, start a new one and send them again. */
  private fail(message: string): void {
    const last = Math.max(0, ...this.unacked.keys());
    if (last) this.events.failed(last, message);
    if (this.closing) {
      if (++this.closing.failures >= CLOSE_ATTEMPTS) {
        this.closing.done();
        return;
      }
    }
    const old = this.worker;
    this.exited = true;
    this.restarting = true;
    void old?.terminate();
    setTimeout(() => {
      this.restarting = false;
      this.start();
      // The rows it may have committed before dying are skipped by the insert's ON CONFLICT (id) DO NOTHING.
      for (const [seq, rows] of this.unacked) this.post(seq, rows);
      if (this.closing) this.worker!.postMessage({ type: 'close' });
    }, 500).unref();
  }

  private post(seq: number, rows: Row[]): void {
    this.worker!.ref(); // rows in flight keep the process alive until they are committed
    this.worker!.postMessage({ type: 'rows', seq, rows });
  }

  send(seq: number, rows: Row[]): void {
    if (!this.worker) this.start(); // on the first row: a CLI command that logs nothing starts no thread
    this.unacked.set(seq, rows);
    if (!this.exited) this.post(seq, rows);
  }

  commitNow(): void {
    if (this.worker && !this.exited) this.worker.postMessage({ type: 'flush' });
  }

  async close(): Promise<number> {
    if (!this.worker) return 0;
    await new Promise<void>((done) => {
      this.closing = { failures: 0, done };
      if (this.exited && !this.restarting) return done(); // a restart in progress sends `close` itself
      if (this.exited) return;
      this.worker!.ref();
      this.worker!.postMessage({ type: 'close' }); // commits what it holds at once, then closes
    });
    await this.worker.terminate().catch(() => undefined);
    let left = 0;
    for (const rows of this.unacked.values()) left += rows.length;
    return left;
  }
}

/** In-memory SQLite only (no second connection can open it): the same group commit on the event loop. */
class InlineWriter implements LogWriter {
  private pending: Array<{ seq: number; rows: Row[] }> = [];
  private writing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private urgent = false;

  constructor(
    private readonly database: Database,
    private readonly options: PredictionLogOptions,
    private readonly ack: PredictionLogAck,
    private readonly events: WriterEvents,
  ) {}

  send(seq: number, rows: Row[]): void {
    this.pending.push({ seq, rows });
    this.schedule();
  }

  commitNow(): void {
    if (this.failures) return; // backing off after a failure
    this.urgent = true; // while a commit runs: the rows that came meanwhile go right after it
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.writing || this.timer || !this.pending.length) return;
    const rows = this.pending.reduce((n, b) => n + b.rows.length, 0);
    const wait = this.failures ? Math.max(1000, this.options.flushMs) : rows >= this.options.batchSize || this.ack === 'commit' || this.urgent ? 0 : this.options.flushMs;
    this.urgent = false;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.commit().finally(() => {
        this.writing = undefined;
        this.schedule();
      });
    }, wait);
  }

  private async commit(): Promise<void> {
    const batches = this.pending;
    this.pending = [];
    const upTo = batches[batches.length - 1]!.seq;
    try {
      await this.write(batches.flatMap((b) => b.rows).map(toTableRow));
      this.failures = 0;
      this.events.committed(upTo);
    } catch (err) {
      this.failures++;
      this.pending = batches.concat(this.pending);
      this.events.failed(upTo, String((err as Error).message ?? err));
    }
  }

  private async write(rows: PredictionLogsTable[]): Promise<void> {
    // Chunks keep each statement under SQLite's bound-parameter limit.
    const chunk = 200;
    await this.database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += chunk)
        await tx
          .insertInto('prediction_logs')
          .values(rows.slice(i, i + chunk))
          .execute();
      const outbox = this.options.outbox;
      if (outbox)
        await outbox.enqueueEvents(
          tx,
          'predictions',
          rows.map((r) => ({ type: 'prediction.recorded', key: r.model_id, data: predictionEvent(COLUMNS.map((c) => r[c as keyof PredictionLogsTable])) })),
        );
    });
  }

  async close(): Promise<number> {
    for (let attempt = 0; attempt <= CLOSE_ATTEMPTS; attempt++) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      while (this.writing) await this.writing;
      if (!this.pending.length) return 0;
      if (attempt) await new Promise((r) => setTimeout(r, 200 * attempt));
      this.writing = this.commit();
      await this.writing;
      this.writing = undefined;
    }
    if (this.timer) clearTimeout(this.timer);
    return this.pending.reduce((n, b) => n + b.rows.length, 0);
  }
}

function toTableRow(r: Row): PredictionLogsTable {
  return Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]])) as unknown as PredictionLogsTable;
}
