/**
 * dvc.yaml templating as DVC resolves it, before stages are read (a pure function of the document
 * and the files it names):
 *
 * - `vars:` at the top and in a stage: inline maps, or files (`params.yaml`, `config.json`,
 *   `file.yaml:key1,key2`); `params.yaml` next to dvc.yaml is always loaded first, as in DVC.
 * - `${a.b[0]}` interpolation in every string of a stage (cmd, deps, outs, params, metrics, plots,
 *   wdir, …). A whole-string `${x}` keeps its type; inside a longer string, numbers, strings and
 *   booleans are written as DVC writes them (`true`/`false`); `\${` is a literal `${`.
 * - `foreach:` over a list (`name@<item>`, or `name@<index>` for non-scalar items) or a map
 *   (`name@<key>`, `${key}` and `${item}`), written inline or as `${var}`; `do:` is the stage.
 * - `matrix:` of named lists (`name@<v1>-<v2>…`, `${item.<axis>}`).
 * - An unresolvable `${…}` is an error that names it and where it is.
 * The params-file values a stage interpolated are reported (`usedParams`); like DVC, the runner does
 * not make them params of the stage: they change its cmd or paths, which the lock file compares.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { validationFailed } from '../errors.js';

type Json = unknown;
type Problem = { field: string; message: string };

/** Where a top-level var came from: a file (tracked as a param when used) or inline. */
interface Context {
  values: Record<string, Json>;
  origin: Record<string, string | undefined>;
}

export interface ResolvedStage {
  name: string;
  raw: Record<string, unknown>;
  /** `{file, key}` of every params-file value the stage interpolated */
  usedParams: Array<{ file: string; key: string }>;
}

const EXPR = /(\\?)\$\{\s*([^}]*?)\s*\}/g;

function readVarsFile(root: string, spec: string, field: string, problems: Problem[]): Record<string, Json> | undefined {
  const [file, keys] = spec.includes(':') ? [spec.slice(0, spec.indexOf(':')), spec.slice(spec.indexOf(':') + 1)] : [spec, ''];
  const path = resolve(root, file);
  if (!path.startsWith(resolve(root))) {
    problems.push({ field, message: `vars file "${file}" is outside the pipeline folder` });
    return undefined;
  }
  if (!existsSync(path)) {
    problems.push({ field, message: `vars file "${file}" does not exist` });
    return undefined;
  }
  const text = readFileSync(path, 'utf8');
  let doc: Json;
  try {
    doc = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    problems.push({ field, message: `vars file "${file}" is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}` });
    return undefined;
  }
  const all = (doc && typeof doc === 'object' ? doc : {}) as Record<string, Json>;
  if (!keys) return all;
  const out: Record<string, Json> = {};
  for (const k of keys
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!(k in all)) problems.push({ field, message: `"${k}" is not in vars file "${file}"` });
    else out[k] = all[k];
  }
  return out;
}

function addVars(ctx: Context, root: string, vars: unknown, field: string, problems: Problem[]): Context {
  const next: Context = { values: { ...ctx.values }, origin: { ...ctx.origin } };
  if (vars === undefined || vars === null) return next;
  if (!Array.isArray(vars)) {
    problems.push({ field, message: 'must be a list of files and maps' });
    return next;
  }
  for (const [i, entry] of vars.entries()) {
    if (typeof entry === 'string') {
      const values = readVarsFile(root, entry, `${field}[${i}]`, problems);
      const file = entry.split(':')[0]!;
      for (const [k, v] of Object.entries(values ?? {})) {
        next.values[k] = v;
        next.origin[k] = file;
      }
    } else if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
      // inline values may refer to what is already defined (params.yaml, earlier vars)
      const interpolator = new Interpolator(next, problems);
      for (const [k, v] of Object.entries(entry)) {
        next.values[k] = interpolator.value(v, `${field}[${i}].${k}`);
        next.origin[k] = undefined;
      }
    } else problems.push({ field: `${field}[${i}]`, message: `entries must be a file name or a map, got ${JSON.stringify(entry)}` });
  }
  return next;
}

/** `a.b[0].c` → ['a', 'b', 0, 'c'] */
function pathOf(expr: string): Array<string | number> | undefined {
  if (!/^[A-Za-z_][\w-]*(\.[\w-]+|\[\d+\])*$/.test(expr)) return undefined;
  const out: Array<string | number> = [];
  for (const m of expr.matchAll(/([A-Za-z_0-9-]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

function lookup(ctx: Context, expr: string): { found: boolean; value?: Json } {
  const path = pathOf(expr);
  if (!path) return { found: false };
  let v: Json = ctx.values;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || !(p in (v as Record<string, Json>))) return { found: false };
    v = (v as Record<string | number, Json>)[p];
  }
  return { found: true, value: v };
}

const scalarText = (v: Json) => (typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v));

class Interpolator {
  readonly used = new Map<string, { file: string; key: string }>();
  constructor(
    private readonly ctx: Context,
    private readonly problems: Problem[],
  ) {}

  private resolveExpr(expr: string, field: string): { ok: boolean; value?: Json } {
    const hit = lookup(this.ctx, expr);
    if (!hit.found) {
      this.problems.push({
        field,
        message: `\${${expr}} cannot be resolved: ${pathOf(expr) ? `"${expr}" is not defined in vars, params.yaml or the foreach/matrix item` : `"${expr}" is not a variable reference`}`,
      });
      return { ok: false };
    }
    const top = String(pathOf(expr)![0]);
    const file = this.ctx.origin[top];
    if (file) this.used.set(`${file}\u0000${expr}`, { file, key: expr });
    return { ok: true, value: hit.value };
  }

  value(v: Json, field: string): Json {
    if (typeof v === 'string') return this.string(v, field);
    if (Array.isArray(v)) return v.map((x, i) => this.value(x, `${field}[${i}]`));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.string(k, `${field}.${k}`) as string, this.value(x, `${field}.${k}`)]));
    return v;
  }

  string(s: string, field: string): Json {
    const whole = /^\$\{\s*([^}]*?)\s*\}$/.exec(s);
    if (whole) {
      const r = this.resolveExpr(whole[1]!, field);
      return r.ok ? r.value : s;
    }
    return s.replace(EXPR, (match, escaped: string, expr: string) => {
      if (escaped) return match.slice(1);
      const r = this.resolveExpr(expr, field);
      if (!r.ok) return match;
      if (r.value !== null && typeof r.value === 'object') {
        this.problems.push({ field, message: `\${${expr}} is a ${Array.isArray(r.value) ? 'list' : 'map'} and cannot be written inside a string` });
        return match;
      }
      return scalarText(r.value);
    });
  }
}

