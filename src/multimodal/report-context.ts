/**
 * Entity status in the NegEx/ConText manner (Chapman et al.): trigger phrases before an entity
 * (forward) or after it (backward) mark it negated or uncertain within a window of tokens,
 * unless a termination term ("but", "although", "which", …) or a clause break (; :) lies between;
 * pseudo-triggers ("no change", "not only") are matched first so their words trigger nothing.
 * When several triggers reach an entity, the nearest one decides.
 */
import type { Token } from './report-text.js';

export type EntityStatus = 'affirmed' | 'negated' | 'uncertain';
export type TriggerKind = 'negated' | 'uncertain' | 'pseudo' | 'terminate';
export type Direction = 'forward' | 'backward' | 'both';

export interface TriggerDef {
  phrase: string[];
  kind: TriggerKind;
  direction: Direction;
}

/** Trigger definitions from phrases (lower case, words separated by one space). */
export function triggerDefs(kind: TriggerKind, direction: Direction, phrases: string[]): TriggerDef[] {
  return phrases.map((p) => ({ phrase: p.split(' '), kind, direction }));
}

const defs: TriggerDef[] = [];
function addTriggers(kind: TriggerKind, direction: Direction, phrases: string[]) {
  defs.push(...triggerDefs(kind, direction, phrases));
}

addTriggers('negated', 'forward', [
  'no',
  'not',
  'without',
  'absence of',
  'absent',
  'negative for',
  'no evidence of',
  'no evidence for',
  'no sign of',
  'no signs of',
  'no findings of',
  'no findings to suggest',
  'no findings suggestive of',
  'free of',
  'resolution of',
  'interval resolution of',
  'resolved',
  'removal of',
  'interval removal of',
  'rules out',
  'ruled out',
  'denies',
  'denied',
  'nor',
  'neither',
  'no longer',
  'never',
]);
addTriggers('negated', 'backward', [
  'is absent',
  'are absent',
  'not seen',
  'is not seen',
  'are not seen',
  'not identified',
  'is not identified',
  'are not identified',
  'not visualized',
  'is not visualized',
  'not present',
  'is not present',
  'are not present',
  'has resolved',
  'have resolved',
  'resolved',
  'has been removed',
  'have been removed',
  'was removed',
  'were removed',
  'removed',
  'is ruled out',
  'was ruled out',
  'has been ruled out',
  'not detected',
  'is not detected',
  'no longer seen',
  'no longer present',
  'no longer visualized',
  'no longer identified',
  'has cleared',
  'have cleared',
]);
addTriggers('uncertain', 'forward', [
  'possible',
  'possibly',
  'probable',
  'probably',
  'likely',
  'most likely',
  'may represent',
  'may be',
  'may reflect',
  'may indicate',
  'might represent',
  'might be',
  'could represent',
  'could be',
  'can not exclude',
  'cannot exclude',
  'cannot rule out',
  'can not rule out',
  'questionable',
  'question of',
  'suspicious for',
  'suspect',
  'suspected',
  'suspicion of',
  'suspicion for',
  'suggestive of',
  'suggests',
  'suggesting',
  'concerning for',
  'concern for',
  'worrisome for',
  'equivocal',
  'differential includes',
  'differential diagnosis includes',
  'rule out',
  'to rule out',
  'r o',
  'evaluate for',
  'to evaluate for',
  'evaluation for',
  'assess for',
  'to assess for',
  'consider',
  'presumed',
  'presumably',
  'query',
  'indeterminate',
  'versus',
  'vs',
]);
addTriggers('uncertain', 'backward', [
  'cannot be excluded',
  'can not be excluded',
  "can't be excluded",
  'cannot be ruled out',
  'can not be ruled out',
  'not excluded',
  'is not excluded',
  'are not excluded',
  'not ruled out',
  'is not ruled out',
  'is possible',
  'are possible',
  'is suspected',
  'are suspected',
  'is questioned',
  'is unlikely',
  'are unlikely',
  'unlikely',
  'versus',
  'vs',
  'is not entirely excluded',
  'not entirely excluded',
]);
addTriggers('pseudo', 'forward', [
  'no change',
  'no interval change',
  'no significant change',
  'no significant interval change',
  'not changed',
  'not significantly changed',
  'without change',
  'without interval change',
  'no increase',
  'no decrease',
  'not only',
  'without difficulty',
  'no further',
  'not necessarily',
  'gram negative',
  'not been changed',
  'no new change',
]);
addTriggers('terminate', 'both', [
  'but',
  'however',
  'although',
  'though',
  'yet',
  'which',
  'except',
  'apart from',
  'aside from',
  'other than',
  'whereas',
  'while',
  'nevertheless',
  'unless',
  'because',
  'as the cause of',
  'as a cause of',
  ';',
  ':',
]);

