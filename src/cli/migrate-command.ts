/**
 * `vitals migrate`: applies the database migrations and exits. Every process also migrates when it
 * opens the database; a deploy runs this first (the Helm chart's pre-upgrade hook, compose's
 * `migrate` service) so that a failed migration stops the rollout before any new pod starts.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Settings } from '../config/index.js';
import { openDatabase } from '../store/index.js';

export function registerMigrateCommand(program: Command, settings: () => Settings): void {
  program
    .command('migrate')
    .description('apply database migrations and exit (run before a rolling update)')
    .action(async () => {
      const cfg = settings();
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
