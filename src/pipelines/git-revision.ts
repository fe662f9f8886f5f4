/**
 * A project folder as it was at a git revision (`HEAD~1`, a tag, a commit): the revision's tracked
 * files are written to a temporary folder through a temporary index, so the user's index and work
 * tree are never touched. git runs without a shell, with a scrubbed environment, and the revision
 * is passed after `--end-of-options`, so it can never be read as an option.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validationFailed } from '../errors.js';
import { commandEnv } from './command-env.js';

function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((res, rej) =>
    execFile('git', args, { cwd, env: commandEnv(env), maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      err
        ? rej(
            Object.assign(
              new Error(
                String(stderr || err.message)
                  .trim()
                  .split('\n')[0],
              ),
              { cause: err },
            ),
          )
        : res(stdout.trim()),
    ),
  );
}

/**
 * Runs `fn` on the folder `root` as it is at `rev` (undefined: the work tree as it is now). The
 * temporary copy is removed afterwards.
 */
export async function atRevision<T>(root: string, rev: string | undefined, fn: (dir: string) => Promise<T> | T): Promise<T> {
  if (rev === undefined) return fn(root);
  if (!rev || rev.startsWith('-') || /[\0\n]/.test(rev)) throw validationFailed([{ field: 'rev', message: `"${rev}" is not a git revision` }], 'invalid revision');
  let sha: string;
  let prefix: string;
  let top: string;
  try {
    sha = await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
    prefix = await git(root, ['rev-parse', '--show-prefix']);
    top = await git(root, ['rev-parse', '--show-toplevel']);
  } catch {
    throw validationFailed([{ field: 'rev', message: `"${rev}" is not a commit of the git repository at ${root}` }], 'unknown revision');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'vitals-rev-'));
  try {
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    await git(top, ['read-tree', sha], env);
    await git(top, ['checkout-index', '--all', '--force', `--prefix=${join(tmp, 'tree')}/`], env);
    return await fn(join(tmp, 'tree', prefix));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
