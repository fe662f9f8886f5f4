/**
 * `vitals migrate`: applies the database migrations and exits. Every process also migrates when it
 * opens the database; a deploy runs this first (the Helm chart's pre-upgrade hook, compose's
 * `migrate` service) so that a failed migration stops the rollout before any new pod starts.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/index.js';

export function registerMigrateCommand(program: Command, settings: () => Settings | Promise<Settings>): void {
  program
    .command('migrate')
    .description('apply database migrations and exit (run before a rolling update)')
    .action(async () => {
      const cfg = await settings();
      const { openDatabase } = await import('../store/index.js'); // loaded when the command runs: `--help` stays fast
      const database = await openDatabase(cfg.DATABASE_URL, resolve(cfg.VITALS_HOME));
      try {
        const row = await database.db
          .selectFrom('kysely_migration' as never)
          .select((eb) => eb.fn.countAll<number>().as('applied'))
          .executeTakeFirst();
        console.log(`database ${database.dialect} (${database.location}) is at the latest schema: ${Number(row?.applied ?? 0)} migrations applied`);
      } finally {
        await database.close();
      }
    });
}
