/** RT dose scaling and enhanced multi-frame functional groups, on files written by test/helpers/dicom-writer.ts. */
import { describe, expect, it } from 'vitest';
import { describeImage, renderDicomForModel } from '../src/multimodal/index.js';
import { type DicomElement, sequence, writeDicom } from './helpers/dicom-writer.js';

const u16 = (...xs: number[]) => new Uint8Array(Uint16Array.from(xs).buffer);
const deid = { salt: 'frames', dates: 'remove' as const };

function image16(modality: string, frames: number, pixels: number[], extra: DicomElement[]): Buffer {
  return writeDicom([
    { tag: [0x0008, 0x0060], vr: 'CS', value: modality },
    { tag: [0x0010, 0x0010], vr: 'PN', value: 'Frames^Patient' },
    { tag: [0x0028, 0x0002], vr: 'US', value: 1 },
    { tag: [0x0028, 0x0004], vr: 'CS', value: 'MONOCHROME2' },
    { tag: [0x0028, 0x0008], vr: 'IS', value: String(frames) },
    { tag: [0x0028, 0x0010], vr: 'US', value: 2 },
    { tag: [0x0028, 0x0011], vr: 'US', value: 2 },
    { tag: [0x0028, 0x0100], vr: 'US', value: 16 },
    { tag: [0x0028, 0x0101], vr: 'US', value: 16 },
    { tag: [0x0028, 0x0102], vr: 'US', value: 15 },
    { tag: [0x0028, 0x0103], vr: 'US', value: 0 },
    { tag: [0x7fe0, 0x0010], vr: 'OW', value: u16(...pixels) },
    ...extra,
  ]);
}

const pvt = (slope: string, intercept: string): DicomElement => ({
  tag: [0x0028, 0x9145],
  vr: 'SQ',
  value: sequence([
    [
      { tag: [0x0028, 0x1052], vr: 'DS', value: intercept },
      { tag: [0x0028, 0x1053], vr: 'DS', value: slope },
      { tag: [0x0028, 0x1054], vr: 'LO', value: 'HU' },
    ],
  ]),
});
const frameVoi = (center: string, width: string): DicomElement => ({
  tag: [0x0028, 0x9132],
  vr: 'SQ',
  value: sequence([
    [
      { tag: [0x0028, 0x1050], vr: 'DS', value: center },
      { tag: [0x0028, 0x1051], vr: 'DS', value: width },
    ],
  ]),
});
const measures: DicomElement = {
  tag: [0x0028, 0x9110],
  vr: 'SQ',
  value: sequence([
    [
      { tag: [0x0018, 0x0050], vr: 'DS', value: '1.25' },
      { tag: [0x0028, 0x0030], vr: 'DS', value: '0.5\\0.75' },
    ],
  ]),
};

describe('RT dose', () => {
  it('applies Dose Grid Scaling: values in Gy', async () => {
    const file = image16(
      'RTDOSE',
      1,
      [0, 100, 200, 1000],
      [
        { tag: [0x3004, 0x0002], vr: 'CS', value: 'GY' },
        { tag: [0x3004, 0x000e], vr: 'DS', value: '0.001' },
      ],
    );
    const { image } = await describeImage(file, { deid });
    expect(image.image_statistics.units).toBe('Gy');
    expect(image.image_statistics.mean_value).toBeCloseTo(0.325, 9);
    expect(image.image_statistics.min).toBe(0);
    expect(image.image_statistics.max).toBeCloseTo(1, 9);
    expect(image.dicom_metadata?.rescale_slope).toBe(0.001);
    expect(image.dicom_metadata?.rescale_type).toBe('GY');
  });
});

describe('enhanced multi-frame functional groups', () => {
  const perFrame: DicomElement = {
    tag: [0x5200, 0x9230],
    vr: 'SQ',
    value: sequence([
      [pvt('1', '-1024'), frameVoi('40', '400')],
      [pvt('2', '-1000'), frameVoi('50', '350')],
    ]),
  };
  const shared: DicomElement = { tag: [0x5200, 0x9229], vr: 'SQ', value: sequence([[measures]]) };

  it('rescales each frame with its own Pixel Value Transformation and reports the frames that differ', async () => {
    const file = image16('CT', 2, [0, 10, 20, 30, 0, 10, 20, 30], [shared, perFrame]);
    const { image } = await describeImage(file, { deid });
    // frame 1: -1024 -1014 -1004 -994; frame 2: -1000 -980 -960 -940
    const values = [-1024, -1014, -1004, -994, -1000, -980, -960, -940];
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(image.image_statistics.mean_value).toBeCloseTo(mean, 6);
    expect(image.image_statistics.std_value).toBeCloseTo(Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length), 6);
    expect(image.image_statistics.min).toBe(-1024);
    expect(image.image_statistics.max).toBe(-940);
    expect(image.image_statistics.units).toBe('HU');
    expect(image.image_statistics.voxel_spacing_mm).toEqual([0.5, 0.75, 1.25]);
    expect(image.image_statistics.per_frame).toEqual([
      { frame: 1, rescale_slope: 1, rescale_intercept: -1024, window_center: 40, window_width: 400, pixel_spacing_mm: [0.5, 0.75], slice_thickness_mm: 1.25 },
      { frame: 2, rescale_slope: 2, rescale_intercept: -1000, window_center: 50, window_width: 350, pixel_spacing_mm: [0.5, 0.75], slice_thickness_mm: 1.25 },
    ]);
    expect(image.dicom_metadata?.rescale_intercept).toBe(-1024);
    expect(image.dicom_metadata?.window_center).toBe(40);
    const rendered = await renderDicomForModel(file);
    expect(rendered.voi_source).toBe('file window');
    expect(JSON.stringify(image)).not.toContain('Frames^Patient');
  });

  it('shared groups only: one set of values, no per-frame list', async () => {
    const sharedAll: DicomElement = { tag: [0x5200, 0x9229], vr: 'SQ', value: sequence([[measures, pvt('1', '-1024')]]) };
    const { image } = await describeImage(image16('MR', 2, [0, 1, 2, 3, 4, 5, 6, 7], [sharedAll]), { deid });
    expect(image.image_statistics.per_frame).toBeUndefined();
    expect(image.image_statistics.min).toBe(-1024);
    expect(image.image_statistics.max).toBe(-1017);
    expect(image.dicom_metadata?.pixel_spacing).toEqual([0.5, 0.75]);
  });
});
