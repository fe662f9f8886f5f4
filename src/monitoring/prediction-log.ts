/**
 * The prediction log: one row per prediction, written in batches off the request path.
 * `record` returns the id at once; rows are flushed every `flushMs` or `batchSize` rows.
 * A failed flush keeps the rows and retries; `close()` drains everything (SIGTERM path).
 */
import type { Transaction } from 'kysely';
import { VitalsError, notFound } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { Database, PredictionLogsTable, Schema } from '../store/index.js';

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
}

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
  error: string | null;
  ab_test_id?: string | null;
  shadow_of?: string | null;
  created_at: string;
}

/** The messaging outbox, as the log uses it: a `prediction.recorded` event per row, in the same transaction. */
export interface PredictionOutbox {
  enqueueEvents(tx: Transaction<Schema>, topic: string, events: Array<{ type: string; data: Record<string, unknown>; key?: string | null }>): Promise<string[]>;
}

export interface PredictionLogOptions {
  flushMs: number;
  batchSize: number;
  outbox?: PredictionOutbox;
  metrics?: Metrics;
  onError?: (err: unknown) => void;
}

/** Rows accepted but not yet written, at most: ~100k rows is tens of MB. */
export const MAX_QUEUED_ROWS = 100_000;

export class PredictionLog {
  private queue: PredictionLogsTable[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private closed = false;
  private readonly observers: Array<(versionId: string | null) => void> = [];

  constructor(
    private readonly database: Database,
    private readonly options: PredictionLogOptions,
  ) {}

  /** Called after every recorded prediction (the monitor counts them to trigger checks). */
  onRecord(observer: (versionId: string | null) => void): void {
    this.observers.push(observer);
  }

  record(entry: PredictionRecord): string {
    if (this.closed) throw new VitalsError('SHUTTING_DOWN', 'the server is shutting down; retry against another replica');
    // Bounded memory: while the database cannot keep up (or is down), refuse rather than grow without limit.
    if (this.queue.length >= MAX_QUEUED_ROWS) {
      throw new VitalsError('LOG_BACKLOG_FULL', `the prediction log has ${this.queue.length} rows waiting for the database; retry shortly`);
    }
    const id = uuidv7();
    const now = nowIso();
    const truth = entry.ground_truth ?? null;
    this.queue.push({
      id,
      model_id: entry.model_id,
      model_name: entry.model_name,
      version_id: entry.version_id ?? null,
      version: entry.version ?? null,
      variant: entry.variant ?? null,
      request_id: entry.request_id ?? null,
      source: entry.source,
      input: JSON.stringify(entry.input ?? null),
      prediction: entry.prediction === undefined || entry.prediction === null ? null : String(entry.prediction),
      probabilities: entry.probabilities ? JSON.stringify(entry.probabilities) : null,
      confidence: entry.confidence ?? null,
      latency_ms: entry.latency_ms ?? null,
      ground_truth: truth === null ? null : String(truth),
      ground_truth_at: truth === null ? null : now,
      error: entry.error ?? null,
      ab_test_id: entry.ab_test_id ?? null,
      shadow_of: entry.shadow_of ?? null,
      created_at: now,
    });
    this.options.metrics?.predictionLogQueue.set(this.queue.length);
    for (const observe of this.observers) observe(entry.version_id ?? null);
    // One flush at a time: a full queue during a write is picked up when that write ends.
    if (this.queue.length >= this.options.batchSize) {
      if (!this.flushing) void this.flush();
    } else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
    return id;
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued so far. Concurrent callers share one flush at a time. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (!this.queue.length) return;
    const rows = this.queue;
    this.queue = [];
    this.flushing = this.write(rows)
      .catch((err) => {
        this.queue = rows.concat(this.queue); // keep accepted rows; retry on the next flush
        this.options.metrics?.predictionLogFailures.inc();
        this.options.onError?.(err);
        if (!this.closed && !this.timer) this.timer = setTimeout(() => void this.flush(), Math.max(1000, this.options.flushMs));
      })
      .finally(() => {
        this.flushing = undefined;
        this.options.metrics?.predictionLogQueue.set(this.queue.length);
        if (this.queue.length >= this.options.batchSize) void this.flush();
      });
    await this.flushing;
  }

  private async write(rows: PredictionLogsTable[]): Promise<void> {
    // Chunks keep each statement under SQLite's and PostgreSQL's bound-parameter limits.
    const chunk = 200;
    await this.database.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += chunk) {
        await tx.insertInto('prediction_logs').values(rows.slice(i, i + chunk)).execute();
        // better-sqlite3 writes on this thread: let waiting requests run between chunks.
        await new Promise((r) => setImmediate(r));
      }
      // Summaries only: features and image facts stay in the log (no patient data on the bus).
      await this.options.outbox?.enqueueEvents(tx, 'predictions', rows.map((r) => ({ type: 'prediction.recorded', key: r.model_id, data: predictionEvent(r) })));
    });
    this.options.metrics?.predictionLogWritten.inc(rows.length);
  }

  /** Attaches a label that arrived later. Returns the updated entry. */
  async attachGroundTruth(predictionId: string, groundTruth: string | number): Promise<PredictionLogEntry> {
    if (this.queue.some((r) => r.id === predictionId)) await this.flush();
    const now = nowIso();
    const result = await this.database.db
      .updateTable('prediction_logs')
      .set({ ground_truth: String(groundTruth), ground_truth_at: now })
      .where('id', '=', predictionId)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`prediction "${predictionId}"`, 'PREDICTION_NOT_FOUND');
    return this.get(predictionId);
  }

  async get(predictionId: string): Promise<PredictionLogEntry> {
    if (this.queue.some((r) => r.id === predictionId)) await this.flush();
    const row = await this.database.db.selectFrom('prediction_logs').selectAll().where('id', '=', predictionId).executeTakeFirst();
    if (!row) throw notFound(`prediction "${predictionId}"`, 'PREDICTION_NOT_FOUND');
    return toEntry(row);
  }

  /** The latest entries of a model (optionally one version), newest first. */
  async list(filter: { modelId: string; versionId?: string; limit?: number; withGroundTruth?: boolean }): Promise<PredictionLogEntry[]> {
    await this.flush();
    let q = this.database.db.selectFrom('prediction_logs').selectAll().where('model_id', '=', filter.modelId);
    if (filter.versionId) q = q.where('version_id', '=', filter.versionId);
    if (filter.withGroundTruth) q = q.where('ground_truth', 'is not', null).where('error', 'is', null);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit ?? 100).execute();
    return rows.map(toEntry);
  }

  /** The last `size` entries of a version (successes and failures), newest first: the monitoring window. */
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

  async count(modelId?: string): Promise<number> {
    await this.flush();
    let q = this.database.db.selectFrom('prediction_logs').select((eb) => eb.fn.countAll<number>().as('n'));
    if (modelId) q = q.where('model_id', '=', modelId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  /** Stops accepting rows and writes what is queued; retries a failing database a few times. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing; // a write in flight must finish before the database closes
    for (let attempt = 0; attempt < 5 && this.queue.length; attempt++) {
      await this.flush();
      if (this.queue.length) await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
    if (this.timer) clearTimeout(this.timer);
  }
}

function predictionEvent(r: PredictionLogsTable): Record<string, unknown> {
  return {
    prediction_id: r.id,
    model_id: r.model_id,
    model_name: r.model_name,
    version_id: r.version_id,
    version: r.version,
    variant: r.variant,
    source: r.source,
    request_id: r.request_id,
    prediction: r.prediction,
    confidence: r.confidence,
    probabilities: r.probabilities ? JSON.parse(r.probabilities) : null,
    latency_ms: r.latency_ms,
    error: r.error ?? null,
    created_at: r.created_at,
  };
}

function toEntry(row: PredictionLogsTable): PredictionLogEntry {
  return {
    ...row,
    error: row.error ?? null,
    input: JSON.parse(row.input),
    probabilities: row.probabilities ? JSON.parse(row.probabilities) : null,
  };
}
