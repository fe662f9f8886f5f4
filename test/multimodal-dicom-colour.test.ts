/** Colour layouts no committed fixture holds, written by test/helpers/dicom-writer.ts. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE_LIMITS, decodeFrames, readDicomFile } from '../src/multimodal/index.js';
import { writeDicom } from './helpers/dicom-writer.js';

describe('native YBR_FULL_422', () => {
  it('reads 2 bytes per pixel (Y1 Y2 Cb Cr) and upsamples the chroma', async () => {
    // 4×2 pixels: Y ramps, chroma neutral for the first pair of each row, red-shifted for the second
    const pixels = new Uint8Array([10, 20, 128, 128, 30, 40, 128, 200, 50, 60, 128, 128, 70, 80, 128, 200]);
    const file = readDicomFile(
      writeDicom([
        { tag: [0x0008, 0x0060], vr: 'CS', value: 'OT' },
        { tag: [0x0028, 0x0002], vr: 'US', value: 3 },
        { tag: [0x0028, 0x0004], vr: 'CS', value: 'YBR_FULL_422' },
        { tag: [0x0028, 0x0006], vr: 'US', value: 0 },
        { tag: [0x0028, 0x0010], vr: 'US', value: 2 },
        { tag: [0x0028, 0x0011], vr: 'US', value: 4 },
        { tag: [0x0028, 0x0100], vr: 'US', value: 8 },
        { tag: [0x0028, 0x0101], vr: 'US', value: 8 },
        { tag: [0x0028, 0x0102], vr: 'US', value: 7 },
        { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
        { tag: [0x7fe0, 0x0010], vr: 'OB', value: pixels },
      ]),
      { maxInflatedBytes: 1 << 20 },
    );
    const decoded = await decodeFrames(file, DEFAULT_IMAGE_LIMITS);
    expect(decoded.photometric).toBe('RGB');
    const rgb = Array.from(decoded.frames[0]!);
    expect(rgb.length).toBe(4 * 2 * 3);
    // neutral chroma: R = G = B = Y
    expect(rgb.slice(0, 6)).toEqual([10, 10, 10, 20, 20, 20]);
    // Cr 200: red above Y (Y + 1.402 × 72 ≈ Y + 101), green below, blue = Y; both pixels of the pair share it
    expect(rgb[6]).toBe(30 + 101);
    expect(rgb[7]!).toBeLessThan(30);
    expect(rgb[8]).toBe(30);
    expect(rgb[9]).toBe(40 + 101);
    expect(rgb.slice(12, 18)).toEqual([50, 50, 50, 60, 60, 60]);
  });
});
