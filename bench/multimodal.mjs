#!/usr/bin/env node
// Multimodal decoding benchmark: Vitals' DICOM readers per transfer syntax vs. dcmtk (dcm2pnm,
// dcmj2pnm, dcml2pnm) and pydicom on the same files in the same run, and the load time of a
// 512×512×100 NIfTI volume (vs. nibabel when .venv has it).
//
//   bash scripts/bench/dcmtk.sh && bash scripts/services/python-peers.sh   # the references
//   npm run build && node bench/multimodal.mjs [--frames 20] [--runs 5] [--only 'RLE|lossless SV1']
//
// Files are made in a temp directory from one 512×512×N 16-bit CT-like multi-frame image (12 bits
// stored, signed), each by a real encoder of its syntax: explicit VR little endian (here), RLE,
// JPEG lossless SV1 and 12-bit JPEG Extended (dcmtk's dcmcrle, dcmcjpeg), JPEG baseline (dcmcjpeg,
// on the image windowed to 8 bits), JPEG-LS (dcmcjpls), JPEG 2000 (OpenJPEG through pydicom) and
// HTJ2K (OpenJPH). Every side decodes every frame, applies the modality and a VOI window and makes
// 8-bit frames (dcmtk writes them as PGM files, +Fa; pydicom stops at the uint8 array). dcmtk has no
// JPEG 2000/HTJ2K decoder: no dcmtk column there. Times are medians of --runs; dcmtk's include its
// process start (~10 ms, hence 20 frames by default), pydicom's and Vitals' are in-process.
// ratio_vs_X = X's time / Vitals' time (above 1: Vitals is faster).
// Results: bench/results/multimodal.json. Exit 1 if Vitals and dcmtk disagree on a lossless file's values.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';

const here = dirname(fileURLToPath(import.meta.url));
const mm = await import(join(here, '../dist/multimodal/index.js')).catch((err) => {
  console.error(`build first (npm run build): ${err.message}`);
  process.exit(1);
});
const { values: args } = parseArgs({ options: { frames: { type: 'string', default: '20' }, runs: { type: 'string', default: '5' }, only: { type: 'string' } } });
const FRAMES = Number(args.frames);
const RUNS = Number(args.runs);
const tmp = mkdtempSync(join(tmpdir(), 'vitals-bench-mm-'));
if (process.env.BENCH_KEEP) console.log('files in', tmp);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------- a small DICOM writer (explicit VR LE)
function element(group, elem, vr, value) {
  const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
  const data = typeof value === 'string' ? Buffer.from(value.length % 2 ? value + (vr === 'UI' ? '\0' : ' ') : value, 'latin1') : value;
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(data === null ? 0xffffffff : data.length, 8);
  else head.writeUInt16LE(data.length, 6);
  return data === null ? head : Buffer.concat([head, data]);
}
const us = (v) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
function dicom(ts, attrs, pixelElement) {
  const metaBody = Buffer.concat([element(2, 1, 'OB', Buffer.from([0, 1])), element(2, 2, 'UI', '1.2.840.10008.5.1.4.1.1.2'), element(2, 3, 'UI', '2.25.1'), element(2, 0x10, 'UI', ts)]);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(2, 0);
  groupLength.writeUInt16LE(0, 2);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(metaBody.length, 8);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, metaBody, ...attrs, pixelElement]);
}
function item(tagElem, data) {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(tagElem, 2);
  h.writeUInt32LE(data ? data.length : 0, 4);
  return data ? Buffer.concat([h, data]) : h;
}

function ctFrames(n) {
  const px = new Int16Array(512 * 512 * n);
  let seed = 1;
  for (let f = 0; f < n; f++)
    for (let y = 0; y < 512; y++)
      for (let x = 0; x < 512; x++) {
        const dx = (x - 256) / 215,
          dy = (y - 256) / 185,
          r = dx * dx + dy * dy;
        seed = (seed * 1664525 + 1013904223) >>> 0;
        px[(f * 512 + y) * 512 + x] = (r < 1 ? (0.75 < r && r < 0.85 ? 1900 : 1064 + f * 5) : 24) + ((seed >>> 24) % 40) - 20;
      }
  return px;
}

