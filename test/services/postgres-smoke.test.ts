import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';

// Never skipped: if PostgreSQL is not available this must fail loudly.
const url = process.env.DATABASE_URL_TEST;
if (!url) {
  throw new Error(
    'DATABASE_URL_TEST is not set. Run the service tests with `npm run test:services` ' +
      '(scripts/test-services.sh starts PostgreSQL and exports it), or start PostgreSQL with ' +
      '`scripts/services/postgres.sh start` and export DATABASE_URL_TEST="$(scripts/services/postgres.sh url)".',
  );
}

describe('PostgreSQL smoke test', () => {
  const client = new pg.Client({ connectionString: url });

  beforeAll(async () => {
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
  });

  it('runs select 1', async () => {
    const res = await client.query<{ one: number }>('select 1 as one');
    expect(res.rows).toEqual([{ one: 1 }]);
  });
});
