/**
 * MLflow's tracking model over the Vitals tracking tables: an MLflow experiment is a row of
 * `experiments`, an MLflow run is a row of `tracking_runs` (params are the run's config, metrics its
 * latest values and `tracking_steps` their history), so a run logged with `mlflow.log_*` is the same
 * run `/api/v1/tracking` shows. The experiment named "Default" answers to MLflow's id "0".
 */
import type { Selectable } from 'kysely';
import { nowIso, uuidv7 } from '../../ids.js';
import type { Database, ExperimentsTable, TrackingRunsTable } from '../../store/index.js';
import { doesNotExist, invalidParameter, mlflowError } from './mlflow-errors.js';
import { runSearchSql } from './run-search-sql.js';
import { type Clause, RUN_GRAMMAR, type SearchGrammar, SearchSyntaxError, matches, parseFilter, parseOrderBy, sortEntities } from './search-filter.js';

export interface KeyValue {
  key: string;
  value: string;
}

export interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  tags: KeyValue[];
}

export interface MlflowDatasetInput {
  tags?: KeyValue[];
  dataset: { name: string; digest: string; source_type?: string; source?: string; schema?: string; profile?: string };
}

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowRun {
  info: {
    run_id: string;
    run_uuid: string;
    run_name: string;
    experiment_id: string;
    user_id: string;
    status: MlflowRunStatus;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: 'active' | 'deleted';
  };
  data: { metrics: MlflowMetric[]; params: KeyValue[]; tags: KeyValue[] };
  inputs: { dataset_inputs: MlflowDatasetInput[] };
}

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

export const DEFAULT_EXPERIMENT = 'Default';
const DEFAULT_EXPERIMENT_ID = '0';
const RUN_NAME_TAG = 'mlflow.runName';
/** MLflow's log-batch limits (mlflow/utils/validation.py) */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 };

const STATUS_TO_VITALS: Record<MlflowRunStatus, string> = { RUNNING: 'running', SCHEDULED: 'running', FINISHED: 'completed', FAILED: 'failed', KILLED: 'killed' };
const STATUS_FROM_VITALS: Record<string, MlflowRunStatus> = { running: 'RUNNING', completed: 'FINISHED', failed: 'FAILED', killed: 'KILLED' };

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : undefined);
const iso = (millis: number) => new Date(millis).toISOString();
const toKv = (record: Record<string, string>): KeyValue[] => Object.entries(record).map(([key, value]) => ({ key, value }));
const paramText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The artifact root of a run, served by the artifact proxy (/api/2.0/mlflow-artifacts). */
export const runArtifactRoot = (experimentId: string, runId: string) => `${experimentId}/${runId}/artifacts`;

export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodePageToken(token: string | undefined | null): number {
  if (!token) return 0;
  try {
    const offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    /* fall through */
  }
  throw invalidParameter(`invalid page_token "${token}"`);
}

function parseSearch(filter: string | undefined, orderBy: string[] | undefined, grammar: SearchGrammar) {
  try {
    return { clauses: parseFilter(filter, grammar), order: parseOrderBy(orderBy, grammar) };
  } catch (err) {
    if (err instanceof SearchSyntaxError) throw invalidParameter(`Invalid search expression: ${err.message}`);
    throw err;
  }
}

type RunRow = Selectable<TrackingRunsTable>;

interface RunState {
  row: RunRow;
  config: Record<string, unknown>;
  metrics: Record<string, number>;
  positions: Record<string, [number, number]>;
  tags: Record<string, string>;
}

export class MlflowTracking {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  // ---------- experiments ----------

  private experimentView(row: Selectable<ExperimentsTable>): MlflowExperiment {
    const id = row.name === DEFAULT_EXPERIMENT ? DEFAULT_EXPERIMENT_ID : row.id;
    const created = ms(row.created_at)!;
    return {
      experiment_id: id,
      name: row.name,
      artifact_location: row.artifact_location ?? `mlflow-artifacts:/${id}`,
      lifecycle_stage: (row.lifecycle_stage ?? 'active') as 'active' | 'deleted',
      creation_time: created,
      last_update_time: ms(row.updated_at) ?? created,
      tags: toKv(JSON.parse(row.tags ?? '{}')),
    };
  }

