/**
 * AlertNotifier against real HTTP receivers: one node:http server on 127.0.0.1 (random port) plays
 * the generic webhook, Slack and PagerDuty, plus flaky / rate-limiting / hanging / 4xx endpoints.
 * A "dead" channel points at a port that nothing listens on. E-mail (real SMTP) is tested in
 * test/services/notifier-email.test.ts.
 */
import { once } from 'node:events';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AlertNotification, AlertNotifier, emailSubject } from '../src/monitoring/notifiers.js';
import { firing } from './helpers/alert-fixtures.js';

interface Received {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  body: any;
  at: number;
}

let server: Server;
let base: string;
let received: Received[] = [];
const hits = new Map<string, number>();

function byPath(path: string): Received[] {
  return received.filter((r) => r.path === path);
}

/** A port with nothing listening on it (bound once, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* keep text */
      }
      received.push({ path, method: req.method ?? '', headers: req.headers, body, at: Date.now() });
      const n = (hits.get(path) ?? 0) + 1;
      hits.set(path, n);
      const json = (status: number, obj: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(obj));
      };
      switch (path) {
        case '/webhook':
          return json(200, { ok: true });
        case '/slack':
          res.writeHead(200, { 'content-type': 'text/plain' });
          return res.end('ok');
        case '/pagerduty': // Events API v2 answers 202 Accepted
          return json(202, { status: 'success', message: 'Event processed', dedup_key: (body as any)?.dedup_key });
        case '/flaky': // 503 twice, then OK
          return n <= 2 ? json(503, { error: 'temporarily unavailable' }) : json(200, { ok: true });
        case '/ratelimited': // 429 with Retry-After once, then OK
          return n === 1 ? json(429, { error: 'slow down' }, { 'retry-after': '0' }) : json(200, { ok: true });
        case '/bad-request':
          return json(400, { error: 'invalid routing key' });
        case '/not-found':
          return json(404, { error: 'no such hook' });
        case '/hang': // never answers: the client's per-attempt timeout must fire
          return;
        default:
          return json(404, { error: 'unknown path' });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

beforeEach(() => {
  received = [];
  hits.clear();
});

function makeLogger() {
  const warns: Array<{ obj: any; msg?: string }> = [];
  const errors: Array<{ obj: any; msg?: string }> = [];
  return {
    warns,
    errors,
    warn: (obj: unknown, msg?: string) => void warns.push({ obj, msg }),
    error: (obj: unknown, msg?: string) => void errors.push({ obj, msg }),
  };
}

const resolved: AlertNotification = {
  event: 'resolved',
  alert: { ...firing.alert, resolved_at: '2025-03-01T12:30:00.000Z' },
};

const fast = { attempts: 5, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 2000 };

describe('AlertNotifier over HTTP (webhook, Slack, PagerDuty)', () => {
  it('lists configured channels and rejects bad URLs', () => {
    expect(new AlertNotifier({}).channels).toEqual([]);
    const all = new AlertNotifier({
      webhookUrl: `${base}/webhook`,
      slackWebhookUrl: `${base}/slack`,
      email: { host: '127.0.0.1', port: 25, from: 'vitals@example.org', to: ['a@example.org'] },
      pagerDuty: { routingKey: 'R0UT1NG' },
    });
    expect(all.channels).toEqual(['webhook', 'slack', 'email', 'pagerduty']);
    expect(() => new AlertNotifier({ webhookUrl: 'not a url' })).toThrow(/webhookUrl/);
    expect(() => new AlertNotifier({ slackWebhookUrl: 'ftp://example.org/x' })).toThrow(/http/);
    expect(() => new AlertNotifier({ email: { host: 'h', port: 25, from: 'a@b', to: [] } })).toThrow(/recipient/);
  });

  it('formats the e-mail subject', () => {
    expect(emailSubject(firing)).toBe('[Vitals] CRITICAL decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
    expect(emailSubject(resolved)).toBe('[Vitals] RESOLVED decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
  });

  it('delivers a firing alert to every channel with the exact payloads', async () => {
    const notifier = new AlertNotifier({
      webhookUrl: `${base}/webhook`,
      slackWebhookUrl: `${base}/slack`,
      pagerDuty: { routingKey: 'R0UT1NGKEY', eventsUrl: `${base}/pagerduty` },
      retry: fast,
    });
    const results = await notifier.deliver(firing);
    expect(results).toEqual([
      { channel: 'webhook', ok: true, attempts: 1 },
      { channel: 'slack', ok: true, attempts: 1 },
      { channel: 'pagerduty', ok: true, attempts: 1 },
    ]);

    // Generic webhook: the AlertNotification itself, as JSON.
    const [hook] = byPath('/webhook');
    expect(hook.method).toBe('POST');
    expect(hook.headers['content-type']).toMatch(/^application\/json/);
    expect(hook.body).toEqual(firing);

    // Slack incoming webhook.
    const [slack] = byPath('/slack');
    expect(slack.body.text).toBe('🔴 [CRITICAL] decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
    expect(Array.isArray(slack.body.blocks)).toBe(true);
    expect(slack.body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔴 CRITICAL: decay on breast-cancer 1.1.0', emoji: true } });
    const slackText = JSON.stringify(slack.body.blocks);
    for (const s of ['breast-cancer', '1.1.0', 'decay', 'critical', 'current_accuracy: 0.84', 'mdl_42:1.1.0:decay']) expect(slackText).toContain(s);
    for (const b of slack.body.blocks) expect(['header', 'section', 'context']).toContain(b.type);

    // PagerDuty Events API v2 trigger.
    const [pd] = byPath('/pagerduty');
    expect(pd.body).toEqual({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'mdl_42:1.1.0:decay',
      payload: {
        summary: 'CRITICAL decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84',
        source: 'vitals',
        severity: 'critical',
        component: 'breast-cancer',
        group: 'decay',
        custom_details: { current_accuracy: 0.84, baseline_accuracy: 0.96, accuracy_decay: 0.12, labels: 250 },
        timestamp: '2025-03-01T10:00:00.000Z',
      },
    });
  });

  it('delivers a resolved alert: PagerDuty resolve event and a ✅ Slack message', async () => {
    const notifier = new AlertNotifier({
      webhookUrl: `${base}/webhook`,
      slackWebhookUrl: `${base}/slack`,
      pagerDuty: { routingKey: 'R0UT1NGKEY', eventsUrl: `${base}/pagerduty` },
      retry: fast,
    });
    const results = await notifier.deliver(resolved);
    expect(results.every((r) => r.ok && r.attempts === 1)).toBe(true);
    expect(byPath('/pagerduty')[0].body).toEqual({ routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: 'mdl_42:1.1.0:decay' });
    const slack = byPath('/slack')[0].body;
    expect(slack.text).toBe('✅ [RESOLVED] decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84');
    expect(JSON.stringify(slack.blocks)).toContain('2025-03-01T12:30:00.000Z');
    expect(byPath('/webhook')[0].body).toEqual(resolved);
  });

  it('maps warning/info severities and a null version', async () => {
    const notifier = new AlertNotifier({ slackWebhookUrl: `${base}/slack`, pagerDuty: { routingKey: 'K', eventsUrl: `${base}/pagerduty` }, retry: fast });
    const warning: AlertNotification = {
      event: 'firing',
      alert: { ...firing.alert, rule: 'data_drift', severity: 'warning', version: null, message: 'breast-cancer: data drift in 2 feature(s): a, b', dedup_key: 'mdl_42:drift' },
    };
    await notifier.deliver(warning);
    expect(byPath('/slack')[0].body.text).toBe('🟠 [WARNING] data_drift: breast-cancer — data drift in 2 feature(s): a, b');
    expect(byPath('/pagerduty')[0].body.payload).toMatchObject({ severity: 'warning', group: 'data_drift', summary: 'WARNING data_drift: breast-cancer — data drift in 2 feature(s): a, b' });
  });

  it('retries a receiver that fails twice with 503, then delivers (attempts = 3)', async () => {
    const log = makeLogger();
    const notifier = new AlertNotifier({ webhookUrl: `${base}/flaky`, retry: fast }, log);
    const [result] = await notifier.deliver(firing);
    expect(result).toEqual({ channel: 'webhook', ok: true, attempts: 3 });
    expect(byPath('/flaky')).toHaveLength(3);
    expect(byPath('/flaky').every((r) => JSON.stringify(r.body) === JSON.stringify(firing))).toBe(true);
    expect(log.warns).toHaveLength(2);
    expect(log.warns[0].obj).toMatchObject({ channel: 'webhook', attempt: 1, alert_id: 'alr_01HZX' });
    expect(log.warns[0].obj.error).toMatch(/HTTP 503/);
    expect(log.errors).toHaveLength(0);
  });

  it('retries 429 (honouring Retry-After) but not other 4xx', async () => {
    const log = makeLogger();
    const notifier = new AlertNotifier(
      { webhookUrl: `${base}/ratelimited`, slackWebhookUrl: `${base}/not-found`, pagerDuty: { routingKey: 'WRONG', eventsUrl: `${base}/bad-request` }, retry: fast },
      log,
    );
    const results = await notifier.deliver(firing);
    expect(results[0]).toEqual({ channel: 'webhook', ok: true, attempts: 2 });
    expect(results[1]).toMatchObject({ channel: 'slack', ok: false, attempts: 1 });
    expect(results[1].error).toMatch(/^HTTP 404/);
    expect(results[2]).toMatchObject({ channel: 'pagerduty', ok: false, attempts: 1 });
    expect(results[2].error).toMatch(/^HTTP 400.*invalid routing key/);
    expect(byPath('/bad-request')).toHaveLength(1);
    expect(byPath('/not-found')).toHaveLength(1);
    expect(log.errors.map((e) => e.obj.channel).sort()).toEqual(['pagerduty', 'slack']);
    // secrets stay out of the logs
    expect(JSON.stringify(log.errors)).not.toContain('WRONG');
  });

  it('gives up after the configured attempts on a dead channel', async () => {
    const log = makeLogger();
    const port = await deadPort();
    const notifier = new AlertNotifier({ webhookUrl: `http://127.0.0.1:${port}/hook`, retry: { attempts: 3, baseDelayMs: 5, timeoutMs: 1000 } }, log);
    const [result] = await notifier.deliver(firing);
    expect(result).toMatchObject({ channel: 'webhook', ok: false, attempts: 3 });
    expect(result.error).toMatch(/ECONNREFUSED/);
    expect(log.warns).toHaveLength(2);
    expect(log.errors).toHaveLength(1);
  });

  it('a dead and a hanging channel neither block notify() nor delay the healthy ones', async () => {
    const log = makeLogger();
    const port = await deadPort();
    const notifier = new AlertNotifier(
      {
        webhookUrl: `${base}/hang`, // times out on every attempt
        slackWebhookUrl: `${base}/slack`,
        pagerDuty: { routingKey: 'R0UT1NGKEY', eventsUrl: `http://127.0.0.1:${port}/v2/enqueue` }, // connection refused
        retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 40, timeoutMs: 500 },
      },
      log,
    );

    notifier.notify(firing);
    expect(received).toHaveLength(0); // notify returns at once: nothing has been sent synchronously

    // The healthy channel is delivered while the hanging one is still in its first attempt: the
    // order of events shows it, not a stopwatch.
    for (let i = 0; i < 400 && byPath('/slack').length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(byPath('/slack')).toHaveLength(1);
    expect(log.errors.filter((e) => e.obj.channel === 'webhook')).toHaveLength(0);
    expect(byPath('/hang').length).toBeLessThanOrEqual(1);

    await notifier.drain();
    expect(byPath('/hang')).toHaveLength(2); // 2 attempts, each ended by the 500 ms timeout

    const failures = Object.fromEntries(log.errors.map((e) => [e.obj.channel, e.obj]));
    expect(Object.keys(failures).sort()).toEqual(['pagerduty', 'webhook']);
    expect(failures.webhook).toMatchObject({ attempts: 2, error: 'timeout after 500 ms' });
    expect(failures.pagerduty.attempts).toBe(2);
    expect(failures.pagerduty.error).toMatch(/ECONNREFUSED/);
  });

  it('deliver() reports per-channel results when some channels fail', async () => {
    const port = await deadPort();
    const notifier = new AlertNotifier({
      webhookUrl: `${base}/webhook`,
      slackWebhookUrl: `http://127.0.0.1:${port}/services/T/B/X`,
      pagerDuty: { routingKey: 'R0UT1NGKEY', eventsUrl: `${base}/hang` },
      retry: { attempts: 2, baseDelayMs: 10, timeoutMs: 200 },
    });
    const results = await notifier.deliver(firing);
    expect(results.map((r) => [r.channel, r.ok, r.attempts])).toEqual([
      ['webhook', true, 1],
      ['slack', false, 2],
      ['pagerduty', false, 2],
    ]);
    expect(results[2].error).toBe('timeout after 200 ms');
  });

  it('notify() never throws, even on a malformed notification or a throwing logger', async () => {
    const notifier = new AlertNotifier(
      { webhookUrl: `${base}/webhook`, slackWebhookUrl: `${base}/slack`, retry: fast },
      {
        warn: () => {
          throw new Error('logger down');
        },
        error: () => {
          throw new Error('logger down');
        },
      },
    );
    expect(() => notifier.notify(null as unknown as AlertNotification)).not.toThrow();
    expect(() => notifier.notify({ event: 'firing' } as unknown as AlertNotification)).not.toThrow();
    await notifier.drain();
    const results = await notifier.deliver({ event: 'firing' } as unknown as AlertNotification);
    expect(results.find((r) => r.channel === 'slack')).toMatchObject({ ok: false, attempts: 1 });
  });

  it('drain() waits for several notify() calls and resolves at once when idle', async () => {
    const notifier = new AlertNotifier({ webhookUrl: `${base}/flaky`, retry: fast });
    await notifier.drain(); // idle
    notifier.notify(firing);
    notifier.notify(resolved);
    await notifier.drain();
    // 2 failures shared between them, then both delivered
    expect(byPath('/flaky').length).toBe(4);
    const events = byPath('/flaky')
      .slice(-2)
      .map((r) => r.body.event)
      .sort();
    expect(events).toEqual(['firing', 'resolved']);
  });
});
