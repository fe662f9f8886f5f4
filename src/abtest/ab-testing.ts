/**
 * The life of a release test: create (A/B, canary or shadow), route (through the TrafficRouter's
 * loader), look (status / evaluate), decide (auto or recommend-only), and end (promote through the
 * registry, or roll back and keep production). Every state change is a `release_events` row.
 *
 * Ending a test claims it with a conditional update (`where status = 'active'`), so two replicas
 * evaluating the same test at once finalize it once.
 */
import type { Transaction } from 'kysely';
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { VitalsError, validationFailed } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import type { PredictionLog } from '../monitoring/prediction-log.js';
import type { ModelRegistry, ModelVersion } from '../registry/index.js';
import { type RouteDecision, type RoutableTest, TrafficRouter } from '../routing/index.js';
import type { Database, Schema } from '../store/index.js';
import { AbTestStore, type StoredTest } from './ab-test-store.js';
import { type AbTestReport, analyseTest } from './analysis.js';
import { type TestDecision, decide, guardrailBreaches } from './decision.js';
import { type AbTest, type AbTestConfig, DEFAULT_TEST_CONFIG, type DecisionMode, type ReleaseEvent, type ReleaseMode, type TestMetric, type Variant } from './types.js';
import { readTestObservations } from './variant-stats.js';

export interface CreateTestInput {
  name: string;
  /** version refs: a version id, `name@1.2.0`, `name@alias`, or a bare model name (its production version) */
  control?: string;
  treatment: string;
  /** the model under test; needed only when `control` is omitted (then it is the model's production version) */
  model?: string;
  mode?: ReleaseMode;
  /** treatment's share of traffic (ab), or of requests copied (shadow); a canary starts at its first stage */
  traffic_split?: number;
  metric?: TestMetric;
  decision_mode?: DecisionMode;
  /** GrowthBook seed (the experiment key there); default: the test id */
  hash_seed?: string;
  config?: Partial<AbTestConfig>;
  actor?: string;
  /** the authenticated caller (server/principal.ts `auditContextOf`), for the audit row */
  audit?: AuditContext;
}

/** The seed's champion/challenger config (`ABTestConfig`). */
export interface ChampionChallengerConfig {
  name: string;
  model_type: string;
  control_version: string;
  treatment_version: string;
  treatment_traffic_pct: number;
  duration_days: number;
}

export interface Evaluation {
  test: AbTest;
  report: AbTestReport;
  decision: TestDecision;
  /** what was done about the decision (auto mode), if anything */
  applied: 'promoted' | 'rolled_back' | 'advanced' | null;
}

export interface AbTestingOptions {
  /** default minimum sample per variant (AB_TEST_MIN_SAMPLES) */
  minSamples?: number;
  now?: () => Date;
  /** when given, a decided test publishes `abtest.decided` on `ab_tests` (transactional outbox, with its release event) */
  outbox?: AbTestOutbox;
  /** when given, starts, stops and decisions write an `abtest.*` audit row in the transaction of their release event */
  audit?: AuditRecorder;
}

/** The messaging outbox, as A/B tests use it. */
export interface AbTestOutbox {
  enqueueEvent(tx: Transaction<Schema>, topic: string, type: string, data: Record<string, unknown>, options?: { key?: string | null }): Promise<string>;
}

const semverRef = (v: string) => v.replace(/^v(?=\d)/, '');

export class AbTesting {
  readonly store: AbTestStore;
  /** assigns variants; its cache is invalidated on every change made here */
  readonly router: TrafficRouter;
  private readonly listeners: Array<(test: AbTest) => void> = [];
  private readonly now: () => Date;
  private readonly defaults: AbTestConfig;
  private readonly outbox?: AbTestOutbox;
  private readonly audit?: AuditRecorder;

