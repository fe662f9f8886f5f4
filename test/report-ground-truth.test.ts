/**
 * Reports as labels, end to end on a real ONNX image model, real DICOM and real SQLite: predictions on
 * DICOM studies, then radiology reports for those studies (by StudyInstanceUID or accession number,
 * over the API and over the bus) become the predictions' ground truth with source `report`, and the
 * monitoring window's accuracy changes accordingly. Human labels win over report labels.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../src/audit/index.js';
import { remapUid } from '../src/multimodal/index.js';
import { buildTinyCnn } from '../src/onnx/index.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { unique, waitFor } from './helpers/bus-contract.js';
import { writeDicom } from './helpers/dicom-writer.js';

const labels = ['NORMAL', 'PNEUMONIA'];
const spec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' as const };
const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });
const SALT = 'report-labels-test-salt-0123456789';

interface Study {
  uid: string;
  accession: string;
  patient: string;
}
const study = (n: number): Study => ({ uid: `1.2.826.0.1.3680043.10.543.${n}`, accession: `ACC${9000 + n}`, patient: `Doe^Patient${n}` });

/** A 32×32 8-bit chest radiograph as DICOM: a bright ellipse whose brightness varies the model's answer. */
function chestDicom(s: Study, brightness: number): Buffer {
  const px = new Uint8Array(32 * 32);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) {
      const dx = (x - 16) / 11;
      const dy = (y - 16) / 13;
      px[y * 32 + x] = Math.min(255, Math.round((dx * dx + dy * dy < 1 ? brightness : 20) + x * 2));
    }
  return writeDicom([
    { tag: [0x0008, 0x0016], vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.1.1' },
    { tag: [0x0008, 0x0018], vr: 'UI', value: `${s.uid}.1.1` },
    { tag: [0x0008, 0x0050], vr: 'SH', value: s.accession },
    { tag: [0x0008, 0x0060], vr: 'CS', value: 'DX' },
    { tag: [0x0010, 0x0010], vr: 'PN', value: s.patient },
    { tag: [0x0010, 0x0020], vr: 'LO', value: `MRN-${s.accession}` },
    { tag: [0x0020, 0x000d], vr: 'UI', value: s.uid },
    { tag: [0x0020, 0x000e], vr: 'UI', value: `${s.uid}.1` },
    { tag: [0x0028, 0x0002], vr: 'US', value: 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: 'MONOCHROME2' },
    { tag: [0x0028, 0x0010], vr: 'US', value: 32 },
    { tag: [0x0028, 0x0011], vr: 'US', value: 32 },
    { tag: [0x0028, 0x0100], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0101], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0102], vr: 'US', value: 7 },
    { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
    { tag: [0x7fe0, 0x0010], vr: 'OB', value: px },
  ]);
}

