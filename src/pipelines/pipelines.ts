/**
 * The pipelines capability, wired: run records, the job queue and its worker, the CI/CD pipeline,
 * retraining, and pipeline files (dvc.yaml) run in process. Built by the composition root.
 */
import { resolve } from 'node:path';
import type { AbTest, AbTesting } from '../abtest/index.js';
import { VitalsError } from '../errors.js';
import type { Alert, ModelMonitor } from '../monitoring/model-monitor.js';
import type { PredictionLog } from '../monitoring/prediction-log.js';
import type { ModelRegistry } from '../registry/index.js';
import type { InferencePool } from '../serving/index.js';
import type { Database } from '../store/index.js';
import type { ExperimentTracking } from '../tracking/index.js';
import { CicdPipeline, newCicdStages } from './cicd-pipeline.js';
import { type CicdRequestInput, cicdRequestSchema } from './cicd-request.js';
import { JobQueue } from './job-queue.js';
import { loadPipelineSpec } from './pipeline-spec.js';
import { type PipelineRun, PipelineRunStore, type RunTrigger } from './pipeline-run-store.js';
import { PipelineWorker } from './pipeline-worker.js';
import { Retraining } from './retraining.js';
import { diffMetrics, diffParams } from './run-diff.js';
import { type BuiltinStep, runPipeline } from './stage-runner.js';

export interface PipelineEventOutbox {
  enqueueEvent(tx: Database['db'], topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
}

export interface PipelinesOptions {
  home: string;
  windowSize: number;
  driftThreshold: number;
  scheduleDays: number;
  cron?: string;
  leaseMs?: number;
  pollMs?: number;
  outbox?: PipelineEventOutbox;
  onError?: (err: unknown, context: string) => void;
}

export class Pipelines {
  readonly runs: PipelineRunStore;
  readonly queue: JobQueue;
  readonly worker: PipelineWorker;
  readonly cicd: CicdPipeline;
  readonly retraining: Retraining;
  private readonly listeners: Array<(run: PipelineRun) => void> = [];
  private readonly abTests: AbTesting;

  constructor(
    private readonly database: Database,
    private readonly registry: ModelRegistry,
    deps: { predictionLog: PredictionLog; monitor: ModelMonitor; abTests: AbTesting; pool: InferencePool; tracking: ExperimentTracking },
    private readonly options: PipelinesOptions,
  ) {
    this.abTests = deps.abTests;
    this.runs = new PipelineRunStore(database);
    this.queue = new JobQueue(database, { leaseMs: options.leaseMs });
    this.cicd = new CicdPipeline(
      { registry, ...deps, workRoot: resolve(options.home, 'pipelines'), windowSize: options.windowSize, driftThreshold: options.driftThreshold },
      this.runs,
      (run) => this.finished(run),
    );
    this.retraining = new Retraining(database, registry, deps.monitor, this.runs, (request, meta) => this.submitCicd(request, meta), { scheduleDays: options.scheduleDays, cron: options.cron });
    this.worker = new PipelineWorker(
      this.queue,
      {
        'cicd.run': async (job, signal) => void (await this.cicd.execute(String(job.payload.run_id), signal)),
        'cicd.resume': async (job, signal) => void (await this.cicd.execute(String(job.payload.run_id), signal, 'deployment')),
      },
      {
        pollMs: options.pollMs,
        onAbandoned: async (job) => {
          if (!job.run_id) return;
          const run = await this.runs.get(job.run_id);
          if (['succeeded', 'failed', 'rejected'].includes(run.status)) return;
          await this.runs.update(run.id, { status: 'failed', error: `job ${job.id}: ${job.last_error}`, finished_at: new Date().toISOString(), result: { ...run.result, decision: 'failed', reason: job.last_error } });
          await this.finished(await this.runs.get(run.id));
        },
        onError: (err) => options.onError?.(err, 'pipeline job failed'),
      },
    );
    // Retraining hooks: monitoring alerts start runs; the end of a run's A/B test resumes it.
    deps.monitor.onAlert((alert: Alert) => void this.retraining.onAlert(alert).catch((err) => options.onError?.(err, 'retraining trigger failed')));
    deps.abTests.onChange((test) => void this.onTestChanged(test).catch((err) => options.onError?.(err, 'resuming a pipeline run failed')));
  }

  onFinished(listener: (run: PipelineRun) => void): void {
    this.listeners.push(listener);
  }