  constructor(
    private readonly database: Database,
    private readonly registry: ModelRegistry,
    private readonly predictionLog: PredictionLog,
    router?: TrafficRouter,
    options: AbTestingOptions = {},
  ) {
    this.store = new AbTestStore(database);
    // The router reads this service's active tests; made here unless a caller brings its own.
    this.router = router ?? new TrafficRouter((modelName) => this.activeTestFor(modelName));
    this.outbox = options.outbox;
    this.audit = options.audit;
    this.now = options.now ?? (() => new Date());
    this.defaults = { ...DEFAULT_TEST_CONFIG, ...(options.minSamples !== undefined ? { min_samples: options.minSamples } : {}) };
  }

  /** Called after every change of a test (created, advanced, ended). */
  onChange(listener: (test: AbTest) => void): void {
    this.listeners.push(listener);
  }

  // ---------- lifecycle ----------

  async create(input: CreateTestInput): Promise<AbTest> {
    const mode = input.mode ?? 'ab';
    const config: AbTestConfig = { ...this.defaults, ...stripUndefined(input.config ?? {}) };
    const problems = validateConfig(config, mode);
    if (!input.name?.trim()) problems.push({ field: 'test_name', message: 'is required' });
    if (input.traffic_split !== undefined && !(input.traffic_split > 0 && input.traffic_split <= 1)) {
      problems.push({ field: 'traffic_split', message: 'must be in (0, 1]: the treatment share of traffic' });
    }
    if (problems.length) throw validationFailed(problems, 'A/B test rejected');

    const controlRef = input.control ?? input.model;
    if (!controlRef) throw validationFailed([{ field: 'control_model_id', message: 'name the control version (or the model, to use its production version)' }]);
    const control = await this.resolveVersion(controlRef, 'control_model_id');
    const treatment = await this.resolveVersion(input.treatment, 'treatment_model_id', control);
    if (treatment.model_id !== control.model_id) {
      throw validationFailed([{ field: 'treatment_model_id', message: `must be a version of ${control.model_name} (the control's model), got ${treatment.model_name}` }]);
    }
    if (treatment.id === control.id) throw validationFailed([{ field: 'treatment_model_id', message: 'control and treatment are the same version' }]);
    for (const [v, field] of [
      [control, 'control_model_id'],
      [treatment, 'treatment_model_id'],
    ] as const) {
      if (v.status === 'archived') throw validationFailed([{ field, message: `${v.model_name} ${v.version} is archived` }]);
    }
    const active = await this.store.activeForModelName(control.model_name);
    if (active) throw new VitalsError('CONFLICT', `model "${control.model_name}" already has an active test "${active.name}" (${active.id}); stop it first`);

    const id = uuidv7();
    const now = nowIso();
    const split = mode === 'canary' ? config.canary_stages[0]! : (input.traffic_split ?? (mode === 'shadow' ? 1 : 0.5));
    const details = { mode, control: control.version, treatment: treatment.version, traffic_split: split, metric: input.metric ?? 'accuracy', decision_mode: input.decision_mode ?? 'auto', config };
    const row = {
      id,
      name: input.name.trim(),
      model_id: control.model_id,
      model_name: control.model_name,
      mode,
      status: 'active',
      control_version_id: control.id,
      treatment_version_id: treatment.id,
      traffic_split: split,
      metric: input.metric ?? 'accuracy',
      decision_mode: input.decision_mode ?? 'auto',
      hash_seed: input.hash_seed ?? id,
      config: JSON.stringify(config),
      canary_stage: mode === 'canary' ? 0 : null,
      split_changed_at: now,
      sequential_state: null,
      decision: null,
      winner: null,
      decision_reason: null,
      last_evaluation: null,
      created_by: input.actor ?? 'api',
      created_at: now,
      updated_at: now,
      ended_at: null,
    } as const;
    // The test, its release event and its audit row commit together.
    await this.database.db.transaction().execute(async (tx) => {
      await this.store.insert(row, tx);
      await this.store.recordEvent({ test_id: id, model_id: control.model_id, action: 'created', actor: row.created_by, details }, tx);
      await this.audit?.record(tx, {
        action: 'abtest.started',
        target: `abtest:${id}`,
        context: input.audit,
        actor: row.created_by,
        details: { name: row.name, model: control.model_name, ...details },
      });
    });
    const test = await this.store.get(id);
    this.changed(test);
    return publicTest(test);
  }

