/**
 * The multi-modality HTTP API end to end (in-process, real SQLite): the seed's three endpoints,
 * settings enforcement with the right statuses, no identifiers in responses or logs, and /predict
 * taking a DICOM chest radiograph through the same preprocessing as a PNG.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { pseudonym } from '../src/multimodal/index.js';
import { buildTinyCnn } from '../src/onnx/index.js';
import { buildApp } from '../src/server/app.js';
import { encodeImage } from '../src/serving/image-input.js';
import { type TestApp, startTestApp } from './helpers/app.js';
import { readPnm } from './helpers/pnm.js';
import { type DicomElement, encapsulatedPixelData, writeDicom } from './helpers/dicom-writer.js';

const fixture = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url));
const SALT = 'route-test-salt-0123456789';

function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer }) {
  const boundary = '----vitals' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), file.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** A tiny image no decoder here reads: encapsulated in `syntax`, or native with an unsupported photometric. */
function unsupportedImage(photometric: string, samples: number, syntax?: string): Buffer {
  const els: DicomElement[] = [
    { tag: [0x0008, 0x0060], vr: 'CS', value: 'OT' },
    { tag: [0x0028, 0x0002], vr: 'US', value: samples },
    { tag: [0x0028, 0x0004], vr: 'CS', value: photometric },
    { tag: [0x0028, 0x0010], vr: 'US', value: 2 },
    { tag: [0x0028, 0x0011], vr: 'US', value: 2 },
    { tag: [0x0028, 0x0100], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0101], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0102], vr: 'US', value: 7 },
    { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
  ];
  if (syntax) return Buffer.concat([writeDicom(els, syntax), encapsulatedPixelData([new Uint8Array(16).fill(7)])]);
  return writeDicom([...els, { tag: [0x7fe0, 0x0010], vr: 'OB', value: new Uint8Array(4 * samples) }]);
}

