/**
 * Automated retraining: per-model policies (start/stop), triggers (scheduled by RETRAIN_SCHEDULE_DAYS
 * or a cron expression, drift and decay alerts, manual), a debounce so one incident starts one run,
 * and the history and stats of retraining runs.
 *
 * Debounce, twice over: every trigger carries an incident key (the alert id, the schedule slot) that
 * the runs table holds unique, so replicas racing on one alert insert one run; and a model with a run
 * still in flight (queued, running, waiting on its A/B test) is not retrained again until it ends.
 */
import { z } from 'zod';
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { VitalsError, notFound } from '../errors.js';
import type { Alert } from '../monitoring/model-monitor.js';
import type { ModelMonitor } from '../monitoring/model-monitor.js';
import type { ModelRegistry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import { cicdRequestSchema } from './cicd-request.js';
import { parseCron } from './cron.js';
import type { PipelineRun, PipelineRunStore, RunTrigger } from './pipeline-run-store.js';

export const RETRAIN_TRIGGERS = ['scheduled', 'drift', 'decay', 'manual'] as const;
export type RetrainTrigger = (typeof RETRAIN_TRIGGERS)[number];

export const retrainingPolicySchema = z.object({
  triggers: z.array(z.enum(RETRAIN_TRIGGERS)).default(['scheduled', 'drift', 'decay', 'manual']),
  schedule_days: z.number().int().min(1).nullable().optional().describe('default RETRAIN_SCHEDULE_DAYS'),
  cron: z.string().nullable().optional().describe('a 5-field cron expression (UTC); replaces schedule_days'),
  /** the CI/CD request used for the retraining runs (data, gates, A/B test, …) */
  pipeline: cicdRequestSchema.omit({ model_name: true }).partial().default({}),
});
export type RetrainingPolicy = z.output<typeof retrainingPolicySchema>;

export interface TriggerResult {
  run: PipelineRun;
  /** true when this trigger was folded into an existing run */
  debounced: boolean;
  reason: string;
}

export interface RetrainCheck {
  model: string;
  should_retrain: boolean;
  reasons: string[];
  production_version: string | null;
  days_since_training: number | null;
  schedule_days: number;
  firing_alerts: Array<{ id: string; rule: string; message: string }>;
  latest_report: { drift_detected: boolean | null; decay_detected: boolean | null; health_score: number | null; timestamp: string } | null;
  active_run: string | null;
  policy: { enabled: boolean; config: RetrainingPolicy | null };
}

export type SubmitRun = (request: Record<string, unknown>, meta: { trigger: RunTrigger; incidentKey: string; actor: string; reason: string; audit?: AuditContext }) => Promise<PipelineRun | null>;

/** Who changes a policy: the request's principal (`audit`), or the actor of a tool without one (the CLI). */
export interface PolicyChange {
  audit?: AuditContext;
  actor?: string;
}

export interface TriggerOptions {
  incidentKey?: string;
  reason?: string;
  actor?: string;
  /** the caller, when a request triggers the run: its principal is the run's in the audit trail */
  audit?: AuditContext;
  overrides?: Record<string, unknown>;
}

const ACTIVE = ['queued', 'running', 'waiting'] as const;

export class Retraining {
  private readonly locks = new Map<string, Promise<TriggerResult>>();
  constructor(
    private readonly database: Database,
    private readonly registry: ModelRegistry,
    private readonly monitor: ModelMonitor,
    private readonly runs: PipelineRunStore,
    private readonly submit: SubmitRun,
    private readonly options: { scheduleDays: number; cron?: string; now?: () => Date; audit?: AuditRecorder },
  ) {
    if (options.cron) parseCron(options.cron); // fail at start, not at the first tick
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  async policy(model: string): Promise<{ enabled: boolean; config: RetrainingPolicy | null }> {
    const row = await this.database.db.selectFrom('retraining_policies').selectAll().where('model_name', '=', model).executeTakeFirst();
    return row ? { enabled: row.enabled === 1, config: retrainingPolicySchema.parse(JSON.parse(row.config)) } : { enabled: false, config: null };
  }

  /** `retraining/start`: enables automatic retraining of a model with a policy (created, or replaced). */
  async start(model: string, input: z.input<typeof retrainingPolicySchema> = {}, change: PolicyChange = {}): Promise<{ model: string; enabled: true; policy: RetrainingPolicy }> {
    const m = await this.registry.getModel(model);
    const policy = retrainingPolicySchema.parse(input);
    if (policy.cron) {
      try {
        parseCron(policy.cron);
      } catch (err) {
        throw new VitalsError('VALIDATION_FAILED', (err as Error).message);
      }
    }
    const row = { model_name: m.name, enabled: 1, config: JSON.stringify(policy), updated_at: this.now().toISOString() };
    await this.database.db.transaction().execute(async (tx) => {
      const before = await tx.selectFrom('retraining_policies').selectAll().where('model_name', '=', m.name).executeTakeFirst();
      await tx
        .insertInto('retraining_policies')
        .values(row)
        .onConflict((oc) => oc.column('model_name').doUpdateSet({ enabled: 1, config: row.config, updated_at: row.updated_at }))
        .execute();
      await this.recordChange(tx, before ? 'retraining.policy_updated' : 'retraining.policy_created', m.name, change, {
        enabled: true,
        policy,
        ...(before ? { previous: { enabled: before.enabled === 1, policy: JSON.parse(before.config) } } : {}),
      });
    });
    return { model: m.name, enabled: true, policy };
  }

  /** `retraining/stop`: no more automatic runs (runs in flight finish). The policy is kept, disabled. */
  async stop(model: string, change: PolicyChange = {}): Promise<{ model: string; enabled: false }> {
    const m = await this.registry.getModel(model);
    await this.database.db.transaction().execute(async (tx) => {
      const res = await tx.updateTable('retraining_policies').set({ enabled: 0, updated_at: this.now().toISOString() }).where('model_name', '=', m.name).where('enabled', '=', 1).executeTakeFirst();
      // stopping what is not running changes nothing, and records nothing
      if (Number(res.numUpdatedRows) > 0) await this.recordChange(tx, 'retraining.policy_disabled', m.name, change, { enabled: false });
    });
    return { model: m.name, enabled: false };
  }

  /** Removes a model's policy altogether (404 when it has none). */
  async deletePolicy(model: string, change: PolicyChange = {}): Promise<{ model: string; deleted: true }> {
    const m = await this.registry.getModel(model);
    await this.database.db.transaction().execute(async (tx) => {
      const before = await tx.selectFrom('retraining_policies').selectAll().where('model_name', '=', m.name).executeTakeFirst();
      if (!before) throw notFound(`retraining policy of model "${m.name}"`);
      await tx.deleteFrom('retraining_policies').where('model_name', '=', m.name).execute();
      await this.recordChange(tx, 'retraining.policy_deleted', m.name, change, { previous: { enabled: before.enabled === 1, policy: JSON.parse(before.config) } });
    });
    return { model: m.name, deleted: true };
  }

  private async recordChange(tx: Database['db'], action: string, model: string, change: PolicyChange, details: Record<string, unknown>): Promise<void> {
    await this.options.audit?.record(tx, { action, target: `retraining_policy:${model}`, context: change.audit, actor: change.actor, details });
  }

  async listPolicies(): Promise<Array<{ model: string; enabled: boolean; policy: RetrainingPolicy }>> {
    const rows = await this.database.db.selectFrom('retraining_policies').selectAll().orderBy('model_name').execute();
    return rows.map((r) => ({ model: r.model_name, enabled: r.enabled === 1, policy: retrainingPolicySchema.parse(JSON.parse(r.config)) }));
  }

  /** Starts a retraining run unless one for this incident, or any for this model, is already in flight. */
  async trigger(model: string, trigger: RetrainTrigger, options: TriggerOptions = {}): Promise<TriggerResult> {
    // One at a time per model in this process: a drift and a decay alert fired by the same check are one incident.
    const previous = this.locks.get(model) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.triggerNow(model, trigger, options));
    this.locks.set(model, next);
    try {
      return await next;
    } finally {
      if (this.locks.get(model) === next) this.locks.delete(model);
    }
  }

  private async triggerNow(model: string, trigger: RetrainTrigger, options: TriggerOptions): Promise<TriggerResult> {
    await this.registry.getModel(model);
    const incidentKey = options.incidentKey ?? `${trigger}:${model}:${this.now().toISOString()}`;
    const existing = await this.runs.byIncident(incidentKey);
    if (existing) return { run: existing, debounced: true, reason: `incident ${incidentKey} already started run ${existing.id}` };
    const active = (await this.runs.list({ model, status: [...ACTIVE], limit: 1 }))[0];
    if (active && trigger !== 'manual') return { run: active, debounced: true, reason: `run ${active.id} (${active.trigger}) is still ${active.status} for ${model}` };
    const { config } = await this.policy(model);
    const request = { ...(config?.pipeline ?? {}), ...(options.overrides ?? {}), model_name: model };
    const reason = options.reason ?? `${trigger} retraining of ${model}`;
    const run = await this.submit(request, { trigger, incidentKey, actor: options.actor ?? `retraining:${trigger}`, reason, audit: options.audit });
    if (!run) {
      const winner = await this.runs.byIncident(incidentKey);
      if (winner) return { run: winner, debounced: true, reason: `incident ${incidentKey} already started run ${winner.id}` };
      throw new VitalsError('CONFLICT', `could not start a run for incident ${incidentKey}`);
    }
    return { run, debounced: false, reason };
  }

  /** Monitoring hook: a new firing drift or decay alert on a production version is one incident. */
  async onAlert(alert: Alert): Promise<TriggerResult | null> {
    const trigger: RetrainTrigger | null = alert.rule === 'data_drift' ? 'drift' : alert.rule === 'decay' || alert.rule === 'accuracy_below' ? 'decay' : null;
    if (!trigger || alert.status !== 'firing') return null;
    const { enabled, config } = await this.policy(alert.model_name);
    if (!enabled || !config?.triggers.includes(trigger)) return null;
    const prod = await this.registry.resolve(alert.model_name).catch(() => null);
    if (!prod || prod.version !== alert.version) return null; // a challenger drifting is the A/B test's business
    return this.trigger(alert.model_name, trigger, { incidentKey: `alert:${alert.id}`, reason: alert.message, actor: 'monitoring' });
  }

  /** Scheduled triggers: each enabled model whose cron slot passed, or whose production is older than its schedule. */
  async scheduledTick(): Promise<TriggerResult[]> {
    const out: TriggerResult[] = [];
    const now = this.now();
    for (const p of await this.listPolicies()) {
      if (!p.enabled || !p.policy.triggers.includes('scheduled')) continue;
      const cron = p.policy.cron ?? this.options.cron;
      const prod = await this.registry.resolve(p.model).catch(() => null);
      if (!prod) continue;
      const lastRun = (await this.runs.list({ model: p.model, limit: 1 }))[0];
      const since = Math.max(Date.parse(prod.created_at), lastRun ? Date.parse(lastRun.created_at) : 0);
      if (cron) {
        const slot = parseCron(cron).previous(now);
        if (slot && slot.getTime() > since)
          out.push(await this.trigger(p.model, 'scheduled', { incidentKey: `schedule:${p.model}:${slot.toISOString()}`, reason: `cron ${cron} slot ${slot.toISOString()}` }));
      } else {
        const days = p.policy.schedule_days ?? this.options.scheduleDays;
        if (now.getTime() - since >= days * 86400_000) {
          const slot = Math.floor(now.getTime() / (days * 86400_000));
          out.push(await this.trigger(p.model, 'scheduled', { incidentKey: `schedule:${p.model}:${days}d:${slot}`, reason: `production ${prod.version} is older than ${days} days` }));
        }
      }
    }
    return out;
  }

  /** `cicd/check-retrain/{model_id}`: would Vitals retrain this model now, and why. */
  async check(model: string): Promise<RetrainCheck> {
    const m = await this.registry.getModel(model);
    const prod = await this.registry.resolve(m.name).catch(() => null);
    const policy = await this.policy(m.name);
    const scheduleDays = policy.config?.schedule_days ?? this.options.scheduleDays;
    const report = prod ? await this.monitor.latestReport(prod.id) : null;
    const alerts = (await this.monitor.listAlerts({ modelId: m.id, status: 'firing' })).filter((a) => ['data_drift', 'decay', 'accuracy_below'].includes(a.rule));
    const days = prod ? (this.now().getTime() - Date.parse(prod.created_at)) / 86400_000 : null;
    const reasons: string[] = [];
    if (report?.drift?.drift_detected) reasons.push(`data drift in ${report.drift.drifted_features.length} feature(s): ${report.drift.drifted_features.slice(0, 5).join(', ')}`);
    if (report?.decay.decay_detected) reasons.push(`accuracy decayed by ${((report.decay.accuracy_decay ?? 0) * 100).toFixed(1)} points`);
    for (const a of alerts) if (!reasons.some((r) => a.message.includes(r))) reasons.push(`firing alert ${a.rule}: ${a.message}`);
    if (days !== null && days >= scheduleDays) reasons.push(`production ${prod!.version} is ${days.toFixed(0)} days old (schedule: every ${scheduleDays} days)`);
    if (!prod) reasons.push('no production version');
    const active = (await this.runs.list({ model: m.name, status: [...ACTIVE], limit: 1 }))[0];
    return {
      model: m.name,
      should_retrain: !!prod && reasons.length > 0,
      reasons,
      production_version: prod?.version ?? null,
      days_since_training: days === null ? null : Number(days.toFixed(2)),
      schedule_days: scheduleDays,
      firing_alerts: alerts.map((a) => ({ id: a.id, rule: a.rule, message: a.message })),
      latest_report: report
        ? { drift_detected: report.drift?.drift_detected ?? null, decay_detected: report.decay.decay_detected, health_score: report.health.score, timestamp: report.timestamp }
        : null,
      active_run: active?.id ?? null,
      policy,
    };
  }

  async history(filter: { model?: string; limit?: number } = {}): Promise<PipelineRun[]> {
    return this.runs.list({ model: filter.model, pipeline: 'cicd', triggers: [...RETRAIN_TRIGGERS], limit: filter.limit });
  }

  async stats(model?: string) {
    const runs = await this.history({ model, limit: 10_000 });
    const count = (f: (r: PipelineRun) => boolean) => runs.filter(f).length;
    const finished = runs.filter((r) => r.finished_at);
    const durations = finished.map((r) => r.duration_ms ?? 0);
    const byKey = (key: (r: PipelineRun) => string) => {
      const counts: Record<string, number> = {};
      for (const r of runs) counts[key(r)] = (counts[key(r)] ?? 0) + 1;
      return counts;
    };
    return {
      total_runs: runs.length,
      by_trigger: byKey((r) => r.trigger),
      by_status: byKey((r) => r.status),
      by_decision: byKey((r) => String(r.result.decision ?? 'pending')),
      succeeded: count((r) => r.status === 'succeeded'),
      rejected: count((r) => r.status === 'rejected'),
      failed: count((r) => r.status === 'failed'),
      in_flight: count((r) => (ACTIVE as readonly string[]).includes(r.status)),
      success_rate: finished.length ? count((r) => r.status === 'succeeded') / finished.length : null,
      mean_duration_ms: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null,
      last_run: runs[0] ? { id: runs[0].id, model: runs[0].model_name, trigger: runs[0].trigger, status: runs[0].status, created_at: runs[0].created_at } : null,
      policies: await this.listPolicies(),
    };
  }
}
