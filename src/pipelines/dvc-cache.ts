/**
 * DVC's local cache (`.dvc/cache/files/md5/ab/cdef…`), filled with a stage's outputs when the
 * pipeline folder is a DVC project: then `dvc status` finds them "in cache", `dvc checkout` can
 * restore them, and `cache: false` outputs stay out of it, as with `dvc repro`. Files are copied
 * (DVC's default link type falls back to copy), written once per hash, atomically.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from '../ids.js';
import { dirListing, md5File } from './content-hash.js';

const objectPath = (cacheDir: string, md5: string) => join(cacheDir, 'files', 'md5', md5.slice(0, 2), md5.slice(2));

function place(cacheDir: string, md5: string, write: (tmp: string) => void): void {
  const dest = objectPath(cacheDir, md5);
  if (existsSync(dest)) return;
  mkdirSync(join(cacheDir, 'files', 'md5', md5.slice(0, 2)), { recursive: true });
  const tmp = `${dest}.${uuidv7()}.tmp`;
  write(tmp);
  renameSync(tmp, dest);
}

/** The cache folder of a DVC project rooted at `root`, or undefined when `root` is no DVC project. */
export function dvcCacheDir(root: string): string | undefined {
  return existsSync(join(root, '.dvc')) ? join(root, '.dvc', 'cache') : undefined;
}

/** Stores a file or folder output in the cache (a folder: its files and its `.dir` listing). */
export async function saveToDvcCache(cacheDir: string, path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!statSync(path).isDirectory()) {
    const md5 = await md5File(path);
    place(cacheDir, md5, (tmp) => copyFileSync(path, tmp));
    return;
  }
  const { text, files } = await dirListing(path);
  for (const f of files) place(cacheDir, f.md5, (tmp) => copyFileSync(f.abs, tmp));
  place(cacheDir, `${createHash('md5').update(text).digest('hex')}.dir`, (tmp) => writeFileSync(tmp, text));
}
