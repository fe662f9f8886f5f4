/**
 * The traceability acceptance on a real PostgreSQL server: a CI/CD run trains and deploys a model, it
 * answers a prediction, and the prediction's lineage names the run and the data hash (checked against
 * the data the run wrote); the read is audited and the chain verifies.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit, verifyChain } from '../../src/audit/index.js';
import { DEMO_DATA } from '../../src/pipelines/demo-bootstrap.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';
import { runLineageScenario } from '../helpers/lineage-scenario.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

describe('lineage on PostgreSQL', () => {
  let t: TestApp;
  const dir = mkdtempSync(join(tmpdir(), 'vitals-lineage-pg-'));
  beforeAll(async () => {
    copyFileSync(DEMO_DATA, join(dir, 'breast_cancer.csv'));
    t = await startTestApp({ DATABASE_URL: url, DATA_DIR: dir, PIPELINE_POLL_MS: 50, CACHE_SIZE: 0, MONITORING_CHECK_EVERY_N: 0 });
    await truncateAll(t.services.database);
  });
  afterAll(async () => {
    if (t) await truncateAll(t.services.database);
    await t?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a prediction of a CI/CD-trained model names the pipeline run and the data hash', async () => {
    const s = await runLineageScenario(t, 'breast_cancer.csv');
    const v = s.lineage.model_version;
    const data = readFileSync(join(t.home, 'pipelines', s.cicdRunId, 'data.csv'));
    expect(v.training).toMatchObject({ kind: 'pipeline', pipeline_run_id: s.cicdRunId, pipeline_run: { pipeline: 'cicd', status: 'succeeded', started_by: { principal: 'local-admin' } } });
    expect(v.data.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(v.data.files[0].sha256).toBe(createHash('sha256').update(readFileSync(DEMO_DATA)).digest('hex'));
    expect(v.promoted_to_production).toMatchObject({ alias: 'production', principal: `pipeline:${s.cicdRunId}` });
    expect(await listAudit(t.services.database.db, { action: 'prediction.lineage_read' })).toMatchObject([{ target: `prediction:${s.predictionId}`, principal: 'local-admin' }]);
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });

  it('retraining policy changes write their rows in their transactions on PostgreSQL too', async () => {
    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, payload });
    expect((await post('/api/v1/mlops/retraining/start', { model_id: 'bc', triggers: ['drift'] })).statusCode).toBe(200);
    expect((await post('/api/v1/mlops/retraining/start', { model_id: 'bc', triggers: ['decay'] })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/mlops/retraining/policies/bc' })).statusCode).toBe(200);
    const rows = await listAudit(t.services.database.db, { target: 'retraining_policy:bc' });
    expect(rows.map((r) => [r.action, r.principal])).toEqual([
      ['retraining.policy_created', 'local-admin'],
      ['retraining.policy_updated', 'local-admin'],
      ['retraining.policy_deleted', 'local-admin'],
    ]);
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });
});
