/**
 * Runs monitoring checks: reads a version's window from the prediction log, builds the report,
 * stores it as a time series, exports gauges, and turns alert conditions into firing/resolved
 * alerts that the notifier delivers.
 */
import { type Transaction, sql } from 'kysely';
import { nowIso, uuidv7 } from '../ids.js';
import type { Metrics } from '../metrics.js';
import type { ModelRegistry, ModelVersion } from '../registry/index.js';
import { type AlertsTable, type Database, type Schema, isUniqueViolation } from '../store/index.js';
import { notFound } from '../errors.js';
import { type AlertHandling, AlertWorkflow } from './alert-workflow.js';
import { ChangeControl } from './change-control.js';
import type { DriftOptions } from './drift-report.js';
import { subgroupSpec } from './subgroups.js';
import { type AlertCondition, type AlertThresholds, evaluateAlertRules } from './alert-rules.js';
import { type MonitoringReport, type ReportInputs, buildMonitoringReport } from './monitoring-report.js';
import type { AlertNotification, AlertNotifier, AlertSeverity } from './notifiers.js';
import type { PredictionLog } from './prediction-log.js';
import type { ReportPool } from './report-pool.js';

const MIN_CHECK_SPACING_MS = 10_000;

export interface MonitorOptions {
  /** the audit trail: alert acknowledge/assign/comment/action/resolve write their rows with it */
  audit?: import('../audit/index.js').AuditRecorder;
  windowSize: number;
  driftThreshold: number;
  decayThreshold: number;
  /** drift decision options beyond the threshold: alpha, correction (holm | bh), column types */
  drift?: Omit<DriftOptions, 'threshold'>;
  thresholds: AlertThresholds;
  cooldownSeconds: number;
  /** run a check after this many new predictions of a version (0: only on the interval) */
  checkEveryPredictions: number;
  /** when given, alert.fired / alert.resolved events go to `alerts` on the bus in the alert's transaction */
  outbox?: AlertOutbox;
  /** when given, reports are built in this worker pool, off the serving thread (else inline) */
  reportPool?: ReportPool;
}

/** The messaging outbox, as the monitor uses it. */
export interface AlertOutbox {
  enqueueEvent(tx: Transaction<Schema>, topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
}

/** A stored alert: what the notifiers receive, plus its lifecycle. */
export type Alert = AlertNotification['alert'] & {
  status: 'firing' | 'resolved';
  last_seen_at: string;
};

export interface ModelStatus {
  model_id: string;
  model_name: string;
  latest: MonitoringReport | null;
  versions: MonitoringReport[];
  recent_alerts: Alert[];
}

export class ModelMonitor {
  private readonly sinceCheck = new Map<string, number>();
  private readonly lastTriggered = new Map<string, number>();
  private readonly running = new Map<string, Promise<MonitoringReport>>();
  private closing?: Promise<void>;
  private readonly alertListeners: Array<(alert: Alert) => void> = [];
  /** acknowledge / assign / comment / resolve / record the follow-up of an alert */
  readonly alerts: AlertWorkflow;
  /** acceptance criteria (change control) and the evidence of each evaluated version */
  readonly changeControl: ChangeControl;

  constructor(
    private readonly database: Database,
    private readonly registry: ModelRegistry,
    private readonly log: PredictionLog,
    private readonly metrics: Metrics,
    private readonly notifier: AlertNotifier,
    readonly options: MonitorOptions,
  ) {
    this.alerts = new AlertWorkflow(database, options.outbox, options.audit);
    this.changeControl = new ChangeControl(database, registry, log);
  }

  /** One alert with how it has been handled and the actions it may lead to. */
  async getAlert(alertId: string): Promise<Alert & { handling: AlertHandling }> {
    const row = await this.database.db.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirst();
    if (!row) throw notFound(`alert "${alertId}"`);
    const model = await this.registry.getModel(row.model_id).catch(() => null);
    const version = row.version_id
      ? await this.registry.getVersion(row.version_id).then(
          (v) => v.version,
          () => null,
        )
      : null;
    const name = model?.name ?? row.model_id;
    return { ...toAlert(row, name, version), handling: await this.alerts.handling(alertId, name) };
  }

