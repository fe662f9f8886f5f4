/**
 * A human in the loop: alerts can be acknowledged, assigned, commented on and resolved, and record
 * which follow-up action was taken (roll back, retrain, open a release test) and by whom. Every step
 * is a row of `alert_events` (append-only: the alert's audit trail) and an `alert.<step>` event on the
 * `alerts` topic, written in one transaction. An acknowledged alert is not re-notified while it keeps
 * firing; a resolved alert that fires again is a new incident.
 */
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { VitalsError, notFound } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { AlertsTable, Database } from '../store/index.js';
import type { AlertEventsTable } from './tables.js';

export type AlertStep = 'acknowledged' | 'assigned' | 'commented' | 'resolved' | 'action_taken';
export type FollowUp = 'rollback' | 'retrain' | 'release_test' | 'none';

export interface AlertEvent {
  id: string;
  alert_id: string;
  action: AlertStep;
  actor: string;
  comment: string | null;
  assignee: string | null;
  action_kind: FollowUp | null;
  reference: string | null;
  created_at: string;
}

/** An action an alert may lead to, with the request that performs it. */
export interface SuggestedAction {
  kind: Exclude<FollowUp, 'none'>;
  title: string;
  method: 'POST';
  href: string;
}

export interface AlertHandling {
  acknowledged_by: string | null;
  acknowledged_at: string | null;
  assignee: string | null;
  actions_taken: Array<{ kind: FollowUp; actor: string; reference: string | null; at: string }>;
  events: AlertEvent[];
  suggested_actions: SuggestedAction[];
}

export interface WorkflowOutbox {
  enqueueEvent(tx: import('kysely').Transaction<import('../store/index.js').Schema>, topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
}

/** The follow-ups that make sense for an alert rule. */
export function suggestedActions(rule: string, modelName: string): SuggestedAction[] {
  const m = encodeURIComponent(modelName);
  const rollback: SuggestedAction = { kind: 'rollback', title: 'Roll production back to the previous version', method: 'POST', href: `/api/v1/models/${m}/rollback` };
  const retrain: SuggestedAction = { kind: 'retrain', title: 'Retrain on recent data', method: 'POST', href: `/api/v1/mlops/retraining/trigger` };
  const releaseTest: SuggestedAction = { kind: 'release_test', title: 'Open a release test of a candidate against production', method: 'POST', href: `/api/v1/mlops/ab-testing` };
  switch (rule) {
    case 'data_drift':
      return [retrain, releaseTest];
    case 'decay':
    case 'accuracy_below':
    case 'subgroup_below_target':
      return [retrain, rollback, releaseTest];
    case 'error_rate_above':
    case 'latency_p95_above':
      return [rollback];
    default:
      return [];
  }
}

function toEvent(r: AlertEventsTable): AlertEvent {
  return { ...r, action: r.action as AlertStep, action_kind: r.action_kind as FollowUp | null };
}

/** Who takes a step: an actor name, or the authenticated caller (server/principal.ts `auditContextOf`). */
export type Actor = string | AuditContext;

export class AlertWorkflow {
  constructor(
    private readonly database: Database,
    private readonly outbox?: WorkflowOutbox,
    /** when given, every step also writes an `alert.<step>` audit row in its transaction */
    private readonly audit?: AuditRecorder,
  ) {}

  private async alertRow(alertId: string): Promise<AlertsTable> {
    const row = await this.database.db.selectFrom('alerts').selectAll().where('id', '=', alertId).executeTakeFirst();
    if (!row) throw notFound(`alert "${alertId}"`);
    return row;
  }

  private async append(alert: AlertsTable, who: Actor, step: Omit<AlertEventsTable, 'id' | 'alert_id' | 'created_at' | 'actor'>, resolve = false): Promise<AlertEvent> {
    const context = typeof who === 'string' ? undefined : who;
    const row: AlertEventsTable = { id: uuidv7(), alert_id: alert.id, created_at: nowIso(), actor: context?.principal ?? (who as string), ...step };
    await this.database.db.transaction().execute(async (tx) => {
      await tx.insertInto('alert_events').values(row).execute();
      if (resolve) await tx.updateTable('alerts').set({ status: 'resolved', resolved_at: row.created_at, last_seen_at: row.created_at }).where('id', '=', alert.id).execute();
      await this.outbox?.enqueueEvent(tx, 'alerts', `alert.${step.action}`, { ...row, model_id: alert.model_id, rule: alert.rule }, { key: alert.dedup_key });
      await this.audit?.record(tx, {
        action: `alert.${step.action}`,
        target: `alert:${alert.id}`,
        reason: step.comment,
        context,
        actor: row.actor,
        details: {
          rule: alert.rule,
          model_id: alert.model_id,
          ...(step.assignee ? { assignee: step.assignee } : {}),
          ...(step.action_kind ? { kind: step.action_kind, reference: step.reference } : {}),
        },
      });
    });
    return toEvent(row);
  }

  async acknowledge(alertId: string, actor: Actor, comment?: string): Promise<AlertEvent> {
    const alert = await this.alertRow(alertId);
    return this.append(alert, actor, { action: 'acknowledged', comment: comment ?? null, assignee: null, action_kind: null, reference: null });
  }

  async assign(alertId: string, actor: Actor, assignee: string, comment?: string): Promise<AlertEvent> {
    const alert = await this.alertRow(alertId);
    return this.append(alert, actor, { action: 'assigned', comment: comment ?? null, assignee, action_kind: null, reference: null });
  }

  async comment(alertId: string, actor: Actor, comment: string): Promise<AlertEvent> {
    const alert = await this.alertRow(alertId);
    return this.append(alert, actor, { action: 'commented', comment, assignee: null, action_kind: null, reference: null });
  }

  /** Records the follow-up that was taken (it does not perform it: that is the linked request). */
  async recordAction(alertId: string, actor: Actor, kind: FollowUp, reference?: string, comment?: string): Promise<AlertEvent> {
    const alert = await this.alertRow(alertId);
    return this.append(alert, actor, { action: 'action_taken', comment: comment ?? null, assignee: null, action_kind: kind, reference: reference ?? null });
  }

  async resolve(alertId: string, actor: Actor, comment?: string): Promise<AlertEvent> {
    const alert = await this.alertRow(alertId);
    if (alert.status === 'resolved') throw new VitalsError('CONFLICT', `alert "${alertId}" is already resolved`);
    return this.append(alert, actor, { action: 'resolved', comment: comment ?? null, assignee: null, action_kind: null, reference: null }, true);
  }

  async isAcknowledged(alertId: string): Promise<boolean> {
    const row = await this.database.db.selectFrom('alert_events').select('id').where('alert_id', '=', alertId).where('action', '=', 'acknowledged').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async handling(alertId: string, modelName: string): Promise<AlertHandling> {
    const alert = await this.alertRow(alertId);
    const events = (await this.database.db.selectFrom('alert_events').selectAll().where('alert_id', '=', alertId).orderBy('id', 'asc').execute()).map(toEvent);
    const ack = events.find((e) => e.action === 'acknowledged');
    const assigned = events.filter((e) => e.action === 'assigned').at(-1);
    return {
      acknowledged_by: ack?.actor ?? null,
      acknowledged_at: ack?.created_at ?? null,
      assignee: assigned?.assignee ?? null,
      actions_taken: events.filter((e) => e.action === 'action_taken').map((e) => ({ kind: e.action_kind ?? 'none', actor: e.actor, reference: e.reference, at: e.created_at })),
      events,
      suggested_actions: suggestedActions(alert.rule, modelName),
    };
  }
}
