/**
 * The lock file: `dvc.lock` in DVC's own format (schema 2.0; per stage the cmd, and for deps and outs
 * `path`, `hash: md5`, `md5`, `size`, `nfiles` for folders; params by file and key), so that after a
 * Vitals run `dvc status` has nothing to report, and after `dvc repro` Vitals finds every stage cached.
 * A stage whose cmd, deps and params match, and whose outs are still there unchanged, is skipped.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export interface LockedPath {
  path: string;
  md5: string | null;
  size?: number;
  nfiles?: number;
}

export interface LockedStage {
  cmd: string;
  deps: LockedPath[];
  params: Record<string, Record<string, unknown>>;
  outs: LockedPath[];
}

export interface LockFile {
  schema: '2.0';
  stages: Record<string, LockedStage>;
}

export const LOCK_FILE_NAME = 'dvc.lock';

function readPaths(value: unknown): LockedPath[] {
  if (!Array.isArray(value)) return [];
  return value.map((e: Record<string, unknown>) => ({
    path: String(e.path),
    md5: typeof e.md5 === 'string' ? e.md5 : null,
    ...(typeof e.size === 'number' ? { size: e.size } : {}),
    ...(typeof e.nfiles === 'number' ? { nfiles: e.nfiles } : {}),
  }));
}

export function readLockFile(path: string): LockFile {
  if (!existsSync(path)) return { schema: '2.0', stages: {} };
  const doc = parseYaml(readFileSync(path, 'utf8')) as { stages?: Record<string, Record<string, unknown>> } | null;
  const stages: Record<string, LockedStage> = {};
  for (const [name, s] of Object.entries(doc?.stages ?? {})) {
    stages[name] = {
      cmd: Array.isArray(s.cmd) ? s.cmd.map(String).join(' && ') : String(s.cmd ?? ''),
      deps: readPaths(s.deps),
      params: (s.params as LockedStage['params']) ?? {},
      outs: readPaths(s.outs),
    };
  }
  return { schema: '2.0', stages };
}

/** DVC's entry: path, hash, md5, size[, nfiles] — in that order, as `dvc repro` writes it. */
const writePath = (p: LockedPath) => ({ path: p.path, hash: 'md5', md5: p.md5, ...(p.size !== undefined ? { size: p.size } : {}), ...(p.nfiles !== undefined ? { nfiles: p.nfiles } : {}) });

/** Written to a temp file and renamed, so a crash never leaves half a lock file. */
export function writeLockFile(path: string, lock: LockFile): void {
  const stages = Object.fromEntries(
    Object.entries(lock.stages).map(([name, s]) => [
      name,
      {
        cmd: s.cmd,
        ...(s.deps.length ? { deps: s.deps.filter((d) => d.md5 !== null).map(writePath) } : {}),
        ...(Object.keys(s.params).length ? { params: s.params } : {}),
        ...(s.outs.length ? { outs: s.outs.filter((o) => o.md5 !== null).map(writePath) } : {}),
      },
    ]),
  );
  writeFileSync(`${path}.tmp`, stringifyYaml({ schema: '2.0', stages }));
  renameSync(`${path}.tmp`, path);
}
