/**
 * Conformance against files written outside the project: every file of pydicom's test files and of
 * the pydicom-data package, and nibabel's NIfTI test images, read by pydicom 3 / nibabel 5 in this
 * same run (test/services/conformance/reference.py, .venv from scripts/services/python-peers.sh).
 *
 * Each DICOM file goes through POST /api/v1/multi-modality/process-image and POST /predict (the
 * model's DICOM preprocessing). Where pydicom decodes the file, rows, columns, frames, channels,
 * modality and the statistics after the modality transform must equal pydicom's, and frame 1 as the
 * model sees it (8-bit, windowed) must equal the same rendering of pydicom's pixels. Tolerances:
 * lossless syntaxes 1e-6 (Vitals rounds to 6 decimals); lossy ones (JPEG baseline/extended, JPEG-LS
 * near-lossless, JPEG 2000 irreversible, HTJ2K) LOSSY_TOLERANCE below, since two conforming
 * decoders may round the inverse DCT/wavelet differently. A clear 415 is listed as unsupported, not
 * failed; a mismatch, a 5xx or any other refusal of a file pydicom decodes fails. For every file,
 * decodable or not, no PS3.15 basic-profile identifying value of it appears in any response, log
 * line or database row.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { readDicomImage, renderDicomForModel } from '../../src/multimodal/index.js';
import { buildTinyCnn } from '../../src/onnx/index.js';
import { type VitalsApp, buildApp } from '../../src/server/app.js';

const PY = process.env.VITALS_PYTHON ?? fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const REFERENCE = fileURLToPath(new URL('./conformance/reference.py', import.meta.url));

interface Stats {
  mean: number;
  std: number;
  min: number;
  max: number;
}
interface DicomRef {
  file: string;
  source: string;
  path: string;
  bytes: number;
  transfer_syntax?: string;
  transfer_syntax_name?: string;
  identifying?: string[];
  /** values of attributes the profile keeps (Manufacturer, …), 4 characters or more */
  kept?: string[];
  decodable: boolean;
  reason?: string;
  photometric?: string;
  modality?: string | null;
  rows?: number;
  columns?: number;
  frames?: number;
  channels?: number;
  lossy?: boolean;
  stats?: Stats;
  render?: Stats;
}
interface NiftiRef {
  file: string;
  path: string;
  decodable: boolean;
  reason?: string;
  shape?: number[];
  stats?: Stats & { nonfinite?: number };
}

/**
 * Lossy codecs: the mean within 0.5% of the value range, the standard deviation within 1%, the
 * extremes within 2% (ringing at edges is where decoders differ most); the 8-bit rendering within
 * 1 level in mean and std, 4 levels at the extremes.
 */
const LOSSY_TOLERANCE = { mean: 0.005, std: 0.01, extremes: 0.02, render: { mean: 1, std: 1, extremes: 4 } };

function form(file: Buffer) {
  const boundary = `----conformance${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="image.dcm"\r\nContent-Type: application/dicom\r\n\r\n`);
  return { payload: Buffer.concat([head, file, Buffer.from(`\r\n--${boundary}--\r\n`)]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** Differences beyond tolerance, as readable strings (empty when they agree). */
function compareStats(got: Stats, want: Stats, lossy: boolean, what: string): string[] {
  const range = Math.max(1, want.max - want.min);
  const tol = (ref: number, rel: number) => (lossy ? rel * range : 2e-6 * Math.max(1, Math.abs(ref)));
  const out: string[] = [];
  const check = (k: keyof Stats, rel: number) => {
    if (!(Math.abs(got[k] - want[k]) <= tol(want[k], rel))) out.push(`${what} ${k} ${got[k]} vs pydicom ${want[k]}`);
  };
  check('mean', LOSSY_TOLERANCE.mean);
  check('std', LOSSY_TOLERANCE.std);
  check('min', LOSSY_TOLERANCE.extremes);
  check('max', LOSSY_TOLERANCE.extremes);
  return out;
}

function pixelStats(p: Uint8Array): Stats {
  let s = 0;
  let s2 = 0;
  let min = 255;
  let max = 0;
  for (const v of p) {
    s += v;
    s2 += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / p.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / p.length - mean * mean)), min, max };
}

