/**
 * Once-per-cluster turns on the real PostgreSQL: 20 processes' worth of connection pools claim the
 * same turn at once and exactly one gets it (what keeps two workers from sweeping twice).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimTurn } from '../../src/store/cluster-jobs.js';
import { type Database, migrateToLatest, openDatabase } from '../../src/store/index.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

describe('cluster turns on PostgreSQL', () => {
  const replicas: Database[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 20; i++) replicas.push(await openDatabase(url, mkdtempSync(join(tmpdir(), 'vitals-turns-pg-'))));
    await migrateToLatest(replicas[0]!.db);
    await sql`delete from cluster_jobs`.execute(replicas[0]!.db);
  }, 120_000);
  afterAll(async () => {
    for (const d of replicas) await d.close();
  });

  it('gives one turn to one of 20 replicas claiming at once, per interval', async () => {
    const t0 = new Date();
    for (let turn = 0; turn < 3; turn++) {
      const at = new Date(t0.getTime() + turn * 60_000);
      const won = await Promise.all(replicas.map((d, i) => claimTurn(d, 'monitoring', 60_000, `replica-${i}`, at)));
      expect(won.filter(Boolean), `turn ${turn}`).toHaveLength(1);
    }
    const row = await replicas[0]!.db.selectFrom('cluster_jobs').selectAll().where('name', '=', 'monitoring').executeTakeFirstOrThrow();
    expect(row.owner).toMatch(/^replica-\d+$/);
  }, 60_000);
});