describe('multi-modality endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DEID_SALT: SALT, MAX_IMAGE_SIZE_MB: 0.5 });
  });
  afterAll(() => t.dispose());

  it('process-image: a CT slice with its report in the seed shape, de-identified', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-image',
      ...form({ modality: 'CT', text_report: 'Findings: Mass in esophagus. Wall thickness increased, 2.5 cm.' }, { name: 'scan.dcm', bytes: fixture('dicom/ct_jpegls.dcm') }),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['image', 'modality', 'processed_at', 'text_report']);
    expect(body.modality).toBe('CT');
    expect(body.image).toMatchObject({
      format: 'dicom',
      dicom_metadata: {
        patient_id: pseudonym(SALT, 'MRN-123456', 'SPRINGFIELD-GH'),
        modality: 'CT',
        manufacturer: 'ACME Medical',
        transfer_syntax: 'JPEG-LS Lossless',
        rows: 64,
        columns: 64,
        rescale_intercept: -1024,
        window_center: 40,
        window_width: 400,
      },
    });
    expect(body.image.image_statistics).toMatchObject({ shape: [64, 64], units: 'HU', min: -3043, max: 919 });
    expect(body.image.image_statistics.mean_value).toBeCloseTo(-742.191162, 5);
    expect(body.image.file_size_mb).toBeGreaterThan(0);
    expect(body.text_report.extracted_entities).toEqual({ pathologies: ['mass', 'wall thickening'], anatomical_structures: ['esophagus'], devices: [] });
    expect(body.text_report.measurements[0]).toMatchObject({ value: 2.5, unit: 'cm', text: '2.5 cm', value_mm: 25 });
    expect(JSON.stringify(body)).not.toMatch(/MRN-123456|Doe|Jane|General Hospital|20240115|2\.25\.3222/);
    expect(body).not.toHaveProperty('facts');
  });

  it('process-image: NIfTI and a multi-page TIFF', async () => {
    const nii = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-image',
      ...form({ modality: 'MR' }, { name: 'vol.nii.gz', bytes: fixture('nifti/mr_series_nifti2.nii.gz') }),
    });
    expect(nii.statusCode).toBe(200);
    expect(nii.json().image).toMatchObject({ format: 'nifti', image_statistics: { shape: [32, 32, 6], orientation: 'LAS', min: -10 }, nifti_header: { version: 2, scl_slope: 0.5 } });
    const tif = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form({}, { name: 'p.tif', bytes: fixture('raster/three_pages.tif') }) });
    expect(tif.statusCode).toBe(200);
    expect(tif.json().image).toMatchObject({ format: 'tiff', raster: { pages: 3 }, image_statistics: { shape: [32, 32, 3] } });
    expect(tif.json().text_report).toBeNull();
  });

  it('process-text and process-multi-modality', async () => {
    const text = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-text',
      payload: { text: 'CT scan shows mass in esophagus. No lymphadenopathy.', report_type: 'radiology' },
    });
    expect(text.statusCode).toBe(200);
    expect(text.json()).toMatchObject({ report_type: 'radiology', extracted_entities: { pathologies: ['mass'] }, negated_entities: { pathologies: ['lymphadenopathy'] } });
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-text', payload: { text: '', report_type: 'poetry' } });
    expect(bad.statusCode).toBe(422);
    const noReport = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-multi-modality',
      ...form({ modality: 'MR' }, { name: 'mr.dcm', bytes: fixture('dicom/mr_bits12_sigmoid.dcm') }),
    });
    expect(noReport.statusCode).toBe(422);
    const both = await t.app.inject({
      method: 'POST',
      url: '/api/v1/multi-modality/process-multi-modality',
      ...form({ modality: 'CT', text_report: 'MRI findings: no infarct.' }, { name: 'mr.dcm', bytes: fixture('dicom/mr_bits12_sigmoid.dcm') }),
    });
    expect(both.statusCode).toBe(200);
    expect(both.json().image.warnings).toEqual(['modality given as CT but the DICOM header says MR']);
    expect(both.json().image.dicom_metadata.patient_age_band).toBe('90+');
    expect(both.json().text_report.entity_status).toEqual({ infarct: 'negated' });
  });

  it('answers bad input with 400/413/415/422 and a message that says what to do', async () => {
    const post = (name: string, bytes: Buffer) => t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form({}, { name, bytes }) });
    const ct = fixture('dicom/ct_explicit_le.dcm');
    const cases: Array<[string, Buffer, number, RegExp]> = [
      ['truncated.dcm', ct.subarray(0, 3000), 400, /truncated or corrupted/],
      ['short-pixels.dcm', fixture('dicom/ct_short_pixels.dcm'), 422, /pixel data holds/],
      ['absurd.dcm', fixture('dicom/ct_absurd_dims.dcm'), 413, /declares 65535×65535/],
      ['progressive.dcm', unsupportedImage('MONOCHROME2', 1, '1.2.840.10008.1.2.4.55'), 415, /1\.2\.840\.10008\.1\.2\.4\.55 .*needs a JPEG full progression/],
      ['mpeg2.dcm', unsupportedImage('YBR_PARTIAL_420', 3, '1.2.840.10008.1.2.4.100'), 415, /transfer syntax 1\.2\.840\.10008\.1\.2\.4\.100 .*needs an MPEG-2 video decoder/],
      ['unlisted.dcm', unsupportedImage('MONOCHROME2', 1, '1.2.3.4.5.99'), 415, /transfer syntax 1\.2\.3\.4\.5\.99 .*needs a decoder for this \(unlisted\) transfer syntax/],
      ['hsv.dcm', unsupportedImage('HSV', 3), 415, /Photometric Interpretation HSV is not supported: it needs a HSV to RGB conversion/],
      ['words.dcm', Buffer.from('this is not an image'), 400, /not a recognised image/],
      ['empty.png', Buffer.alloc(0), 400, /empty/],
      ['big.dcm', Buffer.concat([ct, Buffer.alloc(600 * 1024)]), 413, /MAX_IMAGE_SIZE_MB/],
    ];
    for (const [name, bytes, status, message] of cases) {
      const res = await post(name, bytes);
      expect(res.statusCode, name).toBe(status);
      expect(res.json().message, name).toMatch(message);
    }
    const noFile = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form({ modality: 'CT' }) });
    expect(noFile.statusCode).toBe(400);
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', payload: { file: 'x' } });
    expect(json.statusCode).toBe(400);
    // a part with no headers and no end (found by schemathesis): busboy's error is the client's, not a 500
    const b = '95ea2c9a90ac959c46271e7020a8c989';
    const broken = Buffer.concat([Buffer.from(`--${b}\r\n`), Buffer.from([0xf1, 0xb4, 0xa4, 0xa9, 0x1a]), Buffer.from(`--${b}--\r\n`)]);
    const torn = await t.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', headers: { 'content-type': `multipart/form-data; boundary=${b}` }, payload: broken });
    expect(torn.statusCode).toBe(400);
    expect(torn.json().message).toMatch(/cannot read the multipart body/);
  });

  it('enforces SUPPORTED_IMAGE_FORMATS and MULTI_MODALITY_ENABLED', async () => {
    const only = await startTestApp({ SUPPORTED_IMAGE_FORMATS: 'png,jpg', MULTI_MODALITY_ENABLED: true });
    try {
      const res = await only.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form({}, { name: 'x.dcm', bytes: fixture('dicom/dx_chest_8bit.dcm') }) });
      expect(res.statusCode).toBe(415);
      expect(res.json().message).toMatch(/dicom images are not accepted here; allowed: png, jpeg/);
    } finally {
      await only.dispose();
    }
    const off = await startTestApp({ MULTI_MODALITY_ENABLED: false });
    try {
      const res = await off.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-text', payload: { text: 'No pneumonia.' } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'FEATURE_DISABLED', message: expect.stringMatching(/MULTI_MODALITY_ENABLED=false/) });
    } finally {
      await off.dispose();
    }
  });

  it('never writes a patient identifier to the logs', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const settings = loadConfig({ env: {}, dotenvFile: false, overrides: { VITALS_HOME: t.home + '/logs', LOG_LEVEL: 'trace', VITALS_DEMO: false, INFERENCE_WORKERS: 1 } });
    const app = await buildApp(settings, { logger: { level: 'trace', stream } });
    try {
      for (const f of ['dicom/ct_explicit_le.dcm', 'dicom/cr_chest_mono1.dcm', 'dicom/ct_short_pixels.dcm']) {
        await app.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form({ text_report: 'History: Jane Doe, MRN-123456.' }, { name: 'a.dcm', bytes: fixture(f) }) });
      }
      const log = lines.join('');
      expect(log).toMatch(/multi-modality image processed/);
      expect(log).toMatch(/DEID_SALT is not set/);
      for (const id of ['MRN-123456', 'Doe', 'Jane', 'SPRINGFIELD', '19700315', 'General Hospital', '2.25.3222']) expect(log).not.toContain(id);
    } finally {
      await app.close();
    }
  });
});

