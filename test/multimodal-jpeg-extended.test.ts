/**
 * Our sequential DCT JPEG decoder (src/multimodal/jpeg-extended.ts), which reads 12-bit JPEG
 * Extended. Its inverse DCT is libjpeg's integer "islow", so it must give exactly what libjpeg gives:
 * at 8 bits libjpeg-turbo (sharp) on real encoders' output, at 12 bits dcmtk's IJG decoder on the CT
 * that dcmtk compressed (ct_jpeg_extended12.dcmdjpeg.raw, made with the fixture by
 * scripts/fixtures/make-dicom-fixtures.sh); test/services/imaging-conformance.test.ts compares it
 * pixel by pixel with pydicom's libjpeg too.
 */
import { readFileSync } from 'node:fs';
import dicomParser from 'dicom-parser';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readDicomImage } from '../src/multimodal/index.js';
import { decodeJpegSequential } from '../src/multimodal/jpeg-extended.js';
import { VitalsError } from '../src/errors.js';

const read = (name: string) => readFileSync(new URL(`./fixtures/dicom/${name}`, import.meta.url));

/** how many samples differ (the lengths must agree) */
function differing(ours: Uint16Array, reference: ArrayLike<number>): number {
  expect(ours.length).toBe(reference.length);
  let n = 0;
  for (let i = 0; i < ours.length; i++) if (ours[i] !== reference[i]) n++;
  return n;
}

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
    expect(differing(ours.data, turbo)).toBe(0);
  });

  it('at 8 bits, gives exactly what libjpeg-turbo gives on textured images at low to full quality', async () => {
    // smooth waves plus noise: blocks with many AC coefficients, long Huffman codes, large values
    const [w, h] = [256, 200];
    let seed = 3;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const raw = Buffer.from(Array.from({ length: w * h }, (_, i) => 128 + 60 * Math.sin((i % w) / 9) + 40 * Math.cos(Math.floor(i / w) / 7) + 50 * (rnd() - 0.5)));
    for (const quality of [30, 75, 95, 100]) {
      const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('b-w')
        .jpeg({ quality })
        .toBuffer();
      const turbo = await sharp(jpeg).extractChannel(0).raw().toBuffer();
      expect(differing(decodeJpegSequential(jpeg).data, turbo), `quality ${quality}`).toBe(0);
    }
  });

  it('at 8 bits, gives what libjpeg-turbo gives on the baseline fixture', async () => {
    // grayscale: colour at 8 bits is libjpeg-turbo's job (its fancy upsampling and YCbCr conversion differ by design)
    for (const name of ['dx_chest_jpeg_baseline.dcm']) {
      const ours = decodeJpegSequential(firstFrame(read(name)));
      const turbo = await readDicomImage(read(name));
      expect(ours.precision).toBe(8);
      expect([ours.width, ours.height]).toEqual([turbo.pixels.pixelModule.columns, turbo.pixels.pixelModule.rows]);
      expect(differing(ours.data, turbo.pixels.frames[0]!), name).toBe(0);
    }
  });

  it('at 12 bits, gives exactly what dcmtk’s IJG decoder gives on what dcmtk encoded', () => {
    const img = decodeJpegSequential(firstFrame(read('ct_jpeg_extended12.dcm')));
    expect(img).toMatchObject({ width: 64, height: 64, precision: 12, components: 1 });
    const raw = read('ct_jpeg_extended12.dcmdjpeg.raw');
    const dcmtk = Uint16Array.from({ length: 64 * 64 }, (_, i) => raw.readUInt16LE(2 * i) & 0xfff);
    expect(new Set(dcmtk).size).toBeGreaterThan(100); // a real image, not a flat one
    expect(differing(img.data, dcmtk)).toBe(0);
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
