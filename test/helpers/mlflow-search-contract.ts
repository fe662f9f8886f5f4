/**
 * search-runs in SQL (src/tracking/mlflow/run-search-sql.ts) against the grammar's reference
 * evaluator (`matches` + `sortEntities` of search-filter.ts, checked against a real mlflow server in
 * test/services/mlflow-client.test.ts) on the runs' own MLflow views: random runs (missing metrics,
 * tied values, mixed case, LIKE wildcards in values, native Vitals runs with non-string config,
 * datasets, deleted runs) and random searches (ILIKE only on ASCII case, which both databases fold), paged with small pages. Used on SQLite and PostgreSQL.
 */
import { expect } from 'vitest';
import { ExperimentTracking } from '../../src/tracking/experiment-tracking.js';
import type { MlflowRun, MlflowTracking, ViewType } from '../../src/tracking/mlflow/mlflow-tracking.js';
import { type Searchable, matches, parseFilter, parseOrderBy, sortEntities } from '../../src/tracking/mlflow/search-filter.js';
import type { Database } from '../../src/store/index.js';

/** mulberry32: a small seeded generator, so a failure can be replayed */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, pick, chance: (p: number) => next() < p };
}

const BASE = 1_700_000_000_000;
const ALGOS = ['logreg', 'rf', 'RF', 'xgboost', 'log_reg', '50%off', 'a\\b', 'Ünïcode'] as const;
const TEAMS = ['a', 'A', 'b', 'team-x', 'x*y?'] as const;

/** The reference's view of a run: what the API returned, as the grammar's evaluator reads it. */
function searchable(run: MlflowRun): Searchable {
  const i = run.info;
  return {
    id: i.run_id,
    attributes: { run_id: i.run_id, run_name: i.run_name, status: i.status, user_id: i.user_id, artifact_uri: i.artifact_uri, start_time: i.start_time, end_time: i.end_time ?? null },
    metrics: Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value])),
    params: Object.fromEntries(run.data.params.map((p) => [p.key, p.value])),
    tags: Object.fromEntries(run.data.tags.map((t) => [t.key, t.value])),
    datasets: run.inputs.dataset_inputs.map((d) => ({ name: d.dataset.name, digest: d.dataset.digest, context: d.tags?.find((t) => t.key === 'mlflow.data.context')?.value })),
  };
}

async function seedRuns(database: Database, tracking: MlflowTracking, experiment: string, r: ReturnType<typeof rng>): Promise<string> {
  const exp = await tracking.createExperiment(experiment);
  for (let i = 0; i < 48; i++) {
    const start = BASE + (r.chance(0.2) ? 0 : Math.floor(r.next() * 40) * 1000); // ties on start_time
    const run = await tracking.createRun({
      experiment_id: exp,
      start_time: start,
      run_name: r.chance(0.9) ? `run-${String(i).padStart(2, '0')}${r.pick(['', 'X', '_b'])}` : undefined,
      user_id: r.pick(['ann', 'bob', undefined]),
    });
    const id = run.info.run_id;
    const metrics = [];
    if (r.chance(0.8)) metrics.push({ key: 'accuracy', value: r.pick([0.5, 0.75, 0.9, 0.9, 1, Math.round(r.next() * 1000) / 1000]), timestamp: start, step: 0 });
    if (r.chance(0.6)) metrics.push({ key: 'loss', value: r.pick([-1, 0, 0.25, 2.5e-8, 1e21, Math.round(r.next() * 100) / 7]), timestamp: start, step: 0 });
    if (r.chance(0.3)) metrics.push({ key: 'val score', value: r.pick([1, 2, 3]), timestamp: start, step: 0 });
    const params: { key: string; value: string }[] = [{ key: 'algorithm', value: r.pick(ALGOS) }];
    if (r.chance(0.7)) params.push({ key: 'C', value: r.pick(['0.1', '1.0', '10', '']) });
    const tags: { key: string; value: string }[] = r.chance(0.7) ? [{ key: 'team', value: r.pick(TEAMS) }] : [];
    if (r.chance(0.2)) tags.push({ key: 'note.x', value: 'checked' });
    await tracking.logBatch(id, { metrics, params, tags });
    if (r.chance(0.3)) {
      await tracking.logInputs(id, [
        { dataset: { name: r.pick(['train', 'holdout', 'Train']), digest: r.pick(['d0', 'd1']) }, tags: r.chance(0.5) ? [{ key: 'mlflow.data.context', value: r.pick(['training', 'eval']) }] : [] },
      ]);
    }
    if (r.chance(0.75)) await tracking.updateRun(id, { status: r.pick(['FINISHED', 'FAILED', 'KILLED'] as const), end_time: start + r.pick([0, 500, 1500]) });
    if (r.chance(0.1)) await tracking.setRunLifecycle(id, 'deleted');
  }
  // runs of the Vitals tracking API in the same experiment: no name, config values that are not strings
  const native = new ExperimentTracking(database);
  for (const config of [{ algorithm: 'rf', C: 1, nested: { depth: 3 } }, { algorithm: 'logreg', C: true }, {}]) {
    const run = await native.startRun(experiment, { config, tags: { team: 'a' } });
    await native.logMetrics(run.id, { accuracy: 0.9 });
  }
  return exp;
}

