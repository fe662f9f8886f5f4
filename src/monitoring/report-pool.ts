/**
 * Monitoring computations off the serving thread: a small piscina pool (one worker by default)
 * that builds monitoring reports. Given a window request the worker reads the windows itself, on
 * its own connection (log-windows.ts); the main thread only stores what comes back.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { WindowRequest } from './log-windows.js';
import type { MonitoringReport, ReportInputs } from './monitoring-report.js';

/** A report's inputs; with `read`, the worker fills `window` and `labelled` from the log itself. */
export interface ReportJob {
  inputs: ReportInputs;
  read?: WindowRequest;
}

export interface ReportPoolOptions {
  /** worker threads (default 1: checks are rare and serving keeps the other cores) */
  workers?: number;
}

export class ReportPool {
  private started?: Piscina;
  /** the thread id of the worker that built the last report (diagnostics and tests) */
  lastThreadId: number | null = null;
  /** that worker's nice value (19 on Linux; null where it cannot be read) */
  lastNice: number | null = null;

  constructor(private readonly options: ReportPoolOptions = {}) {}

  /** Started on first check: a CLI command that never monitors starts no thread. */
  private get piscina(): Piscina {
    this.started ??= new Piscina({ filename: workerFile(), minThreads: 0, maxThreads: this.options.workers ?? 1, idleTimeout: 60_000 });
    return this.started;
  }

  async build(job: ReportJob): Promise<MonitoringReport> {
    const out = (await this.piscina.run(job)) as { report: MonitoringReport; threadId: number; nice: number | null };
    this.lastThreadId = out.threadId;
    this.lastNice = out.nice;
    return out.report;
  }

  async close(): Promise<void> {
    await this.started?.destroy();
    this.started = undefined;
  }
}

/**
 * The compiled worker. From the built server this is the sibling file; when this module runs from
 * TypeScript source (vitest), a worker thread has no TypeScript loader, so it runs the built copy
 * in dist/ (`npm test` builds first).
 */
function workerFile(): string {
  const sibling = fileURLToPath(new URL('./report-worker.js', import.meta.url));
  if (!import.meta.url.endsWith('.ts')) return sibling;
  const built = fileURLToPath(new URL('../../dist/monitoring/report-worker.js', import.meta.url));
  if (!existsSync(built)) throw new Error(`the monitoring report worker is not built (${built}): run npm run build`);
  return built;
}
