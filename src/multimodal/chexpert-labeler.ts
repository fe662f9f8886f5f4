/**
 * A radiology report → the 14 CheXpert observations, each positive, negative, uncertain or absent
 * (null). Our own TypeScript labeler after the CheXpert labeler's approach (Irvin et al. 2019; its
 * rules come from NegBio): mentions are found from phrase lists (chexpert-phrases.ts), then
 * negation and uncertainty rules classify each, then the mentions of a report are aggregated
 * (positive over uncertain over negative) and the No Finding rule is applied.
 *
 * Where it departs from the original (which parses dependencies in Python): status comes from
 * ConText triggers (report-context.ts) within a token window, in which a mention counts as one
 * token so that "no effusion, pneumothorax or focal consolidation" negates all three; and
 * descriptive phrasings are matched by pattern: a subject ("heart size", "the cardiac silhouette"),
 * then filler words (copulas, adverbs, coordinated subjects), then a descriptor whose polarity is
 * the finding's ("is enlarged" positive, "is normal" negative, "upper limits of normal" uncertain),
 * flipped by an inner negation ("is not enlarged") or hedged ("is likely enlarged"). Pure.
 */
import {
  COPULAS,
  DESCRIBED,
  type DescribedSubject,
  FILLERS,
  IGNORED,
  INNER_HEDGES,
  INNER_NEGATIONS,
  NORMAL_STATEMENTS,
  ACUTE_PROCESS,
  OBSERVATIONS,
  type Observation,
  PRE_FILLERS,
  type Polarity,
  TERMS,
  type TermGroup,
} from './chexpert-phrases.js';
import { BACKWARD_WINDOW, FORWARD_WINDOW, type TriggerMatch, findTriggers, triggerDefs } from './report-context.js';
import { type SectionName, type Token, splitSections, splitSentences, tokenize } from './report-text.js';

export { OBSERVATIONS, type Observation } from './chexpert-phrases.js';
export type ObservationLabel = Polarity;

export interface ObservationMention {
  observation: Observation;
  label: ObservationLabel;
  /** the words that said it, as written */
  text: string;
  rule: 'term' | 'description' | 'normal_statement';
  /** the negation or uncertainty trigger outside the mention that set its label */
  trigger?: string;
  sentence: number;
  start: number;
  end: number;
}

export interface ReportLabels {
  /** per observation: positive, negative, uncertain, or null when the report does not mention it */
  observations: Record<Observation, ObservationLabel | null>;
  mentions: ObservationMention[];
}

/** The 12 pathologies whose positive or uncertain mention rules out No Finding (all but Support Devices). */
const PATHOLOGIES = OBSERVATIONS.filter((o) => o !== 'No Finding' && o !== 'Support Devices');

/** Triggers the labeler adds to the shared ConText lists (phrasings of chest reports). */
const EXTRA_TRIGGERS = [
  ...triggerDefs('negated', 'forward', ['clear of', 'no new', 'no residual', 'no visible', 'no definite', 'no significant', 'no focal', 'no convincing']),
  ...triggerDefs('negated', 'backward', [
    'not appreciated',
    'is not appreciated',
    'are not appreciated',
    'not evident',
    'is not evident',
    'not demonstrated',
    'is not demonstrated',
    'not visible',
    'is not visible',
    'are not visible',
    'not seen',
    'not noted',
    'is not noted',
    'has been removed',
    'have been removed',
    'has been discontinued',
    'removal',
    'has been withdrawn completely',
  ]),
  ...triggerDefs('uncertain', 'forward', [
    'suggest',
    'suggestive',
    'suggested',
    'borderline',
    'cannot be excluded',
    'differential considerations include',
    'questionable',
    'raising concern for',
    'could reflect',
    'may be due to',
    'possibly representing',
    'likely representing',
  ]),
  // "no opacity to suggest pneumonia": the negation reaches on; "to suggest" hedges nothing
  ...triggerDefs('pseudo', 'forward', ['to suggest', 'to indicate']),
  // "no pneumothorax following line placement": the line is there
  ...triggerDefs('terminate', 'both', ['following', 'after', 'status post']),
  ...triggerDefs('uncertain', 'backward', [
    'is a consideration',
    'is not excluded',
    'are not excluded',
    'is considered',
    'is suspected',
    'is questioned',
    'not entirely excluded',
    'cannot be entirely excluded',
    'can not be entirely excluded',
  ]),
];

