/**
 * De-identification (PS3.15 Basic Profile + options): nothing that identifies the patient, the
 * staff or the institution survives into the result; UIDs are remapped consistently; dates are
 * shifted per patient (or removed); the pseudonym is salted and stable; the report says what was done.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ageBand, dateShiftDays, describeImage, pseudonym, remapUid } from '../src/multimodal/index.js';
import { IDENTIFIERS } from './helpers/dicom-identifiers.js';

const dir = new URL('./fixtures/dicom/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, dir));
const deid = { salt: 'test-salt-0123456789', dates: 'shift' as const };

describe('de-identification', () => {
  it('leaves no identifier anywhere in the result of any DICOM fixture', async () => {
    const names = [
      'ct_explicit_le',
      'ct_implicit_le',
      'ct_explicit_be',
      'ct_deflated',
      'ct_dataset_only',
      'ct_no_preamble',
      'ct_rle',
      'ct_jpegls',
      'ct_j2k',
      'mr_bits12_sigmoid',
      'cr_chest_mono1',
      'dx_chest_jpeg_baseline',
      'us_rgb',
      'mf_jpegls',
    ];
    for (const n of names) {
      const { image, facts } = await describeImage(read(`${n}.dcm`), { filename: `${n}.dcm`, deid });
      const json = JSON.stringify({ image, facts });
      for (const id of IDENTIFIERS) expect(json, `${n} leaks ${id}`).not.toContain(id);
    }
  });

  it('pseudonymises the patient, shifts dates and remaps UIDs consistently, and reports it', async () => {
    const a = (await describeImage(read('ct_explicit_le.dcm'), { deid })).image;
    const b = (await describeImage(read('ct_implicit_le.dcm'), { deid })).image;
    const m = a.dicom_metadata!;
    expect(m.patient_id).toBe(pseudonym(deid.salt, 'MRN-123456', 'SPRINGFIELD-GH'));
    expect(m.patient_id).toMatch(/^PSN-[0-9A-F]{16}$/);
    expect(b.dicom_metadata!.patient_id).toBe(m.patient_id);
    // Same study in two encodings → the same remapped UIDs (a UUID-derived 2.25 UID).
    expect(m.study_instance_uid).toBe(remapUid(deid.salt, '2.25.322222222222222222222222222222222222'));
    expect(b.dicom_metadata!.study_instance_uid).toBe(m.study_instance_uid);
    expect(m.study_instance_uid).toMatch(/^2\.25\.\d{1,39}$/);
    expect(m.sop_class_uid).toBe('1.2.840.10008.5.1.4.1.1.2'); // standard UIDs are kept
    // Study date moved back by the patient's offset; the interval to the series date is kept.
    const shift = dateShiftDays(deid.salt, 'SPRINGFIELD-GH\0MRN-123456');
    const expected = new Date(Date.UTC(2024, 0, 15 - shift)).toISOString().slice(0, 10).replace(/-/g, '');
    expect(m.study_date).toBe(expected);
    expect(m.series_date).toBe(expected);
    expect(m.patient_sex).toBe('F');
    expect(m.patient_age_band).toBe('50-59');
    expect(m.patient_identity_removed).toBe('YES');
    const r = a.deidentification!;
    expect(r.profile).toMatch(/PS3\.15 Basic Application Level Confidentiality Profile/);
    expect(r.counts.private_removed).toBeGreaterThanOrEqual(2);
    expect(r.attributes.removed).toEqual(expect.arrayContaining(['(0010,1040)', '(0008,1030)', '(0008,0081)', '(0010,1000)']));
    expect(r.attributes.emptied).toEqual(expect.arrayContaining(['AccessionNumber', 'PatientBirthDate', 'ReferringPhysicianName']));
    expect(r.attributes.replaced).toEqual(expect.arrayContaining(['PatientName', 'PatientID']));
    expect(r.attributes.uid_remapped).toEqual(expect.arrayContaining(['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID', 'FrameOfReferenceUID']));
    expect(r.attributes.date_shifted).toEqual(expect.arrayContaining(['StudyDate', 'SeriesDate']));
    // Attributes inside sequences count too (the referring physician in Request Attributes, the referenced SOP instance).
    expect(r.counts.emptied + r.counts.removed).toBeGreaterThan(r.attributes.emptied!.length + r.attributes.removed!.length - 1);
  });

  it('a different salt gives unlinkable pseudonyms; date removal drops dates', async () => {
    const other = (await describeImage(read('ct_explicit_le.dcm'), { deid: { salt: 'another-salt-9876543210', dates: 'remove' } })).image.dicom_metadata!;
    expect(other.patient_id).not.toBe(pseudonym(deid.salt, 'MRN-123456', 'SPRINGFIELD-GH'));
    expect(other.study_date).toBeNull();
    expect(other.series_date).toBeNull();
  });

  it('keeps equipment and population facts for monitoring, without identifiers', async () => {
    const { facts } = await describeImage(read('cr_chest_mono1.dcm'), { deid });
    expect(facts).toEqual({ modality: 'CR', manufacturer: 'XRayCorp', device_model: 'DR-5000', view_position: 'PA', body_part: 'CHEST', kvp: '110', patient_age_band: '60-69', patient_sex: 'M' });
  });

  it('bands ages by decade, pools 90 and over, and reads ages in days, weeks and months', () => {
    expect(ageBand('091Y')).toBe('90+');
    expect(ageBand('034Y')).toBe('30-39');
    expect(ageBand('006M')).toBe('0-9');
    expect(ageBand(undefined, '19700315', '20240314')).toBe('50-59');
    expect(ageBand('garbage')).toBeNull();
  });
});
