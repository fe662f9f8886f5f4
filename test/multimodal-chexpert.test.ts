/** The CheXpert-style labeler's rules on whole reports, the study keys, and the report label policy. */
import { describe, expect, it } from 'vitest';
import { labelFromReport } from '../src/monitoring/index.js';
import { analyseReport, deidentifyDicomFile, identifiersFromStudyId, labelReport, readStudyIdentifiers, remapUid, studyKeys } from '../src/multimodal/index.js';
import { writeDicom } from './helpers/dicom-writer.js';

describe('labelReport', () => {
  it('reads descriptive phrasings of the heart (the three the lexicon extractor missed)', () => {
    expect(labelReport('The cardiac silhouette is enlarged.').observations.Cardiomegaly).toBe('positive');
    expect(labelReport('Heart size is normal.').observations.Cardiomegaly).toBe('negative');
    expect(labelReport('The heart is not enlarged.').observations.Cardiomegaly).toBe('negative');
    expect(labelReport('Heart size is at the upper limits of normal.').observations.Cardiomegaly).toBe('uncertain');
    expect(analyseReport('The cardiac silhouette is enlarged.').observations.Cardiomegaly).toBe('positive');
  });

  it('reads findings and impression only, and aggregates positive over uncertain over negative', () => {
    const report = [
      'INDICATION: Fever, rule out pneumonia. History of pleural effusion.',
      'FINDINGS: No pneumothorax. Possible small left pleural effusion. The lungs are otherwise clear.',
      'IMPRESSION: Small left pleural effusion. No pneumothorax.',
    ].join('\n');
    const r = labelReport(report);
    expect(r.observations).toMatchObject({ 'Pleural Effusion': 'positive', Pneumothorax: 'negative', 'Lung Opacity': 'negative', Pneumonia: null, 'No Finding': null });
    for (const m of r.mentions) expect(report.slice(m.start, m.end)).toBe(m.text);
    expect(r.mentions.find((m) => m.observation === 'Pleural Effusion' && m.label === 'uncertain')).toMatchObject({ text: 'pleural effusion', trigger: 'possible' });
  });

  it('applies the No Finding rule: a statement about the chest and no pathology positive or uncertain', () => {
    expect(labelReport('Endotracheal tube 4 cm above the carina. No acute cardiopulmonary process.').observations).toMatchObject({ 'No Finding': 'positive', 'Support Devices': 'positive' });
    expect(labelReport('Normal chest radiograph.').observations['No Finding']).toBe('positive');
    expect(labelReport('Emphysema.').observations['No Finding']).toBeNull(); // nothing the 14 cover was said
    expect(labelReport('No effusion. Pneumonia cannot be excluded.').observations['No Finding']).toBeNull();
  });

  it('keeps lists in reach of one negation and alternatives uncertain', () => {
    expect(labelReport('No focal consolidation, pleural effusion, or pneumothorax.').observations).toMatchObject({
      Consolidation: 'negative',
      'Pleural Effusion': 'negative',
      Pneumothorax: 'negative',
    });
    expect(labelReport('Right basilar opacity, atelectasis versus pneumonia.').observations).toMatchObject({ 'Lung Opacity': 'positive', Atelectasis: 'uncertain', Pneumonia: 'uncertain' });
    expect(labelReport('Small pericardial effusion.').observations['Pleural Effusion']).toBeNull();
  });
});

describe('study keys', () => {
  const salt = 'a-salt-for-study-keys-0001';
  it('remaps the UID as de-identification does and hashes the accession (case and spaces aside)', () => {
    const k = studyKeys(salt, { studyInstanceUid: '1.2.3.4', accessionNumber: ' acc77 ' });
    expect(k.study_uid).toBe(remapUid(salt, '1.2.3.4'));
    expect(k.accession_key).toBe(studyKeys(salt, { accessionNumber: 'ACC77' }).accession_key);
    expect(k.accession_key).not.toContain('77');
    expect(studyKeys('another-salt-0000000000', { accessionNumber: 'ACC77' }).accession_key).not.toBe(k.accession_key);
    // a UID Vitals already remapped (a de-identified file) is kept, not remapped twice
    expect(studyKeys(salt, { studyInstanceUid: k.study_uid!, remapped: true }).study_uid).toBe(k.study_uid);
    expect(studyKeys(salt, { studyInstanceUid: 'not a uid' }).study_uid).toBeNull();
  });
  it("reads a DICOM file's study, and takes the UID of a file Vitals de-identified as already remapped", () => {
    const file = writeDicom([
      { tag: [0x0008, 0x0050], vr: 'SH', value: 'ACC42' },
      { tag: [0x0010, 0x0010], vr: 'PN', value: 'Doe^Jane' },
      { tag: [0x0010, 0x0020], vr: 'LO', value: 'MRN-1' },
      { tag: [0x0020, 0x000d], vr: 'UI', value: '1.2.3.42' },
    ]);
    const raw = readStudyIdentifiers(file, 1 << 20);
    expect(raw).toEqual({ studyInstanceUid: '1.2.3.42', accessionNumber: 'ACC42', remapped: false });
    const clean = readStudyIdentifiers(deidentifyDicomFile(file, { salt, dates: 'shift' }, { maxInflatedBytes: 1 << 20 }).bytes, 1 << 20);
    expect(clean).toMatchObject({ studyInstanceUid: remapUid(salt, '1.2.3.42'), remapped: true });
    expect(clean.accessionNumber).toBeUndefined();
    // both sides key to the same study
    expect(studyKeys(salt, clean).study_uid).toBe(studyKeys(salt, raw).study_uid);
  });
  it("reads a message's study_id as a UID when it is dotted digits, else as an accession number", () => {
    expect(identifiersFromStudyId('1.2.840.99')).toEqual({ studyInstanceUid: '1.2.840.99' });
    expect(identifiersFromStudyId('A-12')).toEqual({ accessionNumber: 'A-12' });
    expect(identifiersFromStudyId('12345')).toEqual({ accessionNumber: '12345' });
  });
});

describe('report label policy', () => {
  const policy = { observation: 'Pneumonia' as const, positive_label: 'PNEUMONIA', negative_label: 'NORMAL', uncertain: 'skip' as const, absent: 'negative_if_no_finding' as const };
  const obs = (text: string) => labelReport(text).observations;
  it('maps positive, negative, uncertain and absent findings as the policy says', () => {
    expect(labelFromReport(policy, obs('Right lower lobe pneumonia.'))).toEqual({ label: 'PNEUMONIA' });
    expect(labelFromReport(policy, obs('No evidence of pneumonia.'))).toEqual({ label: 'NORMAL' });
    expect(labelFromReport(policy, obs('Possible pneumonia.'))).toHaveProperty('skip');
    expect(labelFromReport({ ...policy, uncertain: 'positive' }, obs('Possible pneumonia.'))).toEqual({ label: 'PNEUMONIA' });
    expect(labelFromReport({ ...policy, uncertain: 'negative' }, obs('Possible pneumonia.'))).toEqual({ label: 'NORMAL' });
    expect(labelFromReport(policy, obs('The lungs are clear. No acute cardiopulmonary process.'))).toEqual({ label: 'NORMAL' });
    expect(labelFromReport(policy, obs('Moderate cardiomegaly.'))).toHaveProperty('skip'); // not normal, pneumonia not said
    expect(labelFromReport({ ...policy, absent: 'negative' }, obs('Moderate cardiomegaly.'))).toEqual({ label: 'NORMAL' });
    expect(labelFromReport({ ...policy, absent: 'skip' }, obs('Normal chest radiograph.'))).toHaveProperty('skip');
  });
});