/** Longer than any trigger phrase (the shared lists' and ours): bounds how far back a trigger may start. */
const MAX_TRIGGER_TOKENS = Math.max(8, ...EXTRA_TRIGGERS.map((d) => d.phrase.length));

type Phrase = { kind: 'ignore' } | { kind: 'normal'; when: 'affirmed' | 'negated' } | { kind: 'term'; group: TermGroup };

const words = (phrase: string) => tokenize(phrase.toLowerCase()).map((t) => t.norm);
const key = (phrase: string) => words(phrase).join(' ');

/** Phrase (token sequence) → what it is; ignored phrases win over normal statements over terms. */
const PHRASES = new Map<string, Phrase>();
for (const p of IGNORED) PHRASES.set(key(p), { kind: 'ignore' });
for (const p of NORMAL_STATEMENTS) if (!PHRASES.has(key(p))) PHRASES.set(key(p), { kind: 'normal', when: 'affirmed' });
for (const p of ACUTE_PROCESS) if (!PHRASES.has(key(p))) PHRASES.set(key(p), { kind: 'normal', when: 'negated' });
for (const group of TERMS) for (const t of group.terms) if (!PHRASES.has(key(t))) PHRASES.set(key(t), { kind: 'term', group });
const MAX_PHRASE = Math.max(...[...PHRASES.keys()].map((k) => k.split(' ').length));

interface SubjectEntry {
  subject: DescribedSubject;
  descriptors: Map<string, Polarity>;
  nominal: Map<string, Polarity>;
}
const SUBJECTS = new Map<string, SubjectEntry>();
for (const subject of DESCRIBED) {
  const entry: SubjectEntry = { subject, descriptors: new Map(), nominal: new Map() };
  for (const [polarity, list] of Object.entries(subject.descriptors) as Array<[Polarity, string[]]>) for (const d of list) entry.descriptors.set(key(d), polarity);
  for (const [polarity, list] of Object.entries(subject.nominal ?? {}) as Array<[Polarity, string[]]>) for (const d of list) entry.nominal.set(key(d), polarity);
  for (const s of subject.subjects) if (!SUBJECTS.has(key(s))) SUBJECTS.set(key(s), entry);
}
const MAX_SUBJECT = Math.max(...[...SUBJECTS.keys()].map((k) => k.split(' ').length));
const MAX_DESCRIPTOR = Math.max(...DESCRIBED.flatMap((d) => [...Object.values(d.descriptors), ...Object.values(d.nominal ?? {})].flat().map((p) => words(p).length)));
/** How far after its subject a descriptor may be ("the heart size and mediastinal contours are again normal"). */
const DESCRIPTOR_REACH = 10;
/** An upper bound on a mention's tokens: a term, or a description (noun, "of", modifiers, subject, fillers, descriptor). */
const MAX_MENTION_TOKENS = Math.max(MAX_PHRASE, 2 * MAX_DESCRIPTOR + 4 + MAX_SUBJECT + DESCRIPTOR_REACH);
/** Words between "of" and a subject in a nominal description ("blunting of the left costophrenic angle"). */
const NOMINAL_MODIFIERS = new Set(['the', 'a', 'left', 'right', 'bilateral', 'both', 'posterior', 'lateral', 'cardiac', 'heart']);

interface Span {
  first: number;
  last: number;
}
interface Found extends Span {
  rule: ObservationMention['rule'];
  /** term: its group; description: the observations and base polarity */
  group?: TermGroup;
  /** normal statement: counts when affirmed ("normal chest") or when negated ("no acute process") */
  when?: 'affirmed' | 'negated';
  observations?: Observation[];
  polarity?: Polarity;
}

/** Longest phrase at `i` among `map`'s keys, up to `max` tokens, over tokens not yet used. */
function longestAt<T>(tokens: Token[], used: boolean[], i: number, map: Map<string, T>, max: number): { n: number; value: T } | undefined {
  for (let n = Math.min(max, tokens.length - i); n >= 1; n--) {
    if (used.slice(i, i + n).some(Boolean)) continue;
    const value = map.get(
      tokens
        .slice(i, i + n)
        .map((t) => t.norm)
        .join(' '),
    );
    if (value !== undefined) return { n, value };
  }
  return undefined;
}

