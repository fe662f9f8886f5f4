/**
 * MLflow's run search grammar, parsed and evaluated here (pure functions, no I/O):
 *
 *   filter:   clause (AND clause)*        clause: <type>.<key> <op> <value>
 *   types:    metric(s) | param(s)/parameter(s) | tag(s) | attribute(s)/attr/run | dataset(s)
 *   keys:     identifier, or quoted with "…" or `…` (keys with spaces, dots, dashes)
 *   ops:      metrics and numeric attributes: = != > >= < <=
 *             params and tags: = != LIKE ILIKE IS NULL / IS NOT NULL
 *             string attributes and datasets: = != LIKE ILIKE IN (…) NOT IN (…)
 *   order_by: <type>.<key> [ASC|DESC]; runs missing the key sort last in both directions, then
 *             start_time DESC (unless ordered by it), then run_id — as MLflow's SQL store orders them.
 *
 * A filter MLflow would refuse is refused with a message naming the offending part.
 */

export class SearchSyntaxError extends Error {}

export type EntityType = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Clause {
  type: EntityType;
  key: string;
  comparator: Comparator;
  /** a number (metrics, numeric attributes), a string, a list (IN), or null (IS [NOT] NULL) */
  value: number | string | string[] | null;
}

export interface OrderClause {
  type: EntityType;
  key: string;
  ascending: boolean;
}

/** What an entity offers to the search: a run's MLflow view, or a registered model's, an experiment's… */
export interface Searchable {
  /** the tie-breaker of the ordering (run id, model name) */
  id: string;
  attributes: Record<string, string | number | null>;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  datasets?: Array<{ name: string; digest: string; context?: string }>;
}

/** The attributes an entity can be searched and ordered by. */
export interface SearchGrammar {
  entity: string;
  strings: Set<string>;
  numbers: Set<string>;
  aliases?: Record<string, string>;
  /** attributes that accept IN / NOT IN */
  lists?: Set<string>;
  /** the ordering after the requested one: [attribute, ascending] */
  defaultOrder?: [string, boolean];
}

const TYPE_ALIASES: Record<string, EntityType> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'param',
  parameters: 'param',
  param: 'param',
  params: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

export const RUN_GRAMMAR: SearchGrammar = {
  entity: 'runs',
  strings: new Set(['run_id', 'run_name', 'status', 'user_id', 'artifact_uri']),
  numbers: new Set(['start_time', 'end_time']),
  aliases: { created: 'start_time', Created: 'start_time', 'run name': 'run_name', 'Run name': 'run_name', 'Run Name': 'run_name', run_uuid: 'run_id' },
  lists: new Set(['run_id']),
  defaultOrder: ['start_time', false],
};
const DATASET_KEYS = new Set(['name', 'digest', 'context']);

const NUMERIC_OPS: Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
const PARAM_TAG_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'];
const STRING_ATTR_OPS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

type Token = { kind: 'ident' | 'quoted' | 'backtick' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < input.length && input[j] !== c) {
        if (input[j] === '\\' && j + 1 < input.length) j++;
        text += input[j];
        j++;
      }
      if (j >= input.length) throw new SearchSyntaxError(`unterminated ${c}…${c} starting at character ${i + 1}`);
      // '…' and "…" are values (a "…" may also be a key: metrics."a b"); `…` is a key only
      tokens.push({ kind: c === '`' ? 'backtick' : 'quoted', text });
      i = j + 1;
    } else if (c === '(') {
      tokens.push({ kind: 'lparen', text: c });
      i++;
    } else if (c === ')') {
      tokens.push({ kind: 'rparen', text: c });
      i++;
    } else if (c === ',') {
      tokens.push({ kind: 'comma', text: c });
      i++;
    } else if (c === '.' && !/[0-9]/.test(input[i + 1] ?? '')) {
      tokens.push({ kind: 'dot', text: c });
      i++;
    } else if ('<>=!'.includes(c)) {
      const two = input.slice(i, i + 2);
      if (['<=', '>=', '!='].includes(two)) {
        tokens.push({ kind: 'op', text: two });
        i += 2;
      } else if (c === '!') {
        throw new SearchSyntaxError(`unexpected "!" at character ${i + 1}`);
      } else {
        tokens.push({ kind: 'op', text: c });
        i++;
      }
    } else if (/[-+0-9.]/.test(c)) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(input.slice(i));
      if (!m) throw new SearchSyntaxError(`unexpected "${c}" at character ${i + 1}`);
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else {
      throw new SearchSyntaxError(`unexpected "${c}" at character ${i + 1}`);
    }
  }
  return tokens;
}

class Cursor {
  i = 0;
  constructor(readonly tokens: Token[]) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new SearchSyntaxError(`expected ${what} but the filter ended`);
    return t;
  }
  word(w: string): boolean {
    const t = this.peek();
    if (t?.kind === 'ident' && t.text.toUpperCase() === w) {
      this.i++;
      return true;
    }
    return false;
  }
}