  /** The seed's `start_test(ABTestConfig)`: versions of `model_type`, a percentage split and a duration. */
  async startChampionChallenger(cfg: ChampionChallengerConfig & Omit<CreateTestInput, 'name' | 'control' | 'treatment' | 'model' | 'traffic_split'>): Promise<AbTest> {
    return this.create({
      ...cfg,
      name: cfg.name,
      control: `${cfg.model_type}@${semverRef(cfg.control_version)}`,
      treatment: `${cfg.model_type}@${semverRef(cfg.treatment_version)}`,
      traffic_split: cfg.treatment_traffic_pct / 100,
      config: { ...cfg.config, min_duration_s: cfg.duration_days * 86400 },
    });
  }

  async get(ref: string): Promise<AbTest> {
    return publicTest(await this.store.get(ref));
  }

  async list(filter: { status?: string; model?: string } = {}): Promise<AbTest[]> {
    const modelId = filter.model ? (await this.registry.getModel(filter.model)).id : undefined;
    return (await this.store.list({ status: filter.status === 'all' ? undefined : (filter.status ?? 'active'), modelId })).map(publicTest);
  }

  async events(ref: string): Promise<ReleaseEvent[]> {
    const test = await this.store.get(ref);
    return this.store.events({ testId: test.id });
  }

  /** A look without side effects: the report and what it recommends. */
  async status(ref: string): Promise<{ test: AbTest; report: AbTestReport; decision: TestDecision }> {
    const test = await this.store.get(ref);
    const report = await this.report(test);
    return { test: publicTest(test), report, decision: test.status === 'active' ? decide(test, report, this.now()) : endedDecision(test) };
  }

  /**
   * A look that counts: the running minima of the always-valid p-values are stored, and in `auto`
   * mode (or when `apply` is set) the decision is carried out.
   */
  async evaluate(ref: string, options: { apply?: boolean; actor?: string } = {}): Promise<Evaluation> {
    const test = await this.store.get(ref);
    const report = await this.report(test);
    if (test.status !== 'active') return { test: publicTest(test), report, decision: endedDecision(test), applied: null };
    const decision = decide(test, report, this.now());
    const previous = (test.last_evaluation as { decision?: { decision?: string } } | null)?.decision?.decision;
    await this.store.update(test.id, { sequential_state: JSON.stringify(report.sequential_state), last_evaluation: JSON.stringify({ report, decision }) });
    const apply = options.apply ?? test.decision_mode === 'auto';
    const actor = options.actor ?? 'ab-test';
    let applied: Evaluation['applied'] = null;
    if (apply && decision.decision !== 'continue') {
      if (decision.decision === 'advance') {
        await this.advanceStage(test, actor, decision.recommendation);
        applied = 'advanced';
      } else {
        const done = await this.end(test, decision.decision, actor, decision.recommendation).catch((err) => {
          if (err instanceof VitalsError && err.code === 'CONFLICT') return null; // another look ended it first
          throw err;
        });
        applied = done ? (decision.decision === 'promote' ? 'promoted' : 'rolled_back') : null;
      }
    } else if (decision.decision !== previous) {
      await this.store.recordEvent({ test_id: test.id, model_id: test.model_id, action: 'recommendation', actor, reason: decision.recommendation, details: { decision: decision.decision } });
    }
    return { test: await this.get(test.id), report, decision, applied };
  }

  /** Evaluates every active test (the background job). */
  async evaluateAll(): Promise<Evaluation[]> {
    const out: Evaluation[] = [];
    for (const t of await this.store.list({ status: 'active' })) out.push(await this.evaluate(t.id));
    return out;
  }