  /** Queues a CI/CD run (the worker executes it). Returns null when the incident key was already used. */
  async submitCicd(input: Record<string, unknown> | CicdRequestInput, meta: { trigger?: RunTrigger; incidentKey?: string; actor?: string; reason?: string } = {}): Promise<PipelineRun | null> {
    const parsed = cicdRequestSchema.safeParse(input);
    if (!parsed.success) throw new VitalsError('VALIDATION_FAILED', `pipeline request rejected: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    await this.registry.getModel(parsed.data.model_name);
    const run = await this.runs.create({
      pipeline: 'cicd',
      model_name: parsed.data.model_name,
      trigger: meta.trigger ?? 'api',
      incident_key: meta.incidentKey ?? null,
      request: parsed.data as unknown as Record<string, unknown>,
      stages: newCicdStages(),
      created_by: meta.actor ?? 'api',
    });
    if (!run) return null;
    if (meta.reason) await this.runs.update(run.id, { result: { trigger_reason: meta.reason } });
    await this.queue.enqueue('cicd.run', { run_id: run.id }, { runId: run.id });
    this.worker.poke();
    return this.runs.get(run.id);
  }

  /** Runs a pipeline file (dvc.yaml) in this process and records it as a run. */
  async runFile(file: string, options: { targets?: string[]; force?: boolean; actor?: string; builtins?: Record<string, BuiltinStep>; onProgress?: (run: PipelineRun) => void } = {}): Promise<PipelineRun> {
    const spec = loadPipelineSpec(file);
    const created = (await this.runs.create({ pipeline: `file:${resolve(file)}`, trigger: 'manual', request: { file: resolve(file), targets: options.targets ?? [], force: !!options.force }, created_by: options.actor ?? 'cli' }))!;
    await this.runs.update(created.id, { status: 'running', started_at: new Date().toISOString() });
    const outcome = await runPipeline(spec, {
      targets: options.targets,
      force: options.force,
      builtins: options.builtins,
      onStage: async (_r, all) => {
        await this.runs.update(created.id, { stages: all });
        options.onProgress?.(await this.runs.get(created.id));
      },
    });
    await this.runs.update(created.id, {
      status: outcome.status,
      stages: outcome.stages,
      params: outcome.params,
      metrics: outcome.metrics,
      error: outcome.error,
      result: { decision: outcome.status, reason: outcome.error, cached: outcome.stages.filter((s) => s.status === 'cached').map((s) => s.name) },
      finished_at: new Date().toISOString(),
    });
    const run = await this.runs.get(created.id);
    await this.finished(run);
    return run;
  }

  async diff(a: string, b: string, options: { all?: boolean } = {}) {
    const [ra, rb] = await Promise.all([this.runs.get(a), this.runs.get(b)]);
    const flat = (o: Record<string, unknown>, p = '', out: Record<string, unknown> = {}) => {
      for (const [k, v] of Object.entries(o)) {
        if (v && typeof v === 'object' && !Array.isArray(v)) flat(v as Record<string, unknown>, `${p}${k}.`, out);
        else out[`${p}${k}`] = v;
      }
      return out;
    };
    return { a: ra.id, b: rb.id, params: diffParams(flat(ra.params), flat(rb.params), options), metrics: diffMetrics(ra.metrics, rb.metrics, options) };
  }

  startWorker(): void {
    this.worker.start();
  }

  async close(): Promise<void> {
    await this.worker.stop();
  }

  /** Resumes waiting runs whose A/B test has ended (also called by the schedule tick, for tests ended elsewhere). */
  async resumeWaiting(): Promise<number> {
    let n = 0;
    for (const run of await this.runs.list({ status: ['waiting'] })) {
      const testId = run.result.ab_test_id as string | undefined;
      if (!testId) continue;
      const test = await this.lookupTest(testId);
      if (test && test.status !== 'active') {
        await this.runs.update(run.id, { status: 'queued' });
        await this.queue.enqueue('cicd.resume', { run_id: run.id }, { runId: run.id });
        n++;
      }
    }
    if (n) this.worker.poke();
    return n;
  }

  private async lookupTest(id: string): Promise<AbTest | null> {
    return this.abTests.get(id).catch(() => null);
  }

  private async onTestChanged(test: AbTest): Promise<void> {
    if (test.status === 'active') return;
    const waiting = await this.runs.list({ status: ['waiting'], model: test.model_name });
    for (const run of waiting) {
      if (run.result.ab_test_id !== test.id) continue;
      // Claimed by a conditional status move, so two replicas hearing the same event resume once.
      const res = await this.database.db.updateTable('pipeline_runs').set({ status: 'queued' }).where('id', '=', run.id).where('status', '=', 'waiting').executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) continue;
      await this.queue.enqueue('cicd.resume', { run_id: run.id }, { runId: run.id });
      this.worker.poke();
    }
  }

  private async finished(run: PipelineRun): Promise<void> {
    await this.options.outbox
      ?.enqueueEvent(this.database.db, 'pipelines', 'pipeline.finished', {
        run_id: run.id,
        pipeline: run.pipeline,
        model: run.model_name,
        trigger: run.trigger,
        status: run.status,
        decision: run.result.decision ?? null,
        reason: run.result.reason ?? null,
        new_version: run.result.new_version ?? null,
      }, { key: run.model_name ?? run.id })
      .catch((err) => this.options.onError?.(err, 'could not publish pipeline.finished'));
    for (const l of this.listeners) l(run);
  }
}
