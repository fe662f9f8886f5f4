/**
 * Report structure: sections by their headers (FINDINGS:, IMPRESSION:, HISTORY:, …), sentences
 * inside them, and word tokens with their character offsets, which everything else works on.
 */
export type SectionName = 'findings' | 'impression' | 'history' | 'comparison' | 'technique' | 'recommendation' | 'assessment' | 'plan' | 'medications' | 'allergies' | 'physical_exam' | 'body';

const HEADERS: Record<string, SectionName> = {
  findings: 'findings',
  finding: 'findings',
  'findings and impression': 'findings',
  impression: 'impression',
  impressions: 'impression',
  conclusion: 'impression',
  conclusions: 'impression',
  opinion: 'impression',
  summary: 'impression',
  diagnosis: 'impression',
  history: 'history',
  'clinical history': 'history',
  indication: 'history',
  indications: 'history',
  'clinical indication': 'history',
  'reason for exam': 'history',
  'reason for examination': 'history',
  'reason for study': 'history',
  'clinical information': 'history',
  'clinical data': 'history',
  'clinical details': 'history',
  hpi: 'history',
  'history of present illness': 'history',
  'chief complaint': 'history',
  'past medical history': 'history',
  'family history': 'history',
  'social history': 'history',
  comparison: 'comparison',
  comparisons: 'comparison',
  prior: 'comparison',
  priors: 'comparison',
  technique: 'technique',
  procedure: 'technique',
  protocol: 'technique',
  exam: 'technique',
  examination: 'technique',
  study: 'technique',
  recommendation: 'recommendation',
  recommendations: 'recommendation',
  'follow up': 'recommendation',
  'follow-up': 'recommendation',
  assessment: 'assessment',
  'assessment and plan': 'assessment',
  plan: 'plan',
  medications: 'medications',
  'current medications': 'medications',
  allergies: 'allergies',
  'physical exam': 'physical_exam',
  'physical examination': 'physical_exam',
};

export interface Section {
  name: SectionName;
  /** the header as written, e.g. "CLINICAL HISTORY" */
  header: string | null;
  start: number;
  end: number;
}

export interface Sentence {
  text: string;
  start: number;
  end: number;
  section: SectionName;
  index: number;
}

export interface Token {
  /** lower case, hyphens and slashes split */
  norm: string;
  start: number;
  end: number;
}

const HEADER_RE = /(^|[\n\r]|[.!?]\s+)[ \t]*([A-Za-z][A-Za-z &/-]{1,40}?)[ \t]*:/g;

export function splitSections(text: string): Section[] {
  const found: Array<{ name: SectionName; header: string; at: number; bodyStart: number }> = [];
  for (const m of text.matchAll(HEADER_RE)) {
    const header = m[2]!.trim();
    const name = HEADERS[header.toLowerCase().replace(/\s+/g, ' ')];
    if (!name) continue;
    const at = m.index! + m[1]!.length;
    found.push({ name, header, at, bodyStart: m.index! + m[0].length });
  }
  if (found.length === 0) return [{ name: 'body', header: null, start: 0, end: text.length }];
  const sections: Section[] = [];
  if (text.slice(0, found[0]!.at).trim()) sections.push({ name: 'body', header: null, start: 0, end: found[0]!.at });
  found.forEach((f, i) => sections.push({ name: f.name, header: f.header, start: f.bodyStart, end: i + 1 < found.length ? found[i + 1]!.at : text.length }));
  return sections;
}

/** Sentences end at . ! ? followed by space and a capital, digit or bracket, at line breaks, and at section ends. */
export function splitSentences(text: string, sections: Section[]): Sentence[] {
  const out: Sentence[] = [];
  for (const sec of sections) {
    // Boundaries: line breaks, and sentence punctuation followed by whitespace and not a lower-case word.
    const boundary = /[\n\r]+|(?<=[.!?])\s+(?![a-z])/g;
    const body = text.slice(sec.start, sec.end);
    let from = 0;
    const push = (to: number) => {
      const piece = body.slice(from, to);
      const trimmed = piece.trim();
      if (trimmed && /[A-Za-z]/.test(trimmed)) {
        const start = sec.start + from + (piece.length - piece.trimStart().length);
        out.push({ text: trimmed, start, end: start + trimmed.length, section: sec.name, index: out.length });
      }
    };
    for (const m of body.matchAll(boundary)) {
      push(m.index!);
      from = m.index! + m[0].length;
    }
    push(body.length);
  }
  return out;
}

export function tokenize(text: string, offset = 0): Token[] {
  const tokens: Token[] = [];
  for (const m of text.matchAll(/[A-Za-z0-9]+(?:['’][A-Za-z]+)?|[;:]/g)) {
    tokens.push({ norm: m[0].toLowerCase().replace(/['’]/g, "'"), start: offset + m.index!, end: offset + m.index! + m[0].length });
  }
  return tokens;
}
