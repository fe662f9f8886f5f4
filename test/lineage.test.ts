/**
 * Acceptance (issue 12, traceability): a real CI/CD pipeline run trains a model (real training, real
 * ONNX), deploys it, it answers a real prediction, and that prediction's lineage names the pipeline
 * run, the data's hash (checked against the files themselves), the artifact's hash (checked against the
 * ONNX the run wrote), params, metrics and who promoted it. Reading it writes an audit row.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../src/audit/index.js';
import { DEMO_DATA } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { runLineageScenario } from './helpers/lineage-scenario.js';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

let t: TestApp;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vitals-lineage-'));
  copyFileSync(DEMO_DATA, join(dir, 'breast_cancer.csv'));
  t = await startTestApp({ PIPELINE_POLL_MS: 50, DATA_DIR: dir, CACHE_SIZE: 0, MONITORING_CHECK_EVERY_N: 0 });
});
afterAll(async () => {
  await t?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('lineage', () => {
  it('a prediction made by a model the CI/CD pipeline trained names the pipeline run and the data hash', async () => {
    const s = await runLineageScenario(t, 'breast_cancer.csv');
    const lineage = s.lineage;
    const v = lineage.model_version;
    expect(lineage.prediction).toMatchObject({ id: s.predictionId, model: 'bc', version: '1.1.0', variant: null, source: 'api' });
    expect(v).toMatchObject({ model: 'bc', version: '1.1.0', aliases: ['production'] });
    // the run: named, with who started it (the authenticated caller) and its stages
    expect(v.training).toMatchObject({ kind: 'pipeline', pipeline_run_id: s.cicdRunId });
    expect(v.training.pipeline_run).toMatchObject({
      id: s.cicdRunId,
      pipeline: 'cicd',
      trigger: 'api',
      status: 'succeeded',
      decision: 'deployed',
      started_by: { principal: 'local-admin', role: 'admin' },
    });
    expect(v.training.pipeline_run.stages.map((x: { name: string }) => x.name)).toContain('training');
    expect(v.training.tracking_run).toMatchObject({ experiment: 'bc-training', status: 'completed' });
    // the data: the hash of the data set the run assembled (data.csv in its folder), and of the source file itself
    const runCsv = readFileSync(join(t.home, 'pipelines', s.cicdRunId, 'data.csv'));
    const rows = parseCsv(readFileSync(DEMO_DATA, 'utf8')).rows.length;
    expect(v.data).toMatchObject({ sha256: sha256(runCsv), source: 'file', rows, files: [{ sha256: sha256(readFileSync(DEMO_DATA)), rows }] });
    expect(v.data.path).toMatch(/breast_cancer\.csv$/);
    expect(v.data.train_rows + v.data.holdout_rows).toBe(rows);
    // the artifact: the ONNX file the run wrote
    expect(v.artifact.sha256).toBe(sha256(readFileSync(join(t.home, 'pipelines', s.cicdRunId, 'model.onnx'))));
    expect(v.params).toMatchObject({ algorithm: 'logreg' });
    expect(v.metrics.accuracy).toBeGreaterThan(0.8);
    expect(v.parent_version).toBe('1.0.0');
    // who promoted it, when and why: the pipeline, on behalf of its run
    expect(v.promoted_to_production).toMatchObject({
      action: 'promoted',
      alias: 'production',
      from_version: '1.0.0',
      actor: `pipeline:${s.cicdRunId}`,
      principal: `pipeline:${s.cicdRunId}`,
      role: 'system',
    });
    expect(v.promoted_to_production.reason).toContain(s.cicdRunId);

    // reading it is a read of patient-level context: one audit row, by the caller
    const reads = await listAudit(t.services.database.db, { action: 'prediction.lineage_read' });
    expect(reads).toMatchObject([{ target: `prediction:${s.predictionId}`, principal: 'local-admin', role: 'admin', outcome: 'success' }]);
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });

  it('a version trained by POST /api/v1/train: its run, its file, and its moves with their principals', async () => {
    const res = await t.app.inject({ url: '/api/v1/models/bc/versions/1.0.0/lineage' });
    expect(res.statusCode, res.body).toBe(200);
    const v = res.json();
    expect(v.training).toMatchObject({ kind: 'pipeline', pipeline_run: { pipeline: 'train', trigger: 'api', status: 'succeeded', started_by: { principal: 'local-admin' } } });
    expect(v.training.pipeline_run.params).toMatchObject({ algorithm: 'logreg' });
    expect(v.data).toMatchObject({ sha256: sha256(readFileSync(DEMO_DATA)), source: 'file', path: join(dir, 'breast_cancer.csv') });
    expect(v.registered).toMatchObject({ principal: 'local-admin', role: 'admin' });
    // production at registration (by the caller), then replaced and archived by the pipeline
    expect(v.alias_history.map((m: { action: string; to_version: string | null }) => [m.action, m.to_version])).toEqual([
      ['promoted', '1.0.0'],
      ['promoted', '1.1.0'],
      ['archived', null],
    ]);
    expect(v.alias_history[0]).toMatchObject({ principal: 'local-admin', reason: 'set at registration' });
    expect(v.status).toBe('archived');
    // aliases and ids name the same version
    const byAlias = (await t.app.inject({ url: '/api/v1/models/bc/versions/production/lineage' })).json();
    expect(byAlias.version).toBe('1.1.0');
    expect((await t.app.inject({ url: `/api/v1/models/bc/versions/${byAlias.version_id}/lineage` })).json().version).toBe('1.1.0');
  });

  it('unknown ids are a 404 that names what was not found, and write no audit row', async () => {
    const before = (await listAudit(t.services.database.db, { action: 'prediction.lineage_read' })).length;
    const p = await t.app.inject({ url: '/api/v1/predictions/no-such-prediction/lineage' });
    expect(p.statusCode).toBe(404);
    expect(p.json()).toMatchObject({ code: 'PREDICTION_NOT_FOUND', message: 'prediction "no-such-prediction" not found' });
    const v = await t.app.inject({ url: '/api/v1/models/bc/versions/9.9.9/lineage' });
    expect(v.statusCode).toBe(404);
    expect(v.json()).toMatchObject({ code: 'VERSION_NOT_FOUND', message: 'version "9.9.9" of model "bc" not found' });
    expect((await t.app.inject({ url: '/api/v1/models/nope/versions/1.0.0/lineage' })).json().code).toBe('MODEL_NOT_FOUND');
    expect(await listAudit(t.services.database.db, { action: 'prediction.lineage_read' })).toHaveLength(before);
  });

  it('is described in the OpenAPI document with its response schemas', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    const get = doc.paths['/api/v1/predictions/{id}/lineage'].get;
    expect(Object.keys(get.responses)).toEqual(expect.arrayContaining(['200', '404']));
    expect(JSON.stringify(get.responses['200'])).toContain('pipeline_run_id');
    expect(doc.paths['/api/v1/models/{name}/versions/{version}/lineage'].get.responses['200']).toBeDefined();
  });
});
