/**
 * `vitals backup --out DIR` (while the service runs) and `vitals restore DIR [--force]` (service
 * stopped): the database, the artifact store and a manifest with sha256s and the audit chain head.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/index.js';

export function registerBackupCommands(program: Command, settings: () => Settings | Promise<Settings>): void {
  program
    .command('backup')
    .description('back up the database and artifact store into DIR, with a manifest (sha256 of every file, audit chain head); safe while the service runs')
    .requiredOption('--out <dir>', 'a new or empty folder')
    .action(async (o: { out: string }) => {
      const s = await settings();
      const { createBackup } = await import('../backup/index.js');
      const started = performance.now();
      const m = await createBackup({ databaseUrl: s.DATABASE_URL, home: resolve(s.VITALS_HOME) }, o.out);
      const bytes = m.files.reduce((a, f) => a + f.bytes, 0);
      console.log(
        `backup ${resolve(o.out)}: ${m.dialect}, ${m.files.length} files, ${bytes} bytes, audit ${m.audit.rows} rows head ${m.audit.head ?? '(empty)'} (${Math.round(performance.now() - started)} ms)`,
      );
    });

  program
    .command('restore')
    .description('restore a backup made by `vitals backup`: checks the manifest first; refuses a non-empty target unless --force (stop the service first)')
    .argument('<dir>', 'the backup folder')
    .option('--force', 'replace a database and artifact store that are not empty')
    .action(async (dir: string, o: { force?: boolean }) => {
      const s = await settings();
      const { confirmRestore, restoreBackup } = await import('../backup/index.js');
      const { openDatabase } = await import('../store/index.js');
      const home = resolve(s.VITALS_HOME);
      const m = await restoreBackup({ databaseUrl: s.DATABASE_URL, home }, dir, { force: o.force });
      const database = await openDatabase(s.DATABASE_URL, home);
      try {
        const v = await confirmRestore(database.db, m, resolve(dir));
        console.log(`restored backup of ${m.created_at}: ${m.files.length} files, audit trail intact (${v.rows} rows, head ${v.head ?? '(empty)'})`);
      } finally {
        await database.close();
      }
    });
}
