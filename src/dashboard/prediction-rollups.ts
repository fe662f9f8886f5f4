/**
 * Per-version rollups (5-minute and hourly buckets) of the prediction log (counts, errors, latency histograms).
 *
 * `refresh()` folds the rows the log committed since its cursor into the rollup table; it reads only
 * rows older than `settleMs` (the log commits in groups a few ms apart, so a row with a smaller id
 * can still land just after a newer one). `series()` answers from the rollups plus the rows past the
 * cursor read live, so a dashboard is exact up to the last committed prediction whether or not a
 * refresh has run — the rollup is an accelerator, not a source of truth.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { type Histogram, addSparse, bucketOf, emptyHistogram, quantile, toSparse } from './latency-histogram.js';

export const BUCKET_MS = 5 * 60_000;
const CURSOR = 'prediction_logs';
const ZERO_ID = '00000000-0000-0000-0000-000000000000';

/** The tables this class reads and writes (a narrow view of the store's Schema). */
export interface RollupSchema {
  prediction_logs: { id: string; model_id: string; version_id: string | null; created_at: string; latency_ms: number | null; error?: string | null };
  prediction_rollups: {
    model_id: string;
    bucket_seconds: number;
    version_id: string;
    bucket_start: string;
    count: number;
    errors: number;
    latency_count: number;
    latency_sum: number;
    latency_hist: string;
  };
  rollup_cursors: { name: string; last_id: string; updated_at: string };
}

export interface BucketPoint {
  /** bucket start, ISO */
  t: string;
  count: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
}

export interface SeriesSummary {
  count: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  mean_ms: number | null;
}

interface Acc {
  count: number;
  errors: number;
  latencyCount: number;
  latencySum: number;
  hist: Histogram;
}

class LostRace extends Error {}

interface Entry {
  model_id: string;
  bucket_seconds: number;
  bucket_start: string;
  version_id: string;
  acc: Acc;
}

/** Bucket widths kept, in seconds: 5-minute buckets for the last hour, hourly ones for days and weeks. */
const WIDTHS = [300, 3600] as const;

const newAcc = (): Acc => ({ count: 0, errors: 0, latencyCount: 0, latencySum: 0, hist: emptyHistogram() });

