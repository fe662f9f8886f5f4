/**
 * `vitals keys create|list|revoke`: API keys, managed on the database the server uses. The key is
 * printed once, as the last line of stdout, so `KEY=$(vitals keys create … | tail -1)` captures it.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ApiKeys } from '../auth/api-keys.js';
import type { Settings } from '../config/index.js';
import { ROLES } from '../server/principal.js'; // a small module: only a type import of fastify
import { printTable } from './output.js';

export function registerKeyCommands(program: Command, settings: () => Settings | Promise<Settings>): void {
  const keys = program.command('keys').description('API keys: who may call the API, with which role');
  const withKeys = async <T>(fn: (k: ApiKeys) => Promise<T>): Promise<T> => {
    const s = await settings();
    const [{ ApiKeys }, { openDatabase }, { AuditTrail }] = await Promise.all([import('../auth/api-keys.js'), import('../store/index.js'), import('../audit/index.js')]);
    const database = await openDatabase(s.DATABASE_URL, resolve(s.VITALS_HOME));
    try {
      return await fn(new ApiKeys(database.db, new AuditTrail()));
    } finally {
      await database.close();
    }
  };

  keys
    .command('create')
    .description(`create a key; roles: ${ROLES.join(', ')}`)
    .requiredOption('--name <name>', 'who or what uses the key (e.g. ward-3-app, dr-lee)')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .action(async (o: { name: string; role: string }) => {
      const { key, info } = await withKeys((k) => k.create(o.name, o.role, process.env.USER ?? 'cli'));
      console.error(`created key "${info.name}" with role ${info.role}; it is shown once, below. Send it as "Authorization: Bearer <key>".`);
      console.log(key);
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const list = await withKeys((k) => k.list());
      if (o.json) console.log(JSON.stringify(list, null, 2));
      else printTable(list.map((k) => ({ name: k.name, role: k.role, prefix: k.prefix, created: k.created_at, revoked: k.revoked_at ?? '' })));
    });

  keys
    .command('revoke <name>')
    .description('revoke a key: it stops working at once (within 30 s on other replicas)')
    .action(async (name: string) => {
      const info = await withKeys((k) => k.revoke(name, undefined, `cli:${process.env.USER ?? 'unknown'}`));
      console.log(`revoked key "${info.name}" (${info.role})`);
    });
}
