/**
 * Acceptance: the whole loop over HTTP. A production model serves; the traffic drifts (a scanner
 * recalibration scales every measurement); monitoring fires a drift alert; retraining starts by itself
 * on the recent labelled predictions; the candidate passes validation; a canary starts, wins and is
 * promoted; the old version is archived. And a worse candidate is stopped at validation.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/audit/index.js';
import { DEMO_DATA } from '../src/pipelines/demo-bootstrap.js';
import type { Subscription } from '../src/messaging/index.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const target = csv.columns.indexOf('diagnosis');
const rows = csv.rows.map((r) => ({ features: Object.fromEntries(features.map((f) => [f, Number(r[csv.columns.indexOf(f)])])), label: r[target]! }));
const SHIFT = 1.6;
const shifted = rows.map((r) => ({ features: Object.fromEntries(Object.entries(r.features).map(([k, v]) => [k, v * SHIFT])), label: r.label }));

let t: TestApp;
const http = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const res = await t.app.inject({ method, url, payload: payload as object, headers: { 'x-actor': 'test' } });
  return { status: res.statusCode, body: res.json() as any };
};

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends traffic one request per user (so an active test splits it) and attaches the labels. */
async function traffic(model: string, data: typeof rows, prefix: string): Promise<Record<string, number>> {
  const labels: Array<{ prediction_id: string; ground_truth: string }> = [];
  const versions: Record<string, number> = {};
  for (const [i, r] of data.entries()) {
    const res = await http('POST', '/api/v1/ml-models/predict', { model, features: r.features, user_id: `${prefix}-${i}` });
    expect(res.status).toBe(200);
    labels.push({ prediction_id: res.body.prediction_id, ground_truth: r.label });
    versions[res.body.model_version] = (versions[res.body.model_version] ?? 0) + 1;
  }
  expect((await http('POST', '/api/v1/mlops/monitoring/ground-truth', { labels })).status).toBe(200);
  return versions;
}

/** Platform events on the pipelines topic, as a consumer reading the bus receives them. */
const pipelineEvents: Array<{ type: string; data: Record<string, unknown> }> = [];
let subscription: Subscription | undefined;

beforeAll(async () => {
  t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, PIPELINE_POLL_MS: 50, CACHE_SIZE: 0 });
  // A consumer group reads the topic: the embedded bus drops events of a topic that no group
  // reads, so an event is only in the outbox or bus tables while in transit (reading the tables
  // raced the relay).
  subscription = await t.services.messaging.bus.subscribe<{ type: string; data: Record<string, unknown> }>(t.services.messaging.topics.brokerName('pipelines'), 'retraining-loop-test', (event) => {
    pipelineEvents.push(event);
  });
});
afterAll(async () => {
  await subscription?.close();
  await t?.dispose();
});

