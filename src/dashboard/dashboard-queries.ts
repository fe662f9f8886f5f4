/**
 * The dashboard's read model: one call per page, each a handful of indexed queries over the
 * registry, monitoring, release, pipeline and tracking tables plus the prediction rollups. Nothing
 * here loads raw prediction rows beyond the few seconds the rollup has not folded in yet.
 */
import { type Kysely, sql } from 'kysely';
import type { z } from 'zod';
import type { Model, ModelEvent, ModelRegistry, ModelVersion } from '../registry/index.js';
import type { DialectName, Schema } from '../store/index.js';
import { BUCKET_MS, type PredictionRollups } from './prediction-rollups.js';
import type { inputFormView, alertsView, experimentRunsView, modelPageView, overviewRow, overviewView, pipelineRunsView } from './views.js';

export type OverviewView = z.infer<typeof overviewView>;
export type OverviewRow = z.infer<typeof overviewRow>;
export type ModelPageView = z.infer<typeof modelPageView>;
export type AlertsView = z.infer<typeof alertsView>;
export type PipelineRunsView = z.infer<typeof pipelineRunsView>;
export type ExperimentRunsView = z.infer<typeof experimentRunsView>;
export type InputFormView = z.infer<typeof inputFormView>;

export interface DashboardQueryDeps {
  db: Kysely<Schema>;
  dialect: DialectName;
  registry: Pick<ModelRegistry, 'getModel' | 'listVersions' | 'history' | 'getVersion' | 'referenceProfile'>;
  rollups: Pick<PredictionRollups, 'series' | 'totals'>;
  now?: () => number;
}

export const WINDOWS = { hour: { ms: 3_600_000, step: BUCKET_MS }, day: { ms: 86_400_000, step: 3_600_000 }, week: { ms: 7 * 86_400_000, step: 6 * 3_600_000 } } as const;
export type Window = keyof typeof WINDOWS;

interface ReportJson {
  window?: { size?: number };
  drift?: {
    drift_score?: number;
    drifted_features?: string[];
    feature_drifts?: Record<string, { type: string; effect: number; p_value: number; drifted: boolean; reference: Record<string, unknown>; current: Record<string, unknown> }>;
  } | null;
  decay?: { labels?: number; current_accuracy?: number | null; estimated_accuracy?: number | null; baseline_accuracy?: number | null };
  health?: { score?: number; band?: string };
}

