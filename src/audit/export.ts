/** The audit trail as CSV or JSON lines, for `vitals audit export`. */
import type { AuditRow } from './audit-trail.js';

export const EXPORT_COLUMNS = ['seq', 'at', 'principal', 'role', 'action', 'target', 'outcome', 'reason', 'request_id', 'client', 'details', 'hash'] as const;

function csvCell(v: unknown): string {
  const s = v == null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: AuditRow[]): string {
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const r of rows) lines.push(EXPORT_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return `${lines.join('\n')}\n`;
}

export function toJsonl(rows: AuditRow[]): string {
  return rows.map((r) => JSON.stringify({ ...r, details: JSON.parse(r.details) })).join('\n') + (rows.length ? '\n' : '');
}

/** `--date 2026-12-02` → that UTC day; `--from/--to` as given (ISO dates or times). */
export function exportPeriod(o: { date?: string; from?: string; to?: string }): { from?: string; to?: string } {
  if (o.date) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(o.date) || Number.isNaN(Date.parse(o.date))) throw new Error(`--date: "${o.date}" is not a date (YYYY-MM-DD)`);
    const next = new Date(Date.parse(`${o.date}T00:00:00Z`) + 86_400_000).toISOString();
    return { from: `${o.date}T00:00:00.000Z`, to: next };
  }
  const iso = (name: string, v?: string) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new Error(`--${name}: "${v}" is not a date or time (e.g. 2026-12-01 or 2026-12-01T08:00:00Z)`);
    return new Date(t).toISOString();
  };
  return { from: iso('from', o.from), to: iso('to', o.to) };
}
