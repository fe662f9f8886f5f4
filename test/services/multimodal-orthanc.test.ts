/**
 * The PACS path against a real Orthanc with its DICOMweb plugin (scripts/services/orthanc.sh start):
 * fixtures are stored with Orthanc's REST API, then Vitals finds them with QIDO-RS, retrieves them
 * with WADO-RS in their stored transfer syntaxes, and processes them. A missing Orthanc fails.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/audit/index.js';
import { DicomwebClient, remapUid } from '../../src/multimodal/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const REST = process.env.ORTHANC_URL ?? 'http://127.0.0.1:18042';
const SALT = 'orthanc-test-salt-0123456789';
const dir = new URL('../fixtures/dicom/', import.meta.url);
const reference = JSON.parse(readFileSync(new URL('reference.json', dir), 'utf8')) as Record<
  string,
  { dcmdump: Record<string, string>; pixels: { mean: number; std: number; min: number; max: number } }
>;
// One of each kind, with distinct SOP Instance UIDs (the CT variants share one, so only one is stored).
const FILES = ['ct_jpegls', 'mr_bits12_sigmoid', 'cr_chest_mono1', 'dx_chest_jpeg_baseline', 'us_rgb_rle', 'mf_rle'];
const STUDY = '2.25.322222222222222222222222222222222222';

describe('DICOMweb against Orthanc', () => {
  let t: TestApp;
  const stored: string[] = [];

  beforeAll(async () => {
    const up = await fetch(`${REST}/system`).catch((err: Error) => err);
    if (up instanceof Error || !up.ok) throw new Error(`Orthanc does not answer at ${REST}: run "bash scripts/services/orthanc.sh start" first (${up instanceof Error ? up.message : up.status})`);
    for (const f of FILES) {
      const res = await fetch(`${REST}/instances`, { method: 'POST', body: readFileSync(new URL(`${f}.dcm`, dir)) });
      expect(res.ok, `upload ${f}`).toBe(true);
      stored.push(((await res.json()) as { ID: string }).ID);
    }
    t = await startTestApp({ DICOMWEB_URL: `${REST}/dicom-web`, DEID_SALT: SALT });
  });

  afterAll(async () => {
    await t?.dispose();
    for (const id of stored) await fetch(`${REST}/instances/${id}`, { method: 'DELETE' });
  });

  it('QIDO-RS finds the stored instances and WADO-RS returns them byte for byte', async () => {
    const client = new DicomwebClient({ baseUrl: `${REST}/dicom-web`, maxResponseBytes: 1 << 24 });
    const refs = await client.searchInstances({ StudyInstanceUID: STUDY, limit: 50 });
    expect(refs.length).toBe(FILES.length);
    const cr = (await client.searchInstances({ Modality: 'CR', limit: 10 })).filter((r) => r.studyInstanceUid === STUDY);
    expect(cr).toHaveLength(1);
    const bytes = await client.retrieveInstance(cr[0]!);
    expect(Buffer.from(bytes).equals(readFileSync(new URL('cr_chest_mono1.dcm', dir)))).toBe(true);
  });

  it('processes a study from the PACS: de-identified, statistics equal to dcmtk', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/dicomweb/process', payload: { study_instance_uid: STUDY, limit: 20, text_report: 'Impression: no pneumothorax.' } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ matched: FILES.length, processed: FILES.length, failed: [] });
    for (const f of FILES) {
      const sop = remapUid(SALT, reference[f]!.dcmdump.SOPInstanceUID!);
      const r = body.results.find((x: { image: { dicom_metadata: { sop_instance_uid: string } } }) => x.image.dicom_metadata.sop_instance_uid === sop);
      expect(r, f).toBeDefined();
      const s = r.image.image_statistics;
      expect(s.mean_value, f).toBeCloseTo(reference[f]!.pixels.mean, 5);
      expect(s.std_value, f).toBeCloseTo(reference[f]!.pixels.std, 5);
      expect([s.min, s.max], f).toEqual([reference[f]!.pixels.min, reference[f]!.pixels.max]);
      expect(r.text_report.entity_status).toEqual({ pneumothorax: 'negated' });
    }
    expect(JSON.stringify(body)).not.toMatch(/MRN-123456|Doe|Jane|General Hospital|2\.25\.3222/);
    // the processing is a read of patient data: one audit row naming each instance by its sha256, not the study
    const audit = await listAudit(t.services.database.db, { action: 'multimodal.dicomweb_processed' });
    expect(audit).toMatchObject([{ principal: 'local-admin', role: 'admin', outcome: 'success', target: `dicomweb:${new URL(REST).host}` }]);
    const details = JSON.parse(audit[0]!.details);
    expect(details).toMatchObject({ matched: FILES.length, processed: FILES.length, failed: 0, query_fields: ['study_instance_uid'] });
    const hashes = FILES.map((f) =>
      createHash('sha256')
        .update(readFileSync(new URL(`${f}.dcm`, dir)))
        .digest('hex'),
    );
    expect([...details.instances_sha256].sort()).toEqual(hashes.sort());
    expect(audit[0]!.details).not.toContain(STUDY);
  });

  it('names the server, not the query, when the PACS fails', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/dicomweb/process', payload: { study_instance_uid: '1.2.3.4.5.999' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ matched: 0, processed: 0 });
    const down = await startTestApp({ DICOMWEB_URL: 'http://127.0.0.1:9/dicom-web' });
    try {
      const r = await down.app.inject({ method: 'POST', url: '/api/v1/multi-modality/dicomweb/process', payload: { study_instance_uid: STUDY } });
      expect(r.statusCode).toBe(502);
      expect(r.json().message).toMatch(/127\.0\.0\.1:9 is not reachable/);
      expect(r.json().message).not.toContain(STUDY);
      expect(await listAudit(down.services.database.db, { action: 'multimodal.dicomweb_processed' })).toMatchObject([{ outcome: 'failure', target: 'dicomweb:127.0.0.1:9' }]);
    } finally {
      await down.dispose();
    }
  });
});