function compareRender(got: Stats, want: Stats, lossy: boolean): string[] {
  const t = lossy ? LOSSY_TOLERANCE.render : { mean: 0.05, std: 0.05, extremes: 1 };
  const out: string[] = [];
  if (Math.abs(got.mean - want.mean) > t.mean) out.push(`frame-1 render mean ${got.mean.toFixed(3)} vs ${want.mean.toFixed(3)}`);
  if (Math.abs(got.std - want.std) > t.std) out.push(`frame-1 render std ${got.std.toFixed(3)} vs ${want.std.toFixed(3)}`);
  if (Math.abs(got.min - want.min) > t.extremes || Math.abs(got.max - want.max) > t.extremes) out.push(`frame-1 render range ${got.min}..${got.max} vs ${want.min}..${want.max}`);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A value as a pattern: numbers and UIDs must stand alone (not inside a longer number). */
function identifyingPattern(v: string): RegExp {
  return /^[0-9.]+$/.test(v) ? new RegExp(`(?<![0-9.])${escapeRegExp(v)}(?![0-9])`) : new RegExp(escapeRegExp(v));
}

interface Row {
  file: string;
  syntax: string;
  result: string;
}

describe('imaging conformance: pydicom, pydicom-data and nibabel corpora', () => {
  let reference: { versions: Record<string, string>; dicom: DicomRef[]; nifti: NiftiRef[] };
  let vitals: VitalsApp;
  let home: string;
  const logLines: string[] = [];
  const responses = new Map<string, string[]>();
  const labels = ['NORMAL', 'ABNORMAL'];
  const seen = (file: string, text: string) => responses.set(file, [...(responses.get(file) ?? []), text]);

  beforeAll(async () => {
    if (!existsSync(PY)) throw new Error(`no Python with pydicom/nibabel at ${PY}: run "bash scripts/services/python-peers.sh" first`);
    reference = JSON.parse(execFileSync(PY, [REFERENCE], { encoding: 'utf8', maxBuffer: 1 << 26 }));
    home = mkdtempSync(join(tmpdir(), 'vitals-conformance-'));
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logLines.push(String(chunk));
        cb();
      },
    });
    const settings = loadConfig({
      env: {},
      dotenvFile: false,
      overrides: {
        VITALS_HOME: home,
        DATABASE_URL: `sqlite:${join(home, 'conformance.db')}`,
        LOG_LEVEL: 'trace',
        VITALS_DEMO: false,
        INFERENCE_WORKERS: 1,
        PREDICTION_LOG_FLUSH_MS: 20,
        DEID_SALT: 'conformance-salt-0123456789abcdef',
        MODEL_NAME: 'corpus-cnn',
        ENABLE_BATCHING: false,
        CACHE_SIZE: 0,
      },
    });
    vitals = await buildApp(settings, { logger: { level: 'trace', stream } });
    const spec = { kind: 'image' as const, width: 16, height: 16, channels: 3 as const, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], layout: 'NCHW' as const };
    const cnn = buildTinyCnn({ width: 16, height: 16, channels: 3, labels, seed: 11 });
    await vitals.services.registry.register({ name: 'corpus-cnn', version: '1.0.0', artifact: cnn.onnx, input_spec: spec, output_spec: { labels }, aliases: ['production'] });
  });

  let closed = false;
  afterAll(async () => {
    if (!closed) await vitals?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('every DICOM file pydicom decodes gives pydicom’s dimensions, modality and values', async () => {
    console.log('reference versions:', reference.versions);
    const table: Row[] = [];
    const failures: string[] = [];
    const unsupported: string[] = [];
    for (const ref of reference.dicom) {
      const bytes = readFileSync(ref.path);
      const key = `${ref.source}/${ref.file}`;
      const res = await vitals.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', ...form(bytes) });
      seen(key, res.body);
      const pred = await vitals.app.inject({ method: 'POST', url: '/predict', ...form(bytes) });
      seen(key, pred.body);
      const syntax = ref.transfer_syntax_name ?? '—';
      const problems: string[] = [];
      if (res.statusCode >= 500) problems.push(`process-image crashed: ${res.statusCode} ${res.body.slice(0, 160)}`);
      if (pred.statusCode >= 500) problems.push(`/predict crashed: ${pred.statusCode} ${pred.body.slice(0, 160)}`);
      if (!ref.decodable) {
        const result = `not decoded by pydicom (${ref.reason}); Vitals: ${res.statusCode} ${res.statusCode === 200 ? '' : String(res.json().message).slice(0, 90)}`;
        table.push({ file: key, syntax, result: problems.length ? `FAIL ${problems.join('; ')}` : result });
        failures.push(...problems.map((p) => `${key}: ${p}`));
        continue;
      }
      if (res.statusCode === 415) {
        const message = String(res.json().message);
        if (pred.statusCode !== 415) problems.push(`/predict answered ${pred.statusCode} where process-image answered 415`);
        unsupported.push(`${key}: ${message}`);
        table.push({ file: key, syntax, result: problems.length ? `FAIL ${problems.join('; ')}` : `unsupported (415): ${message.slice(0, 110)}` });
        failures.push(...problems.map((p) => `${key}: ${p}`));
        continue;
      }
      if (res.statusCode !== 200) problems.push(`process-image ${res.statusCode}: ${res.body.slice(0, 200)}`);
      else {
        const image = res.json().image;
        const s = image.image_statistics;
        const shape = [ref.rows!, ref.columns!, ...(ref.frames! > 1 ? [ref.frames!] : []), ...(ref.channels! > 1 ? [ref.channels!] : [])];
        if (JSON.stringify(s.shape) !== JSON.stringify(shape)) problems.push(`shape ${JSON.stringify(s.shape)} vs pydicom ${JSON.stringify(shape)}`);
        if ((image.dicom_metadata?.modality ?? null) !== (ref.modality ?? null)) problems.push(`modality ${image.dicom_metadata?.modality} vs pydicom ${ref.modality}`);
        problems.push(...compareStats({ mean: s.mean_value, std: s.std_value, min: s.min, max: s.max }, ref.stats!, ref.lossy!, 'values'));
      }
      if (pred.statusCode !== 200) problems.push(`/predict ${pred.statusCode}: ${pred.body.slice(0, 200)}`);
      else {
        const entry = await vitals.services.predictionLog.get(pred.headers['x-prediction-id'] as string);
        const facts = (entry.input as { image: { width: number; height: number; modality?: string } }).image;
        if (facts.width !== ref.columns || facts.height !== ref.rows) problems.push(`/predict logged ${facts.width}×${facts.height}, pydicom ${ref.columns}×${ref.rows}`);
        if ((facts.modality ?? null) !== (ref.modality ?? null)) problems.push(`/predict logged modality ${facts.modality}, pydicom ${ref.modality}`);
        const rendered = await renderDicomForModel(bytes); // what the /predict preprocessing resizes and normalises
        problems.push(...compareRender(pixelStats(rendered.pixels), ref.render!, ref.lossy!));
      }
      failures.push(...problems.map((p) => `${key}: ${p}`));
      table.push({ file: key, syntax, result: problems.length ? `MISMATCH ${problems.join('; ')}` : ref.lossy ? 'match (lossy, within tolerance)' : 'match' });
    }
    printTable('DICOM conformance (pydicom 3.0.2 + pydicom-data 1.0.0)', table);
    const decodable = reference.dicom.filter((r) => r.decodable).length;
    const matched = table.filter((r) => r.result.startsWith('match')).length;
    const failed = table.filter((r) => r.result.startsWith('MISMATCH') || r.result.startsWith('FAIL')).length;
    console.log(`DICOM: ${reference.dicom.length} files, ${decodable} decoded by pydicom: ${matched} match, ${unsupported.length} unsupported (415), ${failed} failed`);
    for (const u of unsupported) console.log(`  unsupported: ${u}`);
    expect(reference.dicom.length).toBeGreaterThan(100); // both corpora were found
    expect(failures).toEqual([]);
  });

  it('12-bit JPEG Extended (process 4): every pixel within one level of pydicom’s libjpeg decode', async () => {
    const jpgExtended = reference.dicom.find((r) => r.file === 'JPGExtended.dcm')!;
    const files = [jpgExtended.path, fileURLToPath(new URL('../fixtures/dicom/ct_jpeg_extended12.dcm', import.meta.url))];
    const script = 'import sys, base64, numpy as np, pydicom\nfor p in sys.argv[1:]: print(base64.b64encode(pydicom.dcmread(p).pixel_array.astype("<i4").tobytes()).decode())';
    const decoded = execFileSync(PY, ['-c', script, ...files], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .trim()
      .split('\n');
    for (const [k, path] of files.entries()) {
      const want = new Int32Array(new Uint8Array(Buffer.from(decoded[k]!, 'base64')).buffer);
      const got = (await readDicomImage(readFileSync(path))).pixels.frames[0]!;
      expect(got.length).toBe(want.length);
      let worst = 0;
      let equal = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i]! - want[i]!);
        worst = Math.max(worst, d);
        if (d === 0) equal++;
      }
      console.log(`${path.split('/').pop()}: ${want.length} pixels, ${((100 * equal) / want.length).toFixed(2)}% equal to pydicom's, largest difference ${worst}`);
      expect(worst).toBeLessThanOrEqual(1); // two IDCTs (libjpeg's integer one, our exact float one) may round apart
      expect(equal / want.length).toBeGreaterThan(0.8);
    }
  });

  it('every NIfTI image nibabel reads gives nibabel’s shape and values', async () => {
    const table: Row[] = [];
    const failures: string[] = [];
    for (const ref of reference.nifti) {
      const name = ref.file.endsWith('.gz') ? 'volume.nii.gz' : 'volume.nii';
      const boundary = `----nifti${Math.random().toString(16).slice(2)}`;
      const payload = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        readFileSync(ref.path),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await vitals.app.inject({ method: 'POST', url: '/api/v1/multi-modality/process-image', payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      seen(`nibabel/${ref.file}`, res.body);
      const problems: string[] = [];
      let result = '';
      if (res.statusCode >= 500) problems.push(`crashed: ${res.statusCode}`);
      else if (!ref.decodable) result = `not read by nibabel (${ref.reason}); Vitals: ${res.statusCode}`;
      else if (res.statusCode === 415) result = `unsupported (415): ${String(res.json().message).slice(0, 110)}`;
      else if (res.statusCode !== 200) problems.push(`${res.statusCode}: ${res.body.slice(0, 200)}`);
      else {
        const s = res.json().image.image_statistics;
        if (JSON.stringify(s.shape) !== JSON.stringify(ref.shape)) problems.push(`shape ${JSON.stringify(s.shape)} vs nibabel ${JSON.stringify(ref.shape)}`);
        problems.push(...compareStats({ mean: s.mean_value, std: s.std_value, min: s.min, max: s.max }, ref.stats!, false, 'values').map((p) => p.replace('pydicom', 'nibabel')));
        if ((s.nonfinite_values ?? 0) !== (ref.stats!.nonfinite ?? 0)) problems.push(`${s.nonfinite_values ?? 0} NaN/Inf values vs nibabel ${ref.stats!.nonfinite ?? 0}`);
      }
      failures.push(...problems.map((p) => `${ref.file}: ${p}`));
      table.push({ file: `nibabel/${ref.file}`, syntax: 'NIfTI', result: problems.length ? `MISMATCH ${problems.join('; ')}` : result || 'match' });
    }
    printTable('NIfTI conformance (nibabel 5.4.2)', table);
    expect(reference.nifti.length).toBeGreaterThan(5);
    expect(failures).toEqual([]);
  });

  it('no identifying value of any file appears in a response, a log line or a database row', async () => {
    await vitals.close(); // every row committed, every log line written
    closed = true;
    const db = new Database(join(home, 'conformance.db'), { readonly: true });
    const tables = db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[];
    const rows = tables.map((t) => JSON.stringify(db.prepare(`select * from "${t.name}"`).all(), (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))).join('\n');
    db.close();
    const log = logLines.join('');
    expect(log).toMatch(/multi-modality image processed/);
    expect(rows).toMatch(/corpus-cnn/); // the predictions are there to be searched
    const leaks: string[] = [];
    let checked = 0;
    // The log and the database are shared by all files: a value that another file keeps in a
    // retained attribute (one file's Institution Name is another's Manufacturer) may be there for it.
    const keptAnywhere = reference.dicom.flatMap((r) => r.kept ?? []);
    let shared = 0;
    for (const ref of reference.dicom) {
      const key = `${ref.source}/${ref.file}`;
      const said = (responses.get(key) ?? []).join('\n');
      for (const value of ref.identifying ?? []) {
        checked++;
        const p = identifyingPattern(value);
        if (p.test(said)) leaks.push(`${key}: "${value}" in a response`);
        if (keptAnywhere.some((k) => p.test(k))) {
          shared++;
          continue;
        }
        if (p.test(log)) leaks.push(`${key}: "${value}" in the log`);
        if (p.test(rows)) leaks.push(`${key}: "${value}" in a database row`);
      }
    }
    console.log(`${shared} identifying values also kept as another file's retained attribute: checked in that file's responses only`);
    console.log(`identifying values checked: ${checked} from ${reference.dicom.length} files, against ${responses.size} files' responses, ${logLines.length} log lines, ${tables.length} tables`);
    expect(checked).toBeGreaterThan(500);
    expect(leaks).toEqual([]);
  });
});

function printTable(title: string, rows: Row[]): void {
  const w1 = Math.max(...rows.map((r) => r.file.length));
  const w2 = Math.max(...rows.map((r) => r.syntax.length));
  const lines = rows.map((r) => `${r.file.padEnd(w1)}  ${r.syntax.padEnd(w2)}  ${r.result}`);
  console.log(`${title}\n${'file'.padEnd(w1)}  ${'transfer syntax'.padEnd(w2)}  result\n${lines.join('\n')}`);
}
