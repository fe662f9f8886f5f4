/**
 * MLflow's run search (search-filter.ts parses it) as SQL over `tracking_runs`, for SQLite and
 * PostgreSQL: the filter, the ordering and the page are the database's work, so a search over many
 * runs reads and renders only the runs it returns.
 *
 * The result is the one `matches` and `sortEntities` give on the runs' MLflow views (a test compares
 * them on random runs and searches), which is what a real `mlflow server` answers:
 * - metrics are the `metrics` JSON's numbers; params are the `config` JSON's values as MLflow text
 *   (a string as it is, anything else as its JSON); tags the `tags` JSON's strings;
 * - LIKE is case-sensitive (SQLite: GLOB), ILIKE is not; `%` and `_` are the only wildcards and a
 *   backslash is an ordinary character (PostgreSQL: ESCAPE ''). ILIKE folds the case of letters as
 *   the database does: ASCII only on SQLite (as a mlflow server on SQLite), per the locale on PostgreSQL;
 * - start_time and end_time are compared on the stored ISO-8601 text (`toISOString`, sortable as
 *   text), the number in the filter rounded to the whole millisecond that keeps the comparison exact;
 * - strings order by code point (PostgreSQL: COLLATE "C", not the database's locale); a run missing
 *   the key sorts last in both directions; then start_time DESC, then run id.
 */
import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { DialectName } from '../../store/index.js';
import type { Clause, OrderClause } from './search-filter.js';

type Expr = RawBuilder<unknown>;

/** The earliest and latest instants `toISOString` writes with a four-digit year (text order = time order). */
const FIRST_ISO_MS = -62_167_219_200_000;
const LAST_ISO_MS = 253_402_300_799_999;

export interface RunSearchSql {
  where: RawBuilder<SqlBool>[];
  orderBy: Array<[Expr, 'asc' | 'desc']>;
}

/**
 * WHERE conditions and ORDER BY terms for `tracking_runs` (unqualified columns). `defaultExperimentId`
 * is the internal id of the experiment MLflow calls "0" (its runs' artifact_uri says 0).
 */
export function runSearchSql(dialect: DialectName, clauses: Clause[], order: OrderClause[], defaultExperimentId: string | undefined): RunSearchSql {
  const x = new RunColumns(dialect, defaultExperimentId);
  const where = clauses.map((c) => x.condition(c));
  const terms = [...order];
  if (!terms.some((o) => o.type === 'attribute' && o.key === 'start_time')) terms.push({ type: 'attribute', key: 'start_time', ascending: false });
  const orderBy: Array<[Expr, 'asc' | 'desc']> = [];
  for (const o of terms) {
    const e = x.orderValue(o.type, o.key);
    orderBy.push([sql`(${e}) is null`, 'asc'], [e, o.ascending ? 'asc' : 'desc']);
  }
  orderBy.push([x.collate(sql.ref('id')), 'asc']);
  return { where, orderBy };
}

class RunColumns {
  constructor(
    private readonly dialect: DialectName,
    private readonly defaultExperimentId: string | undefined,
  ) {}

  private get pg() {
    return this.dialect === 'postgres';
  }

  /** A JSON object column's member as SQL text (SQLite: a JSON path with the key quoted). */
  private member(column: string, key: string): Expr {
    return this.pg ? sql`(${sql.ref(column)}::json ->> ${key}::text)` : sql`json_extract(${sql.ref(column)}, ${`$.${JSON.stringify(key)}`})`;
  }

  private metric(key: string): Expr {
    return this.pg ? sql`(${this.member('metrics', key)})::double precision` : this.member('metrics', key);
  }

  /** A param as MLflow text: `paramText` of the config value. */
  private param(key: string): Expr {
    if (this.pg) {
      const v = sql`(config::json -> ${key}::text)`;
      return sql`(case when json_typeof(${v}) = 'string' then config::json ->> ${key}::text else ${v}::text end)`;
    }
    const path = `$.${JSON.stringify(key)}`;
    return sql`(case json_type(config, ${path}) when 'text' then json_extract(config, ${path}) else config -> ${path} end)`;
  }

  private attribute(key: string): Expr {
    switch (key) {
      case 'run_id':
        return sql.ref('id');
      case 'run_name':
        return sql`coalesce(name, ${this.member('tags', 'mlflow.runName')}, '')`;
      case 'status':
        return sql`(case status when 'completed' then 'FINISHED' when 'failed' then 'FAILED' when 'killed' then 'KILLED' else 'RUNNING' end)`;
      case 'user_id':
        return sql`coalesce(user_id, '')`;
      case 'artifact_uri': {
        const view = this.defaultExperimentId === undefined ? sql.ref('experiment_id') : sql`(case when experiment_id = ${this.defaultExperimentId} then '0' else experiment_id end)`;
        return sql`('mlflow-artifacts:/' || ${view} || '/' || id || '/artifacts')`;
      }
      case 'start_time':
        return sql.ref('started_at');
      case 'end_time':
        return sql.ref('ended_at');
      default:
        throw new Error(`no column for the run attribute ${key}`); // the grammar admits no other
    }
  }