  /** Called once per newly fired alert (one incident), e.g. by the retraining triggers. */
  onAlert(listener: (alert: Alert) => void): void {
    this.alertListeners.push(listener);
  }

  /** Called for every logged prediction: triggers a check every N predictions of a version. */
  observe(versionId: string | null, count = 1): void {
    if (!versionId || this.options.checkEveryPredictions <= 0 || this.closing) return;
    const n = (this.sinceCheck.get(versionId) ?? 0) + count;
    if (n < this.options.checkEveryPredictions) {
      this.sinceCheck.set(versionId, n);
      return;
    }
    // Under heavy traffic N predictions arrive in well under a second: at most one such check per
    // version every MIN_CHECK_SPACING_MS, so checks never crowd out serving.
    const last = this.lastTriggered.get(versionId) ?? 0;
    if (Date.now() - last < MIN_CHECK_SPACING_MS) return;
    this.sinceCheck.set(versionId, 0);
    this.lastTriggered.set(versionId, Date.now());
    void this.checkVersion(versionId).catch(() => undefined);
  }

  /**
   * Stops starting checks, waits for the ones in flight (their report, its row and their alerts'
   * outbox events are written before the database closes), then stops the report pool.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.running.size) await Promise.allSettled([...this.running.values()]);
      await this.options.reportPool?.close();
    })();
    return this.closing;
  }

  /** One check of one version; concurrent calls for the same version share the run. */
  checkVersion(versionId: string): Promise<MonitoringReport> {
    if (this.closing) return Promise.reject(new Error('monitoring is shutting down'));
    let run = this.running.get(versionId);
    if (!run) {
      run = this.runCheck(versionId).finally(() => this.running.delete(versionId));
      this.running.set(versionId, run);
    }
    return run;
  }

  private async runCheck(versionId: string): Promise<MonitoringReport> {
    const version = await this.registry.getVersion(versionId);
    // With the report pool and a database another thread can open, the worker reads the windows
    // (2 × windowSize rows, their JSON parsed) on its own connection: none of it on the serving thread.
    const pool = this.options.reportPool;
    const source = pool && this.log.windowSource;
    const [profile, window, labelled] = await Promise.all([
      this.registry.referenceProfile(version.id),
      source ? this.log.flush().then(() => []) : this.log.window(version.id, this.options.windowSize),
      source ? [] : this.log.labelledWindow(version.id, this.options.windowSize),
    ]);
    const inputs: ReportInputs = {
      model: { id: version.model_id, name: version.model_name },
      version: { id: version.id, version: version.version, labels: version.output_spec.labels, metrics: version.metrics },
      profile,
      drift: this.options.drift,
      subgroups: subgroupSpec(version.metadata ?? {}, { minAccuracy: this.options.thresholds.minAccuracy }),
      window,
      labelled,
      windowLimit: this.options.windowSize,
      driftThreshold: this.options.driftThreshold,
      decayThreshold: this.options.decayThreshold,
    };
    // The statistics run in the report pool when there is one: the serving thread only reads and stores.
    const report = pool ? await pool.build({ inputs, read: source ? { source, versionId: version.id, size: this.options.windowSize } : undefined }) : buildMonitoringReport(inputs);
    await this.database.db
      .insertInto('monitoring_checks')
      .values({
        id: uuidv7(),
        model_id: version.model_id,
        version_id: version.id,
        status: report.status,
        window_size: report.window.size,
        drift_score: report.drift?.drift_score ?? null,
        health_score: report.health.score,
        accuracy: report.decay.current_accuracy,
        estimated_accuracy: report.decay.estimated_accuracy,
        report: JSON.stringify(report),
        created_at: report.timestamp,
      })
      .execute();
    this.exportGauges(version, report);
    await this.applyAlerts(version, evaluateAlertRules(report, this.options.thresholds));
    return report;
  }

  /** Checks the live aliased versions (production, challenger, staging) of one model now. */
  async checkModel(modelRef: string): Promise<{ model_id: string; model_name: string; reports: MonitoringReport[] }> {
    const model = await this.registry.getModel(modelRef);
    const reports: MonitoringReport[] = [];
    for (const v of await this.versionsToWatch(model.id)) reports.push(await this.checkVersion(v.id));
    return { model_id: model.id, model_name: model.name, reports };
  }