/** The smallest UUIDv7 prefix of a millisecond: every id minted at or after `ms` sorts above it. */
export function idFloor(ms: number): string {
  const h = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}`;
}

export const bucketStart = (ms: number, width = BUCKET_MS) => Math.floor(ms / width) * width;

function addRow(acc: Acc, row: { latency_ms: number | null; error?: string | null }): void {
  acc.count++;
  if (row.error) acc.errors++;
  else if (typeof row.latency_ms === 'number') {
    acc.latencyCount++;
    acc.latencySum += row.latency_ms;
    acc.hist[bucketOf(row.latency_ms)]!++;
  }
}

function summarize(acc: Acc): SeriesSummary {
  return {
    count: acc.count,
    errors: acc.errors,
    error_rate: acc.count ? acc.errors / acc.count : null,
    p50_ms: quantile(acc.hist, 0.5),
    p99_ms: quantile(acc.hist, 0.99),
    mean_ms: acc.latencyCount ? Math.round((acc.latencySum / acc.latencyCount) * 1000) / 1000 : null,
  };
}

export interface SeriesRequest {
  modelIds: string[];
  /** only this version (id); all versions of the models when omitted */
  versionId?: string;
  fromMs: number;
  toMs: number;
  /** width of the returned buckets: a multiple of BUCKET_MS */
  stepMs: number;
}

export interface ModelSeries {
  summary: SeriesSummary;
  buckets: BucketPoint[];
}

export class PredictionRollups {
  constructor(
    private readonly db: Kysely<RollupSchema>,
    private readonly options: { settleMs?: number; batchSize?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  async cursor(): Promise<string> {
    const row = await this.db.selectFrom('rollup_cursors').select('last_id').where('name', '=', CURSOR).executeTakeFirst();
    return row?.last_id ?? ZERO_ID;
  }

  /**
   * Folds settled log rows past the cursor into the rollups, a batch per transaction. The cursor
   * moves first in the same transaction, compared-and-set, so two refreshers (replicas) never count
   * a row twice: the loser changes nothing. Existing buckets are read in one range query and written
   * back in multi-row upserts, so a batch costs a few statements, not one per bucket.
   * Returns the number of rows folded in.
   */
  async refresh(): Promise<number> {
    const batchSize = this.options.batchSize ?? 20_000;
    const upTo = idFloor(this.now() - (this.options.settleMs ?? 10_000));
    // The cursor row exists before any refresh moves it (idempotent: replicas may all try).
    await this.db
      .insertInto('rollup_cursors')
      .values({ name: CURSOR, last_id: ZERO_ID, updated_at: new Date(this.now()).toISOString() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    let folded = 0;
    for (;;) {
      const n = await this.db
        .transaction()
        .execute(async (tx) => {
          const cursorRow = await tx.selectFrom('rollup_cursors').select('last_id').where('name', '=', CURSOR).executeTakeFirst();
          const from = cursorRow?.last_id ?? ZERO_ID;
          const rows = await tx
            .selectFrom('prediction_logs')
            .select(['id', 'model_id', 'version_id', 'created_at', 'latency_ms', 'error'])
            .where('id', '>', from)
            .where('id', '<', upTo)
            .orderBy('id')
            .limit(batchSize)
            .execute();
          if (!rows.length) return 0;
          const last = rows[rows.length - 1]!.id;
          const now = new Date(this.now()).toISOString();
          const moved = await tx.updateTable('rollup_cursors').set({ last_id: last, updated_at: now }).where('name', '=', CURSOR).where('last_id', '=', from).executeTakeFirst();
          // Another refresher moved the cursor first: roll back, it has folded these rows.
          if (Number(moved.numUpdatedRows) !== 1) throw new LostRace();
          const entries = new Map<string, Entry>();
          let lo = Number.POSITIVE_INFINITY;
          let hi = 0;
          for (const r of rows) {
            const ms = Date.parse(r.created_at);
            for (const seconds of WIDTHS) {
              const start = bucketStart(ms, seconds * 1000);
              lo = Math.min(lo, start);
              hi = Math.max(hi, start);
              const bucket = new Date(start).toISOString();
              const key = `${r.model_id}|${seconds}|${bucket}|${r.version_id ?? ''}`;
              let e = entries.get(key);
              if (!e) entries.set(key, (e = { model_id: r.model_id, bucket_seconds: seconds, bucket_start: bucket, version_id: r.version_id ?? '', acc: newAcc() }));
              addRow(e.acc, r);
            }
          }
          // Buckets already partly rolled up (the batch's first hour, mostly): merged in memory.
          const existing = await tx
            .selectFrom('prediction_rollups')
            .selectAll()
            .where('bucket_seconds', 'in', [...WIDTHS])
            .where('bucket_start', '>=', new Date(lo).toISOString())
            .where('bucket_start', '<=', new Date(hi).toISOString())
            .where('model_id', 'in', [...new Set(rows.map((r) => r.model_id))])
            .execute();
          for (const x of existing) {
            const e = entries.get(`${x.model_id}|${x.bucket_seconds}|${x.bucket_start}|${x.version_id}`);
            if (!e) continue;
            e.acc.count += x.count;
            e.acc.errors += x.errors;
            e.acc.latencyCount += x.latency_count;
            e.acc.latencySum += x.latency_sum;
            addSparse(e.acc.hist, JSON.parse(x.latency_hist) as number[]);
          }
          const values = [...entries.values()].map((e) => ({
            model_id: e.model_id,
            bucket_seconds: e.bucket_seconds,
            bucket_start: e.bucket_start,
            version_id: e.version_id,
            count: e.acc.count,
            errors: e.acc.errors,
            latency_count: e.acc.latencyCount,
            latency_sum: e.acc.latencySum,
            latency_hist: JSON.stringify(toSparse(e.acc.hist)),
          }));
          for (let i = 0; i < values.length; i += 200) {
            await tx
              .insertInto('prediction_rollups')
              .values(values.slice(i, i + 200))
              .onConflict((oc) =>
                oc.columns(['model_id', 'bucket_seconds', 'bucket_start', 'version_id']).doUpdateSet((eb) => ({
                  count: eb.ref('excluded.count'),
                  errors: eb.ref('excluded.errors'),
                  latency_count: eb.ref('excluded.latency_count'),
                  latency_sum: eb.ref('excluded.latency_sum'),
                  latency_hist: eb.ref('excluded.latency_hist'),
                })),
              )
              .execute();
          }
          return rows.length;
        })
        .catch((err: unknown) => {
          if (err instanceof LostRace) return 0;
          throw err;
        });
      if (n <= 0) return folded;
      folded += n;
      if (n < batchSize) return folded;
    }
  }

  /** Time-bucketed counts, errors and latency quantiles of each model, plus a summary over the range. */
  async series(req: SeriesRequest): Promise<Map<string, ModelSeries>> {
    const out = new Map<string, ModelSeries>();
    if (!req.modelIds.length) return out;
    const step = Math.max(BUCKET_MS, Math.round(req.stepMs / BUCKET_MS) * BUCKET_MS);
    const from = bucketStart(req.fromMs, step);
    const slots = Math.max(1, Math.ceil((req.toMs - from) / step));
    const perModel = new Map<string, { total: Acc; buckets: Acc[] }>();
    for (const id of req.modelIds) perModel.set(id, { total: newAcc(), buckets: Array.from({ length: slots }, newAcc) });
    const slotOf = (ms: number) => Math.floor((ms - from) / step);

    const cursor = await this.cursor();
    // The widest stored bucket that tiles both the step and the range's start.
    const width = WIDTHS.filter((w) => (step / 1000) % w === 0 && (from / 1000) % w === 0).at(-1) ?? WIDTHS[0];
    let q = this.db
      .selectFrom('prediction_rollups')
      .select(['model_id', 'bucket_start', 'count', 'errors', 'latency_count', 'latency_sum', 'latency_hist'])
      .where('model_id', 'in', req.modelIds)
      .where('bucket_seconds', '=', width)
      .where('bucket_start', '>=', new Date(from).toISOString())
      .where('bucket_start', '<', new Date(req.toMs).toISOString());
    if (req.versionId !== undefined) q = q.where('version_id', '=', req.versionId);
    for (const r of await q.execute()) {
      const m = perModel.get(r.model_id)!;
      const slot = slotOf(Date.parse(r.bucket_start));
      if (slot < 0 || slot >= slots) continue;
      const sparse = JSON.parse(r.latency_hist) as number[];
      for (const acc of [m.total, m.buckets[slot]!]) {
        acc.count += r.count;
        acc.errors += r.errors;
        acc.latencyCount += r.latency_count;
        acc.latencySum += r.latency_sum;
        addSparse(acc.hist, sparse);
      }
    }
    // The tail past the cursor, read live through the (model_id, id) index.
    // biome-ignore lint/complexity/useMathMinMax: ids are strings (time-ordered UUIDs), compared as text
    const tailFrom = cursor > idFloor(from) ? cursor : idFloor(from);
    let tail = this.db
      .selectFrom('prediction_logs')
      .select(['model_id', 'created_at', 'latency_ms', 'error'])
      .where('model_id', 'in', req.modelIds)
      .where('id', '>', tailFrom)
      .where('id', '<', idFloor(req.toMs));
    if (req.versionId !== undefined) tail = req.versionId ? tail.where('version_id', '=', req.versionId) : tail.where('version_id', 'is', null);
    for (const r of await tail.execute()) {
      const ms = Date.parse(r.created_at);
      const slot = slotOf(ms);
      if (slot < 0 || slot >= slots) continue;
      const m = perModel.get(r.model_id)!;
      addRow(m.total, r);
      addRow(m.buckets[slot]!, r);
    }
    for (const [id, m] of perModel) {
      out.set(id, {
        summary: summarize(m.total),
        buckets: m.buckets.map((acc, i) => ({ t: new Date(from + i * step).toISOString(), ...pick(summarize(acc)) })),
      });
    }
    return out;
  }

  /** All-time prediction count of one model, by version id ('' for unresolved). */
  async totals(modelId: string): Promise<Record<string, number>> {
    const cursor = await this.cursor();
    const totals: Record<string, number> = {};
    const rolled = await this.db
      .selectFrom('prediction_rollups')
      .select(['version_id', sql<number>`sum(count)`.as('n')])
      .where('model_id', '=', modelId)
      .where('bucket_seconds', '=', WIDTHS[1])
      .groupBy('version_id')
      .execute();
    for (const r of rolled) totals[r.version_id] = Number(r.n);
    const tail = await this.db
      .selectFrom('prediction_logs')
      .select(['version_id', sql<number>`count(*)`.as('n')])
      .where('model_id', '=', modelId)
      .where('id', '>', cursor)
      .groupBy('version_id')
      .execute();
    for (const r of tail) totals[r.version_id ?? ''] = (totals[r.version_id ?? ''] ?? 0) + Number(r.n);
    return totals;
  }
}

function pick(s: SeriesSummary): Omit<BucketPoint, 't'> {
  return { count: s.count, errors: s.errors, error_rate: s.error_rate, p50_ms: s.p50_ms, p99_ms: s.p99_ms };
}
