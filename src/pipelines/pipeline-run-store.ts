/** Pipeline runs as rows: one per run, its stage records as JSON, updated as the run progresses. */
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { notFound } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { Database, PipelineRunsTable } from '../store/index.js';
import type { StageRecord } from './stage-record.js';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'rejected';
export const TERMINAL: RunStatus[] = ['succeeded', 'failed', 'rejected'];
export type RunTrigger = 'manual' | 'scheduled' | 'drift' | 'decay' | 'api' | 'cli';

export interface PipelineRun {
  id: string;
  pipeline: string;
  model_name: string | null;
  trigger: string;
  incident_key: string | null;
  status: RunStatus;
  request: Record<string, unknown>;
  stages: StageRecord[];
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  result: Record<string, unknown>;
  error: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
}

export interface NewRun {
  pipeline: string;
  model_name?: string | null;
  trigger: string;
  incident_key?: string | null;
  request: Record<string, unknown>;
  stages?: StageRecord[];
  created_by?: string;
  /** the authenticated caller (server/principal.ts `auditContextOf`) for the audit row; absent: `created_by`, role system */
  audit?: AuditContext;
}

function toRun(r: PipelineRunsTable): PipelineRun {
  return {
    id: r.id,
    pipeline: r.pipeline,
    model_name: r.model_name,
    trigger: r.trigger,
    incident_key: r.incident_key,
    status: r.status as RunStatus,
    request: JSON.parse(r.request),
    stages: JSON.parse(r.stages),
    params: JSON.parse(r.params),
    metrics: JSON.parse(r.metrics),
    result: JSON.parse(r.result),
    error: r.error,
    created_by: r.created_by,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: r.started_at && r.finished_at ? Date.parse(r.finished_at) - Date.parse(r.started_at) : null,
  };
}

export class PipelineRunStore {
  constructor(
    private readonly database: Database,
    /** when given, a new run writes a `pipeline.run_started` audit row in the transaction of its insert */
    private readonly audit?: AuditRecorder,
  ) {}

  /** Inserts a run; with an incident key already used, returns null (the debounce). */
  async create(input: NewRun): Promise<PipelineRun | null> {
    const now = nowIso();
    const row: PipelineRunsTable = {
      id: uuidv7(),
      pipeline: input.pipeline,
      model_name: input.model_name ?? null,
      trigger: input.trigger,
      incident_key: input.incident_key ?? null,
      status: 'queued',
      request: JSON.stringify(input.request),
      stages: JSON.stringify(input.stages ?? []),
      params: '{}',
      metrics: '{}',
      result: '{}',
      error: null,
      created_by: input.created_by ?? 'system',
      created_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
    };
    const created = await this.database.db.transaction().execute(async (tx) => {
      if (input.incident_key) {
        // Insert-if-absent in one statement on both databases; the unique index settles races between replicas.
        const inserted = await tx
          .insertInto('pipeline_runs')
          .values(row)
          .onConflict((oc) => oc.column('incident_key').doNothing())
          .returning('id')
          .executeTakeFirst();
        if (!inserted) return false;
      } else await tx.insertInto('pipeline_runs').values(row).execute();
      await this.audit?.record(tx, {
        action: 'pipeline.run_started',
        target: `pipeline_run:${row.id}`,
        context: input.audit,
        actor: row.created_by,
        details: { pipeline: row.pipeline, model: row.model_name, trigger: row.trigger, status: row.status, ...(row.incident_key ? { incident_key: row.incident_key } : {}) },
      });
      return true;
    });
    return created ? toRun(row) : null;
  }

  async get(id: string): Promise<PipelineRun> {
    const row = await this.database.db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`pipeline run "${id}"`);
    return toRun(row);
  }

  async byIncident(key: string): Promise<PipelineRun | null> {
    const row = await this.database.db.selectFrom('pipeline_runs').selectAll().where('incident_key', '=', key).executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async list(filter: { model?: string; pipeline?: string; status?: RunStatus[]; triggers?: string[]; limit?: number } = {}): Promise<PipelineRun[]> {
    let q = this.database.db.selectFrom('pipeline_runs').selectAll();
    if (filter.model) q = q.where('model_name', '=', filter.model);
    if (filter.pipeline) q = q.where('pipeline', '=', filter.pipeline);
    if (filter.status?.length) q = q.where('status', 'in', filter.status);
    if (filter.triggers?.length) q = q.where('trigger', 'in', filter.triggers);
    return (
      await q
        .orderBy('id', 'desc')
        .limit(filter.limit ?? 100)
        .execute()
    ).map(toRun);
  }

  async update(id: string, patch: Partial<Pick<PipelineRun, 'status' | 'stages' | 'params' | 'metrics' | 'result' | 'error' | 'started_at' | 'finished_at'>>): Promise<void> {
    const set: Partial<PipelineRunsTable> = { updated_at: nowIso() };
    if (patch.status) set.status = patch.status;
    if (patch.stages) set.stages = JSON.stringify(patch.stages);
    if (patch.params) set.params = JSON.stringify(patch.params);
    if (patch.metrics) set.metrics = JSON.stringify(patch.metrics);
    if (patch.result) set.result = JSON.stringify(patch.result);
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.started_at !== undefined) set.started_at = patch.started_at;
    if (patch.finished_at !== undefined) set.finished_at = patch.finished_at;
    await this.database.db.updateTable('pipeline_runs').set(set).where('id', '=', id).execute();
  }
}
