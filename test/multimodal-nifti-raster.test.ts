/**
 * NIfTI-1/2 (plain, gzipped, big-endian, scaled) against nibabel, and PNG/JPEG/multi-page TIFF against
 * Pillow, from reference values the fixture script recorded; plus the volume-level safety checks.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { describeImage, readNifti } from '../src/multimodal/index.js';

const nifti = new URL('./fixtures/nifti/', import.meta.url);
const raster = new URL('./fixtures/raster/', import.meta.url);
const deid = { salt: 'test-salt-0123456789', dates: 'shift' as const };
const niftiRef = JSON.parse(readFileSync(new URL('reference.json', nifti), 'utf8')) as Record<
  string,
  { shape: number[]; zooms: number[]; orientation: string; mean: number; std: number; min: number; max: number; nifti_version: number; scl_slope: number; scl_inter: number }
>;
const rasterRef = JSON.parse(readFileSync(new URL('reference.json', raster), 'utf8')) as Record<
  string,
  { pages: number; width: number; height: number; mean: number; std: number; min: number; max: number }
>;

describe('NIfTI against nibabel', () => {
  it.each(Object.keys(niftiRef))('%s', async (name) => {
    const ref = niftiRef[name]!;
    const { image } = await describeImage(readFileSync(new URL(name, nifti)), { filename: name, deid });
    expect(image.format).toBe('nifti');
    expect(image.nifti_header!.version).toBe(ref.nifti_version);
    const s = image.image_statistics;
    expect(s.shape).toEqual(ref.shape);
    expect(s.voxel_spacing_mm).toEqual(ref.zooms);
    expect(s.orientation).toBe(ref.orientation);
    expect(s.mean_value).toBeCloseTo(ref.mean, 5);
    expect(s.std_value).toBeCloseTo(ref.std, 5);
    expect(s.min).toBe(ref.min);
    expect(s.max).toBe(ref.max);
    expect(image.nifti_header!.scl_slope).toBe(ref.scl_slope);
    expect(image.nifti_header!.scl_inter).toBe(ref.scl_inter);
    expect(JSON.stringify(image)).not.toMatch(/Doe|MRN-123456/);
  });

  const plain = readFileSync(new URL('mr_series.nii', nifti));

  it('caps gunzip output: a gzip bomb is a 413 after at most the cap', () => {
    const zeros = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    const bomb = Buffer.concat(Array.from({ length: 40 }, () => zeros)); // 640 MB inflated, ~650 kB on the wire
    expect(bomb.length).toBeLessThan(1024 * 1024);
    expect(() => readNifti(bomb, { maxDecodedBytes: 32 * 1024 * 1024 })).toThrow(expect.objectContaining({ statusCode: 413, message: expect.stringMatching(/inflates to more than/) }));
  });

  it('refuses absurd dimensions before allocating, and truncated voxel data', () => {
    const absurd = Buffer.from(plain);
    absurd.writeInt16LE(30000, 42); // dim[1]
    absurd.writeInt16LE(30000, 44); // dim[2]
    expect(() => readNifti(absurd, { maxDecodedBytes: 64 * 1024 * 1024 })).toThrow(expect.objectContaining({ statusCode: 413 }));
    const truncated = plain.subarray(0, plain.length - 100);
    expect(() => readNifti(truncated, { maxDecodedBytes: 64 * 1024 * 1024 })).toThrow(expect.objectContaining({ statusCode: 422, message: expect.stringMatching(/truncated/) }));
    const negative = Buffer.from(plain);
    negative.writeInt16LE(-5, 42);
    expect(() => readNifti(negative, { maxDecodedBytes: 64 * 1024 * 1024 })).toThrow(expect.objectContaining({ statusCode: 422 }));
    expect(() => readNifti(gzipSync(Buffer.from('not a nifti file at all, just text')), { maxDecodedBytes: 1 << 20 })).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => readNifti(plain.subarray(0, 1000).fill(7, 0, 10), { maxDecodedBytes: 1 << 20 })).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});

describe('raster images against Pillow', () => {
  it.each(Object.keys(rasterRef))('%s', async (name) => {
    const ref = rasterRef[name]!;
    const { image } = await describeImage(readFileSync(new URL(name, raster)), { filename: name, deid });
    const s = image.image_statistics;
    expect(image.raster!.pages).toBe(ref.pages);
    expect(s.shape).toEqual([ref.height, ref.width, ...(ref.pages > 1 ? [ref.pages] : [])]);
    // Pillow and libvips decode PNG and TIFF identically; baseline JPEG through different IDCTs agrees within a level.
    const tol = name.endsWith('.jpg') ? 0.5 : 1e-5;
    expect(Math.abs(s.mean_value - ref.mean)).toBeLessThanOrEqual(tol);
    expect(Math.abs(s.std_value - ref.std)).toBeLessThanOrEqual(tol);
    expect(Math.abs(s.min - ref.min)).toBeLessThanOrEqual(name.endsWith('.jpg') ? 2 : 0);
    expect(Math.abs(s.max - ref.max)).toBeLessThanOrEqual(name.endsWith('.jpg') ? 2 : 0);
  });

  it('names a mismatched extension and reads the content for what it is', async () => {
    const png = readFileSync(new URL('dx_chest.png', raster));
    const { image } = await describeImage(png, { filename: 'scan.dcm', deid });
    expect(image.format).toBe('png');
    expect(image.warnings).toEqual(['the file name says dicom but the content is png; read as png']);
    await expect(describeImage(Buffer.from('hello, not an image'), { filename: 'scan.dcm', deid })).rejects.toMatchObject({ statusCode: 400, message: expect.stringMatching(/name says dicom/) });
  });
});