/** `<type>.<key>` (or a bare attribute name). */
function parseIdentifier(cur: Cursor, g: SearchGrammar, context: 'filter' | 'order_by'): { type: EntityType; key: string } {
  const first = cur.next('an identifier such as metrics.accuracy');
  if (first.kind !== 'ident' && first.kind !== 'backtick' && first.kind !== 'quoted') throw new SearchSyntaxError(`expected an identifier such as metrics.accuracy, got "${first.text}"`);
  if (cur.peek()?.kind === 'dot') {
    cur.i++;
    const type = TYPE_ALIASES[first.text.toLowerCase()];
    if (!type) throw new SearchSyntaxError(`invalid entity type "${first.text}": use metrics, params, tags, attributes or datasets`);
    const keyTok = cur.next(`a key after "${first.text}."`);
    if (keyTok.kind !== 'ident' && keyTok.kind !== 'backtick' && keyTok.kind !== 'quoted' && keyTok.kind !== 'number')
      throw new SearchSyntaxError(`expected a key after "${first.text}.", got "${keyTok.text}"`);
    // unquoted keys may contain dots (tags.mlflow.runName): join ident.ident…
    let key = keyTok.text;
    while (keyTok.kind === 'ident' && cur.peek()?.kind === 'dot' && cur.tokens[cur.i + 1]?.kind === 'ident') {
      cur.i++;
      key += `.${cur.next('a key').text}`;
    }
    return { type, key: checkKey(g, type, key, context) };
  }
  // a bare name is an attribute (`name LIKE 'x%'` for registered models)
  return { type: 'attribute', key: checkKey(g, 'attribute', first.text, context) };
}

function checkKey(g: SearchGrammar, type: EntityType, key: string, context: 'filter' | 'order_by'): string {
  if (type === 'attribute') {
    const k = g.aliases?.[key] ?? key;
    if (!g.numbers.has(k) && !g.strings.has(k)) {
      throw new SearchSyntaxError(`invalid attribute key "${key}" for ${g.entity}: use one of ${[...g.strings, ...g.numbers].join(', ')}`);
    }
    return k;
  }
  if (g !== RUN_GRAMMAR && type !== 'tag') throw new SearchSyntaxError(`${g.entity} are searched by attributes and tags only, not ${type}s`);
  if (type === 'dataset') {
    if (context === 'order_by') throw new SearchSyntaxError('datasets cannot be ordered by');
    if (!DATASET_KEYS.has(key)) throw new SearchSyntaxError(`invalid dataset key "${key}": use name, digest or context`);
  }
  return key;
}

function parseValue(cur: Cursor, g: SearchGrammar, type: EntityType, key: string, comparator: Comparator): Clause['value'] {
  const numeric = type === 'metric' || (type === 'attribute' && g.numbers.has(key));
  if (comparator === 'IN' || comparator === 'NOT IN') {
    if (cur.next('"(" after IN').kind !== 'lparen') throw new SearchSyntaxError(`expected "(" after ${comparator}`);
    const list: string[] = [];
    for (;;) {
      const t = cur.next('a quoted value');
      if (t.kind !== 'quoted') throw new SearchSyntaxError(`${comparator} takes quoted strings, got "${t.text}"`);
      list.push(t.text);
      const sep = cur.next('"," or ")"');
      if (sep.kind === 'rparen') break;
      if (sep.kind !== 'comma') throw new SearchSyntaxError(`expected "," or ")" in the ${comparator} list, got "${sep.text}"`);
    }
    return list;
  }
  const t = cur.next(`a value for ${type}.${key}`);
  if (numeric) {
    if (t.kind !== 'number') throw new SearchSyntaxError(`${type}.${key} compares numbers; got ${t.kind === 'quoted' ? `'${t.text}'` : `"${t.text}"`}`);
    return Number(t.text);
  }
  if (t.kind !== 'quoted') throw new SearchSyntaxError(`${type}.${key} compares strings: quote the value ('${t.text}')`);
  return t.text;
}

function parseComparator(cur: Cursor): Comparator {
  const t = cur.next('a comparator');
  if (t.kind === 'op') return t.text as Comparator;
  if (t.kind === 'ident') {
    const w = t.text.toUpperCase();
    if (w === 'LIKE' || w === 'ILIKE' || w === 'IN') return w;
    if (w === 'NOT' && cur.word('IN')) return 'NOT IN';
    if (w === 'IS') {
      const not = cur.word('NOT');
      if (!cur.word('NULL')) throw new SearchSyntaxError('expected NULL after IS');
      return not ? 'IS NOT NULL' : 'IS NULL';
    }
  }
  throw new SearchSyntaxError(`invalid comparator "${t.text}"`);
}