function multipart(fields: Record<string, string>, file: Buffer) {
  const boundary = `----vitals${Math.random().toString(16).slice(2)}`;
  const parts = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  const body = Buffer.concat([
    ...parts,
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="study.dcm"\r\nContent-Type: application/dicom\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** The report that says the finding is present or absent. */
const REPORT = {
  PNEUMONIA: 'FINDINGS: Heart size is normal. Right lower lobe consolidation.\nIMPRESSION: Right lower lobe pneumonia.',
  NORMAL: 'INDICATION: Evaluate for pneumonia.\nFINDINGS: The cardiac silhouette is not enlarged. The lungs are clear.\nIMPRESSION: No acute cardiopulmonary process.',
} as const;
const opposite = (label: string) => (label === 'PNEUMONIA' ? 'NORMAL' : 'PNEUMONIA');

describe('radiology reports become the ground truth of the predictions on their studies', () => {
  let t: TestApp;
  const predictions: Array<{ study: Study; id: string; prediction: string }> = [];
  const post = (url: string, payload: object) => t.app.inject({ method: 'POST', url, payload });
  const check = async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/monitoring/chest-xray/check' });
    expect(res.statusCode).toBe(200);
    return res.json().reports[0].decay as { labels: number; current_accuracy: number | null };
  };

  beforeAll(async () => {
    t = await startTestApp({ MODEL_NAME: 'chest-xray', DEID_SALT: SALT, OUTBOX_RELAY_INTERVAL_MS: 50, EMBEDDED_BUS_POLL_MS: 50, MESSAGING_RETRY_BACKOFF_MS: 50, MESSAGING_MAX_ATTEMPTS: 2 });
    await t.services.registry.register({ name: 'chest-xray', version: '1.0.0', artifact: cnn.onnx, input_spec: spec, output_spec: { labels }, metrics: { accuracy: 0.9 }, aliases: ['production'] });
    await t.services.messaging.startConsumers({ predictor: t.services.predictor, predictionLog: t.services.predictionLog, reports: t.services.reportLabels });
    for (const [i, brightness] of [40, 250, 130, 200].entries()) {
      const s = study(i + 1);
      const res = await t.app.inject({ method: 'POST', url: '/predict', ...multipart({}, chestDicom(s, brightness)) });
      expect(res.statusCode).toBe(200);
      predictions.push({ study: s, id: res.headers['x-prediction-id'] as string, prediction: res.json().prediction });
    }
  });
  afterAll(() => t.dispose());

  it('records each DICOM prediction with its de-identified study, the UID process-image shows', async () => {
    const [a] = predictions;
    const entry = await t.services.predictionLog.get(a!.id);
    expect(entry.study_uid).toBe(remapUid(SALT, a!.study.uid));
    expect(entry.accession_key).toMatch(/^ACC-[0-9A-F]{32}$/);
    const described = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...multipart({}, chestDicom(a!.study, 40)) });
    expect(described.json().image.dicom_metadata.study_instance_uid).toBe(entry.study_uid);
    // the study is no drift feature: it stays out of the logged input
    expect(JSON.stringify(entry.input)).not.toContain(entry.study_uid);
  });

  it('refuses a policy with labels the model does not have, and a report without a study', async () => {
    const bad = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/mlops/monitoring/chest-xray/report-label-policy',
      payload: { observation: 'Pneumonia', positive_label: 'YES', negative_label: 'NORMAL' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().message).toMatch(/positive_label "YES" is not a label of model "chest-xray": use one of NORMAL, PNEUMONIA/);
    const noStudy = await post('/api/v1/mlops/monitoring/reports', { text: REPORT.NORMAL });
    expect(noStudy.statusCode).toBe(422);
    expect(noStudy.json().message).toMatch(/send study_instance_uid or accession_number/);
    const badUid = await post('/api/v1/mlops/monitoring/reports', { text: REPORT.NORMAL, study_instance_uid: 'not-a-uid' });
    expect(badUid.statusCode).toBe(422);
    expect(badUid.json().message).toMatch(/is not a DICOM UID/);
  });

  it('a report before any policy labels nothing and says why', async () => {
    const res = await post('/api/v1/mlops/monitoring/reports', { text: REPORT.NORMAL, study_instance_uid: predictions[0]!.study.uid });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ matched: 1, labelled: 0, results: [{ prediction_id: predictions[0]!.id, status: 'no_policy' }] });
    expect((await t.services.predictionLog.get(predictions[0]!.id)).ground_truth).toBeNull();
  });

  it('reports by UID and by accession label the predictions, and the window accuracy changes', async () => {
    const policy = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/mlops/monitoring/chest-xray/report-label-policy',
      payload: { observation: 'Pneumonia', positive_label: 'PNEUMONIA', negative_label: 'NORMAL', uncertain: 'skip' },
    });
    expect(policy.statusCode).toBe(200);
    expect(policy.json()).toMatchObject({ model: 'chest-xray', observation: 'Pneumonia', uncertain: 'skip', absent: 'negative_if_no_finding', set_by: expect.any(String) });

    const before = await check();
    expect(before).toMatchObject({ labels: 0, current_accuracy: null });

    const [a, b, c, d] = predictions as [(typeof predictions)[0], (typeof predictions)[0], (typeof predictions)[0], (typeof predictions)[0]];
    // a: the report disagrees with the model; b and c agree; d's report is uncertain (skipped by the policy)
    const ra = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[opposite(a.prediction) as keyof typeof REPORT], study_instance_uid: a.study.uid });
    expect(ra.statusCode).toBe(200);
    expect(ra.json()).toMatchObject({ matched: 1, labelled: 1, results: [{ prediction_id: a.id, status: 'labelled', label: opposite(a.prediction), observation: 'Pneumonia' }] });
    expect(ra.json().observations).toMatchObject(
      opposite(a.prediction) === 'PNEUMONIA'
        ? { Pneumonia: 'positive', Consolidation: 'positive', Cardiomegaly: 'negative' }
        : { Pneumonia: null, 'No Finding': 'positive', Cardiomegaly: 'negative', 'Lung Opacity': 'negative' },
    );

    const rb = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[b.prediction as keyof typeof REPORT], accession_number: b.study.accession });
    expect(rb.json()).toMatchObject({ matched: 1, labelled: 1, results: [{ prediction_id: b.id, status: 'labelled', label: b.prediction }] });
    const rc = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[c.prediction as keyof typeof REPORT], study_instance_uid: c.study.uid, accession_number: c.study.accession });
    expect(rc.json()).toMatchObject({ matched: 1, labelled: 1 });
    const rd = await post('/api/v1/mlops/monitoring/reports', { text: 'IMPRESSION: Patchy left basilar opacity, possibly early pneumonia.', accession_number: d.study.accession });
    expect(rd.json()).toMatchObject({ matched: 1, labelled: 0, results: [{ status: 'skipped', finding: 'uncertain', reason: expect.stringMatching(/uncertain about Pneumonia/) }] });

    const entry = await t.services.predictionLog.get(a.id);
    expect(entry).toMatchObject({ ground_truth: opposite(a.prediction), ground_truth_source: 'report' });
    const after = await check();
    expect(after.labels).toBe(3);
    expect(after.current_accuracy).toBeCloseTo(2 / 3, 10);

    // A corrected report (an addendum) replaces the first report's label: now all three agree.
    const addendum = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[a.prediction as keyof typeof REPORT], study_instance_uid: a.study.uid });
    expect(addendum.json()).toMatchObject({ labelled: 1, results: [{ status: 'labelled', label: a.prediction, previous: opposite(a.prediction) }] });
    expect((await check()).current_accuracy).toBe(1);

    const audit = (await listAudit(t.services.database.db, {})).filter((r) => r.target === `prediction:${a.id}`);
    expect(audit.map((r) => [r.action, JSON.parse(r.details).source])).toEqual([
      ['ground_truth.set', 'report'],
      ['ground_truth.overwrite', 'report'],
    ]);
  });

  it("a person's label replaces a report's, and a later report keeps it", async () => {
    const b = predictions[1]!;
    const human = await post(`/api/v1/predictions/${b.id}/ground-truth`, { ground_truth: opposite(b.prediction) });
    expect(human.statusCode).toBe(200);
    expect(human.json()).toMatchObject({ ground_truth: opposite(b.prediction), ground_truth_source: 'api', previous: b.prediction });
    const again = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[b.prediction as keyof typeof REPORT], accession_number: b.study.accession });
    expect(again.json()).toMatchObject({
      labelled: 0,
      results: [{ status: 'kept_existing_label', label: b.prediction, reason: expect.stringMatching(/does not replace a label a person or system gave/) }],
    });
    expect((await t.services.predictionLog.get(b.id)).ground_truth).toBe(opposite(b.prediction));

    // a person confirming a report's label makes it theirs: a contrary report later does not replace it
    const c = predictions[2]!;
    const confirmed = await post(`/api/v1/predictions/${c.id}/ground-truth`, { ground_truth: c.prediction });
    expect(confirmed.json()).toMatchObject({ ground_truth: c.prediction, ground_truth_source: 'api', previous: c.prediction });
    const contrary = await post('/api/v1/mlops/monitoring/reports', { text: REPORT[opposite(c.prediction) as keyof typeof REPORT], study_instance_uid: c.study.uid });
    expect(contrary.json().results[0]).toMatchObject({ status: 'kept_existing_label' });
    const actions = (await listAudit(t.services.database.db, {})).filter((r) => r.target === `prediction:${c.id}`).map((r) => r.action);
    expect(actions).toEqual(['ground_truth.set', 'ground_truth.confirm']);
  });

  it('over the bus: an imaging_data DICOM is predicted, a patient_data report labels it', async () => {
    const s = study(7);
    const results: Array<{ data: { prediction_id?: string; prediction: string } }> = [];
    await t.services.messaging.queue.subscribe<{ data: { prediction_id?: string; prediction: string } }>('imaging_results', unique('observer'), (p) => {
      results.push(p);
    });
    await t.services.messaging.queue.publish('imaging_data', { study_id: s.accession, model: 'chest-xray', image_base64: chestDicom(s, 90).toString('base64') }, { key: s.accession });
    await waitFor('the imaging result', () => results.length === 1);
    const id = results[0]!.data.prediction_id!;
    const predicted = results[0]!.data.prediction;
    await t.services.messaging.queue.publish('patient_data', { event_type: 'radiology_report', accession_number: s.accession, text_report: REPORT[opposite(predicted) as keyof typeof REPORT] });
    await waitFor('the report label', async () => (await t.services.predictionLog.get(id)).ground_truth !== null);
    expect(await t.services.predictionLog.get(id)).toMatchObject({ ground_truth: opposite(predicted), ground_truth_source: 'report' });

    // no study_id: the bus de-identified the file (its UID remapped, accession emptied), and the report's original UID still matches it
    const s8 = study(8);
    await t.services.messaging.queue.publish('imaging_data', { model: 'chest-xray', image_base64: chestDicom(s8, 160).toString('base64') });
    await waitFor('the second imaging result', () => results.length === 2);
    const id8 = results[1]!.data.prediction_id!;
    expect((await t.services.predictionLog.get(id8)).study_uid).toBe(remapUid(SALT, s8.uid));
    await t.services.messaging.queue.publish('patient_data', { event_type: 'radiology_report', study_instance_uid: s8.uid, text_report: REPORT.NORMAL });
    await waitFor('the second report label', async () => (await t.services.predictionLog.get(id8)).ground_truth !== null);
    expect(await t.services.predictionLog.get(id8)).toMatchObject({ ground_truth: 'NORMAL', ground_truth_source: 'report' });

    const stats = (await t.app.inject({ url: '/api/v1/mlops/messaging/status' })).json().platform_consumers.ground_truth;
    expect(stats).toMatchObject({ reports_received: 2, report_labels_attached: 2 });

    // a report that names no study can never be matched: dead-lettered at once, not retried
    await t.services.messaging.queue.publish('patient_data', { event_type: 'radiology_report', text_report: 'IMPRESSION: Normal chest radiograph.' });
    const dead = async () =>
      (await t.app.inject({ url: '/api/v1/mlops/messaging/dead-letters?topic=patient_data&group=vitals-ground-truth' })).json().dead_letters as Array<{ attempts: number; error: string }>;
    await waitFor('the dead letter', async () => (await dead()).length === 1);
    expect((await dead())[0]).toMatchObject({ attempts: 1, error: expect.stringMatching(/send study_instance_uid or accession_number/) });
  });

  it('keeps no raw study identifier or patient name in the database', async () => {
    await t.services.predictionLog.flush();
    const files = readdirSync(t.home).filter((f) => /\.(db|sqlite)(-wal)?$/.test(f) || f.endsWith('-wal'));
    expect(files.length).toBeGreaterThan(0);
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(t.home, f))));
    // the scan sees the rows: the de-identified UID is there
    expect(bytes.includes(Buffer.from(remapUid(SALT, predictions[0]!.study.uid)))).toBe(true);
    for (const s of predictions.map((p) => p.study)) {
      expect(bytes.includes(Buffer.from(s.uid)), `raw UID ${s.uid}`).toBe(false);
      expect(bytes.includes(Buffer.from(s.accession)), `raw accession ${s.accession}`).toBe(false);
      expect(bytes.includes(Buffer.from(s.patient)), `patient name ${s.patient}`).toBe(false);
    }
  });
});