  /** Ends a test: `promote` moves production to the treatment through the registry; `rollback` keeps the control. */
  async finalize(ref: string, action: 'promote' | 'rollback', options: { actor?: string; reason?: string; audit?: AuditContext } = {}): Promise<AbTest> {
    const test = await this.store.get(ref);
    const reason = options.reason ?? (action === 'promote' ? 'treatment won the test' : 'treatment rolled back');
    await this.end(test, action, options.actor ?? 'api', reason, options.audit);
    return this.get(test.id);
  }

  /** The seed's `/stop?winner=`: treatment → promote it; control → keep production; none → just stop. */
  async stop(ref: string, options: { winner?: Variant; actor?: string; reason?: string; audit?: AuditContext } = {}): Promise<AbTest> {
    const test = await this.store.get(ref);
    if (options.winner === 'treatment') return this.finalize(test.id, 'promote', { ...options, reason: options.reason ?? 'stopped with the treatment as winner' });
    if (options.winner === 'control') return this.finalize(test.id, 'rollback', { ...options, reason: options.reason ?? 'stopped with the control as winner' });
    await this.database.db.transaction().execute(async (tx) => {
      await this.claim(test, { status: 'stopped', decision: null, winner: null, decision_reason: options.reason ?? 'stopped without a winner' }, tx);
      await this.store.recordEvent({ test_id: test.id, model_id: test.model_id, action: 'stopped', actor: options.actor ?? 'api', reason: options.reason ?? null }, tx);
      await this.audit?.record(tx, {
        action: 'abtest.stopped',
        target: `abtest:${test.id}`,
        reason: options.reason ?? null,
        context: options.audit,
        actor: options.actor,
        details: { name: test.name, model: test.model_name },
      });
    });
    const ended = await this.store.get(test.id);
    this.changed(ended);
    return publicTest(ended);
  }

  /** Moves a canary to its next stage (promotes past the last). Refused while a guardrail is breached unless `force`. */
  async advance(ref: string, options: { actor?: string; force?: boolean; reason?: string } = {}): Promise<AbTest> {
    const test = await this.store.get(ref);
    if (test.mode !== 'canary') throw new VitalsError('CONFLICT', `test "${test.name}" is ${test.mode === 'ab' ? 'an A/B test' : 'a shadow test'}; only canaries advance`);
    if (test.status !== 'active') throw new VitalsError('CONFLICT', `test "${test.name}" has ended (${test.status})`);
    if (!options.force) {
      const breaches = guardrailBreaches(test, await this.report(test));
      if (breaches.length) throw new VitalsError('CONFLICT', `guardrails do not hold: ${breaches.join('; ')}; roll back, or pass force to advance anyway`);
    }
    const stages = test.config.canary_stages;
    if ((test.canary_stage ?? 0) >= stages.length - 1) return this.finalize(test.id, 'promote', { actor: options.actor, reason: options.reason ?? 'canary completed its last stage' });
    await this.advanceStage(test, options.actor ?? 'api', options.reason ?? 'advanced by hand');
    return this.get(test.id);
  }

  // ---------- the seed's assignment and recording endpoints ----------

  /** `select-model`: which version a user meets in a test (the same one every time). */
  async selectModel(ref: string, userId?: string): Promise<{ test: AbTest; route: RouteDecision }> {
    const test = await this.store.get(ref);
    if (test.status !== 'active') throw new VitalsError('CONFLICT', `test "${test.name}" has ended (${test.status})`);
    const route = this.assigner().assign(routable(test), userId);
    return { test: publicTest(test), route };
  }