describe('automated retraining, end to end', () => {
  it('drift → alert → retraining on recent labelled data → validation → canary → promotion → old archived', async () => {
    const trained = await http('POST', '/api/v1/train', { model_name: 'bc', target: 'diagnosis', algo: 'logreg', data_path: DEMO_DATA, version: '1.0.0', aliases: ['production'] });
    expect(trained.status).toBe(202); // training is a queued run; poll its status URL
    await until('the training run', async () => ((await http('GET', trained.body.status_url)).body.status === 'succeeded' ? true : undefined));
    const started = await http('POST', '/api/v1/mlops/retraining/start', {
      model_id: 'bc',
      pipeline: { ab_test: { enabled: true, mode: 'canary', config: { canary_stages: [0.5], canary_min_samples: 60, guardrail_min_samples: 60, min_samples: 60 } } },
    });
    expect(started.status).toBe(200);

    // The traffic drifts, and its labels arrive.
    expect(await traffic('bc', shifted, 'drift')).toEqual({ '1.0.0': shifted.length });

    // Monitoring fires a drift alert; retraining starts by itself.
    const check = await http('POST', '/api/v1/mlops/monitoring/bc/check');
    expect(check.status).toBe(200);
    const alerts = (await http('GET', '/api/v1/mlops/monitoring/bc')).body.recent_alerts;
    expect(alerts.some((a: any) => a.rule === 'data_drift' && a.status === 'firing')).toBe(true);

    const waiting = await until('the retraining run to start its canary', async () => {
      const runs = (await http('GET', '/api/v1/mlops/cicd/pipeline-history?model_id=bc')).body.runs;
      const r = runs[0];
      if (r && ['failed', 'rejected', 'succeeded'].includes(r.status))
        throw new Error(
          `run ended early: ${r.status}: ${r.error}\n${JSON.stringify(
            r.stages.map((s: any) => [s.name, s.status, s.logs.slice(-3)]),
            null,
            1,
          )}`,
        );
      return r?.status === 'waiting' ? r : null;
    });
    expect(waiting.trigger).toBe('drift');
    expect(waiting.incident_key).toMatch(/^alert:/);
    expect(waiting.stages.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'waiting', 'pending']);
    const [collection, validation, training, modelValidation, testing, ab] = waiting.stages;
    expect(collection.artifacts.source.kind).toBe('prediction_log');
    expect(collection.metrics.rows).toBe(shifted.length);
    expect(validation.artifacts.checks.find((c: any) => c.check === 'drift').message).toMatch(/drift against 1.0.0/);
    expect(training.artifacts.tracking.run_id).toBeTruthy();
    expect(modelValidation.metrics['candidate.accuracy']).toBeGreaterThan(modelValidation.metrics['production.accuracy']);
    expect(testing.metrics.p95_latency_ms).toBeGreaterThan(0);
    expect(ab.artifacts.ab_test.mode).toBe('canary');
    for (const s of waiting.stages.slice(0, 6)) expect(s.duration_ms).toBeGreaterThanOrEqual(0);

    // One incident, one run: checking again (alert still firing) and re-sending the trigger start nothing new.
    await http('POST', '/api/v1/mlops/monitoring/bc/check');
    const again = await http('POST', '/api/v1/mlops/retraining/trigger', { model_id: 'bc', trigger: 'drift', incident_key: waiting.incident_key });
    expect(again.body).toMatchObject({ debounced: true, run_id: waiting.id });
    // one CI/CD run (the first training of bc is a run of its own, pipeline "train")
    expect((await http('GET', '/api/v1/mlops/cicd/pipeline-history?model_id=bc')).body.runs.filter((r: { pipeline: string }) => r.pipeline === 'cicd')).toHaveLength(1);

    // The canary: half the users meet the new version; it answers the drifted traffic better and wins.
    const split = await traffic('bc', shifted, 'canary');
    expect(split['1.1.0']).toBeGreaterThan(60);
    const testId = ab.artifacts.ab_test.id;
    const evaluation = await http('POST', `/api/v1/mlops/ab-testing/${testId}/evaluate`, {});
    expect(evaluation.status).toBe(200);

    const done = await until('the run to deploy', async () => {
      const r = (await http('GET', `/api/v1/pipelines/runs/${waiting.id}`)).body;
      if (r.status === 'failed' || r.status === 'rejected') throw new Error(`run ${r.status}: ${r.error}`);
      return r.status === 'succeeded' ? r : null;
    });
    expect(done.result).toMatchObject({ decision: 'promoted_after_ab_test', new_version: '1.1.0', previous_production_version: '1.0.0', archived_version: '1.0.0' });
    expect(done.stages.map((s: any) => s.status)).toEqual(Array(8).fill('succeeded'));
    expect(done.stages[7].artifacts.alert_rules.data_drift.threshold).toBe(0.1);

    const model = (await http('GET', '/api/v1/models/bc')).body;
    expect(model.aliases.production).toBe('1.1.0');
    const versions = (await http('GET', '/api/v1/models/bc/versions')).body;
    const list = versions.versions ?? versions;
    expect(list.find((v: any) => v.version === '1.0.0').status).toBe('archived');
    expect(list.find((v: any) => v.version === '1.1.0').lineage).toMatchObject({ pipeline_run_id: waiting.id, trigger: 'drift' });
    // Its lineage: trained by the drift run on the labelled predictions it names (a window of ids), promoted by its A/B test.
    const lineage = (await http('GET', '/api/v1/models/bc/versions/1.1.0/lineage')).body;
    expect(lineage.training.pipeline_run).toMatchObject({ id: waiting.id, trigger: 'drift', started_by: { actor: 'monitoring' } });
    expect(lineage.data).toMatchObject({ source: 'prediction_log', sha256: done.result.data_sha256, rows: done.result.data_rows, path: null });
    expect(lineage.data.window.predictions).toBe(done.result.data_rows);
    expect(lineage.data.window.oldest_id < lineage.data.window.newest_id).toBe(true);
    // reading those labelled predictions was itself a read of patient rows, recorded for the run
    const read = (await listAudit(t.services.database.db, { action: 'prediction.listed', principal: `pipeline:${waiting.id}` }))[0]!;
    expect(read).toMatchObject({ target: 'model:bc', role: 'system', reason: 'training data of a pipeline run' });
    expect(JSON.parse(read.details)).toMatchObject({ count: done.result.data_rows, oldest_id: lineage.data.window.oldest_id, newest_id: lineage.data.window.newest_id });
    expect(lineage.promoted_to_production).toMatchObject({ from_version: '1.0.0', alias: 'production' });
    expect(lineage.promoted_to_production.reason).toMatch(/test/i);

    // The registry's audit trail shows every move, each with who and why.
    const history = (await http('GET', '/api/v1/models/bc/history')).body;
    const events = (history.events ?? history).map((e: any) => `${e.action} ${e.alias ?? ''} ${e.from_version ?? ''}→${e.to_version ?? ''} by ${e.actor}: ${e.reason ?? ''}`);
    expect(events.some((e: string) => e.startsWith('registered') && e.includes('→1.1.0') && e.includes(`pipeline:${waiting.id}`))).toBe(true);
    expect(events.some((e: string) => e.startsWith('alias_set challenger') && e.includes('passed validation'))).toBe(true);
    expect(events.some((e: string) => e.startsWith('promoted production 1.0.0→1.1.0') && e.includes('A/B test'))).toBe(true);
    expect(events.some((e: string) => e.startsWith('archived') && e.includes('1.0.0') && e.includes('replaced by 1.1.0'))).toBe(true);

    // Retraining history and stats.
    const hist = (await http('GET', '/api/v1/mlops/retraining/history?model_id=bc')).body.history;
    expect(hist[0]).toMatchObject({ trigger: 'drift', status: 'succeeded', decision: 'promoted_after_ab_test', new_version: '1.1.0', data_rows: shifted.length, ab_test_id: testId });
    const stats = (await http('GET', '/api/v1/mlops/retraining/stats')).body;
    expect(stats).toMatchObject({ total_runs: 1, succeeded: 1, by_trigger: { drift: 1 } });

    // The training run was tracked.
    const exp = (await http('GET', '/api/v1/tracking/experiments/bc-training/runs')).body.runs;
    expect(exp[0]).toMatchObject({ status: 'completed', tags: { pipeline_run: waiting.id } });

    // pipeline.finished went through the outbox and the bus to a consumer.
    const finished = await until('pipeline.finished on the bus', async () => pipelineEvents.find((e) => e.type === 'pipeline.finished' && e.data.run_id === waiting.id));
    expect(finished.data).toMatchObject({ pipeline: 'cicd', model: 'bc', trigger: 'drift', status: 'succeeded', decision: 'promoted_after_ab_test', new_version: '1.1.0' });
  });

  it('a candidate worse than production is stopped at validation; production is untouched', async () => {
    const trained = await http('POST', '/api/v1/train', { model_name: 'bc2', target: 'diagnosis', algo: 'logreg', data_path: DEMO_DATA, version: '1.0.0', aliases: ['production'] });
    await until('the training run', async () => ((await http('GET', trained.body.status_url)).body.status === 'succeeded' ? true : undefined));
    const before = (await http('GET', '/api/v1/models/bc2/history')).body;
    // A one-tree, depth-one forest: a stump, clearly worse than the logistic regression on the same rows.
    const trig = await http('POST', '/api/v1/mlops/retraining/trigger', {
      model_id: 'bc2',
      reason: 'try a smaller model',
      pipeline: { data: { source: 'file', path: DEMO_DATA }, training: { algo: 'rf', params: { n_estimators: 1, max_depth: 1 } }, ab_test: { enabled: true } },
    });
    expect(trig.status).toBe(202);
    const run = await until('the run to end', async () => {
      const r = (await http('GET', `/api/v1/pipelines/runs/${trig.body.run_id}`)).body;
      return ['succeeded', 'failed', 'rejected'].includes(r.status) ? r : null;
    });
    expect(run.status).toBe('rejected');
    expect(run.result.decision).toBe('rejected_at_model_validation');
    expect(run.error).toMatch(/candidate accuracy 0\.\d+ vs production 1\.0\.0 0\.\d+ on the same \d+ holdout rows/);
    expect(run.stages.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'skipped', 'skipped', 'skipped', 'skipped']);
    const model = (await http('GET', '/api/v1/models/bc2')).body;
    expect(model.aliases).toEqual({ production: '1.0.0' });
    expect((await http('GET', '/api/v1/models/bc2/history')).body).toEqual(before);
    expect((await http('GET', '/api/v1/mlops/ab-testing?model=bc2')).body.tests ?? []).toHaveLength(0);
    const check = (await http('GET', '/api/v1/mlops/cicd/check-retrain/bc2')).body;
    expect(check).toMatchObject({ model: 'bc2', production_version: '1.0.0', should_retrain: false });
  });
});
