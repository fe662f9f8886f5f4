/**
 * The compliance report as a PDF (pdfkit): the period, the chain's verification result, counts by
 * action and by principal, and every production change with its reason.
 */
import PDFDocument from 'pdfkit';
import type { AuditRow, VerifyResult } from './audit-trail.js';

const PRODUCTION_ACTIONS = new Set(['model.promoted', 'model.rolled_back', 'model.archived', 'model.registered']);

function countBy(rows: AuditRow[], key: (r: AuditRow) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** A production change: a move of the production alias, a rollback, or an archive. */
function isProductionChange(r: AuditRow): boolean {
  if (!PRODUCTION_ACTIONS.has(r.action)) return false;
  if (r.action === 'model.promoted') return (JSON.parse(r.details) as { alias?: string }).alias === 'production';
  return r.action !== 'model.registered';
}

export function complianceReportPdf(rows: AuditRow[], period: { from?: string; to?: string }, chain: VerifyResult): Promise<Uint8Array> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: 'Vitals audit trail: compliance report', Creator: 'vitals audit export' } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Uint8Array>((ok, fail) => {
    doc.on('end', () => ok(new Uint8Array(Buffer.concat(chunks))));
    doc.on('error', fail);
  });

  doc.font('Helvetica-Bold').fontSize(18).text('Vitals audit trail: compliance report');
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Period: ${period.from ?? 'beginning'} to ${period.to ?? 'now'}`);
  doc.text(`Generated: ${new Date().toISOString()}`);
  doc.text(`Events in period: ${rows.length}`);
  doc.moveDown(0.5).font('Helvetica-Bold').text('Chain verification: ', { continued: true });
  doc.font('Helvetica').text(chain.ok ? `intact (${chain.rows} rows, head ${chain.head ?? 'empty'})` : `BROKEN: ${chain.problem?.message}`);

  const section = (title: string) => doc.moveDown(1).font('Helvetica-Bold').fontSize(13).text(title).moveDown(0.3).font('Helvetica').fontSize(10);
  section('Events by action');
  for (const [action, n] of countBy(rows, (r) => r.action)) doc.text(`${action}: ${n}`);
  section('Events by principal');
  for (const [who, n] of countBy(rows, (r) => `${r.principal} (${r.role})`)) doc.text(`${who}: ${n}`);
  section('Production changes');
  const changes = rows.filter(isProductionChange);
  if (!changes.length) doc.text('none in this period');
  for (const r of changes) {
    doc.font('Helvetica-Bold').text(`${r.at}  ${r.action}  ${r.target}`);
    doc
      .font('Helvetica')
      .text(`by ${r.principal} (${r.role}); reason: ${r.reason ?? '(none given)'}`, { indent: 12 })
      .moveDown(0.2);
  }
  doc.end();
  return done;
}
