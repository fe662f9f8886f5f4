/**
 * PALETTE COLOR → RGB with pydicom's apply_color_lut semantics. Expected RGB values are written
 * by hand from the tables below (not computed by the code under test).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE_LIMITS, decodeFrames, describeImage, readDicomFile } from '../src/multimodal/index.js';
import { type DicomElement, writeDicom } from './helpers/dicom-writer.js';

const words = (...xs: number[]) => new Uint8Array(Uint16Array.from(xs).buffer);
const bytes = (...xs: number[]) => Uint8Array.from(xs);

function paletteFile(indices: number[], descriptor: [number, number, number], luts: Uint8Array[], segmented = false): Buffer {
  const els: DicomElement[] = [
    { tag: [0x0008, 0x0060], vr: 'CS', value: 'OT' },
    { tag: [0x0010, 0x0010], vr: 'PN', value: 'Palette^Patient' },
    { tag: [0x0010, 0x0020], vr: 'LO', value: 'PAL-4711' },
    { tag: [0x0028, 0x0002], vr: 'US', value: 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: 'PALETTE COLOR' },
    { tag: [0x0028, 0x0010], vr: 'US', value: 2 },
    { tag: [0x0028, 0x0011], vr: 'US', value: 3 },
    { tag: [0x0028, 0x0100], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0101], vr: 'US', value: 8 },
    { tag: [0x0028, 0x0102], vr: 'US', value: 7 },
    { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
    { tag: [0x7fe0, 0x0010], vr: 'OB', value: Uint8Array.from(indices) },
  ];
  for (let c = 0; c < 3; c++) {
    els.push({ tag: [0x0028, 0x1101 + c], vr: 'US', value: words(...descriptor) });
    els.push({ tag: [0x0028, (segmented ? 0x1221 : 0x1201) + c], vr: 'OW', value: luts[c]! });
  }
  return writeDicom(els);
}

const decode = async (buf: Buffer) => decodeFrames(readDicomFile(buf, { maxInflatedBytes: 1 << 20 }), DEFAULT_IMAGE_LIMITS);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));

describe('PALETTE COLOR', () => {
  it('16-bit entries, first mapped value 10: below maps to the first entry, above to the last', async () => {
    const file = paletteFile([5, 10, 11, 12, 13, 200], [4, 10, 16], [words(0, 1000, 2000, 65535), words(100, 200, 300, 400), words(65535, 0, 0, 7)]);
    const d = await decode(file);
    expect(d.photometric).toBe('RGB');
    expect(d.channels).toBe(3);
    expect(d.dtype).toBe('uint16');
    const expected = [0, 100, 65535, 0, 100, 65535, 1000, 200, 0, 2000, 300, 0, 65535, 400, 7, 65535, 400, 7];
    expect(Array.from(d.frames[0]!)).toEqual(expected);
    const { image } = await describeImage(file, { deid: { salt: 'pal', dates: 'remove' } });
    expect(image.image_statistics.shape).toEqual([2, 3, 3]);
    expect(image.image_statistics.dtype).toBe('uint16');
    expect(image.image_statistics.mean_value).toBeCloseTo(mean(expected), 5);
    expect(image.image_statistics.std_value).toBeCloseTo(std(expected), 5);
    expect(image.image_statistics.min).toBe(0);
    expect(image.image_statistics.max).toBe(65535);
    expect(image.dicom_metadata?.photometric_interpretation).toBe('PALETTE COLOR');
    const json = JSON.stringify(image);
    expect(json).not.toContain('Palette^Patient');
    expect(json).not.toContain('PAL-4711');
  });

  it('8-bit entries packed one per byte come out as uint8', async () => {
    const d = await decode(paletteFile([0, 1, 2, 3, 3, 0], [4, 0, 8], [bytes(0, 85, 170, 255), bytes(255, 170, 85, 0), bytes(9, 9, 9, 200)]));
    expect(d.dtype).toBe('uint8');
    expect(d.frames[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(d.frames[0]!)).toEqual([0, 255, 9, 85, 170, 9, 170, 85, 9, 255, 0, 200, 255, 0, 200, 0, 255, 9]);
  });

  it('8-bit entries in 16-bit words stay 16-bit words (as pydicom reads them)', async () => {
    const d = await decode(paletteFile([0, 1, 2, 3, 3, 0], [4, 0, 8], [words(0, 85, 170, 255), words(255, 170, 85, 0), words(9, 9, 9, 200)]));
    expect(d.dtype).toBe('uint16');
    expect(Array.from(d.frames[0]!).slice(0, 6)).toEqual([0, 255, 9, 85, 170, 9]);
  });

  it('segmented tables: discrete, linear (rounded half to even) and indirect segments', async () => {
    const red = words(0, 1, 0, 1, 4, 400); // [0] then linear to 400 in 4 steps: 100 200 300 400
    const green = words(0, 2, 50, 60, 2, 1, 0, 0, 0, 1, 70); // [50 60], copy segment 0: [50 60], [70]
    const blue = words(0, 1, 10, 1, 4, 0); // [10] then 7.5 5 2.5 0 → 8 5 2 0
    const d = await decode(paletteFile([0, 1, 2, 3, 4, 9], [5, 0, 16], [red, green, blue], true));
    expect(Array.from(d.frames[0]!)).toEqual([0, 50, 10, 100, 60, 8, 200, 50, 5, 300, 60, 2, 400, 70, 0, 400, 70, 0]);
  });

  it('a palette image without its tables is a clear 422', async () => {
    const file = paletteFile([0, 1, 2, 3, 4, 5], [4, 0, 16], [words(1, 2, 3, 4), words(1, 2, 3, 4), words(1, 2, 3, 4)]);
    // cut the Red descriptor's tag so it is not found
    const broken = Buffer.from(file);
    const at = broken.indexOf(Buffer.from([0x28, 0x00, 0x01, 0x11]));
    broken[at + 2] = 0x05;
    await expect(decode(broken)).rejects.toThrow(/Palette Color Lookup Table Descriptor/);
  });
});
