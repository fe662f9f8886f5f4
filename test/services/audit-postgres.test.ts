/**
 * The audit trail on a real PostgreSQL server: appends from many connections at once stay one chain
 * (advisory lock), HTTP changes verify, and a row edited or removed directly in the database is named.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, verifyChain } from '../../src/audit/index.js';
import { DEMO_MODEL, bootstrapDemo } from '../../src/pipelines/demo-bootstrap.js';
import { truncateAll } from '../../src/store/index.js';
import { type TestApp, startTestApp } from '../helpers/app.js';

const url = process.env.DATABASE_URL_TEST;
if (!url) throw new Error('DATABASE_URL_TEST is not set: run `npm run test:services`, which starts PostgreSQL (scripts/services/postgres.sh)');

describe('audit trail on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_URL: url });
    await truncateAll(t.services.database);
    await bootstrapDemo(t.services.registry);
  });
  afterAll(async () => {
    await truncateAll(t.services.database);
    await t.dispose();
  });

  it('40 concurrent appends over the pool form one chain; an edited or removed row is named', async () => {
    const db = t.services.database.db;
    const audit = new AuditTrail();
    await Promise.all(Array.from({ length: 40 }, (_, i) => db.transaction().execute((tx) => audit.record(tx, { action: 'test.concurrent', target: `t:${i}`, actor: 'test' }))));
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/models/${DEMO_MODEL}/versions/challenger/promote`, payload: { reason: 'pg audit test' } });
    expect(res.statusCode).toBe(200);
    const ok = await verifyChain(db);
    expect(ok.ok).toBe(true);
    expect(ok.rows).toBeGreaterThanOrEqual(42);

    const rolled = await db.selectFrom('audit_events').select(['seq', 'principal']).where('reason', '=', 'pg audit test').executeTakeFirstOrThrow();
    expect(rolled.principal).toBe('local-admin');
    await sql`update audit_events set principal = 'someone-else' where seq = ${rolled.seq}`.execute(db);
    const changed = await verifyChain(db);
    expect(changed).toMatchObject({ ok: false, problem: { seq: Number(rolled.seq), kind: 'changed' } });
    await sql`update audit_events set principal = 'local-admin' where seq = ${rolled.seq}`.execute(db);
    expect((await verifyChain(db)).ok).toBe(true);
    await sql`delete from audit_events where seq = 5`.execute(db);
    expect(await verifyChain(db)).toMatchObject({ ok: false, problem: { seq: 6, kind: 'removed' } });
  });
});
