/**
 * API keys: `vk_` + 32 random bytes (base64url), shown once; stored as a salted scrypt hash
 * (node:crypto). Lookup goes by the key's first characters, then a constant-time compare.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import type { AuditContext, AuditRecorder } from '../audit/index.js';
import { VitalsError, notFound } from '../errors.js';
import { nowIso, uuidv7 } from '../ids.js';
import { ROLES, type Role } from '../server/principal.js';
import type { AuthSchema } from './tables.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const PREFIX_LENGTH = 11; // "vk_" + 8 characters
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export interface ApiKeyInfo {
  name: string;
  role: Role;
  prefix: string;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
}

export class ApiKeys {
  /** verified keys, so a hot client pays scrypt once per process (entries drop when a key is revoked here) */
  private readonly verified = new Map<string, { name: string; role: Role; at: number }>();

  constructor(
    private readonly db: Kysely<AuthSchema>,
    /** when given, key creation and revocation write an audit row in their transaction */
    private readonly audit?: AuditRecorder,
  ) {}

  async create(name: string, role: string, createdBy: string, audit?: AuditContext): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!NAME.test(name)) throw new VitalsError('VALIDATION_FAILED', `name: "${name}" is not a key name (letters, digits, . _ @ -; up to 100)`);
    if (!(ROLES as readonly string[]).includes(role)) throw new VitalsError('VALIDATION_FAILED', `role: "${role}" is not one of ${ROLES.join(', ')}`);
    const key = `vk_${randomBytes(32).toString('base64url')}`;
    const salt = randomBytes(16);
    const hash = await scrypt(key, salt, 32);
    const row = {
      id: uuidv7(),
      name,
      role,
      prefix: key.slice(0, PREFIX_LENGTH),
      salt: salt.toString('base64'),
      hash: hash.toString('base64'),
      created_by: createdBy,
      created_at: nowIso(),
      revoked_at: null,
    };
    const existing = await this.db.selectFrom('api_keys').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new VitalsError('CONFLICT', `a key named "${name}" exists; revoke it first or choose another name`);
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('api_keys').values(row).execute();
      await this.audit?.record(tx, { action: 'api_key.create', target: `api_key:${name}`, actor: createdBy, context: audit, details: { role, prefix: row.prefix } });
    });
    return { key, info: toInfo(row) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()).map(toInfo);
  }

  async revoke(name: string, audit?: AuditContext, actor?: string): Promise<ApiKeyInfo> {
    await this.db.transaction().execute(async (tx) => {
      const res = await tx.updateTable('api_keys').set({ revoked_at: nowIso() }).where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw notFound(`active key "${name}"`);
      await this.audit?.record(tx, { action: 'api_key.revoke', target: `api_key:${name}`, actor, context: audit });
    });
    this.verified.clear();
    return toInfo(await this.db.selectFrom('api_keys').selectAll().where('name', '=', name).executeTakeFirstOrThrow());
  }

  /** How many keys can sign in (the server refuses a non-loopback bind with none). */
  async activeCount(): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The key's owner, or undefined for an unknown or revoked key. Cached for 30 s after a success. */
  async verify(key: string): Promise<{ name: string; role: Role } | undefined> {
    if (!key.startsWith('vk_') || key.length < 20 || key.length > 200) return undefined;
    const hit = this.verified.get(key);
    if (hit && Date.now() - hit.at < 30_000) return { name: hit.name, role: hit.role };
    const rows = await this.db.selectFrom('api_keys').selectAll().where('prefix', '=', key.slice(0, PREFIX_LENGTH)).where('revoked_at', 'is', null).execute();
    for (const row of rows) {
      const hash = await scrypt(key, Buffer.from(row.salt, 'base64'), 32);
      const stored = Buffer.from(row.hash, 'base64');
      if (stored.length === hash.length && timingSafeEqual(stored, hash)) {
        const who = { name: row.name, role: row.role as Role };
        this.verified.set(key, { ...who, at: Date.now() });
        return who;
      }
    }
    return undefined;
  }
}

function toInfo(row: { name: string; role: string; prefix: string; created_by: string; created_at: string; revoked_at: string | null }): ApiKeyInfo {
  return { name: row.name, role: row.role as Role, prefix: `${row.prefix}…`, created_by: row.created_by, created_at: row.created_at, revoked_at: row.revoked_at };
}
