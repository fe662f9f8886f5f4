/**
 * The background loop run by `vitals worker` and embedded in `vitals serve`: periodic jobs, each
 * isolated so one failure never stops the others: monitoring, release tests, retraining, rollups,
 * the prediction-log retention purge and scheduled backups.
 */
import { hostname } from 'node:os';
import type { Services } from './app.js';
import { claimTurn } from '../store/cluster-jobs.js';

export interface LoopLogger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export interface BackgroundJob {
  name: string;
  intervalMs: number;
  run(services: Services, log: LoopLogger): Promise<void>;
}

/** Re-hashes every live version's artifact: a corrupted or missing file is reported before it is served. */
export const artifactIntegrityJob: BackgroundJob = {
  name: 'artifact-integrity',
  intervalMs: 6 * 3600_000,
  async run(s, log) {
    let checked = 0;
    const bad: string[] = [];
    for (const model of await s.registry.listModels()) {
      for (const v of await s.registry.listVersions(model.id)) {
        if (v.status === 'archived') continue;
        checked++;
        await s.registry.loadArtifact(v).catch((err: Error) => bad.push(`${model.name} ${v.version}: ${err.message}`));
      }
    }
    if (bad.length) log.error({ bad }, `artifact integrity: ${bad.length} of ${checked} artifacts failed`);
    else log.info({ checked }, `artifact integrity: ${checked} artifacts verified`);
  },
};

/** Checks every watched version for drift, decay and operations every MONITORING_CHECK_INTERVAL. */
export function monitoringJob(intervalSeconds: number): BackgroundJob {
  return {
    name: 'monitoring',
    intervalMs: intervalSeconds * 1000,
    async run(s, log) {
      if (!s.settings.MODEL_MONITORING_ENABLED) return;
      const reports = await s.monitor.checkAll();
      const flagged = reports.filter((r) => r.drift?.drift_detected || r.decay.decay_detected);
      log.info({ checked: reports.length, flagged: flagged.map((r) => `${r.model_name} ${r.version}`) }, `monitoring: ${reports.length} versions checked`);
    },
  };
}

/** Looks at every active release test: stores the always-valid p-values and, in auto mode, promotes, rolls back or advances. */
export function abTestJob(intervalSeconds: number): BackgroundJob {
  return {
    name: 'ab-tests',
    intervalMs: intervalSeconds * 1000,
    async run(s, log) {
      const looks = await s.abTests.evaluateAll();
      for (const e of looks.filter((x) => x.applied)) {
        log.info({ test: e.test.id, decision: e.decision.decision }, `A/B test "${e.test.name}": ${e.applied} — ${e.decision.recommendation}`);
      }
    },
  };
}

/** Scheduled retraining (RETRAIN_SCHEDULE_DAYS / RETRAIN_CRON) and pipeline runs whose A/B test ended elsewhere. */
export function retrainingJob(intervalSeconds: number): BackgroundJob {
  return {
    name: 'retraining',
    intervalMs: intervalSeconds * 1000,
    async run(s, log) {
      const started = (await s.pipelines.retraining.scheduledTick()).filter((r) => !r.debounced);
      const resumed = await s.pipelines.resumeWaiting();
      if (started.length || resumed) log.info({ started: started.map((r) => r.run.id), resumed }, `retraining: ${started.length} scheduled run(s) started, ${resumed} resumed`);
    },
  };
}

/** Folds the prediction log into the dashboard's rollups (the dashboard stays exact without it, only slower). */
export const dashboardRollupJob: BackgroundJob = {
  name: 'dashboard-rollups',
  intervalMs: 15_000,
  async run(s) {
    await s.rollups.refresh();
  },
};

/**
 * PREDICTION_LOG_RETENTION_DAYS: deletes prediction rows past retention, hourly. The rollups are
 * brought up to date first and only rows they counted are deleted, so the dashboard's totals stay.
 */
export function predictionRetentionJob(days: number, options: { intervalMs?: number; now?: () => Date } = {}): BackgroundJob {
  return {
    name: 'prediction-retention',
    intervalMs: options.intervalMs ?? 3600_000,
    async run(s, log) {
      await s.rollups.refresh();
      const now = options.now?.() ?? new Date();
      const r = await s.predictionLog.purge({ cutoff: new Date(now.getTime() - days * 86400_000), countedUpTo: await s.rollups.cursor(), retentionDays: days });
      if (!r.rows) return;
      s.metrics.predictionLogPurged.inc(r.rows);
      log.info({ rows: r.rows, cutoff: r.cutoff, batches: r.batches }, `retention: ${r.rows} prediction rows older than ${days} days deleted`);
    },
  };
}

/** BACKUP_SCHEDULE: looks every minute whether a cron slot passed; one process of the cluster takes that slot's backup. */
export function scheduledBackupJob(options: { intervalMs?: number; now?: () => Date } = {}): BackgroundJob {
  const owner = `${hostname()}:${process.pid}`;
  return {
    name: 'scheduled-backups',
    intervalMs: options.intervalMs ?? 60_000,
    async run(s, log) {
      if (!s.backups) return;
      const r = await s.backups.tick(options.now?.() ?? new Date(), owner);
      if (r) log.info({ dir: r.dir, files: r.manifest.files.length, ms: r.duration_ms, deleted: r.deleted }, `scheduled backup of slot ${r.slot} written to ${r.dir}`);
    },
  };
}

export const defaultJobs = (s: Services): BackgroundJob[] => [
  dashboardRollupJob,
  artifactIntegrityJob,
  monitoringJob(s.settings.MONITORING_CHECK_INTERVAL),
  abTestJob(s.settings.AB_TEST_CHECK_INTERVAL),
  retrainingJob(s.settings.RETRAIN_CHECK_INTERVAL),
  ...(s.settings.PREDICTION_LOG_RETENTION_DAYS > 0 ? [predictionRetentionJob(s.settings.PREDICTION_LOG_RETENTION_DAYS)] : []),
  ...(s.backups ? [scheduledBackupJob()] : []),
];

export function startBackgroundLoop(services: Services, log: LoopLogger, options: { once?: boolean; jobs?: BackgroundJob[] } = {}) {
  const jobs = options.jobs ?? defaultJobs(services);
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  const owner = `${hostname()}:${process.pid}`;
  // Several processes may run this loop on one database (replicas, workers): each turn of a job runs
  // in one of them (cluster-jobs.ts). `once` is an operator's explicit run and always runs.
  const claimed = (job: BackgroundJob) => (options.once ? Promise.resolve(true) : claimTurn(services.database, job.name, job.intervalMs, owner));
  // A turn that outlasts its interval (a sweep on a loaded machine) is not joined by the next one in
  // this process: that turn is skipped, unclaimed, so another process may take it.
  const busy = new Set<string>();
  const runJob = (job: BackgroundJob) => {
    if (stopped || busy.has(job.name)) return;
    busy.add(job.name);
    const p = claimed(job)
      .then((mine) => (mine ? job.run(services, log) : undefined))
      .catch((err) => log.error({ err }, `background job ${job.name} failed`))
      .finally(() => {
        busy.delete(job.name);
        running.delete(p);
      });
    running.add(p);
  };
  for (const job of jobs) {
    runJob(job);
    if (!options.once) {
      const t = setInterval(() => runJob(job), job.intervalMs);
      t.unref();
      timers.push(t);
    }
  }
  return {
    stop() {
      stopped = true;
      timers.forEach(clearInterval);
    },
    async idle() {
      while (running.size) await Promise.all([...running]);
    },
  };
}
