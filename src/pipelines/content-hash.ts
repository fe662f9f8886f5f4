/**
 * Content hashes for the stage cache and the lock file, as DVC 3 computes them (`hash: md5`): md5 of
 * a file's bytes; a folder's md5 is the md5 of its `.dir` listing — `json.dumps` of the entries
 * `{"md5": …, "relpath": …}` sorted by path, with Python's default separators — suffixed `.dir`.
 * So dvc.lock written here is the one `dvc repro` writes, and `dvc status` agrees with it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

export interface PathHash {
  md5: string;
  size: number;
  /** folders only */
  nfiles?: number;
}

/** Python's `json.dumps(s)` of an ASCII-escaped string (what DVC writes into a .dir listing). */
const pyJsonString = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A folder's `.dir` listing as DVC writes it (the bytes its md5 is taken over), and its files. */
export async function dirListing(path: string): Promise<{ text: string; files: Array<{ abs: string; rel: string; md5: string; size: number }> }> {
  const files = listFiles(path)
    .map((f) => ({ abs: f, rel: relative(path, f).split(sep).join('/') }))
    .sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const out: Array<{ abs: string; rel: string; md5: string; size: number }> = [];
  for (const f of files) out.push({ ...f, md5: await md5File(f.abs), size: statSync(f.abs).size });
  return { text: `[${out.map((f) => `{"md5": "${f.md5}", "relpath": ${pyJsonString(f.rel)}}`).join(', ')}]`, files: out };
}

/** md5, size (and file count for a folder) of a path, or null when it does not exist. */
export async function hashPath(path: string): Promise<PathHash | null> {
  if (!existsSync(path)) return null;
  const st = statSync(path);
  if (!st.isDirectory()) return { md5: await md5File(path), size: st.size };
  const { text, files } = await dirListing(path);
  return { md5: `${createHash('md5').update(text).digest('hex')}.dir`, size: files.reduce((a, f) => a + f.size, 0), nfiles: files.length };
}

/** The md5 of a file or folder, or null when the path does not exist. */
export async function md5Path(path: string): Promise<string | null> {
  return (await hashPath(path))?.md5 ?? null;
}

/** Stable JSON (sorted keys), so equal values hash equally. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
