/**
 * `vitals audit verify|export`: the audit trail, read from the database the server uses.
 * verify exits 1 naming the first row that was changed, removed or inserted out of order.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/index.js';
import type { Database } from '../store/index.js';

export function registerAuditCommands(program: Command, settings: () => Settings | Promise<Settings>): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: verify its hash chain, export it');
  const withDb = async <T>(fn: (d: Database) => Promise<T>): Promise<T> => {
    const s = await settings();
    const { openDatabase } = await import('../store/index.js');
    const database = await openDatabase(s.DATABASE_URL, resolve(s.VITALS_HOME));
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  };

  audit
    .command('verify')
    .description('walk the hash chain; exit 1 naming the first row that was changed, removed or inserted out of order')
    .action(async () => {
      const { verifyChain } = await import('../audit/index.js');
      const r = await withDb((d) => verifyChain(d.db));
      if (r.ok) {
        console.log(`audit trail intact: ${r.rows} rows, head ${r.head ?? '(empty)'}`);
        return;
      }
      console.error(`audit trail BROKEN: ${r.problem!.message} (${r.rows} rows before it verified)`);
      process.exitCode = 1;
    });

  audit
    .command('export')
    .description('export the audit trail of a period as CSV, JSON lines or a PDF compliance report')
    .option('--from <time>', 'start (ISO date or time, inclusive)')
    .option('--to <time>', 'end (ISO date or time, exclusive)')
    .option('--date <YYYY-MM-DD>', 'one UTC day (instead of --from/--to)')
    .option('--format <format>', 'csv | jsonl | pdf', 'csv')
    .option('--out <file>', 'write here instead of stdout (required for pdf)')
    .action(async (o: { from?: string; to?: string; date?: string; format: string; out?: string }) => {
      const { listAudit, verifyChain } = await import('../audit/index.js');
      const { exportPeriod, toCsv, toJsonl } = await import('../audit/export.js');
      if (!['csv', 'jsonl', 'pdf'].includes(o.format)) throw new Error(`--format: "${o.format}" is not one of csv, jsonl, pdf`);
      if (o.format === 'pdf' && !o.out) throw new Error('--format pdf needs --out FILE (a PDF is not written to a terminal)');
      const period = exportPeriod(o);
      await withDb(async (d) => {
        const rows = [];
        for (let after = 0; ; ) {
          const page = await listAudit(d.db, { ...period, after, limit: 5000 });
          rows.push(...page);
          if (page.length < 5000) break;
          after = page[page.length - 1]!.seq;
        }
        let out: string | Uint8Array;
        if (o.format === 'pdf') {
          const { complianceReportPdf } = await import('../audit/report-pdf.js');
          out = await complianceReportPdf(rows, period, await verifyChain(d.db));
        } else out = o.format === 'csv' ? toCsv(rows) : toJsonl(rows);
        if (o.out) {
          writeFileSync(o.out, out);
          console.error(`wrote ${rows.length} audit rows to ${o.out}`);
        } else process.stdout.write(out);
      });
    });
}