const keyText = (v: Json, i: number) => (v === null || typeof v === 'object' ? String(i) : scalarText(v));

/** Expands vars, interpolation, foreach and matrix; returns the concrete stages in order. */
export function resolveDvcTemplates(doc: { vars?: unknown; stages: Record<string, unknown> }, root: string): { stages: ResolvedStage[]; problems: Problem[] } {
  const problems: Problem[] = [];
  let base: Context = { values: {}, origin: {} };
  if (existsSync(resolve(root, 'params.yaml'))) base = addVars(base, root, ['params.yaml'], 'params.yaml', problems);
  base = addVars(base, root, doc.vars, 'vars', problems);
  const out: ResolvedStage[] = [];

  const emit = (name: string, body: Record<string, unknown>, ctx: Context, field: string) => {
    const { vars, ...rest } = body;
    const stageCtx = addVars(ctx, root, vars, `${field}.vars`, problems);
    const interpolator = new Interpolator(stageCtx, problems);
    const raw = interpolator.value(rest, field) as Record<string, unknown>;
    out.push({ name, raw, usedParams: [...interpolator.used.values()] });
  };

  for (const [name, stage] of Object.entries(doc.stages)) {
    const field = `stages.${name}`;
    if (!stage || typeof stage !== 'object' || Array.isArray(stage)) {
      out.push({ name, raw: stage as Record<string, unknown>, usedParams: [] });
      continue;
    }
    const s = stage as Record<string, unknown>;
    if ('foreach' in s || 'matrix' in s) {
      const body = s.do as Record<string, unknown> | undefined;
      if ('foreach' in s && (!body || typeof body !== 'object')) {
        problems.push({ field: `${field}.do`, message: 'a foreach stage needs `do:` with the stage to repeat' });
        continue;
      }
      const iter = new Interpolator(base, problems);
      if ('foreach' in s) {
        const items = typeof s.foreach === 'string' ? iter.string(s.foreach, `${field}.foreach`) : s.foreach;
        if (Array.isArray(items)) {
          items.forEach((item, i) => emit(`${name}@${keyText(item, i)}`, body!, { values: { ...base.values, item }, origin: { ...base.origin, item: undefined } }, `${field}@${keyText(item, i)}`));
        } else if (items && typeof items === 'object') {
          for (const [key, item] of Object.entries(items))
            emit(`${name}@${key}`, body!, { values: { ...base.values, key, item }, origin: { ...base.origin, key: undefined, item: undefined } }, `${field}@${key}`);
        } else problems.push({ field: `${field}.foreach`, message: 'must be a list, a map, or ${var} naming one' });
      } else {
        const { matrix, ...rest } = s;
        const axes = Object.entries((typeof matrix === 'object' && matrix) || {}).map(
          ([axis, values]) => [axis, typeof values === 'string' ? iter.string(values, `${field}.matrix.${axis}`) : values] as const,
        );
        if (!axes.length || axes.some(([, v]) => !Array.isArray(v) || !v.length)) {
          problems.push({ field: `${field}.matrix`, message: 'must map each axis to a non-empty list' });
          continue;
        }
        let combos: Array<Array<[string, Json, number]>> = [[]];
        for (const [axis, values] of axes) combos = combos.flatMap((c) => (values as Json[]).map((v, i) => [...c, [axis, v, i] as [string, Json, number]]));
        for (const combo of combos) {
          const item = Object.fromEntries(combo.map(([axis, v]) => [axis, v]));
          const suffix = combo.map(([, v, i]) => keyText(v, i)).join('-');
          emit(`${name}@${suffix}`, rest, { values: { ...base.values, item }, origin: { ...base.origin, item: undefined } }, `${field}@${suffix}`);
        }
      }
      continue;
    }
    emit(name, s, base, field);
  }
  const seen = new Set<string>();
  for (const st of out) {
    if (seen.has(st.name)) problems.push({ field: `stages.${st.name}`, message: 'two stages resolve to this name' });
    seen.add(st.name);
  }
  return { stages: out, problems };
}

/** Throws the problems of a templating pass as one validation error. */
export function assertResolved(problems: Problem[]): void {
  if (problems.length) throw validationFailed(problems, 'invalid pipeline definition');
}
