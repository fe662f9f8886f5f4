/**
 * `vitals migrate`, the deploy step the Helm chart's pre-upgrade hook and compose run before new
 * pods start: creates the schema, is idempotent, and fails loudly when the database is unreachable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/store/index.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist/cli/main.js');

function vitals(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vitals migrate', () => {
  it('creates the schema once and reports the same count when run again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-migrate-'));
    const first = vitals(['migrate'], { VITALS_HOME: home });
    expect(first.code, first.err).toBe(0);
    const applied = Number(/(\d+) migrations applied/.exec(first.out)?.[1]);
    expect(applied).toBeGreaterThan(0);

    const database = await openDatabase(undefined, home);
    try {
      const rows = await database.db.selectFrom('models').select('id').execute();
      expect(rows).toEqual([]);
    } finally {
      await database.close();
    }

    const again = vitals(['migrate'], { VITALS_HOME: home });
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`${applied} migrations applied`);
  });

  it('exits non-zero naming the problem when PostgreSQL cannot be reached', () => {
    const home = mkdtempSync(join(tmpdir(), 'vitals-migrate-'));
    // port 1 on loopback: nothing listens there, the connection is refused at once
    const r = vitals(['migrate'], { VITALS_HOME: home, DATABASE_URL: 'postgres://vitals:secret@127.0.0.1:1/vitals' });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/ECONNREFUSED|connect/);
    expect(r.out).not.toContain('migrations applied');
  });
});
