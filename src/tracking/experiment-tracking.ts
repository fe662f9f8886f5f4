/**
 * Experiment tracking (the fourth seed's tracker): an experiment holds runs; a run logs its config,
 * per-step values (loss, learning rate per epoch), metrics, and finishes with a status. Runs can be
 * compared and the best one found by a metric.
 */
import { VitalsError, notFound, validationFailed } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { Database, TrackingRunsTable } from '../store/index.js';

export type TrackingRunStatus = 'running' | 'completed' | 'failed' | 'killed';
export const FINISH_STATUSES = ['completed', 'failed', 'killed'] as const;

export interface TrackingRun {
  id: string;
  experiment: string;
  name: string | null;
  status: TrackingRunStatus;
  config: Record<string, unknown>;
  /** the latest value of every metric and step series */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  started_at: string;
  ended_at: string | null;
}

export interface StepPoint {
  step: number;
  value: number;
}

export interface RunComparison {
  runs: TrackingRun[];
  /** metric → run id → value */
  metrics: Record<string, Record<string, number | null>>;
  /** config keys whose values differ between the runs */
  config_differences: Record<string, Record<string, unknown>>;
}

export class ExperimentTracking {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  private async experimentId(name: string, create: boolean): Promise<string> {
    const row = await this.db.selectFrom('experiments').select('id').where('name', '=', name).executeTakeFirst();
    if (row) return row.id;
    if (!create) throw notFound(`experiment "${name}"`);
    const id = uuidv7();
    await this.db
      .insertInto('experiments')
      .values({ id, name, created_at: nowIso() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.db.selectFrom('experiments').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id;
  }

  async listExperiments(): Promise<Array<{ name: string; runs: number; created_at: string }>> {
    const rows = await this.db
      .selectFrom('experiments')
      .leftJoin('tracking_runs', 'tracking_runs.experiment_id', 'experiments.id')
      .select(['experiments.name', 'experiments.created_at', (eb) => eb.fn.count<number>('tracking_runs.id').as('runs')])
      .groupBy(['experiments.id', 'experiments.name', 'experiments.created_at'])
      .orderBy('experiments.name')
      .execute();
    return rows.map((r) => ({ name: r.name, runs: Number(r.runs), created_at: r.created_at }));
  }

  /** Starts a run in an experiment (created on first use). */
  async startRun(experiment: string, options: { name?: string; config?: Record<string, unknown>; tags?: Record<string, string> } = {}): Promise<TrackingRun> {
    if (!experiment.trim()) throw validationFailed([{ field: 'experiment', message: 'is required' }]);
    const row: TrackingRunsTable = {
      id: uuidv7(),
      experiment_id: await this.experimentId(experiment.trim(), true),
      name: options.name ?? null,
      status: 'running',
      config: JSON.stringify(options.config ?? {}),
      metrics: '{}',
      tags: JSON.stringify(options.tags ?? {}),
      started_at: nowIso(),
      ended_at: null,
    };
    await this.db.insertInto('tracking_runs').values(row).execute();
    return this.getRun(row.id);
  }

  async getRun(id: string): Promise<TrackingRun> {
    const row = await this.db
      .selectFrom('tracking_runs')
      .innerJoin('experiments', 'experiments.id', 'tracking_runs.experiment_id')
      .selectAll('tracking_runs')
      .select('experiments.name as experiment')
      .where('tracking_runs.id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound(`tracking run "${id}"`);
    return {
      id: row.id,
      experiment: row.experiment,
      name: row.name,
      status: row.status as TrackingRunStatus,
      config: JSON.parse(row.config),
      metrics: JSON.parse(row.metrics),
      tags: JSON.parse(row.tags),
      started_at: row.started_at,
      ended_at: row.ended_at,
    };
  }

  async listRuns(experiment: string, options: { status?: TrackingRunStatus; limit?: number } = {}): Promise<TrackingRun[]> {
    const expId = await this.experimentId(experiment, false);
    let q = this.db.selectFrom('tracking_runs').select('id').where('experiment_id', '=', expId);
    if (options.status) q = q.where('status', '=', options.status);
    const ids = await q
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100)
      .execute();
    return Promise.all(ids.map((r) => this.getRun(r.id)));
  }

  private async running(id: string): Promise<TrackingRun> {
    const run = await this.getRun(id);
    if (run.status !== 'running') throw new VitalsError('CONFLICT', `tracking run ${id} has finished (${run.status})`);
    return run;
  }

  /** `log_model_config`: merged into the run's config. */
  async logConfig(id: string, config: Record<string, unknown>): Promise<void> {
    const run = await this.running(id);
    await this.db
      .updateTable('tracking_runs')
      .set({ config: JSON.stringify({ ...run.config, ...config }) })
      .where('id', '=', id)
      .execute();
  }

  /** `log_metrics`: values at a step (default: the next step of each key). */
  async logMetrics(id: string, metrics: Record<string, number>, step?: number): Promise<void> {
    const run = await this.running(id);
    const entries = Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v));
    if (!entries.length) return;
    await this.db.transaction().execute(async (tx) => {
      for (const [key, value] of entries) {
        let s = step;
        if (s === undefined) {
          const last = await tx
            .selectFrom('tracking_steps')
            .select((eb) => eb.fn.max<number>('step').as('m'))
            .where('run_id', '=', id)
            .where('key', '=', key)
            .executeTakeFirst();
          s = last?.m === null || last?.m === undefined ? 0 : Number(last.m) + 1;
        }
        await tx
          .insertInto('tracking_steps')
          .values({ run_id: id, key, step: s, value, created_at: nowIso() })
          .onConflict((oc) => oc.columns(['run_id', 'key', 'step']).doUpdateSet({ value }))
          .execute();
      }
      await tx
        .updateTable('tracking_runs')
        .set({ metrics: JSON.stringify({ ...run.metrics, ...Object.fromEntries(entries) }) })
        .where('id', '=', id)
        .execute();
    });
  }

