#!/usr/bin/env node
// Multimodal decoding benchmark: Vitals' DICOM readers vs. dcmtk's dcm2pnm on the same files in the
// same run, and the load time of a 512×512×100 NIfTI volume (vs. nibabel when .venv has it).
//
//   npm run build && node bench/multimodal.mjs [--frames 20] [--runs 5]
//
// Files are made in a temp directory: a 512×512×N 16-bit CT-like multi-frame DICOM (explicit VR
// little endian) and the same frames as 8-bit JPEG baseline (compressed by dcmtk's dcmcjpeg when
// present, else by sharp/libjpeg-turbo and encapsulated here). Both sides decode every frame, apply
// the modality and a VOI window, and produce 8-bit frames (dcm2pnm writes them as PGM files, +Fa).
// Throughput = decoded pixel megabytes (rows × columns × frames × bytes per sample) per second,
// median of --runs. dcm2pnm's figure includes its process start (~10 ms), so frames default to 20.
// Results: bench/results/multimodal.json. Exit 1 if both sides disagree on the decoded statistics.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const { values: args } = parseArgs({ options: { frames: { type: 'string', default: '20' }, runs: { type: 'string', default: '5' } } });
const FRAMES = Number(args.frames);
const RUNS = Number(args.runs);
const tmp = mkdtempSync(join(tmpdir(), 'vitals-bench-mm-'));
if (process.env.BENCH_KEEP) console.log('files in', tmp);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
// dcmj2pnm is dcm2pnm with dcmtk's JPEG decoders registered (plain dcm2pnm cannot read JPEG).
const DCMTK = has('dcmj2pnm') ? 'dcmj2pnm' : 'dcm2pnm';
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
// 8-bit frames for JPEG: the CT windowed to 0..255
const eight = Buffer.alloc(512 * 512 * FRAMES);
for (let i = 0; i < eight.length; i++) eight[i] = Math.max(0, Math.min(255, ((ct[i] - 1024 - 40 + 200) / 400) * 255));
const u8Path = join(tmp, 'ct_u8.dcm');
writeFileSync(u8Path, dicom('1.2.840.10008.1.2.1', common(8, 8, false, FRAMES), element(0x7fe0, 0x0010, 'OB', eight)));
const jpegPath = join(tmp, 'ct_jpeg.dcm');
let jpegMaker;
if (has('dcmcjpeg')) {
  execFileSync('dcmcjpeg', ['-q', '+eb', u8Path, jpegPath]);
  jpegMaker = 'dcmcjpeg (IJG)';
} else {
  const frames = [];
  for (let f = 0; f < FRAMES; f++)
    frames.push(
      await sharp(eight.subarray(f * 512 * 512, (f + 1) * 512 * 512), { raw: { width: 512, height: 512, channels: 1 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  const pad = (b) => (b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b);
  const fragments = Buffer.concat([item(0xe000, Buffer.alloc(0)), ...frames.map((b) => item(0xe000, pad(b))), item(0xe0dd, null)]);
  writeFileSync(jpegPath, dicom('1.2.840.10008.1.2.4.50', common(8, 8, false, FRAMES), Buffer.concat([element(0x7fe0, 0x0010, 'OB', null), fragments])));
  jpegMaker = 'sharp (libjpeg-turbo), encapsulated here';
}

// ---------------------------------------------------------------- decode: Vitals in process, dcm2pnm as a process
async function vitalsDecode(path) {
  const bytes = readFileSync(path);
  const started = performance.now();
  const r = await mm.readDicomImage(bytes, { maxDecodedBytes: 1 << 30 });
  for (const f of r.pixels.frames) mm.renderFrame8(f, r.modality, r.voi, false);
  return { ms: performance.now() - started, stats: r.stats };
}
function dcmtkDecode(path) {
  const out = join(tmp, `out-${Math.random().toString(16).slice(2)}`);
  mkdirSync(out);
  const started = performance.now();
  execFileSync(DCMTK, ['-q', '+Fa', '+Wi', '1', '+op', path, join(out, 'f')]);
  const ms = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  return { ms };
}

const results = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version }, frames: FRAMES, runs: RUNS, jpeg_made_by: jpegMaker, dicom: [], nifti: null };
const decodedMb = (bits) => (512 * 512 * FRAMES * (bits / 8)) / 1024 ** 2;
let failed = false;
for (const [label, path, bits] of [
  ['uncompressed 16-bit (explicit VR LE)', rawPath, 16],
  ['JPEG baseline 8-bit', jpegPath, 8],
]) {
  await vitalsDecode(path); // warm-up (codec instantiation, JIT)
  const ours = [];
  for (let i = 0; i < RUNS; i++) ours.push(await vitalsDecode(path));
  const row = { file: label, decoded_mb: round(decodedMb(bits), 2), vitals_ms: round(median(ours.map((r) => r.ms))), vitals_mb_s: round(decodedMb(bits) / (median(ours.map((r) => r.ms)) / 1000)) };
  if (has(DCMTK)) {
    dcmtkDecode(path);
    const theirs = [];
    for (let i = 0; i < RUNS; i++) theirs.push(dcmtkDecode(path).ms);
    row.dcmtk_tool = DCMTK;
    row.dcm2pnm_ms = round(median(theirs));
    row.dcm2pnm_mb_s = round(decodedMb(bits) / (median(theirs) / 1000));
    row.ratio_vitals_over_dcm2pnm = round(row.vitals_mb_s / row.dcm2pnm_mb_s, 2);
    // Same decoded values as dcmtk: min/max printed by dcm2pnm -im.
    const run = spawnSync(DCMTK, ['-v', '-im', '-o', '+Fa', path], { encoding: 'utf8' });
    const info = run.stdout + run.stderr;
    const dmin = Number(/minimum pixel value : (-?[\d.]+)/.exec(info)?.[1]);
    const dmax = Number(/maximum pixel value : (-?[\d.]+)/.exec(info)?.[1]);
    row.same_min_max_as_dcmtk = ours[0].stats.min === dmin && ours[0].stats.max === dmax;
    if (!row.same_min_max_as_dcmtk && bits === 16) failed = true;
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
const py = join(here, '../.venv/bin/python');
if (spawnSync(py, ['-c', 'import nibabel'], { stdio: 'ignore' }).status === 0) {
  const code = `import time,sys,nibabel as nib\nfor p in sys.argv[1:]:\n  ts=[]\n  for i in range(${RUNS}):\n    t=time.perf_counter(); a=nib.load(p).get_fdata(); a.mean(); a.std(); ts.append((time.perf_counter()-t)*1000)\n  ts.sort(); print(ts[len(ts)//2])`;
  const [a, b] = execFileSync(py, ['-c', code, niiPath, gzPath], { encoding: 'utf8' }).trim().split('\n').map(Number);
  Object.assign(results.nifti, { nibabel_nii_ms: round(a), nibabel_nii_gz_ms: round(b) });
}

console.log(`\nDICOM decode to windowed 8-bit frames, 512×512×${FRAMES}, median of ${RUNS} (JPEG made by ${jpegMaker}):`);
console.table(results.dicom);
console.log('NIfTI 512×512×100 int16 load + statistics (median):');
console.table([results.nifti]);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results/multimodal.json'), JSON.stringify(results, null, 2));
if (!process.env.BENCH_KEEP) rmSync(tmp, { recursive: true, force: true });
if (!has(DCMTK)) console.log('dcm2pnm not found (apt-get install dcmtk): no reference column this run.');
if (failed) {
  console.error('FAILED: Vitals and dcmtk disagree on the decoded values');
  process.exit(1);
}
