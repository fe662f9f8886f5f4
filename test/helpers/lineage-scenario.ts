/**
 * The traceability scenario over HTTP, shared by the SQLite and PostgreSQL tests: `POST /api/v1/train`
 * makes bc 1.0.0 (production), a CI/CD run retrains it on a CSV inside DATA_DIR and deploys 1.1.0,
 * 1.1.0 answers a prediction, and that prediction's lineage is read.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { DEMO_DATA } from '../../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../../src/pipelines/trainers/index.js';
import type { TestApp } from './app.js';

export interface LineageScenario {
  trainRunId: string;
  cicdRunId: string;
  predictionId: string;
  /** the JSON answer, asserted field by field */
  lineage: any;
}

async function waitRun(t: TestApp, id: string): Promise<{ status: string; result: Record<string, unknown>; stages: Array<{ name: string; status: string; error: string | null }> }> {
  for (let i = 0; i < 1200; i++) {
    const run = (await t.app.inject({ url: `/api/v1/pipelines/runs/${id}` })).json();
    if (['succeeded', 'failed', 'rejected', 'waiting'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pipeline run ${id} did not finish`);
}

/** `dataPath`: the demo CSV's name inside DATA_DIR. */
export async function runLineageScenario(t: TestApp, dataPath: string): Promise<LineageScenario> {
  const trained = await t.app.inject({
    method: 'POST',
    url: '/api/v1/train',
    payload: { model_name: 'bc', target: 'diagnosis', algo: 'logreg', data_path: dataPath, version: '1.0.0', aliases: ['production'] },
  });
  expect(trained.statusCode, trained.body).toBe(202);
  const trainRunId = trained.json().run_id as string;
  expect((await waitRun(t, trainRunId)).status).toBe('succeeded');

  const queued = await t.app.inject({
    method: 'POST',
    url: '/api/v1/mlops/cicd/run-pipeline',
    payload: { model_name: 'bc', data: { source: 'file', path: dataPath }, training: { algo: 'logreg', seed: 7 }, gates: { min_improvement: -1 } },
  });
  expect(queued.statusCode, queued.body).toBe(202);
  const cicdRunId = queued.json().run_id as string;
  const run = await waitRun(t, cicdRunId);
  expect(run.status, JSON.stringify(run.stages.map((s) => [s.name, s.status, s.error]))).toBe('succeeded');
  expect(run.result).toMatchObject({ decision: 'deployed', new_version: '1.1.0' });

  const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
  const features = Object.fromEntries(csv.columns.filter((c) => c !== 'diagnosis').map((c) => [c, Number(csv.rows[0]![csv.columns.indexOf(c)])]));
  const predicted = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', payload: { model: 'bc', features } });
  expect(predicted.statusCode, predicted.body).toBe(200);
  expect(predicted.json().model_version).toBe('1.1.0');
  const predictionId = predicted.json().prediction_id as string;

  const res = await t.app.inject({ url: `/api/v1/predictions/${predictionId}/lineage` });
  expect(res.statusCode, res.body).toBe(200);
  return { trainRunId, cicdRunId, predictionId, lineage: res.json() };
}
