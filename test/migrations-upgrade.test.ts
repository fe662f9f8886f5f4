/**
 * A state folder made by the 0.1.0 release (test/fixtures/release-0.1.0.sql, made by
 * scripts/fixtures/make-release-db.mjs on that release) upgrades in place: today's migrations run
 * forward, nothing already there is lost, and the app serves it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrations } from '../src/store/migrations.js';
import { openDatabase } from '../src/store/index.js';
import { startTestApp } from './helpers/app.js';

describe('upgrading a 0.1.0 database', () => {
  it('migrates forward with every row kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-upgrade-'));
    try {
      const file = join(home, 'vitals.db');
      const old = new Database(file);
      old.exec(readFileSync(new URL('./fixtures/release-0.1.0.sql', import.meta.url), 'utf8'));
      old.close();

      const database = await openDatabase(file, home);
      const ran = (await database.db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .execute()) as Array<{ name: string }>;
      expect(ran.map((r) => r.name).sort()).toEqual(Object.keys(migrations).sort());
      expect(await database.db.selectFrom('model_versions').select(['id', 'version']).orderBy('id').execute()).toEqual([
        { id: 'ver_1', version: '1.0.0' },
        { id: 'ver_2', version: '1.1.0' },
      ]);
      expect((await database.db.selectFrom('prediction_logs').selectAll().execute()).length).toBe(3);
      expect((await database.db.selectFrom('model_events').select(['actor', 'reason']).execute())[0]).toEqual({ actor: 'dr-lee', reason: 'first release' });
      expect(await database.db.selectFrom('api_keys').selectAll().execute()).toEqual([]); // a table added since
      await database.close();

      const t = await startTestApp({ VITALS_HOME: home, DATABASE_URL: file });
      try {
        const model = (await t.app.inject({ url: '/api/v1/models/breast-cancer' })).json();
        expect(model.aliases).toEqual({ production: '1.0.0' });
        const history = (await t.app.inject({ url: '/api/v1/models/breast-cancer/history' })).json();
        expect(history.events[0]).toMatchObject({ action: 'promoted', actor: 'dr-lee', reason: 'first release' });
      } finally {
        await t.close();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