  /** `record`: a prediction made outside Vitals, written to the prediction log under the test. */
  async recordResult(
    ref: string,
    r: { variant: Variant; prediction?: string | number | null; ground_truth?: string | number | null; metrics?: Record<string, number>; error?: string | null; user_id?: string },
  ): Promise<{ prediction_id: string; test_id: string; variant: Variant }> {
    const test = await this.store.get(ref);
    const versionId = r.variant === 'treatment' ? test.treatment_version_id : test.control_version_id;
    const id = await this.predictionLog.recordDurably({
      model_id: test.model_id,
      model_name: test.model_name,
      version_id: versionId,
      version: r.variant === 'treatment' ? test.treatment_version : test.control_version,
      variant: test.mode === 'shadow' && r.variant === 'treatment' ? 'shadow' : r.variant,
      ab_test_id: test.id,
      source: 'external',
      input: { metrics: r.metrics ?? {}, ...(r.user_id ? { user_id: r.user_id } : {}) },
      prediction: r.prediction ?? null,
      ground_truth: r.ground_truth ?? null,
      confidence: r.metrics?.confidence ?? null,
      latency_ms: r.metrics?.latency_ms ?? r.metrics?.inference_time_ms ?? null,
      error: r.error ?? null,
    });
    return { prediction_id: id, test_id: test.id, variant: r.variant };
  }

  /** The router's loader: the active test of a model, as the router needs it. */
  async activeTestFor(modelName: string): Promise<RoutableTest | null> {
    const test = await this.store.activeForModelName(modelName);
    return test ? routable(test) : null;
  }

  // ---------- internals ----------

  private async report(test: StoredTest): Promise<AbTestReport> {
    await this.predictionLog.flush();
    const obs = await readTestObservations(this.database, test);
    return analyseTest(test, obs, test.sequential_state, this.now());
  }

  private async resolveVersion(ref: string, field: string, sibling?: ModelVersion): Promise<ModelVersion> {
    try {
      return await this.registry.resolve(ref);
    } catch (err) {
      // A bare version string ("1.1.0") means a version of the control's model.
      if (sibling && !ref.includes('@')) {
        const v = await this.registry.getVersion(sibling.model_id, semverRef(ref)).catch(() => null);
        if (v) return v;
      }
      if (err instanceof VitalsError && err.statusCode === 404) throw validationFailed([{ field, message: err.message }]);
      throw err;
    }
  }

  /** Marks an active test ended, or throws CONFLICT when another caller ended it first. */
  private async claim(
    test: StoredTest,
    patch: { status: 'completed' | 'stopped'; decision: 'promote' | 'rollback' | null; winner: Variant | null; decision_reason: string },
    tx: Transaction<Schema> | Database['db'] = this.database.db,
  ): Promise<void> {
    const res = await tx
      .updateTable('ab_tests')
      .set({ ...patch, ended_at: nowIso(), updated_at: nowIso() })
      .where('id', '=', test.id)
      .where('status', '=', 'active')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new VitalsError('CONFLICT', `test "${test.name}" has already ended`);
  }

  private async end(test: StoredTest, action: 'promote' | 'rollback', actor: string, reason: string, audit?: AuditContext): Promise<true> {
    await this.claim(test, {
      status: action === 'promote' ? 'completed' : 'stopped',
      decision: action,
      winner: action === 'promote' ? 'treatment' : 'control',
      decision_reason: reason,
    });
    const auditReason = `A/B test "${test.name}" (${test.id}): ${reason}`;
    try {
      if (action === 'promote') {
        await this.registry.promote(test.treatment_version_id, { actor, reason: auditReason });
      } else {
        // Production stays with the control; put it back if it was moved to the treatment meanwhile.
        const prod = await this.registry.resolve(test.model_name).catch(() => null);
        if (prod?.id === test.treatment_version_id) await this.registry.promote(test.control_version_id, { actor, reason: auditReason });
      }
    } catch (err) {
      await this.store.update(test.id, { status: 'active', decision: null, winner: null, decision_reason: null, ended_at: null });
      throw err;
    }
    await this.database.db.transaction().execute(async (tx) => {
      await this.store.recordEvent({ test_id: test.id, model_id: test.model_id, action: action === 'promote' ? 'promoted' : 'rolled_back', actor, reason }, tx);
      await this.audit?.record(tx, {
        action: 'abtest.decided',
        target: `abtest:${test.id}`,
        reason,
        context: audit,
        actor,
        details: {
          name: test.name,
          model: test.model_name,
          decision: action,
          winner: action === 'promote' ? 'treatment' : 'control',
          control: test.control_version,
          treatment: test.treatment_version,
        },
      });
      await this.outbox?.enqueueEvent(
        tx,
        'ab_tests',
        'abtest.decided',
        {
          test_id: test.id,
          test_name: test.name,
          model_id: test.model_id,
          model_name: test.model_name,
          decision: action,
          winner: action === 'promote' ? 'treatment' : 'control',
          control_version: test.control_version,
          treatment_version: test.treatment_version,
          actor,
          reason,
        },
        { key: test.model_id },
      );
    });
    const ended = await this.store.get(test.id);
    this.changed(ended);
    return true;
  }

