/**
 * Executes one CI/CD run: the eight stages in order, each recorded (status, logs, duration,
 * artefacts) as it goes. A run that starts an A/B test parks in `waiting` at deployment; when the test
 * ends, a `cicd.resume` job runs deployment and monitoring setup. A run whose data collection waits for
 * labelled predictions (data.since_trigger) parks in `waiting` with a `retry_at`; its job runs it again then.
 */
import { nowIso } from '../ids.js';
import type { Model, ModelVersion } from '../registry/index.js';
import { CICD_STAGES, type CicdRequest, type CicdStage, cicdRequestSchema } from './cicd-request.js';
import {
  type CicdContext,
  type CicdDeps,
  type CicdStep,
  abTesting,
  dataCollection,
  dataValidation,
  deployment,
  modelTesting,
  modelValidation,
  monitoringSetup,
  runDirectory,
  training,
} from './cicd-stages.js';
import type { PipelineRun, PipelineRunStore, RunStatus } from './pipeline-run-store.js';
import { type StageRecord, appendLog, newStageRecord } from './stage-record.js';

export const newCicdStages = (): StageRecord[] => CICD_STAGES.map((s) => newStageRecord(s, 'builtin'));

export interface CicdFinished {
  run: PipelineRun;
}

export class CicdPipeline {
  constructor(
    private readonly deps: CicdDeps,
    private readonly runs: PipelineRunStore,
    private readonly onFinished: (run: PipelineRun) => Promise<void>,
  ) {}

  /** Runs the stages from `from` on (a fresh run starts at data collection; a resume at deployment). */
  async execute(runId: string, signal: AbortSignal, from: CicdStage = 'data_collection'): Promise<PipelineRun> {
    const run = await this.runs.get(runId);
    if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'rejected') return run;
    const request: CicdRequest = cicdRequestSchema.parse(run.request);
    const stages = from === 'data_collection' ? newCicdStages() : run.stages;
    const result: Record<string, unknown> = { ...run.result };
    delete result.waiting_for; // a run that waited on data runs its stages again
    delete result.retry_at;
    const save = (patch: { status?: RunStatus; error?: string | null; finished_at?: string | null } = {}) => this.runs.update(run.id, { stages, result, ...patch });
    await this.runs.update(run.id, { status: 'running', started_at: run.started_at ?? nowIso(), stages });

    let model: Model;
    let production: ModelVersion | null;
    try {
      model = await this.deps.registry.getModel(request.model_name);
      production = result.previous_production_id ? await this.deps.registry.getVersion(String(result.previous_production_id)) : await this.deps.registry.resolve(model.name).catch(() => null);
    } catch (err) {
      return this.finish(run.id, stages, result, 'failed', 'failed', `model ${request.model_name}: ${(err as Error).message}`);
    }
    if (production) result.previous_production_id ??= production.id;
    result.previous_production_version ??= production?.version ?? null;
    const ctx: CicdContext = { deps: this.deps, run, request, workdir: runDirectory(this.deps.workRoot, run.id), model, production, result };
    const steps: Record<CicdStage, CicdStep> = {
      data_collection: dataCollection,
      data_validation: dataValidation,
      training: training(signal),
      model_validation: modelValidation,
      model_testing: modelTesting,
      ab_testing: abTesting,
      deployment,
      monitoring_setup: monitoringSetup,
    };
    for (const name of CICD_STAGES.slice(CICD_STAGES.indexOf(from))) {
      const rec = stages.find((s) => s.name === name)!;
      const started = Date.now();
      rec.status = 'running';
      rec.started_at ??= new Date(started).toISOString();
      rec.error = null;
      await save();
      try {
        if (signal.aborted) throw new Error('the run was cancelled (its worker lost the job lease)');
        const outcome = await steps[name](ctx, rec);
        rec.finished_at = nowIso();
        rec.duration_ms = (rec.duration_ms ?? 0) + Date.now() - started;
        if (outcome.outcome === 'wait') {
          rec.status = 'waiting';
          // waiting on data: the job looks again at retry_at (pipelines.ts snoozes it); else the A/B test's end resumes the run
          if (outcome.retryInMs !== undefined) Object.assign(result, { waiting_for: `data for ${name.replace(/_/g, ' ')}`, retry_at: new Date(Date.now() + outcome.retryInMs).toISOString() });
          await save({ status: 'waiting' });
          return this.runs.get(run.id);
        }
        if (outcome.outcome === 'reject') {
          rec.status = 'failed';
          rec.error = outcome.reason;
          appendLog(rec, `stopped: ${outcome.reason}`);
          return this.finish(run.id, stages, result, 'rejected', outcome.decision, outcome.reason);
        }
        if (rec.status === 'running') rec.status = 'succeeded';
      } catch (err) {
        rec.status = 'failed';
        rec.error = (err as Error).message;
        rec.finished_at = nowIso();
        rec.duration_ms = Date.now() - started;
        appendLog(rec, `failed: ${rec.error}`);
        return this.finish(run.id, stages, result, 'failed', `failed_at_${name}`, `${name.replace(/_/g, ' ')} failed: ${rec.error}`);
      }
    }
    const decision = result.deployed ? (result.ab_test_id ? 'promoted_after_ab_test' : 'deployed') : 'staged';
    return this.finish(run.id, stages, result, 'succeeded', decision, null);
  }

  private async finish(runId: string, stages: StageRecord[], result: Record<string, unknown>, status: RunStatus, decision: string, reason: string | null): Promise<PipelineRun> {
    for (const s of stages) if (s.status === 'pending') Object.assign(s, { status: 'skipped', error: status === 'succeeded' ? null : 'the run stopped before this stage' });
    const metrics: Record<string, number> = {};
    for (const s of stages) for (const [k, v] of Object.entries(s.metrics)) metrics[`${s.name}.${k}`] = v;
    const params: Record<string, unknown> = {};
    const req = (await this.runs.get(runId)).request;
    for (const [k, v] of Object.entries(req)) if (k !== 'model_name') params[k] = v;
    await this.runs.update(runId, { status, stages, metrics, params, result: { ...result, decision, reason }, error: status === 'succeeded' ? null : reason, finished_at: nowIso() });
    const run = await this.runs.get(runId);
    await this.onFinished(run);
    return run;
  }
}