/** A description phrase ending at `end` (for descriptors before their subject). */
function longestEndingAt(tokens: Token[], used: boolean[], end: number, map: Map<string, Polarity>): { n: number; value: Polarity } | undefined {
  for (let n = Math.min(MAX_DESCRIPTOR, end + 1); n >= 1; n--) {
    const from = end - n + 1;
    if (used.slice(from, end + 1).some(Boolean)) continue;
    const value = map.get(
      tokens
        .slice(from, end + 1)
        .map((t) => t.norm)
        .join(' '),
    );
    if (value !== undefined) return { n, value };
  }
  return undefined;
}

function flip(p: Polarity, negated: boolean, hedged: boolean): Polarity {
  if (hedged) return 'uncertain';
  if (!negated) return p;
  return p === 'positive' ? 'negative' : p === 'negative' ? 'positive' : 'uncertain';
}

function describe(entry: SubjectEntry, polarity: Polarity, first: number, last: number): Found | undefined {
  const observations = entry.subject.labels[polarity];
  return observations?.length ? { rule: 'description', observations, polarity, first, last } : undefined;
}

/** Descriptions of the subject at [i, j]: after it, before it, and as "<noun> of the <subject>". */
function descriptionsOf(tokens: Token[], used: boolean[], entry: SubjectEntry, i: number, j: number): Found[] {
  const out: Found[] = [];
  // after: "heart size is (not|likely) (mildly) enlarged"
  let copulas = 0;
  let negated = false;
  let hedged = false;
  for (let k = j + 1; k < tokens.length && k - j <= DESCRIPTOR_REACH; ) {
    if (used[k]) break;
    const d = longestAt(tokens, used, k, entry.descriptors, MAX_DESCRIPTOR);
    if (d) {
      const found = describe(entry, flip(d.value, negated, hedged), i, k + d.n - 1);
      if (found) out.push(found);
      break;
    }
    const other = longestAt(tokens, used, k, SUBJECTS, MAX_SUBJECT);
    const w = tokens[k]!.norm;
    if (other) k += other.n;
    else if (COPULAS.has(w)) {
      if (++copulas > 1) break; // a second verb starts another statement
      k++;
    } else if (INNER_NEGATIONS.has(w)) {
      negated = true;
      k++;
    } else if (INNER_HEDGES.has(w)) {
      hedged = true;
      k++;
    } else if (FILLERS.has(w)) k++;
    else break;
  }
  // before: "(mildly) enlarged heart", "normal heart size"
  let p = i - 1;
  while (p >= 0 && !used[p] && PRE_FILLERS.has(tokens[p]!.norm) && i - p <= 2) p--;
  if (p >= 0) {
    const d = longestEndingAt(tokens, used, p, entry.descriptors);
    const found = d && describe(entry, d.value, p - d.n + 1, j);
    if (found) out.push(found);
  }
  // nominal: "enlargement of the cardiac silhouette", "blunting of the left costophrenic angle"
  let q = i - 1;
  while (q >= 0 && !used[q] && NOMINAL_MODIFIERS.has(tokens[q]!.norm) && i - q <= 3) q--;
  if (q >= 1 && tokens[q]!.norm === 'of' && !used[q]) {
    const d = longestEndingAt(tokens, used, q - 1, entry.nominal);
    const found = d && describe(entry, d.value, q - d.n, j);
    if (found) out.push(found);
  }
  return out;
}

/** Mentions of one sentence, before negation and uncertainty. */
function findMentions(tokens: Token[]): { found: Found[]; covered: boolean[] } {
  const used = new Array<boolean>(tokens.length).fill(false);
  const found: Found[] = [];
  for (let i = 0; i < tokens.length; ) {
    const hit = longestAt(tokens, used, i, PHRASES, MAX_PHRASE);
    if (!hit) {
      i++;
      continue;
    }
    for (let k = i; k < i + hit.n; k++) used[k] = true;
    const p = hit.value;
    if (p.kind === 'term') found.push({ rule: 'term', group: p.group, first: i, last: i + hit.n - 1 });
    else if (p.kind === 'normal') found.push({ rule: 'normal_statement', when: p.when, first: i, last: i + hit.n - 1 });
    i += hit.n;
  }
  const covered = [...used];
  for (let i = 0; i < tokens.length; ) {
    const s = longestAt(tokens, used, i, SUBJECTS, MAX_SUBJECT);
    if (!s) {
      i++;
      continue;
    }
    for (const d of descriptionsOf(tokens, used, s.value, i, i + s.n - 1)) {
      found.push(d);
      for (let k = d.first; k <= d.last; k++) covered[k] = true;
    }
    i += s.n;
  }
  return { found, covered };
}

