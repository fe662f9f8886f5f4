/**
 * The environment a pipeline command runs with: a minimal, scrubbed one. A command written by the
 * operator still must not see the server's database URL, keys, passwords or tokens.
 */
const PASSED = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL', 'PYTHONPATH', 'VIRTUAL_ENV'];
const SECRET = /(PASS|SECRET|TOKEN|KEY|CREDENTIAL|DATABASE_URL|AUTH|COOKIE|SESSION|PRIVATE)/i;

export function commandEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED) {
    const value = from[name];
    if (value !== undefined && !SECRET.test(name)) env[name] = value;
  }
  for (const [k, v] of Object.entries(extra)) if (!SECRET.test(k)) env[k] = v;
  return env;
}
