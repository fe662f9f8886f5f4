/**
 * The de-identification key (the salt of pseudonyms, UID remapping and date shifts). DEID_SALT
 * when set; otherwise a random key generated once into the state folder (`deid.key`, mode 0600)
 * and read back on every start, so a patient's pseudonym stays the same across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEID_KEY_FILE = 'deid.key';

export interface DeidKey {
  salt: string;
  /** where it came from: the setting, the key file, or a key file made just now */
  source: 'DEID_SALT' | 'file' | 'generated';
  file?: string;
}

export function loadDeidKey(stateDir: string, given?: string): DeidKey {
  if (given) return { salt: given, source: 'DEID_SALT' };
  const file = join(stateDir, DEID_KEY_FILE);
  mkdirSync(stateDir, { recursive: true });
  let source: DeidKey['source'] = 'file';
  try {
    // 'wx': never overwrite a key (another process may have just made it; losing it changes every pseudonym)
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    source = 'generated';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A key copied in (a restore, an operator) may have looser permissions: it is a secret.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const salt = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{32,}$/i.test(salt)) throw new Error(`${file} does not hold a de-identification key (64 hex digits); restore it from a backup, or set DEID_SALT`);
  return { salt, source, file };
}