  /** `log_training_step(epoch, loss, learning_rate)`. */
  async logTrainingStep(id: string, epoch: number, loss: number, learningRate?: number, extra: Record<string, number> = {}): Promise<void> {
    await this.logMetrics(id, { loss, ...(learningRate !== undefined ? { learning_rate: learningRate } : {}), ...extra }, epoch);
  }

  /** `finish(status)`. */
  async finish(id: string, status: (typeof FINISH_STATUSES)[number] = 'completed'): Promise<TrackingRun> {
    if (!FINISH_STATUSES.includes(status)) throw validationFailed([{ field: 'status', message: `use one of ${FINISH_STATUSES.join(', ')}` }]);
    await this.running(id);
    await this.db.updateTable('tracking_runs').set({ status, ended_at: nowIso() }).where('id', '=', id).execute();
    return this.getRun(id);
  }

  /** One series (e.g. loss per epoch), in step order. */
  async history(id: string, key: string): Promise<StepPoint[]> {
    const rows = await this.db.selectFrom('tracking_steps').select(['step', 'value']).where('run_id', '=', id).where('key', '=', key).orderBy('step').execute();
    return rows.map((r) => ({ step: Number(r.step), value: Number(r.value) }));
  }

  async compare(ids: string[]): Promise<RunComparison> {
    const runs = await Promise.all(ids.map((id) => this.getRun(id)));
    const metrics: RunComparison['metrics'] = {};
    for (const key of new Set(runs.flatMap((r) => Object.keys(r.metrics)))) metrics[key] = Object.fromEntries(runs.map((r) => [r.id, r.metrics[key] ?? null]));
    const config_differences: RunComparison['config_differences'] = {};
    for (const key of new Set(runs.flatMap((r) => Object.keys(r.config)))) {
      const values = runs.map((r) => JSON.stringify(r.config[key] ?? null));
      if (new Set(values).size > 1) config_differences[key] = Object.fromEntries(runs.map((r) => [r.id, r.config[key] ?? null]));
    }
    return { runs, metrics, config_differences };
  }

  /** The completed run with the best value of `metric` (`mode`: max, or min for losses). */
  async bestRun(experiment: string, metric: string, mode: 'max' | 'min' = 'max'): Promise<TrackingRun | null> {
    const runs = (await this.listRuns(experiment, { status: 'completed', limit: 10_000 })).filter((r) => typeof r.metrics[metric] === 'number');
    if (!runs.length) return null;
    return runs.reduce((best, r) => ((mode === 'max' ? r.metrics[metric]! > best.metrics[metric]! : r.metrics[metric]! < best.metrics[metric]!) ? r : best));
  }
}
