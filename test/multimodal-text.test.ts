/** The report extractor on whole reports: sections, findings, entity status, measurements in mm. */
import { describe, expect, it } from 'vitest';
import { analyseReport, findMeasurements } from '../src/multimodal/index.js';

describe('report text', () => {
  it('answers the seed example in its shape', () => {
    const r = analyseReport('Findings: Mass in esophagus. Wall thickness increased. Tumor measures 2.5 cm.');
    expect(r.text_length).toBe(77);
    expect(r.word_count).toBe(11);
    expect(r.extracted_entities.pathologies).toEqual(['mass', 'wall thickening', 'tumor']);
    expect(r.extracted_entities.anatomical_structures).toEqual(['esophagus']);
    expect(r.findings).toEqual(['Mass in esophagus', 'Wall thickness increased', 'Tumor measures 2.5 cm']);
    expect(r.measurements.map(({ value, unit, text }) => ({ value, unit, text }))).toEqual([{ value: 2.5, unit: 'cm', text: '2.5 cm' }]);
  });

  it('splits sections, keeps findings from FINDINGS and IMPRESSION, and marks status per mention', () => {
    const report = [
      'EXAM: Chest radiograph, 2 views.',
      'CLINICAL HISTORY: Cough and fever, rule out pneumonia.',
      'COMPARISON: None.',
      'FINDINGS: Endotracheal tube terminates 5 cm above the carina. No pneumothorax.',
      'Patchy consolidation in the right lower lobe. Cannot exclude a small right pleural effusion.',
      'The heart size is normal.',
      'IMPRESSION: Right lower lobe pneumonia. No evidence of pulmonary edema.',
    ].join('\n');
    const r = analyseReport(report);
    expect(Object.keys(r.sections)).toEqual(['technique', 'history', 'comparison', 'findings', 'impression']);
    expect(r.findings).toEqual([
      'Endotracheal tube terminates 5 cm above the carina',
      'No pneumothorax',
      'Patchy consolidation in the right lower lobe',
      'Cannot exclude a small right pleural effusion',
      'The heart size is normal',
      'Right lower lobe pneumonia',
      'No evidence of pulmonary edema',
    ]);
    const status = (t: string) => r.entities.filter((e) => e.canonical === t).map((e) => `${e.section}:${e.status}`);
    expect(status('pneumonia')).toEqual(['history:uncertain', 'impression:affirmed']);
    expect(status('pneumothorax')).toEqual(['findings:negated']);
    expect(status('pleural effusion')).toEqual(['findings:uncertain']);
    expect(status('pulmonary edema')).toEqual(['impression:negated']);
    expect(r.entity_status).toMatchObject({ pneumonia: 'affirmed', pneumothorax: 'negated', 'pleural effusion': 'uncertain', 'endotracheal tube': 'affirmed' });
    expect(r.extracted_entities.devices).toEqual(['endotracheal tube']);
    expect(r.negated_entities.pathologies).toEqual(['pneumothorax', 'pulmonary edema']);
    expect(r.entities.find((e) => e.canonical === 'pneumothorax')!.trigger).toBe('no');
    expect(r.entities.find((e) => e.canonical === 'pleural effusion')!.trigger).toBe('cannot exclude');
  });

  it('normalises measurements to millimetres, with dimensions', () => {
    const ms = findMeasurements('A 2.5 x 3.1 cm mass, a 12 mm node, a 4 by 5 mm nodule, 1.2 cm x 0.8 cm x 2 cm cyst, 3,5 cm lesion, and 7 millimeters.');
    expect(ms.map((m) => [m.text, m.dimensions, m.values_mm])).toEqual([
      ['2.5 x 3.1 cm', 2, [25, 31]],
      ['12 mm', 1, [12]],
      ['4 by 5 mm', 2, [4, 5]],
      ['1.2 cm x 0.8 cm x 2 cm', 3, [12, 8, 20]],
      ['3,5 cm', 1, [35]],
      ['7 millimeters', 1, [7]],
    ]);
    expect(ms[0]).toMatchObject({ value: 2.5, unit: 'cm', value_mm: 25 });
    expect(findMeasurements('T10 vertebra, 3 months, 40 HU, 5 ml')).toEqual([]);
  });

  it('never throws on odd text', () => {
    for (const t of ['', '   ', ':::', 'FINDINGS:', 'no no no no', 'x'.repeat(10000), 'Ω≈ç√ ∫˜µ ≤≥÷ 2.5 × 3 cm']) expect(() => analyseReport(t)).not.toThrow();
  });
});
