/**
 * E-mail alert notifications through a REAL SMTP server: Python's aiosmtpd on 127.0.0.1 (random
 * port), started by test/helpers/smtp-server.ts from the virtualenv .venv/smtp. The helper runs
 * `bash scripts/services/smtp.sh` itself (idempotent); if aiosmtpd cannot be installed or started
 * this test FAILS — it is never skipped. Run with `npm run test:services`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AlertNotification, AlertNotifier } from '../../src/monitoring/notifiers.js';
import { firing } from '../helpers/alert-fixtures.js';
import { type SmtpServer, startSmtpServer } from '../helpers/smtp-server.js';

const resolved: AlertNotification = { event: 'resolved', alert: { ...firing.alert, resolved_at: '2025-03-01T12:30:00.000Z' } };

const USER = 'vitals-alerts';
const PASSWORD = 's3cret-pw';
const FROM = 'Vitals <vitals@example.org>';
const TO = ['oncall@example.org', 'ml-team@example.org'];

describe('AlertNotifier e-mail via a real SMTP server (aiosmtpd)', () => {
  let smtp: SmtpServer;
  let startError: unknown;

  beforeAll(async () => {
    try {
      smtp = await startSmtpServer({ auth: { user: USER, password: PASSWORD } });
    } catch (err) {
      startError = err; // re-thrown by every test below, so each one is reported as FAILED (not skipped)
    }
  }, 300_000); // the first run may pip-install aiosmtpd

  beforeEach(() => {
    if (startError) throw startError;
  });

  afterAll(async () => {
    await smtp?.stop();
  });

  const config = (over: Partial<NonNullable<ConstructorParameters<typeof AlertNotifier>[0]['email']>> = {}) => ({
    email: { host: smtp.host, port: smtp.port, secure: false, user: USER, password: PASSWORD, from: FROM, to: TO, ...over },
    retry: { attempts: 3, baseDelayMs: 10, timeoutMs: 3000 },
  });

  it('sends a firing alert: subject, from, to and a body naming the model and rule', async () => {
    const before = smtp.messages().length;
    const notifier = new AlertNotifier(config());
    expect(notifier.channels).toEqual(['email']);
    const results = await notifier.deliver(firing);
    expect(results).toEqual([{ channel: 'email', ok: true, attempts: 1 }]);

    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(mail.parsed.subject).toBe('[Vitals] CRITICAL decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
    expect(mail.parsed.from).toBe('Vitals <vitals@example.org>');
    expect(mail.parsed.to).toBe('oncall@example.org, ml-team@example.org');
    expect(mail.envelope).toEqual({ mail_from: 'vitals@example.org', rcpt_tos: TO, login: USER });
    expect(mail.parsed.content_type).toBe('multipart/alternative');

    const text = mail.parsed.text!;
    expect(text).toContain('breast-cancer');
    expect(text).toContain('1.1.0');
    expect(text).toMatch(/Rule:\s+decay/);
    expect(text).toMatch(/Severity:\s+critical/);
    expect(text).toContain('current_accuracy: 0.84');
    expect(text).toContain('mdl_42:1.1.0:decay');

    const html = mail.parsed.html!;
    expect(html).toContain('breast-cancer');
    expect(html).toContain('decay');
    expect(html).toContain('accuracy fell from 0.96 to 0.84');
  });

  it('sends the resolved variant', async () => {
    const before = smtp.messages().length;
    const results = await new AlertNotifier(config({ to: ['oncall@example.org'] })).deliver(resolved);
    expect(results).toEqual([{ channel: 'email', ok: true, attempts: 1 }]);
    const [mail] = (await smtp.waitForMessages(before + 1)).slice(before);
    expect(mail.parsed.subject).toBe('[Vitals] RESOLVED decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
    expect(mail.envelope.rcpt_tos).toEqual(['oncall@example.org']);
    expect(mail.parsed.text).toMatch(/Resolved at:\s+2025-03-01T12:30:00.000Z/);
  });

  it('does not retry a permanent SMTP rejection (wrong password, 535)', async () => {
    const before = smtp.messages().length;
    const errors: unknown[] = [];
    const notifier = new AlertNotifier(config({ password: 'wrong' }), { warn: () => {}, error: (o) => void errors.push(o) });
    const [result] = await notifier.deliver(firing);
    expect(result).toMatchObject({ channel: 'email', ok: false, attempts: 1 });
    expect(result.error).toMatch(/535|auth/i);
    expect(smtp.messages()).toHaveLength(before);
    expect(errors).toHaveLength(1);
    expect(JSON.stringify(errors)).not.toContain('wrong'); // the password is not logged
  });

  it('notify() through e-mail is fire-and-forget and drain() waits for it', async () => {
    const before = smtp.messages().length;
    const notifier = new AlertNotifier(config());
    const t0 = performance.now();
    notifier.notify(firing);
    expect(performance.now() - t0).toBeLessThan(50);
    await notifier.drain();
    expect(smtp.messages()).toHaveLength(before + 1);
  });
});
