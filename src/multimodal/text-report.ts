/**
 * Radiology and clinical report text → structure: sections, sentences, lexicon entities with their
 * status (affirmed, negated, uncertain), findings and measurements, in the seed's `text_report`
 * shape. Pure: a function of the text. Status applies to pathologies and devices; anatomy is where
 * things are, and is reported as mentioned.
 */
import { type Observation, type ObservationLabel, labelReport } from './chexpert-labeler.js';
import { type EntityCategory, LEXICON, LEXICON_MAX_TOKENS } from './report-lexicon.js';
import { type EntityStatus, entityStatus, findTriggers } from './report-context.js';
import { type Measurement, findMeasurements } from './report-measurements.js';
import { type SectionName, type Token, splitSections, splitSentences, tokenize } from './report-text.js';

export type ReportType = 'radiology' | 'clinical' | 'pathology' | 'other';

export interface ReportEntity {
  text: string;
  canonical: string;
  category: EntityCategory;
  status: EntityStatus;
  /** the trigger phrase that set a negated/uncertain status */
  trigger?: string;
  section: SectionName;
  sentence: number;
  start: number;
  end: number;
}

type EntityLists = { pathologies: string[]; anatomical_structures: string[]; devices: string[] };

export interface TextReportAnalysis {
  report_type: ReportType;
  text_length: number;
  word_count: number;
  sections: Partial<Record<SectionName, string>>;
  /** distinct canonical terms mentioned as present or possibly present */
  extracted_entities: EntityLists;
  /** distinct canonical terms mentioned only as absent */
  negated_entities: Pick<EntityLists, 'pathologies' | 'devices'>;
  /** every mention, with its status */
  entities: ReportEntity[];
  entity_status: Record<string, EntityStatus>;
  findings: string[];
  measurements: Array<Measurement & { sentence: number }>;
  /** the 14 CheXpert observations of a chest report: positive, negative, uncertain, or null (not mentioned) */
  observations: Record<Observation, ObservationLabel | null>;
}

const LIST_KEY: Record<EntityCategory, keyof EntityLists> = { pathology: 'pathologies', anatomy: 'anatomical_structures', device: 'devices' };

/** Longest lexicon match at each token, left to right. */
export function matchEntities(tokens: Token[]): Array<{ first: number; last: number; canonical: string; category: EntityCategory }> {
  const out: Array<{ first: number; last: number; canonical: string; category: EntityCategory }> = [];
  let i = 0;
  while (i < tokens.length) {
    let hit: { n: number; canonical: string; category: EntityCategory } | undefined;
    for (let n = Math.min(LEXICON_MAX_TOKENS, tokens.length - i); n >= 1 && !hit; n--) {
      const entry = LEXICON.get(
        tokens
          .slice(i, i + n)
          .map((t) => t.norm)
          .join(' '),
      );
      if (entry) hit = { n, ...entry };
    }
    if (hit) {
      out.push({ first: i, last: i + hit.n - 1, canonical: hit.canonical, category: hit.category });
      i += hit.n;
    } else i++;
  }
  return out;
}

const NARRATIVE: SectionName[] = ['findings', 'impression'];
const CONTEXT_ONLY: SectionName[] = ['history', 'comparison', 'technique', 'medications', 'allergies'];

export function analyseReport(text: string, reportType: ReportType = 'radiology'): TextReportAnalysis {
  // "r/o" is the same trigger as "rule out"; normalise before tokenising (same length keeps offsets).
  const normalised = text.replace(/\br\/o\b/gi, 'r o');
  const sections = splitSections(normalised);
  const sentences = splitSentences(normalised, sections);
  const entities: ReportEntity[] = [];
  for (const s of sentences) {
    const tokens = tokenize(normalised.slice(s.start, s.end), s.start);
    const triggers = findTriggers(tokens);
    // Words inside a trigger phrase are not entities ("free air" aside, "no evidence of" holds none).
    for (const e of matchEntities(tokens)) {
      const { status, trigger } = e.category === 'anatomy' ? { status: 'affirmed' as const, trigger: undefined } : entityStatus(e.first, e.last, triggers);
      const start = tokens[e.first]!.start;
      const end = tokens[e.last]!.end;
      entities.push({ text: text.slice(start, end), canonical: e.canonical, category: e.category, status, ...(trigger ? { trigger } : {}), section: s.section, sentence: s.index, start, end });
    }
  }
  const extracted: EntityLists = { pathologies: [], anatomical_structures: [], devices: [] };
  const negated: Pick<EntityLists, 'pathologies' | 'devices'> = { pathologies: [], devices: [] };
  const entityStatusMap: Record<string, EntityStatus> = {};
  for (const e of entities) {
    // A term present anywhere counts as present; uncertain beats negated; negated only when never otherwise.
    const prev = entityStatusMap[e.canonical];
    if (!prev || rank(e.status) > rank(prev)) entityStatusMap[e.canonical] = e.status;
  }
  for (const e of entities) {
    const key = LIST_KEY[e.category];
    if (entityStatusMap[e.canonical] === 'negated') {
      if (key !== 'anatomical_structures' && !negated[key].includes(e.canonical)) negated[key].push(e.canonical);
    } else if (!extracted[key].includes(e.canonical)) extracted[key].push(e.canonical);
  }
  const hasNarrative = sentences.some((s) => NARRATIVE.includes(s.section));
  const findings = sentences.filter((s) => (hasNarrative ? NARRATIVE.includes(s.section) : !CONTEXT_ONLY.includes(s.section))).map((s) => s.text.replace(/[.;:\s]+$/, ''));
  const sectionTexts: Partial<Record<SectionName, string>> = {};
  for (const sec of sections) {
    const body = text.slice(sec.start, sec.end).trim();
    if (body) sectionTexts[sec.name] = sectionTexts[sec.name] ? `${sectionTexts[sec.name]}\n${body}` : body;
  }
  const measurements = findMeasurements(text).map((m) => ({ ...m, sentence: sentences.find((s) => m.start >= s.start && m.start < s.end)?.index ?? -1 }));
  return {
    report_type: reportType,
    text_length: text.length,
    word_count: text.split(/\s+/).filter(Boolean).length,
    sections: sectionTexts,
    extracted_entities: extracted,
    negated_entities: negated,
    entities,
    entity_status: entityStatusMap,
    findings,
    measurements,
    observations: labelReport(text).observations,
  };
}

const rank = (s: EntityStatus) => (s === 'affirmed' ? 2 : s === 'uncertain' ? 1 : 0);