  private async experimentRow(id: string): Promise<Selectable<ExperimentsTable> | undefined> {
    const q = this.db.selectFrom('experiments').selectAll();
    return (id === DEFAULT_EXPERIMENT_ID ? q.where('name', '=', DEFAULT_EXPERIMENT) : q.where('id', '=', id)).executeTakeFirst();
  }

  /** The experiment's row; "0" (Default) is created on first write. */
  private async writableExperiment(id: string): Promise<Selectable<ExperimentsTable>> {
    let row = await this.experimentRow(id);
    if (!row && id === DEFAULT_EXPERIMENT_ID) {
      const now = nowIso();
      await this.db
        .insertInto('experiments')
        .values({ id: uuidv7(), name: DEFAULT_EXPERIMENT, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      row = await this.experimentRow(id);
    }
    if (!row) throw doesNotExist(`No Experiment with id=${id} exists`);
    return row;
  }

  async createExperiment(name: string, tags: KeyValue[] = [], artifactLocation?: string): Promise<string> {
    if (!name.trim()) throw invalidParameter("Invalid experiment name: ''");
    const existing = await this.db.selectFrom('experiments').select(['id', 'lifecycle_stage']).where('name', '=', name).executeTakeFirst();
    if (existing) {
      throw mlflowError(
        'RESOURCE_ALREADY_EXISTS',
        `Experiment '${name}' already exists${existing.lifecycle_stage === 'deleted' ? ' in deleted state; restore it or permanently delete it first' : '.'}`,
      );
    }
    const now = nowIso();
    const id = uuidv7();
    await this.db
      .insertInto('experiments')
      .values({
        id,
        name,
        created_at: now,
        updated_at: now,
        lifecycle_stage: 'active',
        tags: JSON.stringify(Object.fromEntries(tags.map((t) => [t.key, t.value]))),
        artifact_location: artifactLocation ?? null,
      })
      .execute();
    return name === DEFAULT_EXPERIMENT ? DEFAULT_EXPERIMENT_ID : id;
  }

  async getExperiment(id: string): Promise<MlflowExperiment> {
    const row = await this.experimentRow(id);
    if (row) return this.experimentView(row);
    if (id === DEFAULT_EXPERIMENT_ID) {
      // not written yet: GET never writes, so Default is shown as it will be created
      const now = Date.now();
      return { experiment_id: '0', name: DEFAULT_EXPERIMENT, artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', creation_time: now, last_update_time: now, tags: [] };
    }
    throw doesNotExist(`No Experiment with id=${id} exists`);
  }

  async getExperimentByName(name: string): Promise<MlflowExperiment> {
    const row = await this.db.selectFrom('experiments').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) {
      if (name === DEFAULT_EXPERIMENT) return this.getExperiment(DEFAULT_EXPERIMENT_ID);
      throw doesNotExist(`Could not find experiment with name '${name}'`);
    }
    return this.experimentView(row);
  }

  async searchExperiments(options: {
    viewType?: ViewType;
    maxResults?: number;
    filter?: string;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<{ experiments: MlflowExperiment[]; next_page_token?: string }> {
    const grammar: SearchGrammar = { entity: 'experiments', strings: new Set(['name']), numbers: new Set(['creation_time', 'last_update_time']), defaultOrder: ['creation_time', false] };
    const { clauses, order } = parseSearch(options.filter, options.orderBy, grammar);
    const rows = await this.db.selectFrom('experiments').selectAll().execute();
    const views = rows.map((r) => this.experimentView(r)).filter((e) => lifecycleMatches(e.lifecycle_stage, options.viewType));
    const entities = views.map((e) => ({
      id: e.experiment_id,
      attributes: { name: e.name, creation_time: e.creation_time, last_update_time: e.last_update_time },
      tags: Object.fromEntries(e.tags.map((t) => [t.key, t.value])),
      view: e,
    }));
    const sorted = sortEntities(
      entities.filter((e) => matches(e, clauses)),
      order,
      grammar,
    );
    return page(
      sorted.map((e) => e.view),
      options.maxResults ?? 1000,
      options.pageToken,
      'experiments',
    );
  }

  async updateExperiment(id: string, newName: string): Promise<void> {
    const row = await this.writableExperiment(id);
    if (row.lifecycle_stage === 'deleted') throw invalidParameter(`Cannot rename a non-active experiment (${id})`);
    const clash = await this.db.selectFrom('experiments').select('id').where('name', '=', newName).executeTakeFirst();
    if (clash && clash.id !== row.id) throw mlflowError('RESOURCE_ALREADY_EXISTS', `Experiment '${newName}' already exists.`);
    await this.db.updateTable('experiments').set({ name: newName, updated_at: nowIso() }).where('id', '=', row.id).execute();
  }

  async setExperimentLifecycle(id: string, stage: 'active' | 'deleted'): Promise<void> {
    const row = await this.writableExperiment(id);
    if (stage === 'deleted' && row.name === DEFAULT_EXPERIMENT) throw invalidParameter('Cannot delete the default experiment (0)');
    const now = nowIso();
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('experiments').set({ lifecycle_stage: stage, updated_at: now }).where('id', '=', row.id).execute();
      // as in MLflow: deleting an experiment deletes its runs; restoring it restores them
      await tx
        .updateTable('tracking_runs')
        .set({ lifecycle_stage: stage, deleted_at: stage === 'deleted' ? now : null })
        .where('experiment_id', '=', row.id)
        .where('lifecycle_stage', '=', stage === 'deleted' ? 'active' : 'deleted')
        .execute();
    });
  }

  async setExperimentTag(id: string, key: string, value: string | null): Promise<void> {
    const row = await this.writableExperiment(id);
    const tags = JSON.parse(row.tags ?? '{}') as Record<string, string>;
    if (value === null) {
      if (!(key in tags)) throw doesNotExist(`No tag with name: ${key} in experiment ${id}`);
      delete tags[key];
    } else tags[key] = value;
    await this.db
      .updateTable('experiments')
      .set({ tags: JSON.stringify(tags), updated_at: nowIso() })
      .where('id', '=', row.id)
      .execute();
  }

  // ---------- runs ----------

  private async experimentIds(): Promise<Map<string, string>> {
    const rows = await this.db.selectFrom('experiments').select(['id', 'name']).execute();
    return new Map(rows.map((r) => [r.id, r.name === DEFAULT_EXPERIMENT ? DEFAULT_EXPERIMENT_ID : r.id]));
  }

  private runView(row: RunRow, experimentViewId: string): MlflowRun {
    const config = JSON.parse(row.config) as Record<string, unknown>;
    const metrics = JSON.parse(row.metrics) as Record<string, number>;
    const positions = JSON.parse(row.metric_positions ?? '{}') as Record<string, [number, number]>;
    const tags = JSON.parse(row.tags) as Record<string, string>;
    const started = ms(row.started_at)!;
    const runName = row.name ?? tags[RUN_NAME_TAG] ?? '';
    const ended = ms(row.ended_at);
    return {
      info: {
        run_id: row.id,
        run_uuid: row.id,
        run_name: runName,
        experiment_id: experimentViewId,
        user_id: row.user_id ?? '',
        status: STATUS_FROM_VITALS[row.status] ?? 'RUNNING',
        start_time: started,
        ...(ended !== undefined ? { end_time: ended } : {}),
        artifact_uri: `mlflow-artifacts:/${runArtifactRoot(experimentViewId, row.id)}`,
        lifecycle_stage: (row.lifecycle_stage ?? 'active') as 'active' | 'deleted',
      },
      data: {
        metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, step: positions[key]?.[0] ?? 0, timestamp: positions[key]?.[1] ?? started })),
        params: Object.entries(config).map(([key, value]) => ({ key, value: paramText(value) })),
        tags: toKv(runName && !tags[RUN_NAME_TAG] ? { ...tags, [RUN_NAME_TAG]: runName } : tags),
      },
      inputs: { dataset_inputs: JSON.parse(row.inputs ?? '[]') },
    };
  }

  private async runRow(runId: string): Promise<RunRow> {
    const row = await this.db.selectFrom('tracking_runs').selectAll().where('id', '=', runId).executeTakeFirst();
    if (!row) throw doesNotExist(`Run with id=${runId} not found`);
    return row;
  }

  private async activeRun(runId: string): Promise<RunState> {
    const row = await this.runRow(runId);
    if ((row.lifecycle_stage ?? 'active') !== 'active') throw invalidParameter(`The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    return { row, config: JSON.parse(row.config), metrics: JSON.parse(row.metrics), positions: JSON.parse(row.metric_positions ?? '{}'), tags: JSON.parse(row.tags) };
  }

  async experimentViewIdOf(experimentId: string): Promise<string> {
    const row = await this.db.selectFrom('experiments').select('name').where('id', '=', experimentId).executeTakeFirst();
    return row?.name === DEFAULT_EXPERIMENT ? DEFAULT_EXPERIMENT_ID : experimentId;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const row = await this.runRow(runId);
    return this.runView(row, await this.experimentViewIdOf(row.experiment_id));
  }

  async createRun(input: { experiment_id?: string; user_id?: string; start_time?: number; tags?: KeyValue[]; run_name?: string }): Promise<MlflowRun> {
    const experiment = await this.writableExperiment(input.experiment_id ?? DEFAULT_EXPERIMENT_ID);
    if (experiment.lifecycle_stage === 'deleted') throw invalidParameter(`The experiment ${input.experiment_id} must be in the 'active' state. Current state is deleted.`);
    const tags = Object.fromEntries((input.tags ?? []).map((t) => [t.key, t.value]));
    const id = uuidv7().replace(/-/g, '');
    const name = input.run_name || tags[RUN_NAME_TAG] || `run-${id.slice(-8)}`;
    if (input.run_name && tags[RUN_NAME_TAG] && tags[RUN_NAME_TAG] !== input.run_name) {
      throw invalidParameter(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.run_name}', mlflow.runName='${tags[RUN_NAME_TAG]}').`);
    }
    tags[RUN_NAME_TAG] = name;
    await this.db
      .insertInto('tracking_runs')
      .values({
        id,
        experiment_id: experiment.id,
        name,
        status: 'running',
        config: '{}',
        metrics: '{}',
        tags: JSON.stringify(tags),
        started_at: iso(input.start_time ?? Date.now()),
        ended_at: null,
        lifecycle_stage: 'active',
        user_id: input.user_id ?? null,
        inputs: '[]',
        metric_positions: '{}',
      })
      .execute();
    return this.getRun(id);
  }

  async updateRun(runId: string, changes: { status?: MlflowRunStatus; end_time?: number; run_name?: string }): Promise<MlflowRun['info']> {
    const run = await this.activeRun(runId);
    const set: Partial<TrackingRunsTable> = {};
    if (changes.status) {
      set.status = STATUS_TO_VITALS[changes.status];
      if (changes.status !== 'RUNNING' && changes.status !== 'SCHEDULED') set.ended_at = iso(changes.end_time ?? Date.now());
    } else if (changes.end_time !== undefined) set.ended_at = iso(changes.end_time);
    if (changes.run_name) {
      set.name = changes.run_name;
      set.tags = JSON.stringify({ ...run.tags, [RUN_NAME_TAG]: changes.run_name });
    }
    if (Object.keys(set).length) await this.db.updateTable('tracking_runs').set(set).where('id', '=', runId).execute();
    return (await this.getRun(runId)).info;
  }

  async setRunLifecycle(runId: string, stage: 'active' | 'deleted'): Promise<void> {
    await this.runRow(runId);
    await this.db
      .updateTable('tracking_runs')
      .set({ lifecycle_stage: stage, deleted_at: stage === 'deleted' ? nowIso() : null })
      .where('id', '=', runId)
      .execute();
  }

  /** log-batch (and log-metric, log-parameter, set-tag): one transaction, one update of the run row. */
  async logBatch(runId: string, batch: { metrics?: MlflowMetric[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
    const metrics = batch.metrics ?? [];
    const params = batch.params ?? [];
    const tags = batch.tags ?? [];
    if (metrics.length > LOG_BATCH_LIMITS.metrics) throw invalidParameter(`A batch logging request can contain at most ${LOG_BATCH_LIMITS.metrics} metrics. Got ${metrics.length} metrics.`);
    if (params.length > LOG_BATCH_LIMITS.params) throw invalidParameter(`A batch logging request can contain at most ${LOG_BATCH_LIMITS.params} params. Got ${params.length} params.`);
    if (tags.length > LOG_BATCH_LIMITS.tags) throw invalidParameter(`A batch logging request can contain at most ${LOG_BATCH_LIMITS.tags} tags. Got ${tags.length} tags.`);
    if (metrics.length + params.length + tags.length > LOG_BATCH_LIMITS.total)
      throw invalidParameter(`A batch logging request can contain at most ${LOG_BATCH_LIMITS.total} metrics, params and tags in total.`);
    for (const m of metrics) {
      if (!m.key) throw invalidParameter('Invalid metric name: an empty key');
      if (!Number.isFinite(m.value)) throw invalidParameter(`Got invalid value ${m.value} for metric '${m.key}': Vitals stores finite values only`);
    }
    const run = await this.activeRun(runId);

    const config = { ...run.config };
    for (const p of params) {
      const previous = config[p.key];
      if (previous !== undefined && paramText(previous) !== p.value) {
        throw invalidParameter(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${paramText(previous)}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
        );
      }
      config[p.key] = p.value;
    }
    const runTags = { ...run.tags };
    for (const t of tags) runTags[t.key] = t.value;
    const name = tags.find((t) => t.key === RUN_NAME_TAG)?.value;

    // one row per (key, step): the latest timestamp wins, within the batch and against what is stored
    const points = new Map<string, MlflowMetric>();
    for (const m of metrics) {
      const k = `${m.key}\u0000${m.step}`;
      const seen = points.get(k);
      if (!seen || m.timestamp >= seen.timestamp) points.set(k, m);
    }
    const latest = { ...run.metrics };
    const positions = { ...run.positions };
    for (const m of points.values()) {
      const at = positions[m.key];
      if (!at || m.step > at[0] || (m.step === at[0] && m.timestamp >= at[1])) {
        latest[m.key] = m.value;
        positions[m.key] = [m.step, m.timestamp];
      }
    }

    await this.db.transaction().execute(async (tx) => {
      const rows = [...points.values()].map((m) => ({ run_id: runId, key: m.key, step: m.step, value: m.value, created_at: iso(m.timestamp) }));
      for (let i = 0; i < rows.length; i += 500) {
        await tx
          .insertInto('tracking_steps')
          .values(rows.slice(i, i + 500))
          .onConflict((oc) => oc.columns(['run_id', 'key', 'step']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), created_at: eb.ref('excluded.created_at') })))
          .execute();
      }
      await tx
        .updateTable('tracking_runs')
        .set({
          config: JSON.stringify(config),
          tags: JSON.stringify(runTags),
          metrics: JSON.stringify(latest),
          metric_positions: JSON.stringify(positions),
          ...(name ? { name } : {}),
        })
        .where('id', '=', runId)
        .execute();
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    const run = await this.activeRun(runId);
    if (!(key in run.tags)) throw doesNotExist(`No tag with name: ${key} in run with id ${runId}`);
    const tags = { ...run.tags };
    delete tags[key];
    await this.db
      .updateTable('tracking_runs')
      .set({ tags: JSON.stringify(tags) })
      .where('id', '=', runId)
      .execute();
  }

  async logInputs(runId: string, datasets: MlflowDatasetInput[]): Promise<void> {
    const run = await this.activeRun(runId);
    const inputs = JSON.parse(run.row.inputs ?? '[]') as MlflowDatasetInput[];
    for (const d of datasets) {
      if (!d.dataset?.name || !d.dataset.digest) throw invalidParameter('every dataset input needs dataset.name and dataset.digest');
      const at = inputs.findIndex((x) => x.dataset.name === d.dataset.name && x.dataset.digest === d.dataset.digest);
      if (at >= 0) inputs[at] = { ...inputs[at]!, tags: [...(inputs[at]!.tags ?? []).filter((t) => !(d.tags ?? []).some((n) => n.key === t.key)), ...(d.tags ?? [])] };
      else inputs.push({ tags: d.tags ?? [], dataset: d.dataset });
    }
    await this.db
      .updateTable('tracking_runs')
      .set({ inputs: JSON.stringify(inputs) })
      .where('id', '=', runId)
      .execute();
  }

  async metricHistory(runId: string, key: string, options: { maxResults?: number; pageToken?: string } = {}): Promise<{ metrics: MlflowMetric[]; next_page_token?: string }> {
    await this.runRow(runId);
    const offset = decodePageToken(options.pageToken);
    const limit = options.maxResults ?? 25_000;
    const rows = await this.db
      .selectFrom('tracking_steps')
      .select(['step', 'value', 'created_at'])
      .where('run_id', '=', runId)
      .where('key', '=', key)
      .orderBy('step')
      .offset(offset)
      .limit(limit + 1)
      .execute();
    const metrics = rows.slice(0, limit).map((r) => ({ key, value: Number(r.value), step: Number(r.step), timestamp: Date.parse(r.created_at) }));
    return { metrics, ...(rows.length > limit ? { next_page_token: encodePageToken(offset + limit) } : {}) };
  }

  /**
   * search-runs: the filter, the ordering and the page are one SQL query (run-search-sql.ts); only
   * the returned runs are read and rendered.
   */
  async searchRuns(options: {
    experimentIds: string[];
    filter?: string;
    viewType?: ViewType;
    maxResults?: number;
    orderBy?: string[];
    pageToken?: string;
  }): Promise<{ runs: MlflowRun[]; next_page_token?: string }> {
    const { clauses, order } = parseSearch(options.filter, options.orderBy, RUN_GRAMMAR);
    const maxResults = options.maxResults ?? 1000;
    if (maxResults < 1 || maxResults > 50_000) throw invalidParameter(`Invalid value ${maxResults} for parameter 'max_results' supplied. It must be between 1 and 50000.`);
    const offset = decodePageToken(options.pageToken);
    const viewIds = await this.experimentIds();
    const internal = new Map([...viewIds].map(([id, view]) => [view, id]));
    const ids = options.experimentIds.map((e) => internal.get(e)).filter((e): e is string => !!e);
    if (!ids.length) return { runs: [] };
    const { where, orderBy } = runSearchSql(this.database.dialect, clauses, order, internal.get(DEFAULT_EXPERIMENT_ID));
    let q = this.db.selectFrom('tracking_runs').selectAll().where('experiment_id', 'in', ids);
    const view = options.viewType ?? 'ACTIVE_ONLY';
    if (view === 'ACTIVE_ONLY') q = q.where('lifecycle_stage', '=', 'active');
    else if (view === 'DELETED_ONLY') q = q.where('lifecycle_stage', '=', 'deleted');
    for (const condition of where) q = q.where(condition);
    for (const [term, direction] of orderBy) q = q.orderBy(term, direction);
    // one row more than the page says whether there is a next page
    const rows = await q
      .limit(maxResults + 1)
      .offset(offset)
      .execute();
    return {
      runs: rows.slice(0, maxResults).map((r) => this.runView(r, viewIds.get(r.experiment_id) ?? r.experiment_id)),
      ...(rows.length > maxResults ? { next_page_token: encodePageToken(offset + maxResults) } : {}),
    };
  }

  /** The run ids of an experiment's runs, for the artifact proxy's checks. */
  async runExists(runId: string): Promise<boolean> {
    return !!(await this.db.selectFrom('tracking_runs').select('id').where('id', '=', runId).executeTakeFirst());
  }

  /** A run's latest metrics and params, for a model version registered from it. */
  async runSummary(runId: string): Promise<{ metrics: Record<string, number>; params: Record<string, unknown>; experiment_id: string } | undefined> {
    const row = await this.db.selectFrom('tracking_runs').select(['metrics', 'config', 'experiment_id']).where('id', '=', runId).executeTakeFirst();
    if (!row) return undefined;
    return { metrics: JSON.parse(row.metrics), params: JSON.parse(row.config), experiment_id: await this.experimentViewIdOf(row.experiment_id) };
  }
}

function lifecycleMatches(stage: string, view: ViewType | undefined): boolean {
  const v = view ?? 'ACTIVE_ONLY';
  return v === 'ALL' || (v === 'ACTIVE_ONLY' ? stage === 'active' : stage === 'deleted');
}

export function page<T, K extends string>(items: T[], maxResults: number, pageToken: string | undefined, key: K): { [P in K]: T[] } & { next_page_token?: string } {
  const offset = decodePageToken(pageToken);
  const slice = items.slice(offset, offset + maxResults);
  return { [key]: slice, ...(offset + maxResults < items.length ? { next_page_token: encodePageToken(offset + maxResults) } : {}) } as { [P in K]: T[] } & { next_page_token?: string };
}

export type { Clause };
