/**
 * Fuzzing the readers with fast-check: valid fixtures (every container and codec) are truncated,
 * bit-flipped, overwritten in their headers, spliced and padded. Whatever comes in, the answer is a
 * result or a VitalsError with 400, 413, 415 or 422: never a crash, a hang or another error. Memory
 * stays bounded by the caps given (small here, so that a wrong size check would show).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VitalsError } from '../src/errors.js';
import { analyseReport, describeImage } from '../src/multimodal/index.js';

const fx = (p: string) => new Uint8Array(readFileSync(new URL(`./fixtures/${p}`, import.meta.url)));
const BASES = [
  'dicom/ct_explicit_le.dcm',
  'dicom/ct_implicit_le.dcm',
  'dicom/ct_explicit_be.dcm',
  'dicom/ct_deflated.dcm',
  'dicom/ct_dataset_only.dcm',
  'dicom/ct_no_preamble.dcm',
  'dicom/ct_jpegls.dcm',
  'dicom/ct_rle.dcm',
  'dicom/ct_jpeg_lossless_sv1.dcm',
  'dicom/ct_j2k.dcm',
  'dicom/ct_jpeg_extended12.dcm',
  'dicom/ct_htj2k.dcm',
  'dicom/us_rgb_htj2k_rpcl.dcm',
  'dicom/dx_chest_jpeg_baseline.dcm',
  'dicom/us_rgb_rle.dcm',
  'dicom/us_rgb_jpeg_baseline.dcm',
  'dicom/mf_jpegls.dcm',
  'dicom/mf_jpeg_lossless_sv6.dcm',
  'dicom/cr_chest_mono1.dcm',
  'nifti/mr_series.nii',
  'nifti/mr_series_nifti2.nii.gz',
  'raster/three_pages.tif',
  'raster/dx_chest.png',
  'raster/dx_chest.jpg',
].map((p) => ({ name: p, bytes: fx(p) }));

const limits = { maxDecodedBytes: 16 * 1024 * 1024 };
const deid = { salt: 'fuzz-salt-0123456789', dates: 'shift' as const };

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; positions: number[]; values: number[] }
  | { kind: 'header'; at: number; bytes: number[] }
  | { kind: 'splice'; at: number; length: number; insert: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('flip' as const),
    positions: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
    values: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 8, maxLength: 8 }),
  }),
  // Headers hold the sizes: hit the first 1.5 kB hardest (meta header, pixel module, NIfTI header, codestream headers).
  fc.record({ kind: fc.constant('header' as const), at: fc.integer({ min: 0, max: 1536 }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.integer({ min: 0, max: 64 }),
    insert: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }),
  }),
);

function apply(src: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = new Uint8Array(src);
  for (const m of ms) {
    const pos = (f: number) => Math.min(b.length - 1, Math.floor(f * b.length));
    if (m.kind === 'truncate') b = b.subarray(0, pos(m.at));
    else if (m.kind === 'flip') m.positions.forEach((p, i) => b.length && (b[pos(p)] = m.values[i]!));
    else if (m.kind === 'header') m.bytes.forEach((v, i) => m.at + i < b.length && (b[m.at + i] = v));
    else {
      const at = pos(m.at);
      b = new Uint8Array([...b.subarray(0, at), ...m.insert, ...b.subarray(Math.min(b.length, at + m.length))]);
    }
  }
  return b;
}

async function outcome(bytes: Uint8Array, filename: string): Promise<'ok' | number> {
  try {
    const { image } = await describeImage(bytes, { filename, limits, deid });
    const s = image.image_statistics;
    expect(s.shape.every((d) => Number.isInteger(d) && d > 0)).toBe(true);
    return 'ok';
  } catch (err) {
    if (!(err instanceof VitalsError)) throw new Error(`${filename}: not a VitalsError: ${(err as Error)?.stack ?? String(err)}`);
    expect([400, 413, 415, 422], `${filename}: ${err.code} ${err.message}`).toContain(err.statusCode);
    return err.statusCode;
  }
}

describe('fuzzing the image readers', () => {
  it('mutated fixtures give a result or a 400/413/415/422, never anything else', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (base, ms) => {
        const r = await outcome(apply(base.bytes, ms), base.name.split('/')[1]!);
        seen.set(String(r), (seen.get(String(r)) ?? 0) + 1);
      }),
      { numRuns: 400, seed: 20240115, endOnFailure: true },
    );
    console.log('fuzz outcomes (result or status → count):', Object.fromEntries(seen));
    expect(seen.size).toBeGreaterThan(2); // the mutations do reach several code paths
  }, 30_000);

  it('random bytes under any name are refused cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom('a.dcm', 'a.nii', 'a.nii.gz', 'a.png', 'a.tif', 'a'), async (bytes, name) => {
        await outcome(bytes, name);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('the report extractor takes any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.array(fc.constantFrom('no ', 'pneumonia', 'FINDINGS:', '2.5 x 3 cm', 'cannot exclude', '; ', '\n', 'but'), { maxLength: 30 }), (s, words) => {
        const r = analyseReport(s + words.join(''));
        expect(r.text_length).toBe((s + words.join('')).length);
      }),
      { numRuns: 300, seed: 11 },
    );
  });
});
