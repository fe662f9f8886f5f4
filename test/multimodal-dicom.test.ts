/**
 * DICOM reading against dcmtk: every fixture made by scripts/fixtures/make-dicom-fixtures.sh is
 * parsed and decoded here and compared with what dcmdump printed (attributes), with statistics of
 * dcmtk's own decompression (pixels; pydicom for JPEG 2000, which dcmtk does not decode), and with
 * dcm2pnm's renderings (VOI windows, VOI LUT, MONOCHROME1, colour).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { T } from '../src/multimodal/dicom-tags.js';
import { text } from '../src/multimodal/dicom-values.js';
import { chooseVoi, decodeFrames, readDicomFile, readDicomImage, readVoi, renderFrame8 } from '../src/multimodal/index.js';
import { readPnm } from './helpers/pnm.js';

const dir = new URL('./fixtures/dicom/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
interface Ref {
  dcmdump: Record<string, string>;
  pixels: { count: number; mean: number; std: number; min: number; max: number; stored_min: number; stored_max: number; dcmtk_min?: number | null; dcmtk_max?: number | null };
  renders: Array<{ voi: string; file: string }>;
}
const reference = JSON.parse(read('reference.json').toString()) as Record<string, Ref>;
const names = Object.keys(reference).sort();

/** dcmdump prints well-known transfer syntaxes by dcmtk's names. */
const DCMTK_TS: Record<string, string> = {
  '=LittleEndianExplicit': '1.2.840.10008.1.2.1',
  '=LittleEndianImplicit': '1.2.840.10008.1.2',
  '=BigEndianExplicit': '1.2.840.10008.1.2.2',
  '=DeflatedLittleEndianExplicit': '1.2.840.10008.1.2.1.99',
  '=JPEGBaseline': '1.2.840.10008.1.2.4.50',
  '=JPEGLossless:Non-hierarchical-1stOrderPrediction': '1.2.840.10008.1.2.4.70',
  '=JPEGLossless:Non-hierarchical:Process14': '1.2.840.10008.1.2.4.57',
  '=JPEGLSLossless': '1.2.840.10008.1.2.4.80',
  '=JPEGLSLossy': '1.2.840.10008.1.2.4.81',
  '=JPEG2000LosslessOnly': '1.2.840.10008.1.2.4.90',
  '=RLELossless': '1.2.840.10008.1.2.5',
};

/** dcmtk applies the file's VOI LUT Function (e.g. SIGMOID) to a computed min-max window too; we do not, so the test asks for it. */
function minMaxLikeDcmtk(choice: ReturnType<typeof chooseVoi>, fn: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' | undefined) {
  return choice.kind === 'window' && fn ? { ...choice, window: { ...choice.window, function: fn } } : choice;
}

