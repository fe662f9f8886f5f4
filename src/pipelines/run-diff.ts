/** `params diff` and `metrics diff` between two runs, as dvc prints them. Pure. */
import { stableJson } from './content-hash.js';

export interface ParamChange {
  param: string;
  old: unknown;
  new: unknown;
}

export interface MetricChange {
  metric: string;
  old: number | null;
  new: number | null;
  /** new − old, when both exist */
  change: number | null;
}

export function diffParams(a: Record<string, unknown>, b: Record<string, unknown>, options: { all?: boolean } = {}): ParamChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.map((k) => ({ param: k, old: a[k] ?? null, new: b[k] ?? null })).filter((c) => options.all || stableJson(c.old) !== stableJson(c.new));
}

export function diffMetrics(a: Record<string, number>, b: Record<string, number>, options: { all?: boolean } = {}): MetricChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .map((k) => {
      const o = a[k] ?? null;
      const n = b[k] ?? null;
      return { metric: k, old: o, new: n, change: o !== null && n !== null ? n - o : null };
    })
    .filter((c) => options.all || c.old !== c.new);
}
