/**
 * The pipelines capability, wired: run records, the job queue and its worker, the CI/CD pipeline,
 * retraining, and pipeline files (dvc.yaml) run in process. Built by the composition root.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AbTest, AbTesting } from '../abtest/index.js';
import { type AuditContext, accessRecorder } from '../audit/index.js';
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
import type { StageRecord } from './stage-record.js';
import { type TrainRequest, trainAndRegister } from './train-and-register.js';
import { parseCsv, toTabularDataset } from './trainers/index.js';

const PIPELINE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const relativeName = (file: string) => file.split(/[\\/]/).slice(-2).join('/');

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
  /** the audit trail: each new run writes `pipeline.run_started` with it */
  audit?: import('../audit/index.js').AuditRecorder;
  onError?: (err: unknown, context: string) => void;
  /** PIPELINES_DIR: the operator's pipelines, `<name>/dvc.yaml`, the only ones the API can start */
  pipelinesDir?: string;
  /** the (scrubbed) environment pipeline commands run with */
  pipelineEnv?: Record<string, string>;
  pipelineTimeoutMs?: number;
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
    this.runs = new PipelineRunStore(database, options.audit);
    this.queue = new JobQueue(database, { leaseMs: options.leaseMs });
    this.cicd = new CicdPipeline(
      {
        registry,
        ...deps,
        workRoot: resolve(options.home, 'pipelines'),
        windowSize: options.windowSize,
        driftThreshold: options.driftThreshold,
        access: options.audit ? accessRecorder(database.db, options.audit) : undefined,
      },
      this.runs,
      (run) => this.finished(run),
    );
    this.retraining = new Retraining(database, registry, deps.monitor, this.runs, (request, meta) => this.submitCicd(request, meta), {
      scheduleDays: options.scheduleDays,
      cron: options.cron,
      audit: options.audit,
    });
    this.worker = new PipelineWorker(
      this.queue,
      {
        'cicd.run': async (job, signal) => {
          const run = await this.cicd.execute(String(job.payload.run_id), signal);
          // waiting on data: the same job runs again at retry_at, without holding this worker meanwhile
          if (run.status === 'waiting' && typeof run.result.retry_at === 'string') return { retryInMs: Math.max(0, Date.parse(run.result.retry_at) - Date.now()) };
        },
        'cicd.resume': async (job, signal) => void (await this.cicd.execute(String(job.payload.run_id), signal, 'deployment')),
        'train.run': async (job) => void (await this.executeTraining(String(job.payload.run_id), job.payload.csv as string, job.payload.audit as AuditContext | undefined)),
        'file.run': async (job) => void (await this.executeFile(String(job.payload.run_id))),
      },
      {
        pollMs: options.pollMs,
        onAbandoned: async (job) => {
          if (!job.run_id) return;
          const run = await this.runs.get(job.run_id);
          if (['succeeded', 'failed', 'rejected'].includes(run.status)) return;
          await this.runs.update(run.id, {
            status: 'failed',
            error: `job ${job.id}: ${job.last_error}`,
            finished_at: new Date().toISOString(),
            result: { ...run.result, decision: 'failed', reason: job.last_error },
          });
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
  async submitCicd(
    input: Record<string, unknown> | CicdRequestInput,
    meta: { trigger?: RunTrigger; incidentKey?: string; actor?: string; reason?: string; audit?: import('../audit/index.js').AuditContext } = {},
  ): Promise<PipelineRun | null> {
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
      audit: meta.audit,
    });
    if (!run) return null;
    if (meta.reason) await this.runs.update(run.id, { result: { trigger_reason: meta.reason } });
    await this.queue.enqueue('cicd.run', { run_id: run.id }, { runId: run.id });
    this.worker.poke();
    return this.runs.get(run.id);
  }

  /** Runs a pipeline file (dvc.yaml) in this process and records it as a run. */
  async runFile(
    file: string,
    options: {
      targets?: string[];
      force?: boolean;
      actor?: string;
      builtins?: Record<string, BuiltinStep>;
      onProgress?: (run: PipelineRun) => void;
      runId?: string;
      env?: Record<string, string>;
      timeoutMs?: number;
    } = {},
  ): Promise<PipelineRun> {
    const spec = loadPipelineSpec(file);
    const created = options.runId
      ? await this.runs.get(options.runId)
      : (await this.runs.create({
          pipeline: `file:${resolve(file)}`,
          trigger: 'manual',
          request: { file: resolve(file), targets: options.targets ?? [], force: !!options.force },
          created_by: options.actor ?? 'cli',
        }))!;
    await this.runs.update(created.id, { status: 'running', started_at: new Date().toISOString() });
    const outcome = await runPipeline(spec, {
      targets: options.targets,
      force: options.force,
      env: options.env,
      timeoutMs: options.timeoutMs,
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

  /**
   * Queues the training of a built-in model (`POST /api/v1/train`); the worker trains and registers it.
   * The CSV travels in the job's payload, the request (without it) in the run.
   */
  async submitTraining(request: Omit<TrainRequest, 'onProgress' | 'csv'> & { csv: string; audit?: import('../audit/index.js').AuditContext }): Promise<PipelineRun> {
    const { csv, audit, ...rest } = request;
    toTabularDataset(parseCsv(csv), request.target); // a malformed CSV or a missing target is the caller's 422 now, not a failed run later
    const run = (await this.runs.create({
      pipeline: 'train',
      model_name: request.modelName,
      trigger: 'api',
      request: { ...rest, data_sha256: createHash('sha256').update(csv).digest('hex'), data_bytes: Buffer.byteLength(csv) },
      stages: [{ name: 'training', status: 'pending', log: [] } as unknown as StageRecord],
      created_by: request.actor ?? 'api',
      audit: request.audit,
    }))!;
    // the caller travels with the job (not in the run, which viewers read): the registration is theirs
    await this.queue.enqueue('train.run', { run_id: run.id, csv, ...(audit ? { audit } : {}) }, { runId: run.id });
    this.worker.poke();
    return this.runs.get(run.id);
  }

  private async executeTraining(runId: string, csv: string, audit?: AuditContext): Promise<void> {
    const run = await this.runs.get(runId);
    const startedAt = new Date().toISOString();
    await this.runs.update(runId, { status: 'running', started_at: startedAt });
    const r = run.request as unknown as Omit<TrainRequest, 'csv'>;
    try {
      const result = await trainAndRegister(this.registry, { ...r, csv, runId, audit, onProgress: undefined });
      await this.runs.update(runId, {
        status: 'succeeded',
        params: result.version.params,
        metrics: result.metrics,
        result: { decision: 'registered', new_version: result.version.version, version_id: result.version.id, model: result.version.model_name, metrics: result.metrics },
        finished_at: new Date().toISOString(),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.runs.update(runId, { status: 'failed', error: message, result: { decision: 'failed', reason: message }, finished_at: new Date().toISOString() });
    }
    await this.finished(await this.runs.get(runId));
  }

  /**
   * Queues a pipeline defined by the operator: `PIPELINES_DIR/<name>/dvc.yaml`. Over HTTP a pipeline is
   * named, never given as a path or a command.
   */
  async submitNamed(name: string, options: { targets?: string[]; force?: boolean; actor?: string; audit?: import('../audit/index.js').AuditContext } = {}): Promise<PipelineRun> {
    const file = this.namedPipelineFile(name);
    const run = (await this.runs.create({
      pipeline: `named:${name}`,
      trigger: 'api',
      request: { name, targets: options.targets ?? [], force: !!options.force },
      created_by: options.actor ?? 'api',
      audit: options.audit,
    }))!;
    await this.queue.enqueue('file.run', { run_id: run.id }, { runId: run.id });
    this.worker.poke();
    return this.runs.get(run.id).then((r) => ({ ...r, request: { ...r.request, file: relativeName(file) } }));
  }

  /** The operator's pipelines: the folders of PIPELINES_DIR that hold a dvc.yaml. */
  namedPipelines(): string[] {
    const dir = this.options.pipelinesDir;
    if (!dir || !existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && PIPELINE_NAME.test(d.name) && existsSync(join(dir, d.name, 'dvc.yaml')))
      .map((d) => d.name)
      .sort();
  }

  private namedPipelineFile(name: string): string {
    if (!PIPELINE_NAME.test(name)) throw new VitalsError('VALIDATION_FAILED', `pipeline: "${name}" is not a pipeline name (letters, digits, - and _)`);
    if (!this.namedPipelines().includes(name)) {
      const known = this.namedPipelines();
      throw new VitalsError('NOT_FOUND', `no pipeline named "${name}" in PIPELINES_DIR${known.length ? `; known: ${known.join(', ')}` : ' (set PIPELINES_DIR to a folder of <name>/dvc.yaml)'}`);
    }
    return join(this.options.pipelinesDir!, name, 'dvc.yaml');
  }

  private async executeFile(runId: string): Promise<void> {
    const run = await this.runs.get(runId);
    const request = run.request as { name: string; targets?: string[]; force?: boolean };
    await this.runFile(this.namedPipelineFile(request.name), { targets: request.targets, force: request.force, runId, env: this.options.pipelineEnv, timeoutMs: this.options.pipelineTimeoutMs });
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
      if (test && test.status !== 'active' && (await this.claimResume(run.id))) n++;
    }
    if (n) this.worker.poke();
    return n;
  }

  /**
   * Moves a run waiting on its A/B test to queued and enqueues its resume: a conditional status move,
   * so the test's change event and the schedule tick, in this process or another, resume it once.
   */
  private async claimResume(runId: string): Promise<boolean> {
    const res = await this.database.db.updateTable('pipeline_runs').set({ status: 'queued' }).where('id', '=', runId).where('status', '=', 'waiting').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await this.queue.enqueue('cicd.resume', { run_id: runId }, { runId });
    return true;
  }

  private async lookupTest(id: string): Promise<AbTest | null> {
    return this.abTests.get(id).catch(() => null);
  }

  private async onTestChanged(test: AbTest): Promise<void> {
    if (test.status === 'active') return;
    const waiting = await this.runs.list({ status: ['waiting'], model: test.model_name });
    for (const run of waiting) {
      if (run.result.ab_test_id !== test.id) continue;
      if (await this.claimResume(run.id)) this.worker.poke();
    }
  }

  private async finished(run: PipelineRun): Promise<void> {
    await this.options.outbox
      ?.enqueueEvent(
        this.database.db,
        'pipelines',
        'pipeline.finished',
        {
          run_id: run.id,
          pipeline: run.pipeline,
          model: run.model_name,
          trigger: run.trigger,
          status: run.status,
          decision: run.result.decision ?? null,
          reason: run.result.reason ?? null,
          new_version: run.result.new_version ?? null,
        },
        { key: run.model_name ?? run.id },
      )
      .catch((err) => this.options.onError?.(err, 'could not publish pipeline.finished'));
    for (const l of this.listeners) l(run);
  }
}
