/**
 * Traceability: from a prediction to the version that answered it (and the release test that routed
 * it), its artifact, the run that trained it, the data it was trained on, its params and metrics, and
 * who moved it to production, when and why. It only reads: the registry's version and alias history,
 * the pipeline run, the tracking run, the release test and the audit rows of each, through their own
 * services. What it can follow is what registration recorded in a version's `lineage` (the CI/CD
 * pipeline, `POST /api/v1/train`, `vitals train` and the MLflow API record it; docs/audit.md).
 */
import type { AbTesting } from '../abtest/index.js';
import type { AuditRow } from '../audit/index.js';
import { VitalsError } from '../errors.js';
import type { PredictionLog } from '../monitoring/index.js';
import type { PipelineRunStore } from '../pipelines/index.js';
import type { ModelEvent, ModelRegistry, ModelVersion } from '../registry/index.js';
import type { ExperimentTracking } from '../tracking/index.js';

export interface LineageDeps {
  predictionLog: Pick<PredictionLog, 'get'>;
  registry: Pick<ModelRegistry, 'getVersion' | 'history'>;
  runs: Pick<PipelineRunStore, 'get'>;
  tracking: Pick<ExperimentTracking, 'getRun'>;
  abTests: Pick<AbTesting, 'get'>;
  /** the audit rows whose target is this one, in chain order (the audit trail's own query) */
  auditOf: (target: string) => Promise<AuditRow[]>;
}

/** Who did something, as the audit trail names them (the authenticated principal), with the actor the service recorded. */
export interface Actor {
  actor: string;
  principal: string | null;
  role: string | null;
  request_id: string | null;
}

export interface AliasMove extends Actor {
  at: string;
  action: ModelEvent['action'];
  alias: string | null;
  from_version: string | null;
  to_version: string | null;
  reason: string | null;
}

export interface RunLineage {
  id: string;
  pipeline: string;
  trigger: string;
  status: string;
  decision: string | null;
  started_by: Actor;
  created_at: string;
  finished_at: string | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  stages: Array<{ name: string; status: string }>;
}

export interface DataLineage {
  /** sha256 of the data set as trained on */
  sha256: string | null;
  /** file, folder, prediction_log or inline (sent in the request) */
  source: string | null;
  path: string | null;
  rows: number | null;
  train_rows: number | null;
  holdout_rows: number | null;
  /** each source file with its own content hash and row count */
  files: Array<{ path: string; sha256: string; rows: number }>;
  /** prediction_log: how many labelled predictions, and the oldest and newest id taken */
  window: { predictions: number; oldest_id: string | null; newest_id: string | null } | null;
}

export interface VersionLineage {
  model: string;
  model_id: string;
  version: string;
  version_id: string;
  status: string;
  aliases: string[];
  registered: Actor & { at: string };
  artifact: { sha256: string; size_bytes: number; media_type: 'application/onnx' };
  training: {
    /** pipeline: a Vitals run (CI/CD or /api/v1/train); trainer: Vitals' trainer with no run (`vitals train`, the demo); mlflow: an MLflow run; registered: an ONNX file registered as is */
    kind: 'pipeline' | 'trainer' | 'mlflow' | 'registered';
    pipeline_run_id: string | null;
    pipeline_run: RunLineage | null;
    tracking_run: { id: string; experiment: string; name: string | null; status: string; config: Record<string, unknown>; metrics: Record<string, number> } | null;
    mlflow_run_id: string | null;
  };
  data: DataLineage | null;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  parent_version: string | null;
  /** the latest move of `production` to this version, or null when it never was production */
  promoted_to_production: AliasMove | null;
  /** every alias move to or from this version, oldest first */
  alias_history: AliasMove[];
}

export interface PredictionLineage {
  prediction: {
    id: string;
    created_at: string;
    model: string;
    version: string | null;
    version_id: string | null;
    variant: string | null;
    source: string;
    request_id: string | null;
    prediction: string | null;
    confidence: number | null;
    error: string | null;
    shadow_of: string | null;
  };
  release_test: { id: string; name: string; mode: string; status: string; control_version: string; treatment_version: string; winner: string | null; decision_reason: string | null } | null;
  model_version: VersionLineage | null;
}

