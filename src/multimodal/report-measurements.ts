/**
 * Measurements in report text: one to three dimensions with a length unit ("12 mm", "2.5 cm",
 * "2.5 x 3.1 cm", "2.5 cm x 3.1 cm x 1 cm", "4 by 5 mm"), values normalised to millimetres.
 */
export interface Measurement {
  /** the first dimension, in the unit written */
  value: number;
  unit: 'mm' | 'cm';
  text: string;
  values: number[];
  dimensions: number;
  value_mm: number;
  values_mm: number[];
  start: number;
  end: number;
}

const NUM = String.raw`(\d+(?:[.,]\d+)?)`;
const UNIT = String.raw`(mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)`;
const SEP = String.raw`\s*(?:x|×|\*|by)\s*`;
const RE = new RegExp(String.raw`(?<![\w.])${NUM}(?:\s*${UNIT})?(?:${SEP}${NUM}(?:\s*${UNIT})?)?(?:${SEP}${NUM})?\s*${UNIT}(?![A-Za-z0-9])`, 'gi');

const toMm = (unit: string) => (unit.toLowerCase().startsWith('c') ? 10 : 1);
const canonicalUnit = (unit: string): 'mm' | 'cm' => (unit.toLowerCase().startsWith('c') ? 'cm' : 'mm');
const parse = (s: string) => Number.parseFloat(s.replace(',', '.'));

export function findMeasurements(text: string): Measurement[] {
  const out: Measurement[] = [];
  for (const m of text.matchAll(RE)) {
    const [whole, n1, u1, n2, u2, n3, uLast] = m;
    const nums = [n1, n2, n3].filter((n): n is string => n !== undefined).map(parse);
    const last = uLast!;
    // A unit written after an earlier dimension applies to it; others take the final unit.
    const units = [u1 ?? (n2 === undefined ? last : (u2 ?? last)), u2 ?? last, last].slice(0, nums.length).map((u) => u!);
    if (nums.length === 1) units[0] = last;
    const valuesMm = nums.map((v, i) => Math.round(v * toMm(units[i]!) * 1000) / 1000);
    out.push({
      value: nums[0]!,
      unit: canonicalUnit(units[0]!),
      text: whole,
      values: nums,
      dimensions: nums.length,
      value_mm: valuesMm[0]!,
      values_mm: valuesMm,
      start: m.index!,
      end: m.index! + whole.length,
    });
  }
  return out;
}
