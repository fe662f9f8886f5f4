/**
 * Blue-green at model level (the chest X-ray seed's `deploy`, `health-check`, `switch-traffic`):
 * two slots per model; the live one is the one production points at. A version is deployed to the
 * idle slot, health-checked (loaded in the inference pool and run once on a probe input), then
 * traffic switches by moving the production alias (audited in the registry's history); rollback
 * moves it back to the other slot with a reason.
 *
 * The production alias stays the single truth of what serves: the slot rows only remember which
 * version sits in which slot, and are reconciled with the alias on every read.
 */
import { VitalsError } from '../errors.js';
import { nowIso } from '../ids.js';
import type { ModelRegistry } from '../registry/index.js';
import type { Database } from '../store/index.js';
import type { AbTestStore } from './ab-test-store.js';

export type Slot = 'blue' | 'green';
export const SLOTS: readonly Slot[] = ['blue', 'green'];

export interface HealthReport {
  ok: boolean;
  checked_at: string;
  latency_ms: number | null;
  message: string;
}

/** Loads a version and runs it once; the composition root passes the predictor's probe. */
export type HealthProbe = (versionId: string) => Promise<{ ok: boolean; latency_ms: number; message: string }>;

export interface SlotState {
  slot: Slot;
  version_id: string | null;
  version: string | null;
  live: boolean;
  health: HealthReport | null;
}

export interface BlueGreenState {
  model: string;
  model_id: string;
  live: Slot | null;
  idle: Slot;
  production_version: string | null;
  slots: SlotState[];
}

const other = (s: Slot): Slot => (s === 'blue' ? 'green' : 'blue');

export class BlueGreenDeployments {
  constructor(
    private readonly database: Database,
    private readonly registry: ModelRegistry,
    private readonly events: AbTestStore,
    private readonly probe: HealthProbe,
  ) {}

  private get db() {
    return this.database.db;
  }

  /** The slots of a model; the first look puts the production version in blue. */
  async state(modelRef: string): Promise<BlueGreenState> {
    const model = await this.registry.getModel(modelRef);
    const prod = await this.registry.resolve(model.name).catch(() => null);
    let rows = await this.db.selectFrom('deployment_slots').selectAll().where('model_id', '=', model.id).execute();
    if (!rows.length) {
      const now = nowIso();
      await this.db
        .insertInto('deployment_slots')
        .values([
          { model_id: model.id, slot: 'blue', version_id: prod?.id ?? null, live: prod ? 1 : 0, health: null, updated_at: now },
          { model_id: model.id, slot: 'green', version_id: null, live: 0, health: null, updated_at: now },
        ])
        .onConflict((oc) => oc.doNothing())
        .execute();
      rows = await this.db.selectFrom('deployment_slots').selectAll().where('model_id', '=', model.id).execute();
    }
    // Reconcile with the alias: production may have moved outside blue-green (promote, A/B test, rollback).
    const liveSlot = (rows.find((r) => r.version_id !== null && r.version_id === prod?.id && Number(r.live) === 1) ?? rows.find((r) => r.version_id !== null && r.version_id === prod?.id))?.slot as
      | Slot
      | undefined;
    const versions = new Map((await this.registry.listVersions(model.id)).map((v) => [v.id, v.version]));
    const slots: SlotState[] = SLOTS.map((slot) => {
      const r = rows.find((x) => x.slot === slot);
      return {
        slot,
        version_id: r?.version_id ?? null,
        version: r?.version_id ? (versions.get(r.version_id) ?? null) : null,
        live: slot === liveSlot,
        health: r?.health ? (JSON.parse(r.health) as HealthReport) : null,
      };
    });
    return { model: model.name, model_id: model.id, live: liveSlot ?? null, idle: liveSlot ? other(liveSlot) : 'green', production_version: prod?.version ?? null, slots };
  }

  /** Puts a version in the idle slot and health-checks it. Traffic does not move. */
  async deploy(modelRef: string, versionRef: string, options: { actor?: string } = {}): Promise<BlueGreenState> {
    const st = await this.state(modelRef);
    const version = await this.registry.getVersion(st.model_id, versionRef.replace(/^v(?=\d)/, ''));
    if (version.status === 'archived') throw new VitalsError('CONFLICT', `${st.model} ${version.version} is archived`);
    if (version.id === st.slots.find((s) => s.live)?.version_id) throw new VitalsError('CONFLICT', `${st.model} ${version.version} is already live in ${st.live}`);
    const slot = st.idle;
    await this.db.updateTable('deployment_slots').set({ version_id: version.id, health: null, updated_at: nowIso() }).where('model_id', '=', st.model_id).where('slot', '=', slot).execute();
    await this.events.recordEvent({ test_id: null, model_id: st.model_id, action: 'blue_green_deployed', actor: options.actor ?? 'api', details: { slot, version: version.version } });
    await this.healthCheck(st.model, slot, options);
    return this.state(st.model);
  }