function randomFilter(r: ReturnType<typeof rng>, runIds: string[]): string {
  const clause = (): string => {
    switch (r.pick(['metric', 'metric', 'param', 'param', 'tag', 'attr', 'attr', 'time', 'dataset'] as const)) {
      case 'metric':
        return `metrics.${r.pick(['accuracy', 'loss', '`val score`', 'missing'])} ${r.pick(['=', '!=', '>', '>=', '<', '<='])} ${r.pick(['0.9', '0.75', '1', '0', '-1', '1e21', '0.5', '2.5e-8'])}`;
      case 'param':
        return r.chance(0.2)
          ? `params.${r.pick(['C', 'algorithm', 'nested'])} IS ${r.pick(['', 'NOT '])}NULL`
          : `params.${r.pick(['algorithm', 'C', 'nested'])} ${r.pick(['=', '!=', 'LIKE', 'ILIKE'])} '${r.pick(['rf', 'RF', 'log%', 'log_reg', '%\\%', '50\\%off', '%', 'r_', '1.0', '1', 'true', '{"depth":3}', 'Ünïcode', 'Ün%', '%b'])}'`;
      case 'tag':
        return r.chance(0.2)
          ? `tags.${r.pick(['team', '"note.x"'])} IS ${r.pick(['', 'NOT '])}NULL`
          : `tags.${r.pick(['team', 'mlflow.runName', '"note.x"'])} ${r.pick(['=', '!=', 'LIKE', 'ILIKE'])} '${r.pick(['a', 'A', 'team-%', 'x*y?', 'x%', '_', 'run-0%', 'checked'])}'`;
      case 'attr': {
        const which = r.pick(['run_name', 'status', 'user_id', 'artifact_uri', 'run_id'] as const);
        if (which === 'run_id') return `attributes.run_id ${r.pick(['IN', 'NOT IN'])} ('${r.pick(runIds)}', '${r.pick(runIds)}')`;
        const value = {
          run_name: ['run-01', 'RUN-0%', 'run-0%', '%X', 'run-__', ''],
          status: ['FINISHED', 'RUNNING', 'failed', 'KILLED'],
          user_id: ['ann', '', 'b%'],
          artifact_uri: ['%/artifacts', 'mlflow-artifacts:/0/%', '%'],
        }[which];
        return `attributes.${which} ${r.pick(['=', '!=', 'LIKE', 'ILIKE'])} '${r.pick(value)}'`;
      }
      case 'time':
        return `attributes.${r.pick(['start_time', 'end_time', 'created'])} ${r.pick(['=', '!=', '>', '>=', '<', '<='])} ${r.pick([BASE, BASE + 5000, BASE + 5000.5, BASE + 10_500, BASE - 0.25, 9e15, -9e15, 0])}`;
      default: {
        const op = r.pick(['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN']);
        const value = op.endsWith('IN') ? "('train', 'd1')" : `'${r.pick(['train', 'T%', 'd_', 'eval', 'training'])}'`;
        return `datasets.${r.pick(['name', 'digest', 'context'])} ${op} ${value}`;
      }
    }
  };
  const n = r.pick([0, 1, 1, 2, 2, 3]);
  return Array.from({ length: n }, clause).join(' AND ');
}

function randomOrder(r: ReturnType<typeof rng>): string[] {
  const keys = [
    'metrics.accuracy',
    'metrics.loss',
    'metrics.missing',
    'params.algorithm',
    'params.C',
    'tags.team',
    'attributes.run_name',
    'attributes.status',
    'attributes.start_time',
    'attributes.end_time',
    'attributes.user_id',
  ];
  const out = new Set<string>();
  for (let k = r.pick([0, 1, 1, 2, 3]); k > 0; k--) out.add(r.pick(keys));
  return [...out].map((k) => `${k}${r.pick(['', ' ASC', ' DESC'])}`);
}

/** Runs `searches` random searches; every page of every one must equal the reference's. */
export async function expectSearchMatchesReference(database: Database, tracking: MlflowTracking, seed: number, searches = 300): Promise<void> {
  const r = rng(seed);
  const exp = await seedRuns(database, tracking, `search-contract-${seed}`, r);
  const all = (await tracking.searchRuns({ experimentIds: [exp], viewType: 'ALL', maxResults: 50_000 })).runs;
  expect(all.length).toBe(51);
  const views = await Promise.all(all.map(async (run) => ({ run: searchable(await tracking.getRun(run.info.run_id)), stage: run.info.lifecycle_stage })));
  const runIds = views.map((v) => v.run.id);
  let nonEmpty = 0;
  for (let s = 0; s < searches; s++) {
    const filter = randomFilter(r, runIds);
    const orderBy = randomOrder(r);
    const viewType = r.pick(['ACTIVE_ONLY', 'ACTIVE_ONLY', 'ALL', 'DELETED_ONLY'] as ViewType[]);
    const pageSize = r.pick([1, 5, 7, 1000]);
    const expected = sortEntities(
      views.filter((v) => (viewType === 'ALL' || (viewType === 'ACTIVE_ONLY') === (v.stage === 'active')) && matches(v.run, parseFilter(filter))).map((v) => v.run),
      parseOrderBy(orderBy),
    ).map((e) => e.id);
    const got: string[] = [];
    let token: string | undefined;
    do {
      const page = await tracking.searchRuns({ experimentIds: [exp], filter, orderBy, viewType, maxResults: pageSize, pageToken: token });
      expect(page.runs.length, `${filter} | ${orderBy}`).toBeLessThanOrEqual(pageSize);
      got.push(...page.runs.map((x) => x.info.run_id));
      token = page.next_page_token;
    } while (token);
    expect(got, `search ${s} (seed ${seed}): filter ${JSON.stringify(filter)} order_by ${JSON.stringify(orderBy)} ${viewType}`).toEqual(expected);
    if (expected.length) nonEmpty++;
  }
  // the generator must exercise real matches, not only empty results
  expect(nonEmpty).toBeGreaterThan(searches / 3);
}