  /** The stored status of every model (reads only: a model never checked reports no checks yet). */
  async statusAll(): Promise<ModelStatus[]> {
    return Promise.all((await this.registry.listModels()).map((m) => this.status(m.id)));
  }

  /** Checks every live aliased version (production, challenger, staging) of every model. */
  async checkAll(): Promise<MonitoringReport[]> {
    const reports: MonitoringReport[] = [];
    for (const model of await this.registry.listModels()) {
      for (const v of await this.versionsToWatch(model.id)) reports.push(await this.checkVersion(v.id));
    }
    return reports;
  }

  async status(modelRef: string): Promise<ModelStatus> {
    const model = await this.registry.getModel(modelRef);
    const versions: MonitoringReport[] = [];
    for (const v of await this.versionsToWatch(model.id)) {
      const latest = await this.latestReport(v.id);
      if (latest) versions.push(latest);
    }
    const production = model.aliases.production;
    return {
      model_id: model.id,
      model_name: model.name,
      latest: versions.find((r) => r.version === production) ?? versions[0] ?? null,
      versions,
      recent_alerts: await this.listAlerts({ modelId: model.id, limit: 20 }),
    };
  }

  async latestReport(versionId: string): Promise<MonitoringReport | null> {
    const row = await this.database.db.selectFrom('monitoring_checks').select('report').where('version_id', '=', versionId).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row ? (JSON.parse(row.report) as MonitoringReport) : null;
  }