  private async advanceStage(test: StoredTest, actor: string, reason: string): Promise<void> {
    const stages = test.config.canary_stages;
    const from = test.canary_stage ?? 0;
    const to = from + 1;
    if (to >= stages.length) {
      await this.end(test, 'promote', actor, reason);
      return;
    }
    const res = await this.database.db
      .updateTable('ab_tests')
      .set({ canary_stage: to, traffic_split: stages[to]!, split_changed_at: nowIso(), updated_at: nowIso() })
      .where('id', '=', test.id)
      .where('status', '=', 'active')
      .where('canary_stage', '=', from)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new VitalsError('CONFLICT', `canary "${test.name}" changed meanwhile; look again`);
    await this.store.recordEvent({ test_id: test.id, model_id: test.model_id, action: 'canary_advanced', actor, reason, details: { from: stages[from], to: stages[to], stage: to } });
    this.changed(await this.store.get(test.id));
  }

  private assigner(): TrafficRouter {
    return this.router;
  }

  private changed(test: AbTest): void {
    this.router.invalidate(test.model_name);
    for (const l of this.listeners) l(test);
  }
}

function routable(test: AbTest): RoutableTest {
  return {
    id: test.id,
    mode: test.mode,
    modelName: test.model_name,
    controlVersionId: test.control_version_id,
    treatmentVersionId: test.treatment_version_id,
    split: test.traffic_split,
    hashSeed: test.hash_seed,
  };
}

function publicTest(t: StoredTest | AbTest): AbTest {
  const { sequential_state: _s, last_evaluation: _l, ...rest } = t as StoredTest;
  return rest;
}

function endedDecision(test: AbTest): TestDecision {
  return {
    decision: 'continue',
    recommendation: `The test has ended (${test.status}${test.decision ? `, ${test.decision}` : ''}): ${test.decision_reason ?? 'no reason recorded'}.`,
    reasons: [],
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateConfig(c: AbTestConfig, mode: ReleaseMode): { field: string; message: string }[] {
  const p: { field: string; message: string }[] = [];
  if (!(c.alpha > 0 && c.alpha < 0.5)) p.push({ field: 'alpha', message: 'must be in (0, 0.5)' });
  if (!(c.power > 0 && c.power < 1)) p.push({ field: 'power', message: 'must be in (0, 1)' });
  if (!(c.mde > 0 && c.mde < 1)) p.push({ field: 'mde', message: 'must be in (0, 1): an absolute change of the primary metric' });
  if (!(Number.isInteger(c.min_samples) && c.min_samples >= 0)) p.push({ field: 'min_samples', message: 'must be a whole number ≥ 0' });
  if (!(c.min_duration_s >= 0)) p.push({ field: 'min_duration_s', message: 'must be ≥ 0' });
  if (mode === 'canary') {
    const s = c.canary_stages;
    if (!s.length || s.some((x, i) => !(x > 0 && x <= 1) || (i > 0 && x <= s[i - 1]!))) {
      p.push({ field: 'canary_stages', message: 'must be increasing shares in (0, 1], e.g. [0.05, 0.25, 0.5, 1]' });
    }
  }
  return p;
}
