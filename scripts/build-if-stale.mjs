// `npm start` / `npm test` build only when a source changed since the last build (a stamp in dist/), so a
// second start answers at once; `npm run build` still builds unconditionally. Says what it does either way.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');
const inputs = ['src', 'web', 'tsconfig.json', 'package.json', 'package-lock.json'];

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const entry of readdirSync(path)) if (entry !== 'node_modules') max = Math.max(max, newest(join(path, entry)));
  return max;
}

const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
const changed = newest(join(root, 'src')) > built || inputs.some((p) => newest(join(root, p)) > built);
if (!changed) {
  console.error('vitals: build is up to date (dist/), starting');
} else {
  console.error(built ? 'vitals: sources changed since the last build; building (tsc + dashboard)…' : 'vitals: first build (tsc + dashboard, about a minute)…');
  const t0 = Date.now();
  execSync('npm run build --silent', { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, new Date().toISOString());
  console.error(`vitals: built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