describe('/predict with a DICOM chest radiograph', () => {
  const labels = ['NORMAL', 'PNEUMONIA'];
  const spec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: 'NCHW' as const };
  const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 5 });
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MODEL_NAME: 'chest-xray', ENABLE_BATCHING: false, CACHE_SIZE: 0 });
    await t.services.registry.register({ name: 'chest-xray', version: '1.0.0', artifact: cnn.onnx, input_spec: spec, output_spec: { labels }, aliases: ['production'] });
  });
  afterAll(() => t.dispose());

  it('windows the DICOM like dcm2pnm, feeds the same resize/normalise path, and logs acquisition facts only', async () => {
    const dcm = fixture('dicom/dx_chest_jpeg_baseline.dcm');
    const res = await t.app.inject({ method: 'POST', url: '/predict', ...form({}, { name: 'cxr.dcm', bytes: dcm }) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // The same image rendered by dcmtk (dcm2pnm +Wm) and sent as a PNG gives the same answer.
    const pgm = readPnm(fixture('dicom/dx_chest_jpeg_baseline.minmax.pgm'));
    const png = await sharp(Buffer.from(pgm.data), { raw: { width: pgm.width, height: pgm.height, channels: 1 } })
      .png()
      .toBuffer();
    const reference = cnn.forward((await encodeImage(png, spec, ['png'])).tensor);
    expect(body.probabilities.NORMAL).toBeCloseTo(reference[0]!, 2);
    expect(body.probabilities.PNEUMONIA).toBeCloseTo(reference[1]!, 2);
    const entry = await t.services.predictionLog.get(res.headers['x-prediction-id'] as string);
    expect(entry.input).toMatchObject({
      image: {
        format: 'dcm',
        width: 64,
        height: 64,
        modality: 'DX',
        manufacturer: 'XRayCorp',
        device_model: 'DR-5000',
        view_position: 'PA',
        kvp: '125',
        patient_age_band: '30-39',
        patient_sex: 'F',
        body_part: 'CHEST',
      },
    });
    expect(JSON.stringify(entry.input)).not.toMatch(/MRN|Doe|Jane|Springfield|2\.25\./i);
  });

  it('inverts MONOCHROME1 and refuses NIfTI with 415', async () => {
    const mono1 = await t.app.inject({ method: 'POST', url: '/predict', ...form({}, { name: 'cr.dcm', bytes: fixture('dicom/cr_chest_mono1.dcm') }) });
    expect(mono1.statusCode).toBe(200);
    const nii = await t.app.inject({ method: 'POST', url: '/predict', ...form({}, { name: 'v.nii.gz', bytes: fixture('nifti/mr_series_gz.nii.gz') }) });
    expect(nii.statusCode).toBe(415);
    expect(nii.json().message).toMatch(/process-image/);
  });
});
