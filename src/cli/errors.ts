/**
 * How the CLI reports a failure: one line on stderr that says what went wrong and what to fix,
 * and an exit status (2 usage, 78 configuration, 1 anything else). The stack trace only with --debug.
 * Loads nothing heavy: the error classes are recognised by name and shape, not imported.
 */

/** A command given options that cannot work together, or an option that is malformed: exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** JSON given on the command line or in a file, parsed with an error that names where it came from. */
export function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${where} is not valid JSON (${(err as Error).message}); names and strings need double quotes, e.g. '{"mean_radius": 17.99}'`);
  }
}

interface SystemError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
  cause?: unknown;
  errors?: unknown[];
  problems?: string[];
  details?: { fields?: Array<{ field: string; message: string }> };
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory, give a file',
  ENOTDIR: 'a part of the path is not a directory',
};

/** The one line for an error (without the `error: ` prefix), or undefined when it is not one we recognise. */
function describe(err: SystemError): string | undefined {
  if (err.code && FILE_PROBLEMS[err.code] && err.path !== undefined) {
    const verb = /write|mkdir|rename|unlink|copy/.test(err.syscall ?? '') ? 'write' : 'read';
    return `cannot ${verb} ${err.path}: ${FILE_PROBLEMS[err.code]}`;
  }
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'ETIMEDOUT' || err.code === 'ECONNRESET') {
    const where = err.address ? `${err.address}${err.port ? `:${err.port}` : ''}` : ((err as { hostname?: string }).hostname ?? 'the server');
    const why = { ECONNREFUSED: 'connection refused (is it running?)', ENOTFOUND: 'no such host', ETIMEDOUT: 'timed out', ECONNRESET: 'connection reset' }[err.code];
    return `cannot connect to ${where}: ${why}`;
  }
  // fetch() and pg wrap the system error
  if (err.message === 'fetch failed' && err.cause instanceof Error) return describe(err.cause as SystemError) ?? `request failed: ${err.cause.message}`;
  if (Array.isArray(err.errors) && err.errors[0] instanceof Error) return describe(err.errors[0] as SystemError);
  // a wrapped system error: say what was being done, then why it failed
  if (err.cause instanceof Error) {
    const why = describe(err.cause as SystemError);
    if (why) return `${err.message.split(': ')[0]}: ${why}`;
  }
  return undefined;
}

/** Prints the failure and returns the exit status. */
export function reportCliError(err: unknown, options: { debug?: boolean } = {}): number {
  const e = (err instanceof Error ? err : new Error(String(err))) as SystemError;
  // commander has printed its own one-line message already
  if (e.name === 'CommanderError') {
    const code = (e as { exitCode?: number }).exitCode ?? 1;
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? code : 2;
  }
  let line: string;
  let status = 1;
  if (e.name === 'ConfigError') {
    line = `invalid configuration: ${(e.problems ?? [e.message]).join('; ')}`;
    status = 78;
  } else if (e.name === 'UsageError') {
    line = e.message;
    status = 2;
  } else if (e.name === 'StartupRefused') {
    console.error(`error: ${e.message}`); // several lines on purpose: the ways to fix it
    return 1;
  } else if (e.name === 'VitalsError') {
    line = e.message; // its message already lists the fields to fix
  } else {
    const message = e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
    line = describe(e) ?? `${message.split('\n')[0]}${options.debug ? '' : ' (run with --debug for the stack trace)'}`;
  }
  console.error(`error: ${line.replace(/\s*\n\s*/g, ' ')}`);
  if (options.debug) console.error(e.stack ?? String(e));
  return status;
}
