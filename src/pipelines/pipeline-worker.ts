/**
 * Executes queued jobs: polls the queue, renews the lease while a job runs, recovers jobs whose
 * worker stopped heartbeating. Several workers (threads of one process, or processes on several
 * machines sharing PostgreSQL) may run side by side.
 */
import { hostname } from 'node:os';
import { uuidv7 } from '../ids.js';
import type { Job, JobQueue } from './job-queue.js';

/** Runs a job; `{ retryInMs }` puts it back in the queue to run again then (work waiting on data). */
// biome-ignore lint/suspicious/noConfusingVoidType: most handlers return nothing at all (`async () => {}`), which `undefined` would refuse
export type JobHandler = (job: Job, signal: AbortSignal) => Promise<void | { retryInMs: number }>;

export interface PipelineWorkerOptions {
  pollMs?: number;
  workerId?: string;
  /** called for jobs given up on after lost leases, so their runs can be marked failed */
  onAbandoned?: (job: Job) => Promise<void>;
  onError?: (err: unknown, job?: Job) => void;
}

export class PipelineWorker {
  readonly id: string;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly queue: JobQueue,
    private readonly handlers: Record<string, JobHandler>,
    private readonly options: PipelineWorkerOptions = {},
  ) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.current = this.loop();
  }

  private async loop(): Promise<void> {
    this.timer = null;
    try {
      while (!this.stopped && (await this.runOnce())) {
        /* drain what is queued */
      }
    } catch (err) {
      this.options.onError?.(err);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => void (this.current = this.loop()), this.options.pollMs ?? 500);
      this.timer.unref();
    }
  }

  /** Wakes an idle loop now (a job was just enqueued in this process). */
  poke(): void {
    if (this.stopped || !this.timer) return; // busy: it drains the queue before sleeping
    clearTimeout(this.timer);
    this.current = this.loop();
  }

  /** Recovers expired leases, then claims and runs one job. Returns whether a job ran. */
  async runOnce(): Promise<boolean> {
    const { failed } = await this.queue.recoverExpired();
    for (const job of failed) await this.options.onAbandoned?.(job).catch((err) => this.options.onError?.(err, job));
    const job = await this.queue.claim(this.id, Object.keys(this.handlers));
    if (!job) return false;
    const abort = new AbortController();
    const beat = setInterval(
      () => {
        void this.queue.heartbeat(job.id, this.id).then(
          (mine) => mine || abort.abort(new Error('lease lost')),
          () => undefined,
        );
      },
      Math.max(50, Math.floor(this.queue.leaseMs / 3)),
    );
    try {
      const outcome = await this.handlers[job.kind]!(job, abort.signal);
      if (outcome) await this.queue.snooze(job.id, this.id, outcome.retryInMs);
      else await this.queue.complete(job.id, this.id);
    } catch (err) {
      this.options.onError?.(err, job);
      await this.queue.fail(job.id, this.id, (err as Error).message ?? String(err));
    } finally {
      clearInterval(beat);
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.catch(() => undefined);
  }
}
