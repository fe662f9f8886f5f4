/**
 * The lock file (dvc.lock's shape): per stage, the cmd and the hashes of its deps, params and outs
 * from its last successful run. A stage whose cmd, deps and params match, and whose outs are still
 * there unchanged, is skipped.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface LockedStage {
  cmd: string;
  deps: Array<{ path: string; md5: string | null }>;
  params: Record<string, Record<string, unknown>>;
  outs: Array<{ path: string; md5: string | null }>;
}

export interface LockFile {
  schema: '2.0';
  stages: Record<string, LockedStage>;
}

export const LOCK_FILE_NAME = 'vitals.lock';

export function readLockFile(path: string): LockFile {
  if (!existsSync(path)) return { schema: '2.0', stages: {} };
  const doc = parseYaml(readFileSync(path, 'utf8')) as Partial<LockFile> | null;
  return { schema: '2.0', stages: doc?.stages ?? {} };
}

/** Written to a temp file and renamed, so a crash never leaves half a lock file. */
export function writeLockFile(path: string, lock: LockFile): void {
  writeFileSync(`${path}.tmp`, stringifyYaml(lock));
  renameSync(`${path}.tmp`, path);
}
