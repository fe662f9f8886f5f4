/**
 * Content hashes for the stage cache and the lock file, as `dvc repro` computes them in spirit: md5
 * of a file's bytes; a folder's md5 is over its sorted `relative-path md5` lines, suffixed `.dir`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

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

/** The md5 of a file or folder, or null when the path does not exist. */
export async function md5Path(path: string): Promise<string | null> {
  if (!existsSync(path)) return null;
  if (!statSync(path).isDirectory()) return md5File(path);
  const lines: string[] = [];
  for (const f of listFiles(path).sort()) lines.push(`${relative(path, f)} ${await md5File(f)}`);
  return `${createHash('md5').update(lines.join('\n')).digest('hex')}.dir`;
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
