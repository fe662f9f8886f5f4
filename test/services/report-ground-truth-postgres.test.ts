/**
 * Reports as labels on a real PostgreSQL server: the 0260 migration (study columns, partial indexes,
 * report_label_policies), a DICOM prediction matched by accession number, and the label attached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';
import { writeDicom } from '../helpers/dicom-writer.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

const labels = ['NORMAL', 'PNEUMONIA'];
const spec = { kind: 'image' as const, width: 16, height: 16, channels: 1 as const, mean: [0.5], std: [0.25], layout: 'NCHW' as const };

function dicom(uid: string, accession: string): Buffer {
  return writeDicom([
    { tag: [0x0008, 0x0050], vr: 'SH', value: accession },
    { tag: [0x0008, 0x0060], vr: 'CS', value: 'CR' },
    { tag: [0x0020, 0x000d], vr: 'UI', value: uid },
    { tag: [0x0028, 0x0002], vr: 'US', value: 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: 'MONOCHROME2' },
    { tag: [0x0028, 0x0010], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0011], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0100], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0101], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0102], vr: 'US', value: 7 },
    { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
    { tag: [0x7fe0, 0x0010], vr: 'OB', value: Uint8Array.from({ length: 64 }, (_, i) => i * 4) },
  ]);
}

describe('reports as labels on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url, DEID_SALT: 'postgres-report-labels-salt' });
    await truncateAll(t.services.database);
    await t.services.registry.register({
      name: 'cxr',
      version: '1.0.0',
      artifact: buildTinyCnn({ width: 16, height: 16, channels: 1, labels, seed: 3 }).onnx,
      input_spec: spec,
      output_spec: { labels },
      aliases: ['production'],
    });
  });
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t.dispose();
  });

  it('matches the report by accession number and attaches its label', async () => {
    const served = await t.services.predictor.serve('cxr@production');
    const [p] = await t.services.predictor.predictImages(served, [dicom('1.2.3.4.5.6.7.8', 'PG-ACC-1')]);
    await t.app.inject({ method: 'PUT', url: '/api/v1/mlops/monitoring/cxr/report-label-policy', payload: { observation: 'Pneumonia', positive_label: 'PNEUMONIA', negative_label: 'NORMAL' } });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/mlops/monitoring/reports', payload: { text: 'IMPRESSION: Left lower lobe pneumonia.', accession_number: 'pg-acc-1' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ matched: 1, labelled: 1, results: [{ prediction_id: p!.prediction_id, label: 'PNEUMONIA' }] });
    expect(await t.services.predictionLog.get(p!.prediction_id!)).toMatchObject({ ground_truth: 'PNEUMONIA', ground_truth_source: 'report' });
  });
});