const common = (bits, stored, signed, frames) => [
  element(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.2'),
  element(0x0008, 0x0060, 'CS', 'CT'),
  element(0x0028, 0x0002, 'US', us(1)),
  element(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
  element(0x0028, 0x0008, 'IS', String(frames)),
  element(0x0028, 0x0010, 'US', us(512)),
  element(0x0028, 0x0011, 'US', us(512)),
  element(0x0028, 0x0100, 'US', us(bits)),
  element(0x0028, 0x0101, 'US', us(stored)),
  element(0x0028, 0x0102, 'US', us(stored - 1)),
  element(0x0028, 0x0103, 'US', us(signed ? 1 : 0)),
  element(0x0028, 0x1050, 'DS', bits === 16 ? '40' : '128'),
  element(0x0028, 0x1051, 'DS', bits === 16 ? '400' : '256'),
  element(0x0028, 0x1052, 'DS', bits === 16 ? '-1024' : '0'),
  element(0x0028, 0x1053, 'DS', '1'),
];

const ct = ctFrames(FRAMES);
const rawPath = join(tmp, 'ct_raw.dcm');
writeFileSync(rawPath, dicom('1.2.840.10008.1.2.1', common(16, 12, true, FRAMES), element(0x7fe0, 0x0010, 'OW', Buffer.from(ct.buffer))));
// 8-bit frames for JPEG baseline: the CT windowed to 0..255
const eight = Buffer.alloc(512 * 512 * FRAMES);
for (let i = 0; i < eight.length; i++) eight[i] = Math.max(0, Math.min(255, ((ct[i] - 1024 - 40 + 200) / 400) * 255));
const u8Path = join(tmp, 'ct_u8.dcm');
writeFileSync(u8Path, dicom('1.2.840.10008.1.2.1', common(8, 8, false, FRAMES), element(0x7fe0, 0x0010, 'OB', eight)));
const pad = (b) => (b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b);
const encapsulated = (ts, bits, stored, signed, frames) =>
  dicom(ts, common(bits, stored, signed, FRAMES), Buffer.concat([element(0x7fe0, 0x0010, 'OB', null), item(0xe000, Buffer.alloc(0)), ...frames.map((b) => item(0xe000, pad(b))), item(0xe0dd, null)]));

// The compressed files, each made by a real encoder of its syntax: dcmtk (RLE, JPEG, JPEG-LS),
// OpenJPEG through pydicom (JPEG 2000), OpenJPH (HTJ2K); a syntax whose encoder is missing is skipped.
const py = join(here, '../.venv/bin/python');
const hasPy = (mods) => spawnSync(py, ['-c', `import ${mods}`], { stdio: 'ignore' }).status === 0;
const make = (path, fn) => {
  try {
    fn();
    return path;
  } catch (err) {
    console.log(`skipped ${path.split('/').pop()}: ${err.message.split('\n')[0]}`);
    return undefined;
  }
};
const files = [{ label: 'uncompressed 16-bit (explicit VR LE)', path: rawPath, bits: 16, dcmtk: 'dcm2pnm' }];
if (has('dcmcrle'))
  files.push({ label: 'RLE lossless 16-bit', path: make(join(tmp, 'ct_rle.dcm'), () => execFileSync('dcmcrle', ['-q', rawPath, join(tmp, 'ct_rle.dcm')])), bits: 16, dcmtk: 'dcm2pnm' });
if (has('dcmcjpeg')) {
  files.push({ label: 'JPEG baseline 8-bit', path: make(join(tmp, 'ct_jpeg.dcm'), () => execFileSync('dcmcjpeg', ['-q', '+eb', u8Path, join(tmp, 'ct_jpeg.dcm')])), bits: 8, dcmtk: 'dcmj2pnm' });
  files.push({
    label: 'JPEG Extended 12-bit',
    path: make(join(tmp, 'ct_jpeg12.dcm'), () => execFileSync('dcmcjpeg', ['-q', '+ee', rawPath, join(tmp, 'ct_jpeg12.dcm')])),
    bits: 16,
    dcmtk: 'dcmj2pnm',
  });
  files.push({
    label: 'JPEG lossless SV1 16-bit',
    path: make(join(tmp, 'ct_jpegll.dcm'), () => execFileSync('dcmcjpeg', ['-q', '+e1', rawPath, join(tmp, 'ct_jpegll.dcm')])),
    bits: 16,
    dcmtk: 'dcmj2pnm',
  });
} else {
  const frames = [];
  for (let f = 0; f < FRAMES; f++)
    frames.push(
      await sharp(eight.subarray(f * 512 * 512, (f + 1) * 512 * 512), { raw: { width: 512, height: 512, channels: 1 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  const path = join(tmp, 'ct_jpeg.dcm');
  writeFileSync(path, encapsulated('1.2.840.10008.1.2.4.50', 8, 8, false, frames));
  files.push({ label: 'JPEG baseline 8-bit (sharp)', path, bits: 8, dcmtk: 'dcmj2pnm' });
}
if (has('dcmcjpls'))
  files.push({ label: 'JPEG-LS lossless 16-bit', path: make(join(tmp, 'ct_jls.dcm'), () => execFileSync('dcmcjpls', ['-q', rawPath, join(tmp, 'ct_jls.dcm')])), bits: 16, dcmtk: 'dcml2pnm' });
if (hasPy('pydicom, openjpeg')) {
  const path = join(tmp, 'ct_j2k.dcm');
  const code =
    'import sys, pydicom\nfrom pydicom.uid import JPEG2000Lossless\nds = pydicom.dcmread(sys.argv[1])\nds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")\nds.save_as(sys.argv[2], enforce_file_format=True)';
  files.push({ label: 'JPEG 2000 lossless 16-bit', path: make(path, () => execFileSync(py, ['-c', code, rawPath, path])), bits: 16, dcmtk: null });
}
{
  const codec = await createRequire(import.meta.url)('@cornerstonejs/codec-openjph')({ print: () => {}, printErr: () => {} });
  const frames = [];
  for (let f = 0; f < FRAMES; f++) {
    const encoder = new codec.HTJ2KEncoder();
    encoder
      .getDecodedBuffer({ width: 512, height: 512, bitsPerSample: 12, componentCount: 1, isSigned: true, isUsingColorTransform: false })
      .set(new Uint8Array(ct.buffer, f * 512 * 512 * 2, 512 * 512 * 2));
    encoder.setQuality(true, 0);
    encoder.encode();
    frames.push(Buffer.from(encoder.getEncodedBuffer()));
    encoder.delete();
  }
  const path = join(tmp, 'ct_htj2k.dcm');
  writeFileSync(path, encapsulated('1.2.840.10008.1.2.4.201', 16, 12, true, frames));
  files.push({ label: 'HTJ2K lossless 16-bit (OpenJPH)', path, bits: 16, dcmtk: null });
}

// ---------------------------------------------------------------- decode: Vitals in process, dcmtk as a process, pydicom in one process
async function vitalsDecode(path) {
  const bytes = readFileSync(path);
  const started = performance.now();
  const r = await mm.readDicomImage(bytes, { maxDecodedBytes: 1 << 30 });
  for (const f of r.pixels.frames) mm.renderFrame8(f, r.modality, r.voi, false);
  return { ms: performance.now() - started, stats: r.stats };
}
function dcmtkDecode(tool, path) {
  const out = join(tmp, `out-${Math.random().toString(16).slice(2)}`);
  mkdirSync(out);
  const started = performance.now();
  execFileSync(tool, ['-q', '+Fa', '+Wi', '1', '+op', path, join(out, 'f')]);
  const ms = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  return { ms };
}
// pydicom: read, decode every frame, modality LUT, first VOI window to uint8 (what Vitals does), timed inside Python
const PYDICOM = `import sys, time, json, numpy as np, pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut
out = {}
runs = int(sys.argv[1])
for p in sys.argv[2:]:
    ts = []
    for i in range(runs + 1):
        t = time.perf_counter()
        ds = pydicom.dcmread(p)
        a = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds)
        lo, hi = float(a.min()), float(a.max())
        u8 = ((a - lo) * (255.0 / max(1.0, hi - lo))).astype(np.uint8)
        ts.append((time.perf_counter() - t) * 1000)
    ts = sorted(ts[1:])
    out[p] = ts[len(ts) // 2]
print(json.dumps({"version": pydicom.__version__, "ms": out}))`;

const results = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, frames: FRAMES, runs: RUNS, dicom: [], nifti: null };
const decodedMb = (bits) => (512 * 512 * FRAMES * (bits / 8)) / 1024 ** 2;
// --only REGEX: just the files whose label matches (for quick before/after checks of one codec)
const ready = files.filter((f) => f.path && (!args.only || new RegExp(args.only, 'i').test(f.label)));
let pydicom = null;
if (hasPy('pydicom, pylibjpeg, openjpeg, libjpeg')) {
  pydicom = JSON.parse(execFileSync(py, ['-c', PYDICOM, String(RUNS), ...ready.map((f) => f.path)], { encoding: 'utf8', maxBuffer: 1 << 24 }));
  results.pydicom = pydicom.version;
}
let failed = false;
for (const { label, path, bits, dcmtk } of ready) {
  await vitalsDecode(path); // warm-up (codec instantiation, JIT)
  const ours = [];
  for (let i = 0; i < RUNS; i++) ours.push(await vitalsDecode(path));
  const vitalsMs = median(ours.map((r) => r.ms));
  const row = { file: label, decoded_mb: round(decodedMb(bits), 2), vitals_ms: round(vitalsMs), vitals_mb_s: round(decodedMb(bits) / (vitalsMs / 1000)) };
  if (dcmtk && has(dcmtk)) {
    dcmtkDecode(dcmtk, path);
    const theirs = [];
    for (let i = 0; i < RUNS; i++) theirs.push(dcmtkDecode(dcmtk, path).ms);
    row.dcmtk_tool = dcmtk;
    row.dcmtk_ms = round(median(theirs));
    row.ratio_vs_dcmtk = round(median(theirs) / vitalsMs, 2);
    // Same decoded values as dcmtk: min/max printed by dcm2pnm -im (exact for the lossless syntaxes).
    const run = spawnSync(dcmtk, ['-v', '-im', '-o', '+Fa', path], { encoding: 'utf8' });
    const info = run.stdout + run.stderr;
    const dmin = Number(/minimum pixel value : (-?[\d.]+)/.exec(info)?.[1]);
    const dmax = Number(/maximum pixel value : (-?[\d.]+)/.exec(info)?.[1]);
    row.same_min_max_as_dcmtk = ours[0].stats.min === dmin && ours[0].stats.max === dmax;
    if (!row.same_min_max_as_dcmtk && !/baseline|Extended/.test(label)) failed = true;
  }
  if (pydicom?.ms[path] !== undefined) {
    row.pydicom_ms = round(pydicom.ms[path]);
    row.ratio_vs_pydicom = round(pydicom.ms[path] / vitalsMs, 2);
  }
  results.dicom.push(row);
}

// ---------------------------------------------------------------- NIfTI 512×512×100 int16
const dims = [512, 512, 100];
const header = Buffer.alloc(352);
header.writeInt32LE(348, 0);
[3, ...dims, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
header.writeInt16LE(4, 70);
header.writeInt16LE(16, 72);
[1, 0.7, 0.7, 2.5, 1, 1, 1, 1].forEach((d, i) => header.writeFloatLE(d, 76 + 4 * i));
header.writeFloatLE(352, 108);
header.writeFloatLE(1, 112);
header.writeFloatLE(-1024, 116);
header.writeUInt8(2, 123);
header.write('n+1\0', 344, 'latin1');
const vox = Buffer.alloc(dims[0] * dims[1] * dims[2] * 2);
for (let i = 0; i < vox.length / 2; i++) vox.writeInt16LE(ct[i % ct.length] ?? 0, i * 2);
const nii = Buffer.concat([header, vox]);
const niiPath = join(tmp, 'vol.nii');
writeFileSync(niiPath, nii);
const gzPath = join(tmp, 'vol.nii.gz');
writeFileSync(gzPath, gzipSync(nii, { level: 6 }));
const load = async (path) => {
  const started = performance.now();
  const { image } = await mm.describeImage(readFileSync(path), { filename: path, deid: { salt: 'bench-salt-0123456789', dates: 'shift' }, limits: { maxDecodedBytes: 1 << 30 } });
  return { ms: performance.now() - started, stats: image.image_statistics };
};
await load(niiPath);
const niiRuns = [],
  gzRuns = [];
for (let i = 0; i < RUNS; i++) {
  niiRuns.push((await load(niiPath)).ms);
  gzRuns.push((await load(gzPath)).ms);
}
results.nifti = { shape: dims, mb: round(vox.length / 1024 ** 2, 1), nii_ms: round(median(niiRuns)), nii_gz_ms: round(median(gzRuns)) };
if (spawnSync(py, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0) {
  const code = `import time,sys,nibabel as nib\nfor p in sys.argv[1:]:\n  ts=[]\n  for i in range(${RUNS}):\n    t=time.perf_counter(); a=nib.load(p).get_fdata(); a.mean(); a.std(); ts.append((time.perf_counter()-t)*1000)\n  ts.sort(); print(ts[len(ts)//2])`;
  const [a, b] = execFileSync(py, ['-c', code, niiPath, gzPath], { encoding: 'utf8' }).trim().split('\n').map(Number);
  Object.assign(results.nifti, { nibabel_nii_ms: round(a), nibabel_nii_gz_ms: round(b) });
}

console.log(`\nDICOM decode to windowed 8-bit frames, 512×512×${FRAMES}, median of ${RUNS}; ratio = reference time / Vitals time (above 1: Vitals is faster):`);
console.table(results.dicom);
console.log('NIfTI 512×512×100 int16 load + statistics (median):');
console.table([results.nifti]);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/multimodal.json'), JSON.stringify(results, null, 2));
if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
if (!has('dcm2pnm')) console.log('dcmtk not found (bash scripts/bench/dcmtk.sh): no dcmtk column this run.');
if (failed) {
  console.error('FAILED: Vitals and dcmtk disagree on the decoded values');
  process.exit(1);
}
