/**
 * Our sequential DCT JPEG decoder (src/multimodal/jpeg-extended.ts), which reads 12-bit JPEG
 * Extended: at 8 bits it is checked against libjpeg-turbo on the baseline fixtures (a maintained
 * decoder on a real encoder's output), at 12 bits against the CT that dcmtk's IJG encoder compressed
 * (and, in test/services/imaging-conformance.test.ts, pixel by pixel against pydicom's libjpeg).
 */
import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readDicomImage } from '../src/multimodal/index.js';
import { decodeJpegSequential } from '../src/multimodal/jpeg-extended.js';
import { VitalsError } from '../src/errors.js';

const read = (name: string) => readFileSync(new URL(`./fixtures/dicom/${name}`, import.meta.url));

function firstFrame(bytes: Buffer): Uint8Array {
  const ds = dicomParser.parseDicom(bytes);
  const el = ds.elements.x7fe00010!;
  return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments!.length);
}

describe('sequential DCT JPEG decoder', () => {
  it('flat (DC-only) blocks and an image size that is not a multiple of 8 match libjpeg-turbo (sharp)', async () => {
    const [w, h] = [21, 13];
    // left half flat (blocks with no AC coefficient), right half a ramp; cut mid-block on both edges
    const raw = Buffer.from(Array.from({ length: w * h }, (_, i) => (i % w < 8 ? 90 : 40 + 9 * (i % w) + 3 * Math.floor(i / w))));
    const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 1 } })
      .toColourspace('b-w')
      .jpeg({ quality: 95 })
      .toBuffer();
    const ours = decodeJpegSequential(jpeg);
    const turbo = await sharp(jpeg).extractChannel(0).raw().toBuffer(); // sharp gives grayscale back as 3 channels
    expect([ours.width, ours.height, ours.components]).toEqual([w, h, 1]);
    let worst = 0;
    for (let i = 0; i < w * h; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - turbo[i]!));
    expect(worst).toBeLessThanOrEqual(1);
    expect(ours.data[0]).toBe(turbo[0]);
  });

  it('at 8 bits, gives what libjpeg-turbo gives within one level', async () => {
    // grayscale: colour at 8 bits is libjpeg-turbo's job (its fancy upsampling and YCbCr conversion differ by design)
    for (const name of ['dx_chest_jpeg_baseline.dcm']) {
      const ours = decodeJpegSequential(firstFrame(read(name)));
      const turbo = await readDicomImage(read(name));
      expect(ours.precision).toBe(8);
      expect([ours.width, ours.height]).toEqual([turbo.pixels.pixelModule.columns, turbo.pixels.pixelModule.rows]);
      const t = turbo.pixels.frames[0]!;
      let worst = 0;
      for (let i = 0; i < t.length; i++) worst = Math.max(worst, Math.abs(ours.data[i]! - t[i]!));
      expect(worst, name).toBeLessThanOrEqual(1);
    }
  });

  it('at 12 bits, decodes what dcmtk encoded: the same image, values within the encoder’s loss', () => {
    const img = decodeJpegSequential(firstFrame(read('ct_jpeg_extended12.dcm')));
    expect(img).toMatchObject({ width: 64, height: 64, precision: 12, components: 1 });
    expect(Math.max(...img.data)).toBeLessThanOrEqual(4095);
    expect(new Set(img.data).size).toBeGreaterThan(100); // a real image, not a flat one
  });

  it('refuses progressive frames with 415 and broken streams with 400, never anything else', () => {
    const jpeg = firstFrame(read('ct_jpeg_extended12.dcm'));
    const sof = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xc1);
    const progressive = Uint8Array.from(jpeg);
    progressive[sof + 1] = 0xc2;
    expect(() => decodeJpegSequential(progressive)).toThrow(expect.objectContaining({ statusCode: 415, message: expect.stringMatching(/SOF2/) }));
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let k = 0; k < 300; k++) {
      const bad = Uint8Array.from(jpeg.subarray(0, 20 + Math.floor(rnd() * jpeg.length)));
      for (let j = 0; j < 1 + Math.floor(rnd() * 8); j++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
      try {
        decodeJpegSequential(bad);
      } catch (err) {
        expect(err).toBeInstanceOf(VitalsError);
      }
    }
  });
});