  private value(type: Clause['type'], key: string): Expr {
    if (type === 'metric') return this.metric(key);
    if (type === 'param') return this.param(key);
    if (type === 'tag') return this.member('tags', key);
    return this.attribute(key);
  }

  /** Text compared byte by byte, as SQLite's BINARY collation and JavaScript compare it. */
  collate(e: Expr): Expr {
    return this.pg ? sql`(${e}) collate "C"` : e;
  }

  orderValue(type: OrderClause['type'], key: string): Expr {
    const e = this.value(type, key);
    return type === 'metric' ? e : this.collate(e);
  }

  condition(c: Clause): RawBuilder<SqlBool> {
    if (c.type === 'dataset') return this.datasetCondition(c);
    if (c.type === 'attribute' && (c.key === 'start_time' || c.key === 'end_time')) return this.timeCondition(this.attribute(c.key), c);
    return this.compare(this.value(c.type, c.key), c);
  }

  private compare(e: Expr, c: Clause): RawBuilder<SqlBool> {
    const v = c.value;
    switch (c.comparator) {
      case 'IS NULL':
        return sql<SqlBool>`(${e}) is null`;
      case 'IS NOT NULL':
        return sql<SqlBool>`(${e}) is not null`;
      case 'LIKE':
        return this.pg ? sql<SqlBool>`(${e}) like ${v as string} escape ''` : sql<SqlBool>`(${e}) glob ${globOf(v as string)}`;
      case 'ILIKE':
        // SQLite's LIKE ignores ASCII case and has no escape character unless given one
        return this.pg ? sql<SqlBool>`(${e}) ilike ${v as string} escape ''` : sql<SqlBool>`(${e}) like ${v as string}`;
      case 'IN':
        return sql<SqlBool>`(${e}) in (${sql.join(v as string[])})`;
      case 'NOT IN':
        return sql<SqlBool>`(${e}) not in (${sql.join(v as string[])})`;
      default:
        return sql<SqlBool>`(${e}) ${sql.raw(c.comparator === '!=' ? '<>' : c.comparator)} ${v}`;
    }
  }

  /** start_time / end_time: integer milliseconds stored as ISO text; the bound becomes ISO text too. */
  private timeCondition(e: Expr, c: Clause): RawBuilder<SqlBool> {
    const v = c.value as number;
    const always = sql<SqlBool>`(${e}) is not null`;
    const never = sql<SqlBool>`1 = 0`;
    let bound: number;
    switch (c.comparator) {
      case '=':
        if (!Number.isInteger(v)) return never;
        bound = v;
        break;
      case '!=':
        if (!Number.isInteger(v)) return always;
        bound = v;
        break;
      case '>':
      case '<=':
        bound = Math.floor(v);
        break;
      default: // >= and <
        bound = Math.ceil(v);
    }
    // a bound beyond the four-digit years: every stored time is on one side of it
    if (bound < FIRST_ISO_MS || bound > LAST_ISO_MS) {
      const below = bound < FIRST_ISO_MS;
      const all = c.comparator === '!=' || (below ? c.comparator === '>' || c.comparator === '>=' : c.comparator === '<' || c.comparator === '<=');
      return all ? always : never;
    }
    return this.compare(this.collate(e), { ...c, value: new Date(bound).toISOString() });
  }

  /** datasets.name / digest / context: some dataset input of the run matches. */
  private datasetCondition(c: Clause): RawBuilder<SqlBool> {
    let field: Expr;
    if (this.pg) {
      field =
        c.key === 'context'
          ? sql`(select t.value ->> 'value' from json_array_elements(d.value -> 'tags') as t(value) where t.value ->> 'key' = 'mlflow.data.context' limit 1)`
          : sql`(d.value -> 'dataset' ->> ${c.key}::text)`;
      return sql<SqlBool>`exists (select 1 from json_array_elements(inputs::json) as d(value) where ${this.compare(field, c)})`;
    }
    field =
      c.key === 'context'
        ? sql`(select json_extract(t.value, '$.value') from json_each(d.value, '$.tags') as t where json_extract(t.value, '$.key') = 'mlflow.data.context' limit 1)`
        : sql`json_extract(d.value, ${`$.dataset.${c.key}`})`;
    return sql<SqlBool>`exists (select 1 from json_each(inputs) as d where ${this.compare(field, c)})`;
  }
}

/** A LIKE pattern as a GLOB pattern (case-sensitive): % → *, _ → ?, GLOB's own wildcards literal. */
export function globOf(like: string): string {
  return like.replace(/[*?[%_]/g, (ch) => ({ '*': '[*]', '?': '[?]', '[': '[[]', '%': '*', _: '?' })[ch]!);
}