const parse = <T>(text: string | null | undefined, fallback: T): T => {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export class DashboardQueries {
  constructor(private readonly d: DashboardQueryDeps) {}

  private now(): number {
    return this.d.now ? this.d.now() : Date.now();
  }

  async overview(): Promise<OverviewView> {
    const now = this.now();
    const { db } = this.d;
    // A fixed number of statements whatever the number of models: the overview's cost is the rollup read.
    const models = await db.selectFrom('models').select(['id', 'name', 'task', 'modality']).orderBy('name').execute();
    const ids = models.map((m) => m.id);
    if (!ids.length) return { generated_at: new Date(now).toISOString(), models: [] };
    const [hour, day, aliases, versions, releases, alerts, changes] = await Promise.all([
      this.d.rollups.series({ modelIds: ids, fromMs: now - WINDOWS.hour.ms, toMs: now + 1, stepMs: WINDOWS.hour.step }),
      this.d.rollups.series({ modelIds: ids, fromMs: now - WINDOWS.day.ms, toMs: now + 1, stepMs: WINDOWS.day.step }),
      db.selectFrom('model_aliases').select(['model_id', 'alias', 'version_id']).where('model_id', 'in', ids).execute(),
      db.selectFrom('model_versions').select(['id', 'version']).where('model_id', 'in', ids).execute(),
      db.selectFrom('ab_tests').select(['id', 'model_id', 'mode', 'treatment_version_id', 'traffic_split']).where('status', '=', 'active').where('model_id', 'in', ids).execute(),
      db
        .selectFrom('alerts')
        .select(['model_id', 'severity', sql<number>`count(*)`.as('n')])
        .where('status', '=', 'firing')
        .groupBy(['model_id', 'severity'])
        .execute(),
      db
        .selectFrom('model_events')
        .select(['model_id', 'action', 'from_version_id', 'to_version_id', 'actor', 'reason', 'created_at'])
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('model_events')
            .select((e) => e.fn.max('id').as('id'))
            .where('model_id', 'in', ids)
            .where('alias', '=', 'production')
            .groupBy('model_id'),
        )
        .execute(),
    ]);
    const productionIds = aliases.filter((a) => a.alias === 'production').map((a) => a.version_id);
    const checks = productionIds.length
      ? await db
          .selectFrom('monitoring_checks')
          .select(['version_id', 'created_at', 'health_score', 'report'])
          .where('id', 'in', (eb) =>
            eb
              .selectFrom('monitoring_checks')
              .select((e) => e.fn.max('id').as('id'))
              .where('version_id', 'in', productionIds)
              .groupBy('version_id'),
          )
          .execute()
      : [];
    const versionName = new Map(versions.map((v) => [v.id, v.version]));
    const badge = (versionId: string | undefined) => (versionId ? { id: versionId, version: versionName.get(versionId) ?? versionId } : null);
    const rows: OverviewRow[] = [];
    for (const m of models) {
      const mine = aliases.filter((a) => a.model_id === m.id);
      const production = mine.find((a) => a.alias === 'production')?.version_id;
      const challenger = (mine.find((a) => a.alias === 'challenger') ?? mine.find((a) => a.alias === 'staging'))?.version_id;
      const release = releases.find((r) => r.model_id === m.id);
      const check = production ? checks.find((c) => c.version_id === production) : undefined;
      const change = changes.find((c) => c.model_id === m.id);
      const report = parse<ReportJson>(check?.report, {});
      const drifts = Object.entries(report.drift?.feature_drifts ?? {});
      const open = { total: 0, critical: 0, warning: 0, info: 0 };
      for (const a of alerts.filter((x) => x.model_id === m.id)) {
        const n = Number(a.n);
        open.total += n;
        if (a.severity === 'critical' || a.severity === 'warning' || a.severity === 'info') open[a.severity] += n;
      }
      const labels = report.decay?.labels ?? 0;
      const windowSize = report.window?.size ?? 0;
      rows.push({
        model_id: m.id,
        name: m.name,
        task: m.task,
        modality: m.modality,
        production: badge(production),
        challenger: badge(challenger),
        release: release
          ? { id: release.id, mode: release.mode, treatment_version: versionName.get(release.treatment_version_id) ?? release.treatment_version_id, traffic_split: release.traffic_split }
          : null,
        hour: hour.get(m.id)!,
        day: day.get(m.id)!,
        drift: check
          ? {
              checked_at: check.created_at,
              share: report.drift?.drift_score ?? null,
              drifted: drifts.filter(([, f]) => f.drifted).length,
              features: drifts.length,
              top: drifts
                .filter(([, f]) => f.drifted)
                .sort((a, b) => b[1].effect - a[1].effect)
                .slice(0, 3)
                .map(([feature, f]) => ({ feature, effect: f.effect, p_value: f.p_value })),
            }
          : null,
        accuracy: check
          ? {
              realized: report.decay?.current_accuracy ?? null,
              estimated: report.decay?.estimated_accuracy ?? null,
              baseline: report.decay?.baseline_accuracy ?? null,
              labels,
              window: windowSize,
              label_coverage: windowSize ? Math.min(1, labels / windowSize) : null,
            }
          : null,
        health: check && check.health_score !== null ? { score: check.health_score, band: report.health?.band ?? 'unknown', checked_at: check.created_at } : null,
        open_alerts: open,
        last_production_change: change
          ? {
              action: change.action,
              from_version: change.from_version_id ? (versionName.get(change.from_version_id) ?? change.from_version_id) : null,
              to_version: change.to_version_id ? (versionName.get(change.to_version_id) ?? change.to_version_id) : null,
              actor: change.actor,
              reason: change.reason,
              at: change.created_at,
            }
          : null,
      });
    }
    return { generated_at: new Date(now).toISOString(), models: rows };
  }

  async modelPage(ref: string, window: Window = 'day'): Promise<ModelPageView> {
    const now = this.now();
    const { db } = this.d;
    const model: Model = await this.d.registry.getModel(ref);
    const [versions, history, totals, checks, tests] = await Promise.all([
      this.d.registry.listVersions(model.id),
      this.d.registry.history(model.id),
      this.d.rollups.totals(model.id),
      db
        .selectFrom('monitoring_checks')
        .select(['id', 'version_id', 'created_at', 'drift_score', 'health_score', 'accuracy', 'estimated_accuracy', 'report'])
        .where('model_id', '=', model.id)
        .orderBy('id', 'desc')
        .limit(30)
        .execute(),
      db.selectFrom('ab_tests').selectAll().where('model_id', '=', model.id).orderBy('created_at', 'desc').limit(20).execute(),
    ]);
    const w = WINDOWS[window];
    const live = versions.filter((v) => v.status !== 'archived' || (totals[v.id] ?? 0) > 0).slice(0, 8);
    const [all, ...byVersion] = await Promise.all([
      this.d.rollups.series({ modelIds: [model.id], fromMs: now - w.ms, toMs: now + 1, stepMs: w.step }),
      ...live.map((v) => this.d.rollups.series({ modelIds: [model.id], versionId: v.id, fromMs: now - w.ms, toMs: now + 1, stepMs: w.step })),
    ]);
    const versionName = new Map(versions.map((v) => [v.id, v.version]));
    // Checks with a drift verdict only (a window too small to judge has none), oldest first.
    const parsed = checks.reverse().map((c) => ({ c, r: parse<ReportJson>(c.report, {}) }));
    const withDrift = parsed.filter((x) => x.r.drift?.feature_drifts);
    const ordered = withDrift.map((x) => x.c);
    const reports = withDrift.map((x) => x.r);
    // Features by their latest effect, largest first: what drifted most is read first.
    const lastEffects = reports.at(-1)?.drift?.feature_drifts ?? {};
    const features = [...new Set(reports.flatMap((r) => Object.keys(r.drift?.feature_drifts ?? {})))].sort(
      (a, b) => (lastEffects[b]?.effect ?? -1) - (lastEffects[a]?.effect ?? -1) || a.localeCompare(b),
    );
    const cells: Record<string, Array<{ effect: number; p_value: number; drifted: boolean } | null>> = {};
    for (const f of features) {
      cells[f] = reports.map((r) => {
        const d = r.drift?.feature_drifts?.[f];
        return d ? { effect: d.effect, p_value: d.p_value, drifted: d.drifted } : null;
      });
    }
    const latestReport = [...reports].reverse().find((r) => r.drift?.feature_drifts);
    const latest = Object.fromEntries(Object.entries(latestReport?.drift?.feature_drifts ?? {}).map(([f, d]) => [f, { type: d.type, reference: d.reference ?? {}, current: d.current ?? {} }]));
    const production = versions.find((v) => v.aliases.includes('production')) ?? versions[0];
    const total = Object.values(totals).reduce((a, b) => a + b, 0);
    return {
      generated_at: new Date(now).toISOString(),
      model: { ...model },
      predictions: { total, by_version: Object.fromEntries(Object.entries(totals).map(([id, n]) => [versionName.get(id) ?? (id || 'unresolved'), n])) },
      versions: versions.map((v: ModelVersion) => ({
        id: v.id,
        version: v.version,
        status: v.status,
        aliases: v.aliases,
        metrics: v.metrics,
        lineage: v.lineage,
        params: v.params,
        created_at: v.created_at,
        created_by: v.created_by,
        predictions: totals[v.id] ?? 0,
      })),
      history: history.map((e: ModelEvent) => ({ ...e })),
      window,
      traffic: all.get(model.id)!,
      traffic_by_version: Object.fromEntries(live.map((v, i) => [v.version, byVersion[i]!.get(model.id)!])),
      drift: {
        checks: ordered.map((c) => ({
          id: c.id,
          version: versionName.get(c.version_id) ?? c.version_id,
          at: c.created_at,
          share: c.drift_score,
          health: c.health_score,
          accuracy: c.accuracy,
          estimated_accuracy: c.estimated_accuracy,
        })),
        features,
        cells,
        latest,
      },
      release_tests: tests.map((t) => ({
        id: t.id,
        name: t.name,
        mode: t.mode,
        status: t.status,
        traffic_split: t.traffic_split,
        control_version: versionName.get(t.control_version_id) ?? t.control_version_id,
        treatment_version: versionName.get(t.treatment_version_id) ?? t.treatment_version_id,
        decision: t.decision,
        winner: t.winner,
        decision_reason: t.decision_reason,
        created_at: t.created_at,
        ended_at: t.ended_at,
        evaluation: parse<Record<string, unknown> | null>(t.last_evaluation, null),
      })),
      input_spec: production ? (production.input_spec as unknown as { kind: string }) : null,
      labels: production?.output_spec.labels ?? [],
    };
  }

  /** What the predict form needs: the production version's input spec plus training-data hints per feature (never the sample). */
  async inputForm(ref: string): Promise<InputFormView> {
    const v = await this.d.registry.getVersion(ref, 'production');
    const profile = await this.d.registry.referenceProfile(v.id);
    const hints: InputFormView['hints'] = {};
    for (const [name, f] of Object.entries(profile?.features ?? {})) {
      hints[name] =
        f.type === 'numeric'
          ? { type: 'numeric', mean: f.mean, min: f.min, max: f.max, p05: f.quantiles.p05, p95: f.quantiles.p95 }
          : {
              type: 'categorical',
              categories: Object.entries(f.frequencies)
                .sort((a, b) => b[1] - a[1])
                .map(([k]) => k),
            };
    }
    return { model: v.model_name, version: v.version, modality: v.input_spec.kind, input_spec: v.input_spec as unknown as InputFormView['input_spec'], labels: v.output_spec.labels, hints };
  }

  async alerts(f: { status?: 'firing' | 'resolved'; severity?: string; model?: string; limit: number; offset: number }): Promise<AlertsView> {
    const { db } = this.d;
    const modelId = f.model ? (await this.d.registry.getModel(f.model)).id : undefined;
    let q = db.selectFrom('alerts');
    if (f.status) q = q.where('alerts.status', '=', f.status);
    if (f.severity) q = q.where('alerts.severity', '=', f.severity);
    if (modelId) q = q.where('alerts.model_id', '=', modelId);
    const [rows, total, counts] = await Promise.all([
      q
        .leftJoin('models', 'models.id', 'alerts.model_id')
        .leftJoin('model_versions', 'model_versions.id', 'alerts.version_id')
        .select([
          'alerts.id',
          'alerts.model_id',
          'models.name as model_name',
          'model_versions.version as version',
          'alerts.rule',
          'alerts.severity',
          'alerts.status',
          'alerts.message',
          'alerts.fired_at',
          'alerts.last_seen_at',
          'alerts.resolved_at',
          'alerts.details',
        ])
        .orderBy('alerts.fired_at', 'desc')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirst(),
      db
        .selectFrom('alerts')
        .select(['status', sql<number>`count(*)`.as('n')])
        .groupBy('status')
        .execute(),
    ]);
    return {
      total: Number(total?.n ?? 0),
      limit: f.limit,
      offset: f.offset,
      counts: { firing: Number(counts.find((c) => c.status === 'firing')?.n ?? 0), resolved: Number(counts.find((c) => c.status === 'resolved')?.n ?? 0) },
      items: rows.map((r) => ({ ...r, model_name: r.model_name ?? r.model_id, version: r.version ?? null, details: parse<unknown>(r.details, {}) })),
    };
  }

  async pipelineRuns(f: { pipeline?: string; status?: string; model?: string; limit: number; offset: number }): Promise<PipelineRunsView> {
    const { db } = this.d;
    let q = db.selectFrom('pipeline_runs');
    if (f.pipeline) q = q.where('pipeline', '=', f.pipeline);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.model) q = q.where('model_name', '=', f.model);
    const [rows, total, names] = await Promise.all([
      q
        .select(['id', 'pipeline', 'model_name', 'trigger', 'status', 'error', 'created_by', 'created_at', 'started_at', 'finished_at', 'stages'])
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(f.limit)
        .offset(f.offset)
        .execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirst(),
      db.selectFrom('pipeline_runs').select('pipeline').distinct().orderBy('pipeline').execute(),
    ]);
    return {
      total: Number(total?.n ?? 0),
      limit: f.limit,
      offset: f.offset,
      pipelines: names.map((n) => n.pipeline),
      items: rows.map((r) => {
        const stages = parse<Array<{ name: string; status: string; duration_ms: number | null; error: string | null; logs?: string[] }>>(r.stages, []);
        const { stages: _s, ...rest } = r;
        return {
          ...rest,
          stages: stages.map((s) => ({ name: s.name, status: s.status, duration_ms: s.duration_ms ?? null, error: s.error ?? null, log_tail: (s.logs ?? []).slice(-5) })),
          progress: { done: stages.filter((s) => ['succeeded', 'failed', 'skipped', 'cached'].includes(s.status)).length, total: stages.length },
        };
      }),
    };
  }

  async experimentRuns(f: {
    experiment?: string;
    status?: string;
    q?: string;
    sort: 'started_at' | 'name' | 'status' | `metric:${string}`;
    order: 'asc' | 'desc';
    limit: number;
    offset: number;
  }): Promise<ExperimentRunsView> {
    const { db } = this.d;
    let q = db.selectFrom('tracking_runs').innerJoin('experiments', 'experiments.id', 'tracking_runs.experiment_id');
    if (f.experiment) q = q.where('experiments.name', '=', f.experiment);
    if (f.status) q = q.where('tracking_runs.status', '=', f.status);
    // Case-insensitive substring match in both databases; %, _ and \ in the text match themselves.
    if (f.q) q = q.where(sql<boolean>`lower(tracking_runs.name) like ${`%${f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`);
    let ordered = q.select([
      'tracking_runs.id',
      'experiments.name as experiment',
      'tracking_runs.name',
      'tracking_runs.status',
      'tracking_runs.started_at',
      'tracking_runs.ended_at',
      'tracking_runs.metrics',
      'tracking_runs.config',
    ]);
    const dir = f.order;
    if (f.sort.startsWith('metric:')) {
      const key = f.sort.slice('metric:'.length);
      const value = this.d.dialect === 'postgres' ? sql`(tracking_runs.metrics::jsonb ->> ${key})::double precision` : sql`json_extract(tracking_runs.metrics, ${`$."${key.replace(/"/g, '')}"`})`;
      ordered = ordered.orderBy(sql`(${value}) is null`).orderBy(value, dir);
    } else {
      ordered = ordered.orderBy(`tracking_runs.${f.sort as 'started_at' | 'name' | 'status'}`, dir);
    }
    const [rows, total, experiments] = await Promise.all([
      ordered.orderBy('tracking_runs.id', dir).limit(f.limit).offset(f.offset).execute(),
      q.select(sql<number>`count(*)`.as('n')).executeTakeFirst(),
      db
        .selectFrom('experiments')
        .leftJoin('tracking_runs', 'tracking_runs.experiment_id', 'experiments.id')
        .select(['experiments.name', sql<number>`count(tracking_runs.id)`.as('runs')])
        .groupBy('experiments.name')
        .orderBy('experiments.name')
        .execute(),
    ]);
    const items = rows.map((r) => ({
      id: r.id,
      experiment: r.experiment,
      name: r.name,
      status: r.status,
      started_at: r.started_at,
      ended_at: r.ended_at,
      metrics: parse<Record<string, number>>(r.metrics, {}),
      params: parse<Record<string, unknown>>(r.config, {}),
    }));
    return {
      total: Number(total?.n ?? 0),
      limit: f.limit,
      offset: f.offset,
      experiments: experiments.map((e) => ({ name: e.name, runs: Number(e.runs) })),
      metric_keys: [...new Set(items.flatMap((i) => Object.keys(i.metrics)))].sort(),
      items,
    };
  }
}
