/**
 * A real SMTP server for tests: Python's aiosmtpd (https://aiosmtpd.readthedocs.io) running in the
 * virtualenv .venv/smtp, listening on 127.0.0.1 on a port the OS picks. Every message it accepts is
 * written to a temp folder as NNNN.eml (the raw message) plus NNNN.json (the SMTP envelope —
 * mail_from, rcpt_tos, the AUTH login if any — and the message as parsed by Python's `email`
 * package: decoded subject, from, to, text and HTML bodies).
 *
 * The virtualenv is created by `bash scripts/services/smtp.sh`, which startSmtpServer() runs itself
 * (it is idempotent and takes ~0.1 s once aiosmtpd is installed; the first run needs PyPI). If
 * aiosmtpd cannot be made available this throws: a missing SMTP server is a test failure, not a skip.
 *
 * The server exits when its stdin closes, so it cannot outlive a test process that dies.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SETUP_SCRIPT = join(REPO_ROOT, 'scripts/services/smtp.sh');

// Binds 127.0.0.1:0 itself (no port race), prints "LISTENING <port>", then serves until stdin closes.
const SERVER_PY = String.raw`
import asyncio, email, email.policy, json, os, sys, warnings
from aiosmtpd.smtp import SMTP, AuthResult

outdir, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")  # loopback test server

class Handler:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(outdir, "%04d" % self.count)
        login = session.auth_data.login.decode() if session.authenticated and session.auth_data else None
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        def body(kind):
            part = msg.get_body(preferencelist=(kind,))
            return part.get_content() if part is not None else None
        parsed = {
            "subject": msg["subject"], "from": msg["from"], "to": msg["to"], "cc": msg["cc"],
            "content_type": msg.get_content_type(), "text": body("plain"), "html": body("html"),
        }
        with open(base + ".json.tmp", "w") as f:
            json.dump({"envelope": {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "login": login}, "parsed": parsed}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(raw)
        os.replace(base + ".json.tmp", base + ".json")
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 OK queued as %04d" % self.count

def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    # handled=False: let aiosmtpd send the 235 / 535 reply itself
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

async def main():
    loop = asyncio.get_running_loop()
    kwargs = {}
    if user:
        kwargs = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    handler = Handler()
    server = await loop.create_server(lambda: SMTP(handler, hostname="vitals-test-smtp", **kwargs), host="127.0.0.1", port=0)
    print("LISTENING %d" % server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # parent closed stdin (or died)
    server.close()

asyncio.run(main())
`;

export interface ReceivedMail {
  /** Raw RFC 5322 message as received. */
  raw: string;
  /** SMTP envelope as the server saw it (login: the AUTH user, or null). */
  envelope: { mail_from: string; rcpt_tos: string[]; login: string | null };
  /** Parsed by Python's email package (policy=default: headers decoded, bodies decoded). */
  parsed: { subject: string | null; from: string | null; to: string | null; cc: string | null; content_type: string; text: string | null; html: string | null };
}

export interface SmtpServer {
  host: string;
  port: number;
  dir: string;
  /** Messages received so far, in order. */
  messages(): ReceivedMail[];
  /** Resolves once at least `count` messages have been received. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export interface SmtpServerOptions {
  /** Require AUTH (PLAIN/LOGIN, allowed without TLS) with these credentials. */
  auth?: { user: string; password: string };
}

/** Ensures .venv/smtp has aiosmtpd (runs scripts/services/smtp.sh) and returns its python. */
export async function ensureSmtpPython(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('bash', [SETUP_SCRIPT, 'python'], { cwd: REPO_ROOT, timeout: 300_000 });
    return stdout.trim().split('\n').pop()!;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(
      `aiosmtpd is not available: 'bash scripts/services/smtp.sh' failed (it creates .venv/smtp and pip-installs aiosmtpd; needs python3 with venv, and PyPI the first time).\n${e.stderr || e.message}`,
    );
  }
}

export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<SmtpServer> {
  const python = await ensureSmtpPython();
  const dir = mkdtempSync(join(tmpdir(), 'vitals-smtp-'));
  const child: ChildProcess = spawn(python, ['-c', SERVER_PY, dir, opts.auth?.user ?? '', opts.auth?.password ?? ''], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  const port = await new Promise<number>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`aiosmtpd did not start within 15 s: ${stderr}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`aiosmtpd exited with code ${code} before listening: ${stderr}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
  }).catch(async (err) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });

  const messages = (): ReceivedMail[] =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .map((f) => {
        const raw = readFileSync(join(dir, f), 'utf8');
        const meta = JSON.parse(readFileSync(join(dir, f.replace(/\.eml$/, '.json')), 'utf8')) as Omit<ReceivedMail, 'raw'>;
        return { raw, ...meta };
      });

  return {
    host: '127.0.0.1',
    port,
    dir,
    messages,
    async waitForMessages(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = messages();
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`expected ${count} message(s) at the SMTP server, got ${got.length}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
