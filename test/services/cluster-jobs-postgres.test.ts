/**
 * Once-per-cluster turns on the real PostgreSQL: 20 processes' worth of connection pools claim the
 * same turn at once and exactly one gets it (what keeps two workers from sweeping twice).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSlot, claimTurn } from '../../src/store/cluster-jobs.js';
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

describe('schedule slots on PostgreSQL (BACKUP_SCHEDULE)', () => {
  const replicas: Database[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 10; i++) replicas.push(await openDatabase(url, mkdtempSync(join(tmpdir(), 'vitals-slots-pg-'))));
    await sql`delete from cluster_jobs where name = 'slot-test'`.execute(replicas[0]!.db);
  }, 120_000);
  afterAll(async () => {
    for (const d of replicas) await d.close();
  });

  it('notes the first slot, then gives each later slot to exactly one of 10 replicas, never an earlier one', async () => {
    const slot = (m: number) => new Date(Date.UTC(2030, 0, 1, 12, m));
    expect((await Promise.all(replicas.map((d, i) => claimSlot(d, 'slot-test', slot(0), `r${i}`)))).filter(Boolean)).toHaveLength(0);
    for (const m of [5, 10]) {
      expect((await Promise.all(replicas.map((d, i) => claimSlot(d, 'slot-test', slot(m), `r${i}`)))).filter(Boolean), `slot ${m}`).toHaveLength(1);
    }
    expect(await claimSlot(replicas[0]!, 'slot-test', slot(5), 'late')).toBe(false);
  }, 60_000);
});
