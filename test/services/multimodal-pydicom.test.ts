/**
 * Our readers against independent Python readers run in this same test: pydicom (with pylibjpeg
 * codecs) for every DICOM fixture and nibabel for every NIfTI fixture, from the project's .venv
 * (made by scripts/services/python-peers.sh). A missing venv fails with the command to make it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deidentifyDicomFile, describeImage } from '../../src/multimodal/index.js';

const PY = process.env.VITALS_PYTHON ?? fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const dicomDir = fileURLToPath(new URL('../fixtures/dicom/', import.meta.url));
const niftiDir = fileURLToPath(new URL('../fixtures/nifti/', import.meta.url));
const SKIP = new Set(['ct_absurd_dims.dcm', 'ct_short_pixels.dcm']);

const SCRIPT = String.raw`
import io, json, sys, os
import numpy as np, pydicom, nibabel as nib
from pydicom.pixels import apply_modality_lut
out = {}
for d, kind in ((sys.argv[1], 'dicom'), (sys.argv[2], 'nifti')):
    for name in sorted(os.listdir(d)):
        path = os.path.join(d, name)
        if kind == 'dicom' and name.endswith('.dcm') and name not in sys.argv[3].split(','):
            raw = open(path, 'rb').read()
            if raw[:4] == b'DICM':  # meta header without preamble: pydicom wants the preamble back
                raw = bytes(128) + raw
            ds = pydicom.dcmread(io.BytesIO(raw), force=True)
            if 'TransferSyntaxUID' not in ds.file_meta:
                ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
            a = ds.pixel_array
            v = a.astype(np.float64) if ds.SamplesPerPixel == 3 else apply_modality_lut(a, ds).astype(np.float64)
            out[name] = {'shape': list(a.shape), 'mean': float(v.mean()), 'std': float(v.std()), 'min': float(v.min()), 'max': float(v.max())}
        elif kind == 'nifti' and '.nii' in name:
            a = nib.load(path).get_fdata()
            out[name] = {'shape': list(a.shape), 'mean': float(a.mean()), 'std': float(a.std()), 'min': float(a.min()), 'max': float(a.max())}
print(json.dumps({'versions': {'pydicom': pydicom.__version__, 'nibabel': nib.__version__}, 'files': out}))
`;

describe('against pydicom and nibabel, run live', () => {
  it('every DICOM and NIfTI fixture has the statistics the Python readers compute', async () => {
    if (!existsSync(PY)) throw new Error(`no Python with pydicom/nibabel at ${PY}: run "bash scripts/services/python-peers.sh" first`);
    const result = JSON.parse(execFileSync(PY, ['-c', SCRIPT, dicomDir, niftiDir, [...SKIP].join(',')], { encoding: 'utf8', maxBuffer: 1 << 24 })) as {
      versions: Record<string, string>;
      files: Record<string, { shape: number[]; mean: number; std: number; min: number; max: number }>;
    };
    console.log('peers:', result.versions);
    const names = [...readdirSync(dicomDir).filter((n) => n.endsWith('.dcm') && !SKIP.has(n)), ...readdirSync(niftiDir).filter((n) => n.includes('.nii'))];
    expect(Object.keys(result.files).sort()).toEqual(names.sort());
    for (const name of names) {
      const py = result.files[name]!;
      const { image } = await describeImage(readFileSync(`${name.includes('.nii') ? niftiDir : dicomDir}${name}`), { filename: name, deid: { salt: 'peer-salt-0123456789', dates: 'shift' } });
      const s = image.image_statistics;
      // Lossy JPEG: libjpeg (pydicom's pylibjpeg) and libjpeg-turbo may differ by a level here and there;
      // irreversible HTJ2K: OpenJPEG (pydicom's) and OpenJPH round the inverse 9/7 wavelet each their own way.
      const lossy = name.includes('jpeg_baseline') || name.includes('jpeg_extended12') || name.includes('htj2k_lossy');
      const tol = lossy ? 0.5 : 1e-6;
      expect(Math.abs(s.mean_value - py.mean), `${name} mean`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(py.mean)));
      expect(Math.abs(s.std_value - py.std), `${name} std`).toBeLessThanOrEqual(tol * Math.max(1, py.std));
      expect(Math.abs(s.min - py.min), `${name} min`).toBeLessThanOrEqual(lossy ? 3 : 0);
      expect(Math.abs(s.max - py.max), `${name} max`).toBeLessThanOrEqual(lossy ? 3 : 0);
      expect(
        s.shape.reduce((a, b) => a * b, 1),
        `${name} size`,
      ).toBe(py.shape.reduce((a, b) => a * b, 1));
    }
  }, 60_000);
});

const DEID_SCRIPT = String.raw`
import io, json, sys, os
import numpy as np, pydicom
out = {}
for name in sorted(os.listdir(sys.argv[1])):
    raw = open(os.path.join(sys.argv[1], name), 'rb').read()
    ds = pydicom.dcmread(io.BytesIO(bytes(128) + raw if raw[:4] == b'DICM' else raw))
    a = ds.pixel_array
    out[name] = {'sha': __import__('hashlib').sha256(np.ascontiguousarray(a).tobytes()).hexdigest(), 'patient_name': str(ds.get('PatientName', '')), 'patient_id': str(ds.get('PatientID', '')),
                 'removed': str(ds.get('PatientIdentityRemoved', '')), 'birth_date': str(ds.get('PatientBirthDate', ''))}
print(json.dumps(out))
`;

describe('whole-file de-identification, read back by pydicom', () => {
  it('every de-identified fixture opens in pydicom with the same pixel array and the pseudonym as the patient', async () => {
    if (!existsSync(PY)) throw new Error(`no Python with pydicom at ${PY}: run "bash scripts/services/python-peers.sh" first`);
    const [orig, clean] = [mkdtempSync(join(tmpdir(), 'vitals-pyd-orig-')), mkdtempSync(join(tmpdir(), 'vitals-pyd-deid-'))];
    try {
      const names = readdirSync(dicomDir).filter((n) => n.endsWith('.dcm') && !SKIP.has(n) && n !== 'ct_dataset_only.dcm'); // pydicom needs a meta group
      const keys: Record<string, string | null> = {};
      for (const n of names) {
        const bytes = readFileSync(`${dicomDir}${n}`);
        writeFileSync(join(orig, n), bytes);
        const d = deidentifyDicomFile(bytes, { salt: 'peer-salt-0123456789', dates: 'shift' }, { maxInflatedBytes: 1 << 28 });
        writeFileSync(join(clean, n), d.bytes);
        keys[n] = d.patientKey;
      }
      const run = (dir: string) =>
        JSON.parse(execFileSync(PY, ['-c', DEID_SCRIPT, dir], { encoding: 'utf8', maxBuffer: 1 << 24 })) as Record<
          string,
          { sha: string; patient_name: string; patient_id: string; removed: string; birth_date: string }
        >;
      const [before, after] = [run(orig), run(clean)];
      for (const n of names) {
        expect(after[n]!.sha, `${n} pixels`).toBe(before[n]!.sha);
        expect(after[n]!.removed, n).toBe('YES');
        expect(after[n]!.birth_date, n).toBe('');
        if (keys[n]) expect([after[n]!.patient_name, after[n]!.patient_id], n).toEqual([keys[n], keys[n]]);
      }
    } finally {
      rmSync(orig, { recursive: true, force: true });
      rmSync(clean, { recursive: true, force: true });
    }
  }, 120_000);
});