export function parseFilter(filter: string | undefined | null, g: SearchGrammar = RUN_GRAMMAR): Clause[] {
  if (!filter?.trim()) return [];
  const cur = new Cursor(tokenize(filter));
  const clauses: Clause[] = [];
  for (;;) {
    const { type, key } = parseIdentifier(cur, g, 'filter');
    const comparator = parseComparator(cur);
    const allowed = type === 'metric' || (type === 'attribute' && g.numbers.has(key)) ? NUMERIC_OPS : type === 'param' || type === 'tag' ? PARAM_TAG_OPS : STRING_ATTR_OPS;
    if (!allowed.includes(comparator)) throw new SearchSyntaxError(`invalid comparator "${comparator}" for ${type}.${key}: use ${allowed.join(', ')}`);
    if ((comparator === 'IN' || comparator === 'NOT IN') && type === 'attribute' && !g.lists?.has(key))
      throw new SearchSyntaxError(`${comparator} is not supported for ${key}${g.lists?.size ? ` (only ${[...g.lists].join(', ')})` : ''}`);
    const value = comparator === 'IS NULL' || comparator === 'IS NOT NULL' ? null : parseValue(cur, g, type, key, comparator);
    clauses.push({ type, key, comparator, value });
    if (!cur.peek()) return clauses;
    if (!cur.word('AND')) throw new SearchSyntaxError(`expected AND between clauses, got "${cur.peek()!.text}" (OR is not supported by MLflow)`);
  }
}

export function parseOrderBy(orderBy: string[] | undefined, g: SearchGrammar = RUN_GRAMMAR): OrderClause[] {
  const out: OrderClause[] = [];
  const seen = new Set<string>();
  for (const text of orderBy ?? []) {
    const cur = new Cursor(tokenize(text));
    const { type, key } = parseIdentifier(cur, g, 'order_by');
    let ascending = true;
    if (cur.word('DESC')) ascending = false;
    else cur.word('ASC');
    if (cur.peek()) throw new SearchSyntaxError(`invalid order_by clause "${text}": use <type>.<key> [ASC|DESC]`);
    if (seen.has(`${type}.${key}`)) throw new SearchSyntaxError(`order_by contains duplicate fields: ${orderBy!.join(', ')}`);
    seen.add(`${type}.${key}`);
    out.push({ type, key, ascending });
  }
  return out;
}

/** SQL LIKE with % and _ (case-sensitive for LIKE, insensitive for ILIKE). */
function like(value: string, pattern: string, insensitive: boolean): boolean {
  const re = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  return new RegExp(`^${re}$`, insensitive ? 'is' : 's').test(value);
}

function fieldValue(e: Searchable, type: EntityType, key: string): string | number | null | undefined {
  switch (type) {
    case 'metric':
      return e.metrics?.[key];
    case 'param':
      return e.params?.[key];
    case 'tag':
      return e.tags?.[key];
    case 'attribute':
      return e.attributes[key];
    default:
      return undefined;
  }
}

function compare(actual: string | number, comparator: Comparator, expected: Clause['value']): boolean {
  switch (comparator) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '>':
      return (actual as number) > (expected as number);
    case '>=':
      return (actual as number) >= (expected as number);
    case '<':
      return (actual as number) < (expected as number);
    case '<=':
      return (actual as number) <= (expected as number);
    case 'LIKE':
      return like(String(actual), expected as string, false);
    case 'ILIKE':
      return like(String(actual), expected as string, true);
    case 'IN':
      return (expected as string[]).includes(String(actual));
    case 'NOT IN':
      return !(expected as string[]).includes(String(actual));
    default:
      return false;
  }
}

export function matches(run: Searchable, clauses: Clause[]): boolean {
  for (const c of clauses) {
    if (c.type === 'dataset') {
      const key = c.key as 'name' | 'digest' | 'context';
      if (!(run.datasets ?? []).some((d) => d[key] !== undefined && compare(d[key]!, c.comparator, c.value))) return false;
      continue;
    }
    const v = fieldValue(run, c.type, c.key);
    if (c.comparator === 'IS NULL') {
      if (v !== undefined && v !== null) return false;
      continue;
    }
    if (c.comparator === 'IS NOT NULL') {
      if (v === undefined || v === null) return false;
      continue;
    }
    // a run without the key never matches (as in SQL, where the join finds no row)
    if (v === undefined || v === null) return false;
    if (!compare(v, c.comparator, c.value)) return false;
  }
  return true;
}

/** Orders entities as MLflow's SQL store does (see the header). */
export function sortEntities<T extends Searchable>(runs: T[], order: OrderClause[], g: SearchGrammar = RUN_GRAMMAR): T[] {
  const clauses = [...order];
  const d = g.defaultOrder;
  if (d && !clauses.some((c) => c.type === 'attribute' && c.key === d[0])) clauses.push({ type: 'attribute', key: d[0], ascending: d[1] });
  return [...runs].sort((a, b) => {
    for (const c of clauses) {
      const va = fieldValue(a, c.type, c.key);
      const vb = fieldValue(b, c.type, c.key);
      const na = va === undefined || va === null || (typeof va === 'number' && Number.isNaN(va));
      const nb = vb === undefined || vb === null || (typeof vb === 'number' && Number.isNaN(vb));
      if (na !== nb) return na ? 1 : -1; // missing values last, whatever the direction
      if (na) continue;
      if (va === vb) continue;
      const lt = (va as string | number) < (vb as string | number);
      return (lt ? -1 : 1) * (c.ascending ? 1 : -1);
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}