const DATA_SOURCES = ['file', 'folder', 'prediction_log', 'inline'];
const str = (v: unknown): string | null => (typeof v === 'string' && v.length ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isNotFound = (err: unknown) => err instanceof VitalsError && err.statusCode === 404;

export class Lineage {
  constructor(private readonly deps: LineageDeps) {}

  /** The lineage of one prediction (404 PREDICTION_NOT_FOUND for an unknown id). */
  async ofPrediction(id: string): Promise<PredictionLineage> {
    const p = await this.deps.predictionLog.get(id);
    const test = p.ab_test_id ? await this.deps.abTests.get(p.ab_test_id).catch((err) => (isNotFound(err) ? null : Promise.reject(err))) : null;
    const version = p.version_id ? await this.deps.registry.getVersion(p.version_id).catch((err) => (isNotFound(err) ? null : Promise.reject(err))) : null;
    return {
      prediction: {
        id: p.id,
        created_at: p.created_at,
        model: p.model_name,
        version: p.version,
        version_id: p.version_id,
        variant: p.variant,
        source: p.source,
        request_id: p.request_id,
        prediction: p.prediction,
        confidence: p.confidence,
        error: p.error,
        shadow_of: p.shadow_of ?? null,
      },
      release_test: test
        ? {
            id: test.id,
            name: test.name,
            mode: test.mode,
            status: test.status,
            control_version: test.control_version,
            treatment_version: test.treatment_version,
            winner: test.winner,
            decision_reason: test.decision_reason,
          }
        : null,
      model_version: version ? await this.describe(version) : null,
    };
  }

  /** The lineage of a version named by model and semver, alias or id (404 for an unknown one). */
  async ofVersion(model: string, version: string): Promise<VersionLineage> {
    return this.describe(await this.deps.registry.getVersion(model, version));
  }

  private async describe(v: ModelVersion): Promise<VersionLineage> {
    const l = v.lineage;
    const mlflow = (l.mlflow ?? null) as { run_id?: unknown } | null;
    const runId = str(l.pipeline_run_id) ?? str(v.metadata.pipeline_run_id);
    const run = runId ? await this.deps.runs.get(runId).catch((err) => (isNotFound(err) ? null : Promise.reject(err))) : null;
    const trackingId = str(l.tracking_run_id) ?? str(v.metadata.tracking_run_id) ?? str(mlflow?.run_id);
    const tracked = trackingId ? await this.deps.tracking.getRun(trackingId).catch((err) => (isNotFound(err) ? null : Promise.reject(err))) : null;
    const { registered, moves } = await this.aliasHistory(v);
    const production = moves.filter((m) => m.alias === 'production' && m.to_version === v.version).at(-1) ?? null;
    return {
      model: v.model_name,
      model_id: v.model_id,
      version: v.version,
      version_id: v.id,
      status: v.status,
      aliases: v.aliases,
      registered,
      artifact: { sha256: v.artifact.sha256, size_bytes: v.artifact.size, media_type: 'application/onnx' },
      training: {
        kind: runId ? 'pipeline' : String(v.metadata.trainer ?? '').startsWith('vitals/') ? 'trainer' : mlflow ? 'mlflow' : 'registered',
        pipeline_run_id: runId,
        pipeline_run: run ? await this.runLineage(run) : null,
        tracking_run: tracked ? { id: tracked.id, experiment: tracked.experiment, name: tracked.name, status: tracked.status, config: tracked.config, metrics: tracked.metrics } : null,
        mlflow_run_id: str(mlflow?.run_id),
      },
      data: dataOf(l, run?.result ?? {}),
      params: v.params,
      metrics: v.metrics,
      parent_version: str(l.parent_version),
      promoted_to_production: production,
      alias_history: moves,
    };
  }

  private async runLineage(run: Awaited<ReturnType<PipelineRunStore['get']>>): Promise<RunLineage> {
    const started = (await this.deps.auditOf(`pipeline_run:${run.id}`)).find((r) => r.action === 'pipeline.run_started');
    return {
      id: run.id,
      pipeline: run.pipeline,
      trigger: run.trigger,
      status: run.status,
      decision: str(run.result.decision),
      started_by: { actor: run.created_by, principal: started?.principal ?? null, role: started?.role ?? null, request_id: started?.request_id ?? null },
      created_at: run.created_at,
      finished_at: run.finished_at,
      params: run.params,
      metrics: run.metrics,
      stages: run.stages.map((s) => ({ name: s.name, status: s.status })),
    };
  }

  /** The registry's events of this version, each joined to its audit row (the principal behind the actor). */
  private async aliasHistory(v: ModelVersion): Promise<{ registered: Actor & { at: string }; moves: AliasMove[] }> {
    const events = (await this.deps.registry.history(v.model_id)).filter((e) => e.to_version === v.version || e.from_version === v.version);
    // the registry's audit rows are targeted at the version an event moves to (or from, when it moves to none)
    const targets = new Set(events.map((e) => `model:${v.model_name}@${e.to_version ?? e.from_version}`));
    const byEvent = new Map<string, AuditRow>();
    for (const target of targets) {
      for (const row of await this.deps.auditOf(target)) {
        const eventId = (JSON.parse(row.details) as { event_id?: unknown }).event_id;
        if (typeof eventId === 'string') byEvent.set(eventId, row);
      }
    }
    const move = (e: ModelEvent): AliasMove => {
      const row = byEvent.get(e.id);
      return {
        at: e.created_at,
        action: e.action,
        alias: e.alias,
        from_version: e.from_version,
        to_version: e.to_version,
        actor: e.actor,
        principal: row?.principal ?? null,
        role: row?.role ?? null,
        request_id: row?.request_id ?? null,
        reason: e.reason,
      };
    };
    const reg = events.find((e) => e.action === 'registered' && e.to_version === v.version);
    const registered = reg ? move(reg) : null;
    return {
      registered: {
        at: registered?.at ?? v.created_at,
        actor: registered?.actor ?? v.created_by,
        principal: registered?.principal ?? null,
        role: registered?.role ?? null,
        request_id: registered?.request_id ?? null,
      },
      moves: events.filter((e) => e.action !== 'registered').map(move),
    };
  }
}

/**
 * The data a version was trained on, from its lineage (the run's result fills what older registrations
 * left out). Versions registered before `data_path` existed kept the trainer's path in `data_source`.
 */
function dataOf(l: Record<string, unknown>, result: Record<string, unknown>): DataLineage | null {
  const sha256 = str(l.data_sha256) ?? str(result.data_sha256);
  if (!sha256 && l.rows === undefined) return null;
  const legacy = str(l.data_source);
  const legacyPath = legacy && !DATA_SOURCES.includes(legacy) ? legacy : null;
  const files = (Array.isArray(l.data_files) ? l.data_files : Array.isArray(result.data_files) ? result.data_files : []) as DataLineage['files'];
  return {
    sha256,
    source: legacyPath ? 'file' : legacy,
    path: str(l.data_path) ?? str(result.data_path) ?? legacyPath,
    rows: num(l.rows) ?? num(result.data_rows),
    train_rows: num(l.train_rows),
    holdout_rows: num(l.holdout_rows),
    files,
    window: (l.data_window ?? result.data_window ?? null) as DataLineage['window'],
  };
}
