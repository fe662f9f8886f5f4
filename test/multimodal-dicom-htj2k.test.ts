/**
 * High-Throughput JPEG 2000 (1.2.840.10008.1.2.4.201-203), decoded with OpenJPH, on fixtures whose
 * codestreams OpenJPH's encoder wrote and pydicom wrapped (scripts/fixtures/make-htj2k-fixtures.sh):
 * the lossless ones must give back the native fixture they were made from, sample for sample; the
 * irreversible one within its quantisation error. (test/services/multimodal-pydicom.test.ts checks
 * the same files against pydicom's OpenJPEG decode.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeImage, readDicomImage } from '../src/multimodal/index.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/dicom/${name}.dcm`, import.meta.url));
const deid = { salt: 'htj2k', dates: 'remove' as const };

/** The progression order in the codestream's COD marker (0 LRCP … 2 RPCL). */
function progressionOrder(dcm: Buffer): number {
  const at = dcm.indexOf(Buffer.from([0xff, 0x52])); // COD: Lcod(2) Scod(1) then SGcod: progression order first
  return dcm[at + 5]!;
}

async function stored(name: string) {
  const r = await readDicomImage(fixture(name));
  return { r, values: r.pixels.frames.flatMap((f) => Array.from(f as ArrayLike<number>)) };
}

describe('HTJ2K', () => {
  it('4.201 lossless: the 12-bit signed CT comes back sample for sample', async () => {
    const ht = await stored('ct_htj2k');
    const native = await stored('ct_explicit_le');
    expect(ht.r.file.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.201');
    expect(ht.r.pixels.compressed).toBe(true);
    expect(ht.r.pixels.dtype).toBe('int16');
    expect(ht.values).toEqual(native.values);
    const { image } = await describeImage(fixture('ct_htj2k'), { deid });
    const ref = (await describeImage(fixture('ct_explicit_le'), { deid })).image.image_statistics;
    expect(image.image_statistics).toMatchObject({ shape: ref.shape, mean_value: ref.mean_value, std_value: ref.std_value, min: ref.min, max: ref.max, units: 'HU' });
  });

  it('4.202 lossless RPCL: RGB through the reversible colour transform comes back exactly', async () => {
    const dcm = fixture('us_rgb_htj2k_rpcl');
    expect(progressionOrder(dcm)).toBe(2);
    const ht = await stored('us_rgb_htj2k_rpcl');
    const native = await stored('us_rgb');
    expect(ht.r.file.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.202');
    expect(ht.r.pixels.pixelModule.photometric).toBe('YBR_RCT');
    expect(ht.r.pixels.photometric).toBe('RGB');
    expect(ht.values).toEqual(native.values);
  });

  it('4.203 irreversible: three frames within the quantisation error, statistics close to the source', async () => {
    const ht = await stored('mf_ct_htj2k_lossy');
    const native = await stored('mf_ct_3frames');
    expect(ht.r.file.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.203');
    expect(ht.r.pixels.frames).toHaveLength(3);
    let maxDiff = 0;
    let same = 0;
    ht.values.forEach((v, i) => {
      const d = Math.abs(v - native.values[i]!);
      maxDiff = Math.max(maxDiff, d);
      if (d === 0) same++;
    });
    // quantisation step 0.002 of a 16-bit range: errors of a few hundred HU at most (OpenJPEG's decode: 216)
    expect(maxDiff).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThanOrEqual(300);
    expect(same / ht.values.length).toBeLessThan(0.99);
    expect(Math.abs(ht.r.stats.mean - native.r.stats.mean)).toBeLessThan(2);
    expect(Math.abs(ht.r.stats.std - native.r.stats.std) / native.r.stats.std).toBeLessThan(0.01);
  });

  it('a broken HTJ2K frame is refused with a clear error and the decoder keeps working', async () => {
    const at = fixture('ct_htj2k').indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]));
    const lying = Buffer.from(fixture('ct_htj2k'));
    lying.writeUInt32BE(4096, at + 8); // SIZ says 4096 columns, the DICOM header 64
    await expect(readDicomImage(lying)).rejects.toMatchObject({ code: 'UNPROCESSABLE_IMAGE', message: expect.stringMatching(/declares 4096×64×1 but the DICOM header says 64×64×1/) });
    const broken = Buffer.from(fixture('ct_htj2k'));
    broken.fill(0xff, at + 45, broken.length - 20); // markers after SIZ destroyed
    await expect(readDicomImage(broken)).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: expect.stringMatching(/could not decode the compressed frame \(HTJ2KDecoder/) });
    expect((await stored('ct_htj2k')).values).toEqual((await stored('ct_explicit_le')).values);
  });
});