  /** The time series of checks of a model (newest last), for charts. */
  async history(modelRef: string, limit = 200) {
    const model = await this.registry.getModel(modelRef);
    const rows = await this.database.db
      .selectFrom('monitoring_checks')
      .select(['id', 'version_id', 'status', 'window_size', 'drift_score', 'health_score', 'accuracy', 'estimated_accuracy', 'created_at'])
      .where('model_id', '=', model.id)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  async listAlerts(filter: { modelId?: string; status?: 'firing' | 'resolved'; limit?: number } = {}): Promise<Alert[]> {
    let q = this.database.db.selectFrom('alerts').selectAll();
    if (filter.modelId) q = q.where('model_id', '=', filter.modelId);
    if (filter.status) q = q.where('status', '=', filter.status);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    const names = new Map((await this.registry.listModels()).map((m) => [m.id, m.name]));
    const versions = new Map<string, string>();
    for (const r of rows) {
      if (r.version_id && !versions.has(r.version_id))
        versions.set(
          r.version_id,
          await this.registry.getVersion(r.version_id).then(
            (v) => v.version,
            () => r.version_id!,
          ),
        );
    }
    return rows.map((r) => toAlert(r, names.get(r.model_id) ?? r.model_id, r.version_id ? (versions.get(r.version_id) ?? null) : null));
  }

  private async versionsToWatch(modelId: string): Promise<ModelVersion[]> {
    return (await this.registry.listVersions(modelId)).filter((v) => v.status !== 'archived' && v.aliases.length > 0);
  }

  private exportGauges(version: ModelVersion, report: MonitoringReport): void {
    const labels = { model: version.model_name, version: version.version };
    this.metrics.monitoringChecks.inc({ model: version.model_name, status: report.status });
    this.metrics.healthScore.set(labels, report.health.score);
    if (report.drift) this.metrics.driftScore.set(labels, report.drift.drift_score);
    if (report.decay.current_accuracy !== null) this.metrics.accuracy.set(labels, report.decay.current_accuracy);
    if (report.decay.estimated_accuracy !== null) this.metrics.estimatedAccuracy.set(labels, report.decay.estimated_accuracy);
    if (report.decay.accuracy_decay !== null && report.decay.sufficient) this.metrics.accuracyDecay.set(labels, report.decay.accuracy_decay);
  }

  private async applyAlerts(version: ModelVersion, conditions: AlertCondition[]): Promise<void> {
    const now = nowIso();
    for (const c of conditions) {
      const dedupKey = `${version.model_id}:${version.id}:${c.rule}`;
      const open = await this.database.db.selectFrom('alerts').selectAll().where('dedup_key', '=', dedupKey).where('status', '=', 'firing').executeTakeFirst();
      if (c.firing && !open) {
        const row: AlertsTable = {
          id: uuidv7(),
          model_id: version.model_id,
          version_id: version.id,
          rule: c.rule,
          severity: c.severity,
          dedup_key: dedupKey,
          status: 'firing',
          message: c.message,
          details: JSON.stringify(c.details),
          fired_at: now,
          last_seen_at: now,
          last_notified_at: now,
          resolved_at: null,
        };
        try {
          await this.database.db.transaction().execute(async (tx) => {
            await tx.insertInto('alerts').values(row).execute();
            await this.options.outbox?.enqueueEvent(tx, 'alerts', 'alert.fired', { ...toAlert(row, version.model_name, version.version) }, { key: dedupKey });
          });
        } catch (err) {
          // Another replica (or a concurrent check) fired this incident first: the partial unique
          // index (0150_one_firing_alert) refused the second row. Record that it is still seen; the
          // winner notified.
          if (!isUniqueViolation(err)) throw err;
          await this.database.db
            .updateTable('alerts')
            .set({ last_seen_at: now, message: c.message, details: JSON.stringify(c.details) })
            .where('dedup_key', '=', dedupKey)
            .where('status', '=', 'firing')
            .execute();
          continue;
        }
        this.notify('firing', row, version);
        for (const l of this.alertListeners) l(toAlert(row, version.model_name, version.version));
      } else if (c.firing && open) {
        // an acknowledged alert is being handled: it stays firing but is not re-notified
        const due = (!open.last_notified_at || Date.now() - Date.parse(open.last_notified_at) >= this.options.cooldownSeconds * 1000) && !(await this.alerts.isAcknowledged(open.id));
        const update = { last_seen_at: now, message: c.message, details: JSON.stringify(c.details), ...(due ? { last_notified_at: now } : {}) };
        let q = this.database.db.updateTable('alerts').set(update).where('id', '=', open.id);
        // a re-notification is claimed by the check that moves last_notified_at from the value it read
        if (due) q = open.last_notified_at === null ? q.where('last_notified_at', 'is', null) : q.where('last_notified_at', '=', open.last_notified_at);
        const claimed = Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
        if (due && claimed) this.notify('firing', { ...open, ...update }, version);
      } else if (!c.firing && open) {
        const update = { status: 'resolved', resolved_at: now, last_seen_at: now };
        // only the check that moves it from firing resolves (and notifies) it
        const resolvedHere = await this.database.db.transaction().execute(async (tx) => {
          const r = await tx.updateTable('alerts').set(update).where('id', '=', open.id).where('status', '=', 'firing').executeTakeFirst();
          if (Number(r.numUpdatedRows) === 0) return false;
          const resolved = toAlert({ ...open, ...update, message: c.message }, version.model_name, version.version);
          await this.options.outbox?.enqueueEvent(tx, 'alerts', 'alert.resolved', { ...resolved }, { key: dedupKey });
          return true;
        });
        if (resolvedHere) this.notify('resolved', { ...open, ...update, message: c.message }, version);
      }
    }
    const firing = await this.database.db
      .selectFrom('alerts')
      .select(['severity', sql<number>`count(*)`.as('n')])
      .where('status', '=', 'firing')
      .groupBy('severity')
      .execute();
    this.metrics.alertsFiring.reset();
    for (const f of firing) this.metrics.alertsFiring.set({ severity: f.severity }, Number(f.n));
  }

  private notify(event: AlertNotification['event'], row: AlertsTable, version: ModelVersion): void {
    this.notifier.notify({ event, alert: toAlert(row, version.model_name, version.version) });
  }
}

function toAlert(r: AlertsTable, modelName: string, version: string | null): Alert {
  return {
    id: r.id,
    model_id: r.model_id,
    model_name: modelName,
    version,
    rule: r.rule,
    severity: r.severity as AlertSeverity,
    dedup_key: r.dedup_key,
    status: r.status as Alert['status'],
    message: r.message,
    details: JSON.parse(r.details),
    fired_at: r.fired_at,
    last_seen_at: r.last_seen_at,
    resolved_at: r.resolved_at,
  };
}
