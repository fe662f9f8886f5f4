/**
 * Audit rows of reads of patient-level data (a prediction's row, a list of them, a prediction's
 * lineage, an image or report processed) and of retraining policy changes and API-triggered
 * retraining runs: each with the authenticated principal (API keys of four roles), the action and the
 * target; a refused read writes nothing and reads nothing; the chain verifies afterwards.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditRow, listAudit, verifyChain } from '../src/audit/index.js';
import { DEMO_DATA, DEMO_MODEL, bootstrapDemo } from '../src/pipelines/demo-bootstrap.js';
import { parseCsv } from '../src/pipelines/trainers/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';

const csv = parseCsv(readFileSync(DEMO_DATA, 'utf8'));
const features = Object.fromEntries(csv.columns.filter((c) => c !== 'diagnosis').map((c) => [c, Number(csv.rows[0]![csv.columns.indexOf(c)])]));
const dicom = readFileSync(new URL('./fixtures/dicom/ct_jpegls.dcm', import.meta.url)); // PatientName Doe^Jane, PatientID MRN-123456
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function form(fields: Record<string, string>, file: { name: string; bytes: Buffer }) {
  const boundary = `----vitals${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), file.bytes, Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('audit rows of patient-data reads, retraining policies and API-triggered retraining', () => {
  let t: TestApp;
  const keys: Record<'auditor' | 'operator' | 'predictor' | 'viewer', string> = { auditor: '', operator: '', predictor: '', viewer: '' };
  const as = (role: keyof typeof keys) => ({ authorization: `Bearer ${keys[role]}` });
  const rows = (q: { action?: string; target?: string }) => listAudit(t.services.database.db, q);
  const details = (r: AuditRow) => JSON.parse(r.details) as Record<string, unknown>;
  let predictionId: string;

  beforeAll(async () => {
    // no worker: a triggered run stays queued, its row is what this test reads
    t = await startTestApp({ MONITORING_CHECK_EVERY_N: 0, CACHE_SIZE: 0, PIPELINE_WORKER: false, DEID_SALT: 'audit-reads-salt-0123456789' });
    await bootstrapDemo(t.services.registry);
    for (const role of Object.keys(keys) as Array<keyof typeof keys>) keys[role] = (await t.services.apiKeys.create(`${role}-1`, role, 'test')).key;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/ml-models/predict', headers: as('predictor'), payload: { model: DEMO_MODEL, features } });
    expect(res.statusCode, res.body).toBe(200);
    predictionId = res.json().prediction_id;
  });
  afterAll(async () => t?.dispose());

  it('a prediction row, a page of rows and a lineage read: one row each, by the reader', async () => {
    expect((await t.app.inject({ url: `/api/v1/predictions/${predictionId}`, headers: as('auditor') })).statusCode).toBe(200);
    expect(await rows({ action: 'prediction.read' })).toMatchObject([{ principal: 'auditor-1', role: 'auditor', target: `prediction:${predictionId}`, outcome: 'success' }]);

    const page = await t.app.inject({ url: `/api/v1/predictions?model=${DEMO_MODEL}&limit=10`, headers: as('operator') });
    expect(page.statusCode).toBe(200);
    const listed = await rows({ action: 'prediction.listed' });
    expect(listed).toMatchObject([{ principal: 'operator-1', role: 'operator', target: `model:${DEMO_MODEL}` }]);
    expect(details(listed[0]!)).toMatchObject({ count: 1, newest_id: predictionId, oldest_id: predictionId });

    const lineage = await t.app.inject({ url: `/api/v1/predictions/${predictionId}/lineage`, headers: as('auditor') });
    expect(lineage.statusCode, lineage.body).toBe(200);
    // the demo's version: trained by Vitals without a run, on its own data file
    expect(lineage.json().model_version.training).toMatchObject({ kind: 'trainer', pipeline_run: null });
    expect(lineage.json().model_version.data).toMatchObject({ path: 'data/breast_cancer/breast_cancer.csv', source: 'file', rows: 569 });
    expect(await rows({ action: 'prediction.lineage_read' })).toMatchObject([{ principal: 'auditor-1', role: 'auditor', target: `prediction:${predictionId}` }]);
  });

  it('roles that may not read patient rows are refused before anything is read, and leave no read row', async () => {
    const before = (await rows({ target: `prediction:${predictionId}` })).length;
    for (const role of ['viewer', 'predictor'] as const) {
      expect((await t.app.inject({ url: `/api/v1/predictions/${predictionId}`, headers: as(role) })).statusCode).toBe(403);
      expect((await t.app.inject({ url: `/api/v1/predictions/${predictionId}/lineage`, headers: as(role) })).statusCode).toBe(403);
    }
    expect(await rows({ target: `prediction:${predictionId}` })).toHaveLength(before);
    // a version's lineage holds no patient data: a viewer reads it, unaudited
    expect((await t.app.inject({ url: `/api/v1/models/${DEMO_MODEL}/versions/production/lineage`, headers: as('viewer') })).statusCode).toBe(200);
  });

  it('a DICOM processed, a report processed, and a file that fails: named by fingerprint, never by patient', async () => {
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...withAuth(form({ modality: 'CT' }, { name: 'Doe_Jane.dcm', bytes: dicom }), as('operator')) });
    expect(ok.statusCode, ok.body).toBe(200);
    const image = await rows({ action: 'multimodal.image_processed' });
    expect(image).toMatchObject([{ principal: 'operator-1', role: 'operator', target: `image:sha256:${sha256(dicom)}`, outcome: 'success' }]);
    expect(details(image[0]!)).toMatchObject({ route: '/api/v1/multi-modality/process-image', bytes: dicom.byteLength, format: 'dicom', modality: 'CT' });
    for (const identifying of ['Doe', 'Jane', 'MRN-123456', 'Doe_Jane.dcm']) expect(JSON.stringify(image[0])).not.toContain(identifying);

    const report = 'Findings: 2.5 cm mass in the right upper lobe. No pleural effusion.';
    const text = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-text', headers: as('operator'), payload: { text: report } });
    expect(text.statusCode).toBe(200);
    const textRows = await rows({ action: 'multimodal.text_processed' });
    expect(textRows).toMatchObject([{ principal: 'operator-1', target: `text:sha256:${sha256(report)}` }]);
    expect(textRows[0]!.details).not.toContain('mass');

    const junk = Buffer.from('not an image at all');
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...withAuth(form({}, { name: 'x.bin', bytes: junk }), as('operator')) });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    const failed = (await rows({ target: `image:sha256:${sha256(junk)}` }))[0]!;
    expect(failed).toMatchObject({ action: 'multimodal.image_processed', outcome: 'failure', principal: 'operator-1' });
    expect(details(failed).error).toBe(bad.json().code);
  });

  it('retraining policies: created, updated, disabled and deleted by the caller, in the transaction of the change', async () => {
    const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: as('operator'), payload });
    expect((await post('/api/v1/mlops/retraining/start', { model_id: DEMO_MODEL, triggers: ['drift'] })).statusCode).toBe(200);
    expect((await post('/api/v1/mlops/retraining/start', { model_id: DEMO_MODEL, triggers: ['drift', 'decay'], schedule_days: 7 })).statusCode).toBe(200);
    expect((await post('/api/v1/mlops/retraining/stop', { model_id: DEMO_MODEL })).statusCode).toBe(200);
    expect((await post('/api/v1/mlops/retraining/stop', { model_id: DEMO_MODEL })).statusCode).toBe(200); // already stopped: no change, no row
    const del = () => t.app.inject({ method: 'DELETE', url: `/api/v1/mlops/retraining/policies/${DEMO_MODEL}`, headers: as('operator') });
    expect((await del()).json()).toEqual({ model: DEMO_MODEL, deleted: true });
    const again = await del();
    expect(again.statusCode).toBe(404);
    expect(again.json().message).toBe(`retraining policy of model "${DEMO_MODEL}" not found`);
    expect((await post('/api/v1/mlops/retraining/stop', { model_id: 'no-such-model' })).statusCode).toBe(404);

    const policy = await rows({ target: `retraining_policy:${DEMO_MODEL}` });
    expect(policy.map((r) => [r.action, r.principal, r.role])).toEqual([
      ['retraining.policy_created', 'operator-1', 'operator'],
      ['retraining.policy_updated', 'operator-1', 'operator'],
      ['retraining.policy_disabled', 'operator-1', 'operator'],
      ['retraining.policy_deleted', 'operator-1', 'operator'],
    ]);
    expect(details(policy[0]!)).toMatchObject({ enabled: true, policy: { triggers: ['drift'] } });
    expect(details(policy[1]!)).toMatchObject({ policy: { triggers: ['drift', 'decay'], schedule_days: 7 }, previous: { enabled: true, policy: { triggers: ['drift'] } } });
    expect(details(policy[3]!)).toMatchObject({ previous: { enabled: false } });
    // the table and the trail agree: nothing is left
    expect(await t.services.pipelines.retraining.listPolicies()).toEqual([]);
  });

  it('a retraining run triggered over the API is started by the caller, not by the system', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/retraining/trigger', headers: as('operator'), payload: { model_id: DEMO_MODEL, reason: 'new labels arrived' } });
    expect(res.statusCode, res.body).toBe(202);
    const started = await rows({ target: `pipeline_run:${res.json().run_id}` });
    expect(started).toMatchObject([{ action: 'pipeline.run_started', principal: 'operator-1', role: 'operator' }]);
    expect(started[0]!.request_id).toBeTruthy();
    expect(details(started[0]!)).toMatchObject({ pipeline: 'cicd', model: DEMO_MODEL, trigger: 'manual' });
    expect((await verifyChain(t.services.database.db)).ok).toBe(true);
  });
});

function withAuth(f: { payload: Buffer; headers: Record<string, string> }, auth: Record<string, string>) {
  return { payload: f.payload, headers: { ...f.headers, ...auth } };
}