/** Tokens a trigger reaches: forward scope, backward scope (post-triggers sit close to their entity). */
export const FORWARD_WINDOW = 8;
export const BACKWARD_WINDOW = 6;
const MAX_TRIGGER = Math.max(...defs.map((d) => d.phrase.length));

export interface TriggerMatch {
  kind: TriggerKind;
  directions: Direction[];
  phrase: string;
  first: number;
  last: number;
}

/**
 * Longest match at each position, left to right; a matched phrase's tokens start no other.
 * `extra` adds a caller's own triggers to the lists above (the report labeler's).
 */
export function findTriggers(tokens: Token[], extra: TriggerDef[] = []): TriggerMatch[] {
  const out: TriggerMatch[] = [];
  const all = extra.length ? [...extra, ...defs] : defs;
  const longest = extra.length ? Math.max(MAX_TRIGGER, ...extra.map((d) => d.phrase.length)) : MAX_TRIGGER;
  let i = 0;
  while (i < tokens.length) {
    let matched: TriggerDef[] = [];
    let len = 0;
    for (let n = Math.min(longest, tokens.length - i); n >= 1 && matched.length === 0; n--) {
      const words = tokens.slice(i, i + n).map((t) => t.norm);
      matched = all.filter((d) => d.phrase.length === n && d.phrase.every((w, k) => w === words[k]));
      len = n;
    }
    if (matched.length) {
      // A phrase listed both ways (e.g. "versus", "resolved") reaches both sides.
      const kind = matched.find((d) => d.kind === 'pseudo')?.kind ?? matched[0]!.kind;
      out.push({ kind, directions: matched.filter((d) => d.kind === kind).map((d) => d.direction), phrase: matched[0]!.phrase.join(' '), first: i, last: i + len - 1 });
      i += len;
    } else i++;
  }
  return out;
}

/** Status of the entity spanning tokens [first, last] given the sentence's triggers. */
export function entityStatus(first: number, last: number, triggers: TriggerMatch[]): { status: EntityStatus; trigger?: string } {
  let best: { distance: number; kind: 'negated' | 'uncertain'; phrase: string } | undefined;
  for (const t of triggers) {
    if (t.kind !== 'negated' && t.kind !== 'uncertain') continue;
    let distance: number | undefined;
    const reachesForward = t.directions.includes('forward') || t.directions.includes('both');
    const reachesBackward = t.directions.includes('backward') || t.directions.includes('both');
    if (reachesForward && t.last < first && first - t.last <= FORWARD_WINDOW && !blocked(triggers, t.last, first)) distance = first - t.last;
    if (reachesBackward && t.first > last && t.first - last <= BACKWARD_WINDOW && !blocked(triggers, last, t.first)) {
      const d = t.first - last;
      distance = distance === undefined ? d : Math.min(distance, d);
    }
    if (distance !== undefined && (!best || distance < best.distance)) best = { distance, kind: t.kind, phrase: t.phrase };
  }
  return best ? { status: best.kind, trigger: best.phrase } : { status: 'affirmed' };
}

function blocked(triggers: TriggerMatch[], from: number, to: number): boolean {
  return triggers.some((t) => t.kind === 'terminate' && t.first > from && t.last < to);
}