describe('DICOM against dcmtk (reference values recorded by the fixture script)', () => {
  it('covers the transfer syntaxes and encodings the issue lists', () => {
    const syntaxes = new Set(names.map((n) => readDicomFile(read(`${n}.dcm`), { maxInflatedBytes: 1 << 26 }).transferSyntaxUid));
    for (const ts of Object.values(DCMTK_TS)) expect(syntaxes).toContain(ts);
    const encodings = new Set(names.map((n) => readDicomFile(read(`${n}.dcm`), { maxInflatedBytes: 1 << 26 }).encoding));
    expect([...encodings].sort()).toEqual(['dataset-only', 'part10', 'part10-without-preamble']);
  });

  it.each(names)('%s: attributes equal dcmdump', (name) => {
    const ref = reference[name]!.dcmdump;
    const file = readDicomFile(read(`${name}.dcm`), { maxInflatedBytes: 1 << 26 });
    const ds = file.dataSet;
    const keys: Array<keyof typeof T> = [
      'PatientID',
      'PatientName',
      'PatientBirthDate',
      'StudyDate',
      'Modality',
      'Manufacturer',
      'ManufacturerModelName',
      'SOPInstanceUID',
      'StudyInstanceUID',
      'PhotometricInterpretation',
      'RescaleType',
      'WindowCenter',
      'WindowWidth',
      'RescaleIntercept',
      'RescaleSlope',
      'PixelSpacing',
      'KVP',
    ];
    for (const k of keys) if (ref[k] !== undefined) expect(text(ds, T[k]) ?? '', k).toBe(ref[k]);
    for (const k of ['Rows', 'Columns', 'BitsAllocated', 'BitsStored', 'HighBit', 'PixelRepresentation', 'SamplesPerPixel'] as const) {
      expect(ds.uint16(T[k]), k).toBe(Number(ref[k]));
    }
    if (ref.TransferSyntaxUID) expect(file.transferSyntaxUid).toBe(DCMTK_TS[ref.TransferSyntaxUID] ?? ref.TransferSyntaxUID);
  });

  it.each(names)('%s: pixel statistics in real units equal dcmtk-decoded values', async (name) => {
    const ref = reference[name]!.pixels;
    const r = await readDicomImage(read(`${name}.dcm`));
    expect(r.stats.count).toBe(ref.count);
    expect(r.stats.mean).toBeCloseTo(ref.mean, 6);
    expect(r.stats.std).toBeCloseTo(ref.std, 6);
    expect(r.stats.min).toBe(ref.min);
    expect(r.stats.max).toBe(ref.max);
    // dcm2pnm's own min/max of modality-transformed values (printed as integers)
    if (ref.dcmtk_min != null) expect(Math.abs(r.stats.min - ref.dcmtk_min)).toBeLessThanOrEqual(0.5);
    if (ref.dcmtk_max != null) expect(Math.abs(r.stats.max - ref.dcmtk_max)).toBeLessThanOrEqual(0.5);
  });

  const renders = names.flatMap((n) => reference[n]!.renders.map((r) => [n, r.voi, r.file] as const));
  it.each(renders)('%s rendered with %s equals dcm2pnm', async (name, voiLabel, pnmFile) => {
    const pnm = readPnm(read(pnmFile));
    const file = readDicomFile(read(`${name}.dcm`), { maxInflatedBytes: 1 << 26 });
    const decoded = await decodeFrames(file, { maxDecodedBytes: 1 << 28 }, [0]);
    const frame = decoded.frames[0]!;
    let ours: Uint8Array;
    if (voiLabel === 'color') ours = frame as Uint8Array;
    else {
      const r = await readDicomImage(read(`${name}.dcm`), undefined, [0]);
      const voi = readVoi(file.dataSet);
      const choice =
        voiLabel === 'window1'
          ? { kind: 'window' as const, window: voi.windows[0]!, source: 'file window' }
          : voiLabel === 'window2'
            ? { kind: 'window' as const, window: voi.windows[1]!, source: 'file window' }
            : voiLabel === 'voilut1'
              ? { kind: 'lut' as const, lut: voi.luts[0]!, source: 'file VOI LUT' }
              : minMaxLikeDcmtk(chooseVoi({ windows: [], luts: [] }, r.stats), voi.windows[0]?.function);
      ours = renderFrame8(frame, r.modality, choice, decoded.pixelModule.photometric === 'MONOCHROME1');
    }
    expect(pnm.width).toBe(decoded.pixelModule.columns);
    expect(pnm.height).toBe(decoded.pixelModule.rows);
    expect(ours.length).toBe(pnm.data.length);
    let exact = 0;
    let worst = 0;
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i]! - pnm.data[i]!);
      if (d === 0) exact++;
      worst = Math.max(worst, d);
    }
    // Known, documented differences from dcmtk (not errors of either):
    // - lossy JPEG colour goes through two different IDCTs and colour converters (libjpeg-turbo vs IJG 6b);
    // - dcmtk indexes its VOI table by integer modality values, we window the exact (fractional) value;
    // - dcmtk scales a 12-bit VOI LUT's output by 254/4095, we by 255/4095 (full range).
    const lossyColour = name === 'us_rgb_jpeg_baseline';
    const fractionalRescale = name.startsWith('mr_');
    const voiLut = voiLabel === 'voilut1';
    expect(worst, `largest difference from dcm2pnm`).toBeLessThanOrEqual(lossyColour ? 4 : 1);
    expect(exact / ours.length, 'share of pixels equal to dcm2pnm').toBeGreaterThanOrEqual(lossyColour ? 0.7 : voiLut ? 0.2 : fractionalRescale ? 0.9 : 0.98);
  });

  it('decodes 12-bit lossy JPEG (JPEG Extended, process 4) close to the CT it was made from', async () => {
    // dcmcjpeg +ee (IJG at quality 90) made it from ct_explicit_le; dcmtk's and pydicom's own decodes
    // differ from the source by at most 16 HU (test/services/imaging-conformance.test.ts compares with pydicom's pixel by pixel)
    const jpeg = await readDicomImage(read('ct_jpeg_extended12.dcm'));
    const source = await readDicomImage(read('ct_explicit_le.dcm'));
    expect(jpeg.file.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.51');
    const a = jpeg.pixels.frames[0]!;
    const b = source.pixels.frames[0]!;
    let worst = 0;
    let total = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! * jpeg.modality.slope + jpeg.modality.intercept - (b[i]! * source.modality.slope + source.modality.intercept));
      worst = Math.max(worst, d);
      total += d;
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(17);
    expect(total / a.length).toBeLessThan(4);
    expect(Math.abs(jpeg.stats.mean - source.stats.mean)).toBeLessThan(0.5);
  });

  it('checks declared dimensions against the cap (413) and the bytes present (422) before allocating', async () => {
    await expect(readDicomImage(read('ct_absurd_dims.dcm'))).rejects.toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    await expect(readDicomImage(read('ct_short_pixels.dcm'))).rejects.toMatchObject({ statusCode: 422, message: expect.stringMatching(/holds 8192 bytes/) });
  });

  it('caps inflation of a deflated data set', async () => {
    expect(() => readDicomFile(read('ct_deflated.dcm'), { maxInflatedBytes: 4096 })).toThrow(expect.objectContaining({ statusCode: 413, message: expect.stringMatching(/inflates to more than/) }));
    expect(readDicomFile(read('ct_deflated.dcm'), { maxInflatedBytes: 1 << 20 }).transferSyntaxUid).toBe('1.2.840.10008.1.2.1.99');
  });

  it('multi-frame files decode every frame; one frame can be asked for', async () => {
    const all = await readDicomImage(read('mf_jpegls.dcm'));
    expect(all.pixels.frames).toHaveLength(3);
    const second = await readDicomImage(read('mf_rle.dcm'), undefined, [1]);
    expect(Array.from(second.pixels.frames[0]!)).toEqual(Array.from(all.pixels.frames[1]!));
  });
});