  /** Loads the slot's version and runs it once; the result is stored on the slot. */
  async healthCheck(modelRef: string, slot?: Slot, options: { actor?: string } = {}): Promise<HealthReport & { slot: Slot; version: string | null }> {
    const st = await this.state(modelRef);
    const which = slot ?? st.idle;
    const s = st.slots.find((x) => x.slot === which)!;
    let report: HealthReport;
    if (!s.version_id) report = { ok: false, checked_at: nowIso(), latency_ms: null, message: `the ${which} slot is empty: deploy a version to it first` };
    else {
      const r = await this.probe(s.version_id).catch((err: Error) => ({ ok: false, latency_ms: 0, message: err.message }));
      report = { ok: r.ok, checked_at: nowIso(), latency_ms: r.latency_ms || null, message: r.message };
    }
    await this.db
      .updateTable('deployment_slots')
      .set({ health: JSON.stringify(report), updated_at: nowIso() })
      .where('model_id', '=', st.model_id)
      .where('slot', '=', which)
      .execute();
    await this.events.recordEvent({ test_id: null, model_id: st.model_id, action: 'blue_green_health_check', actor: options.actor ?? 'api', details: { slot: which, version: s.version, ...report } });
    return { ...report, slot: which, version: s.version };
  }

  /** Sends traffic to the idle slot (health-checked again first) by promoting its version. */
  async switchTraffic(modelRef: string, options: { to?: Slot; actor?: string; reason?: string } = {}): Promise<BlueGreenState> {
    const st = await this.state(modelRef);
    const to = options.to ?? st.idle;
    if (to === st.live) throw new VitalsError('CONFLICT', `${st.model}: the ${to} slot is already live`);
    const health = await this.healthCheck(st.model, to, options);
    if (!health.ok) throw new VitalsError('CONFLICT', `${st.model}: the ${to} slot failed its health check (${health.message}); traffic stays on ${st.live ?? 'production'}`);
    const target = st.slots.find((s) => s.slot === to)!;
    const actor = options.actor ?? 'blue-green';
    await this.registry.promote(target.version_id!, { actor, reason: `blue-green: switch traffic ${st.live ?? '-'} → ${to}${options.reason ? `: ${options.reason}` : ''}` });
    await this.setLive(st.model_id, to);
    await this.events.recordEvent({
      test_id: null,
      model_id: st.model_id,
      action: 'blue_green_switched',
      actor,
      reason: options.reason ?? null,
      details: { from: st.live, to, version: target.version },
    });
    return this.state(st.model);
  }

  /** Sends traffic back to the other slot, with a reason (a `rolled_back` event in the model's history). */
  async rollback(modelRef: string, options: { reason: string; actor?: string }): Promise<BlueGreenState> {
    const st = await this.state(modelRef);
    if (!st.live) throw new VitalsError('CONFLICT', `${st.model}: no slot is live, so there is nothing to roll back from`);
    const back = other(st.live);
    const target = st.slots.find((s) => s.slot === back)!;
    if (!target.version_id) throw new VitalsError('CONFLICT', `${st.model}: the ${back} slot is empty; nothing to roll back to`);
    const actor = options.actor ?? 'blue-green';
    await this.registry.rollback(st.model_id, { toVersion: target.version_id, actor, reason: `blue-green rollback ${st.live} → ${back}: ${options.reason}` });
    await this.setLive(st.model_id, back);
    await this.events.recordEvent({
      test_id: null,
      model_id: st.model_id,
      action: 'blue_green_rolled_back',
      actor,
      reason: options.reason,
      details: { from: st.live, to: back, version: target.version },
    });
    return this.state(st.model);
  }

  private async setLive(modelId: string, slot: Slot): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.updateTable('deployment_slots').set({ live: 0, updated_at: nowIso() }).where('model_id', '=', modelId).execute();
      await tx.updateTable('deployment_slots').set({ live: 1, updated_at: nowIso() }).where('model_id', '=', modelId).where('slot', '=', slot).execute();
    });
  }
}