/**
 * What the status rules look up, indexed once per sentence so that a long run-on sentence costs
 * about as much per word as a short one: for each token the end of the mention covering it, and the
 * triggers in order of position.
 */
interface SentenceContext {
  /** per token: the last token of the (furthest-reaching) mention covering it, or -1 */
  mentionEnd: Int32Array;
  /** per token: how many mentions cover it */
  mentionCount: Int32Array;
  /** status triggers, by position */
  triggers: TriggerMatch[];
  /** terminations, by position */
  terminations: TriggerMatch[];
}

function sentenceContext(length: number, mentions: Span[], triggers: TriggerMatch[]): SentenceContext {
  const mentionEnd = new Int32Array(length).fill(-1);
  const mentionCount = new Int32Array(length);
  for (const m of mentions)
    for (let k = m.first; k <= m.last; k++) {
      mentionEnd[k] = Math.max(mentionEnd[k]!, m.last);
      mentionCount[k]!++;
    }
  const byPosition = [...triggers].sort((a, b) => a.first - b.first);
  return { mentionEnd, mentionCount, triggers: byPosition.filter((t) => t.kind === 'negated' || t.kind === 'uncertain'), terminations: byPosition.filter((t) => t.kind === 'terminate') };
}

/** The first index of `list` (sorted by first) whose first is at least `at`. */
function lowerBound(list: TriggerMatch[], at: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.first < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Negated / uncertain / affirmed from the triggers outside every mention, nearest first; the
 * distance counts each other mention as one word, so lists of findings stay in reach.
 */
function contextOf(m: Span, c: SentenceContext): { status: 'affirmed' | 'negated' | 'uncertain'; trigger?: string } {
  /** words from `from` to `to`, a mention counting as one; undefined beyond `limit` */
  const distance = (from: number, to: number, limit: number): number | undefined => {
    let d = 1;
    for (let k = from + 1; k < to; ) {
      const end = c.mentionEnd[k]!;
      k = end >= k ? end + 1 : k + 1;
      if (k <= to && ++d > limit) return undefined;
    }
    return d;
  };
  const blocked = (from: number, to: number) => {
    for (let i = lowerBound(c.terminations, from + 1); i < c.terminations.length && c.terminations[i]!.first < to; i++) if (c.terminations[i]!.last < to) return true;
    return false;
  };
  // "opacity, atelectasis versus pneumonia": an alternative reaches only the nearest mention on each side
  const mentionBetween = (a: number, b: number) => {
    for (let k = a + 1; k < b; k++) if (c.mentionCount[k]! > 0 && !(k >= m.first && k <= m.last)) return true;
    return false;
  };
  let best: { d: number; kind: 'negated' | 'uncertain'; phrase: string } | undefined;
  // only triggers whose raw gap to the mention a window could span
  const from = lowerBound(c.triggers, m.first - FORWARD_WINDOW * MAX_MENTION_TOKENS - MAX_TRIGGER_TOKENS);
  for (let i = from; i < c.triggers.length && c.triggers[i]!.first <= m.last + BACKWARD_WINDOW * MAX_MENTION_TOKENS; i++) {
    const t = c.triggers[i]!;
    const forward = t.directions.includes('forward') || t.directions.includes('both');
    const backward = t.directions.includes('backward') || t.directions.includes('both');
    const nearestOnly = ALTERNATIVES.has(t.phrase);
    let d: number | undefined;
    if (forward && t.last < m.first) {
      const x = distance(t.last, m.first, FORWARD_WINDOW);
      if (x !== undefined && !blocked(t.last, m.first) && !(nearestOnly && mentionBetween(t.last, m.first))) d = x;
    }
    if (backward && t.first > m.last) {
      const x = distance(m.last, t.first, BACKWARD_WINDOW);
      if (x !== undefined && !blocked(m.last, t.first) && !(nearestOnly && mentionBetween(m.last, t.first))) d = d === undefined ? x : Math.min(d, x);
    }
    if (d !== undefined && (!best || d < best.d)) best = { d, kind: t.kind as 'negated' | 'uncertain', phrase: t.phrase };
  }
  return best ? { status: best.kind, trigger: best.phrase } : { status: 'affirmed' };
}

const ALTERNATIVES = new Set(['versus', 'vs']);

/** Labels of one sentence's mentions. */
function labelSentence(text: string, offset: number, sentence: number): ObservationMention[] {
  const tokens = tokenize(text, offset);
  const { found, covered } = findMentions(tokens);
  // Triggers inside a mention ("is not enlarged") are its own; one reaching out of it ("clear of") acts outside.
  const triggers = findTriggers(tokens, EXTRA_TRIGGERS).filter((t) => t.kind === 'terminate' || !covered.slice(t.first, t.last + 1).every(Boolean));
  const context = sentenceContext(tokens.length, found, triggers);
  const out: ObservationMention[] = [];
  const terms: Array<{ f: Found; status: 'affirmed' | 'negated' | 'uncertain'; mentions: ObservationMention[] }> = [];
  for (const f of found) {
    const first = tokens[f.first]!;
    const last = tokens[f.last]!;
    const where = { text: text.slice(first.start - offset, last.end - offset), sentence, start: first.start, end: last.end };
    const { status, trigger } = contextOf(f, context);
    const t = trigger ? { trigger } : {};
    if (f.rule === 'normal_statement') {
      if (status === f.when) out.push({ observation: 'No Finding', label: 'positive', rule: 'normal_statement', ...where, ...t });
      continue;
    }
    if (f.rule === 'description') {
      const base = f.polarity!;
      const label: Polarity = status === 'negated' ? 'negative' : status === 'uncertain' ? 'uncertain' : base;
      for (const observation of f.observations!) out.push({ observation, label, rule: 'description', ...where, ...t });
      continue;
    }
    const group = f.group!;
    if (group.negatedOnly && status !== 'negated') continue;
    const label: Polarity = status === 'negated' ? 'negative' : status === 'uncertain' ? 'uncertain' : (group.affirmed ?? 'positive');
    const mentions = group.observations.map((observation): ObservationMention => ({ observation, label, rule: 'term', ...where, ...t }));
    out.push(...mentions);
    terms.push({ f, status, mentions });
  }
  // "atelectasis or pneumonia": one of two affirmed findings, not both — each is uncertain.
  for (let a = 0; a + 1 < terms.length; a++) {
    const x = terms[a]!;
    const y = terms[a + 1]!;
    if (x.status !== 'affirmed' || y.status !== 'affirmed') continue;
    if (y.f.first - x.f.last - 1 > 3) continue;
    const between = tokens.slice(x.f.last + 1, y.f.first).map((t) => t.norm);
    if (!between.includes('or')) continue;
    if (x.f.group!.observations.join() === y.f.group!.observations.join()) continue;
    for (const m of [...x.mentions, ...y.mentions]) if (m.label === 'positive') m.label = 'uncertain';
  }
  return out;
}

/** Sections whose sentences are not findings about this study (reason for exam, prior studies, …). */
const CONTEXT_ONLY: SectionName[] = ['history', 'comparison', 'technique', 'medications', 'allergies', 'recommendation', 'plan'];
const NARRATIVE: SectionName[] = ['findings', 'impression'];
const RANK: Record<Polarity, number> = { positive: 3, uncertain: 2, negative: 1 };

/** Labels a report with the 14 observations (from its findings and impression when it has them). */
export function labelReport(text: string): ReportLabels {
  const normalised = text.replace(/\br\/o\b/gi, 'r o');
  const sections = splitSections(normalised);
  const sentences = splitSentences(normalised, sections);
  const narrative = sentences.some((s) => NARRATIVE.includes(s.section));
  const mentions: ObservationMention[] = [];
  for (const s of sentences) {
    if (narrative ? !NARRATIVE.includes(s.section) : CONTEXT_ONLY.includes(s.section)) continue;
    for (const m of labelSentence(normalised.slice(s.start, s.end), s.start, s.index)) mentions.push({ ...m, text: text.slice(m.start, m.end) });
  }
  const observations = Object.fromEntries(OBSERVATIONS.map((o) => [o, null])) as Record<Observation, ObservationLabel | null>;
  for (const m of mentions) {
    if (m.observation === 'No Finding') continue;
    const prev = observations[m.observation];
    if (!prev || RANK[m.label] > RANK[prev]) observations[m.observation] = m.label;
  }
  // No Finding: the report speaks about the chest, and no pathology is positive or uncertain.
  const abnormal = PATHOLOGIES.some((o) => observations[o] === 'positive' || observations[o] === 'uncertain');
  observations['No Finding'] = mentions.length > 0 && !abnormal ? 'positive' : null;
  return { observations, mentions };
}
