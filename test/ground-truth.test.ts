/**
 * Ground truth rules (issue 14): a label must be one of the model's labels (a number for a
 * regression model), a different second label needs overwrite: true and returns the old one, and
 * the bulk endpoint answers 200 / 207 / 422 with a result per item.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/audit/index.js';
import { checkLabel } from '../src/monitoring/ground-truth.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = csv.columns.filter((c) => c !== 'diagnosis');
const row = Object.fromEntries(features.map((f) => [f, Number(csv.rows[0]![csv.columns.indexOf(f)])]));

describe('ground truth', () => {
  let t: TestApp;
  const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, payload });
  const predict = async () => (await post('/api/v1/ml-models/predict', { model: DEMO_MODEL, features: row })).json().prediction_id as string;

  beforeAll(async () => {
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0 });
    await bootstrapDemo(t.services.registry);
  }, 180_000);
  afterAll(async () => t?.dispose());

  it('refuses a label the model does not have, naming the allowed ones', async () => {
    const id = await predict();
    const res = await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: 'banana' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'INVALID_LABEL', details: { allowed_labels: ['benign', 'malignant'] } });
    expect(res.json().message).toMatch(/"banana" is not a label of model .*send one of benign, malignant/);
    expect((await t.services.predictionLog.get(id)).ground_truth).toBeNull();
  });

  it('needs overwrite: true to replace a label, keeps the old one and returns it as previous', async () => {
    const id = await predict();
    const first = await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: 'benign' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ id, ground_truth: 'benign', previous: null });
    // the same label again is a no-op (a redelivered message), not a conflict
    expect((await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: 'benign' })).json()).toMatchObject({ ground_truth: 'benign', previous: 'benign' });

    const conflict = await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: 'malignant' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({ code: 'GROUND_TRUTH_EXISTS', details: { current: 'benign' } });
    expect(conflict.json().message).toMatch(/send overwrite: true/);
    expect((await t.services.predictionLog.get(id)).ground_truth).toBe('benign');

    const replaced = await post(`/api/v1/predictions/${id}/ground-truth`, { ground_truth: 'malignant', overwrite: true });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ ground_truth: 'malignant', previous: 'benign' });
    const rows = (await listAudit(t.services.database.db, {})).filter((r) => r.target === `prediction:${id}`);
    expect(rows.map((r) => [r.action, JSON.parse(r.details)])).toEqual([
      ['ground_truth.set', { old: null, new: 'benign', source: 'api' }],
      ['ground_truth.overwrite', { old: 'benign', new: 'malignant', source: 'api' }],
    ]);
  });

  it('bulk: 200 when all pass, 207 with per-item results when some fail, 422 when all fail', async () => {
    const [a, b, c] = [await predict(), await predict(), await predict()];
    const bulk = (labels: object[], extra: object = {}) => post('/api/v1/mlops/monitoring/ground-truth', { labels, ...extra });

    const ok = await bulk([{ prediction_id: a, ground_truth: 'benign' }]);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ updated: 1, failed: 0 });

    const some = await bulk([
      { prediction_id: b, ground_truth: 'malignant' },
      { prediction_id: c, ground_truth: 'banana' },
      { prediction_id: 'no-such-prediction', ground_truth: 'benign' },
      { prediction_id: a, ground_truth: 'malignant' },
    ]);
    expect(some.statusCode).toBe(207);
    expect(some.json()).toMatchObject({
      updated: 1,
      failed: 3,
      results: [
        { prediction_id: b, status: 'updated', previous: null },
        { prediction_id: c, status: 'invalid_label', allowed_labels: ['benign', 'malignant'] },
        { prediction_id: 'no-such-prediction', status: 'not_found' },
        { prediction_id: a, status: 'conflict' },
      ],
    });
    expect(some.json().results[3].message).toMatch(/overwrite: true/);

    const none = await bulk([
      { prediction_id: c, ground_truth: 'banana' },
      { prediction_id: 'nope', ground_truth: 'benign' },
    ]);
    expect(none.statusCode).toBe(422);
    expect(none.json()).toMatchObject({ updated: 0, failed: 2 });

    // overwrite at the top level applies to every item; an item may say otherwise
    const over = await bulk(
      [
        { prediction_id: a, ground_truth: 'malignant' },
        { prediction_id: b, ground_truth: 'benign', overwrite: false },
      ],
      { overwrite: true },
    );
    expect(over.statusCode).toBe(207);
    expect(over.json().results).toMatchObject([{ status: 'updated', previous: 'benign' }, { status: 'conflict' }]);
    expect((await t.services.predictionLog.get(a)).ground_truth).toBe('malignant');
  });

  it('a regression model takes numbers only', () => {
    const space = { task: 'regression' as const, labels: ['value'] };
    expect(checkLabel(space, 2.5, 'los')).toBe('2.5');
    expect(checkLabel(space, ' 3 ', 'los')).toBe('3');
    expect(() => checkLabel(space, 'long', 'los')).toThrow(/is not a number: model "los" is a regression model, send a number/);
    expect(() => checkLabel(space, '', 'los')).toThrow(/send a number/);
    expect(checkLabel({ task: 'classification', labels: ['0', '1'] }, 1, 'm')).toBe('1');
  });
});
