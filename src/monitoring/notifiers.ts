/**
 * Alert notification delivery: a generic JSON webhook, Slack incoming webhooks, e-mail (SMTP via
 * nodemailer) and PagerDuty Events API v2.
 *
 * Every configured channel is delivered independently and in parallel, each with its own retries
 * (exponential backoff with jitter, a timeout per attempt), so a dead or slow channel never delays
 * or breaks the others. What is retried: connection errors, timeouts, HTTP 5xx and 429, and SMTP
 * errors that are not permanent. What is not: any other HTTP 4xx (a wrong URL or routing key will
 * not fix itself) and permanent (5xx) SMTP rejections.
 *
 *   const notifier = new AlertNotifier(config, app.log);
 *   notifier.notify(n);            // fire-and-forget, from the alerting path
 *   await notifier.deliver(n);     // awaitable, with per-channel results (tests, CLI)
 *   await notifier.drain();        // on shutdown: wait for notify() deliveries still in flight
 *
 * Secrets (Slack webhook URL, PagerDuty routing key, SMTP password) are never logged.
 */
import type { Transporter } from 'nodemailer';

export type AlertSeverity = 'critical' | 'warning' | 'info';

export interface AlertNotification {
  event: 'firing' | 'resolved';
  alert: {
    id: string;
    model_id: string;
    model_name: string;
    version: string | null;
    /** e.g. 'data_drift', 'decay', 'accuracy_below', 'latency_p95_above', 'error_rate_above' */
    rule: string;
    severity: AlertSeverity;
    dedup_key: string;
    message: string;
    details: Record<string, unknown>;
    fired_at: string;
    resolved_at: string | null;
  };
}

export interface NotifierConfig {
  /** Generic webhook: JSON POST of the AlertNotification as is. */
  webhookUrl?: string;
  /** Slack incoming webhook: {text, blocks}. */
  slackWebhookUrl?: string;
  email?: { host: string; port: number; secure?: boolean; user?: string; password?: string; from: string; to: string[] };
  pagerDuty?: { routingKey: string /** default https://events.pagerduty.com/v2/enqueue */; eventsUrl?: string };
  retry?: {
    /** Attempts per channel, including the first (default 5). */
    attempts?: number;
    /** Delay before the 2nd attempt; doubles every attempt (default 500 ms). */
    baseDelayMs?: number;
    /** Cap on one delay, also on a server's Retry-After (default 30 000 ms). */
    maxDelayMs?: number;
    /** Timeout of one attempt (default 5000 ms). */
    timeoutMs?: number;
  };
}

export type NotificationChannel = 'webhook' | 'slack' | 'email' | 'pagerduty';

export interface DeliveryResult {
  channel: NotificationChannel;
  ok: boolean;
  attempts: number;
  error?: string;
}

export interface NotifierLogger {
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const DEFAULT_RETRY = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 5000 };
const USER_AGENT = 'vitals-alert-notifier';

// ------------------------------------------------------------------ formatting ---

const SEVERITY_EMOJI: Record<AlertSeverity, string> = { critical: '🔴', warning: '🟠', info: '🔵' };

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').trim();
}

/** "breast-cancer 1.1.0" (or just the name when there is no version). */
function modelLabel(a: AlertNotification['alert']): string {
  return a.version ? `${a.model_name} ${a.version}` : a.model_name;
}

/** The alert message without a leading "<model> <version>: " that would repeat the subject. */
function shortMessage(a: AlertNotification['alert']): string {
  const msg = oneLine(a.message);
  for (const prefix of [`${modelLabel(a)}: `, `${a.model_name}: `]) {
    if (msg.startsWith(prefix) && msg.length > prefix.length) return msg.slice(prefix.length);
  }
  return msg;
}

/** "CRITICAL decay: breast-cancer 1.1.0 — accuracy fell from 0.96 to 0.84" ("RESOLVED …" when resolved). */
export function alertTitle(n: AlertNotification): string {
  const a = n.alert;
  const state = n.event === 'resolved' ? 'RESOLVED' : a.severity.toUpperCase();
  return oneLine(`${state} ${a.rule}: ${modelLabel(a)} — ${shortMessage(a)}`);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

function summaryRows(n: AlertNotification): Array<[string, string]> {
  const a = n.alert;
  const rows: Array<[string, string]> = [
    ['Status', n.event === 'resolved' ? 'resolved' : 'firing'],
    ['Model', `${a.model_name} (${a.model_id})`],
    ['Version', a.version ?? '—'],
    ['Rule', a.rule],
    ['Severity', a.severity],
    ['Message', oneLine(a.message)],
    ['Fired at', a.fired_at],
  ];
  if (a.resolved_at) rows.push(['Resolved at', a.resolved_at]);
  rows.push(['Alert id', a.id], ['Dedup key', a.dedup_key]);
  return rows;
}

export function emailSubject(n: AlertNotification): string {
  return truncate(`[Vitals] ${alertTitle(n)}`, 250);
}

export function emailText(n: AlertNotification): string {
  const rows = summaryRows(n);
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = [
    n.event === 'resolved' ? `Vitals alert resolved: ${n.alert.rule} on ${modelLabel(n.alert)}` : `Vitals alert firing: ${n.alert.rule} on ${modelLabel(n.alert)}`,
    '',
    ...rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`),
  ];
  const details = Object.entries(n.alert.details ?? {});
  if (details.length) {
    lines.push('', 'Details:');
    for (const [k, v] of details) lines.push(`  ${k}: ${formatValue(v)}`);
  }
  lines.push('', '-- ', 'Sent by Vitals alert notifier');
  return `${lines.join('\n')}\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function emailHtml(n: AlertNotification): string {
  const colour = n.event === 'resolved' ? '#2e7d32' : n.alert.severity === 'critical' ? '#c62828' : n.alert.severity === 'warning' ? '#ef6c00' : '#1565c0';
  const tr = ([k, v]: [string, string]) => `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(k)}</th><td style="padding:2px 0">${escapeHtml(v)}</td></tr>`;
  const details = Object.entries(n.alert.details ?? {});
  return [
    '<!doctype html><html><body style="font-family:sans-serif">',
    `<h2 style="color:${colour}">${escapeHtml(alertTitle(n))}</h2>`,
    `<table>${summaryRows(n).map(tr).join('')}</table>`,
    details.length ? `<h3>Details</h3><table>${details.map(([k, v]) => tr([k, formatValue(v)])).join('')}</table>` : '',
    '<p style="color:#777;font-size:small">Sent by Vitals alert notifier</p>',
    '</body></html>',
  ].join('\n');
}

/** Slack mrkdwn/plain escaping of the three control characters. */
function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackPayload(n: AlertNotification): { text: string; blocks: unknown[] } {
  const a = n.alert;
  const resolved = n.event === 'resolved';
  const icon = resolved ? '✅' : (SEVERITY_EMOJI[a.severity] ?? '🔔');
  const state = resolved ? 'RESOLVED' : a.severity.toUpperCase();
  const headline = `${icon} [${state}] ${a.rule}: ${modelLabel(a)} — ${shortMessage(a)}`;
  const fields = (
    [
      ['Model', a.model_name],
      ['Version', a.version ?? '—'],
      ['Rule', a.rule],
      ['Severity', a.severity],
      [resolved ? 'Resolved at' : 'Fired at', (resolved ? a.resolved_at : a.fired_at) ?? '—'],
    ] satisfies [string, string][]
  ).map(([k, v]) => ({ type: 'mrkdwn', text: truncate(`*${k}*\n${escapeSlack(v)}`, 2000) }));
  const detailText = Object.entries(a.details ?? {})
    .map(([k, v]) => `• ${escapeSlack(k)}: ${escapeSlack(formatValue(v))}`)
    .join('\n');
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${icon} ${state}: ${a.rule} on ${modelLabel(a)}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(escapeSlack(oneLine(a.message)), 3000) } },
    { type: 'section', fields },
  ];
  if (detailText) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Details*\n${detailText}`, 3000) } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(`alert ${escapeSlack(a.id)} · dedup \`${escapeSlack(a.dedup_key)}\``, 3000) }] });
  return { text: truncate(escapeSlack(headline), 3000), blocks };
}

export function pagerDutyPayload(n: AlertNotification, routingKey: string): Record<string, unknown> {
  const a = n.alert;
  if (n.event === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: a.dedup_key };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: a.dedup_key,
    payload: {
      summary: truncate(alertTitle(n), 1024),
      source: 'vitals',
      severity: a.severity,
      component: a.model_name,
      group: a.rule,
      custom_details: a.details,
      timestamp: a.fired_at,
    },
  };
}

// -------------------------------------------------------------------- delivery ---

/** An attempt's failure; `retryable: false` ends the channel's retries. */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return err.message;
    // undici: TypeError('fetch failed') with the socket error as cause.
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return `${err.message}: ${code ? `${code} ` : ''}${cause.message}`.trim();
    }
    return err.message;
  }
  return String(err);
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function validateHttpUrl(what: string, url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`notifier config: ${what} is not a valid URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`notifier config: ${what} must be an http(s) URL`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** SMTP errors that retrying cannot fix (besides `permanent` 5xx replies). */
const PERMANENT_SMTP_CODES = new Set(['ENOAUTH', 'ECONFIG', 'EMAXRECIPIENTS', 'EOTP', 'EREQUIRETLS']);

type Attempt = (timeoutMs: number) => Promise<void>;

export class AlertNotifier {
  readonly channels: string[];
  private readonly retry: typeof DEFAULT_RETRY;
  private readonly inflight = new Set<Promise<unknown>>();
  // nodemailer is imported on the first e-mail, not at start-up
  private mailer: Promise<Transporter> | undefined;

  constructor(
    private readonly config: NotifierConfig,
    private readonly log?: NotifierLogger,
  ) {
    const r = config.retry ?? {};
    this.retry = {
      attempts: Math.max(1, Math.floor(r.attempts ?? DEFAULT_RETRY.attempts)),
      baseDelayMs: Math.max(0, r.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs),
      maxDelayMs: Math.max(0, r.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs),
      timeoutMs: Math.max(1, r.timeoutMs ?? DEFAULT_RETRY.timeoutMs),
    };
    const channels: NotificationChannel[] = [];
    if (config.webhookUrl) {
      validateHttpUrl('webhookUrl', config.webhookUrl);
      channels.push('webhook');
    }
    if (config.slackWebhookUrl) {
      validateHttpUrl('slackWebhookUrl', config.slackWebhookUrl);
      channels.push('slack');
    }
    if (config.email) {
      const e = config.email;
      if (!e.host || !e.port || !e.from) throw new Error('notifier config: email needs host, port and from');
      if (!Array.isArray(e.to) || e.to.length === 0) throw new Error('notifier config: email.to needs at least one recipient');
      channels.push('email');
    }
    if (config.pagerDuty) {
      if (!config.pagerDuty.routingKey) throw new Error('notifier config: pagerDuty.routingKey is required');
      validateHttpUrl('pagerDuty.eventsUrl', config.pagerDuty.eventsUrl ?? PAGERDUTY_EVENTS_URL);
      channels.push('pagerduty');
    }
    this.channels = channels;
  }

  /** Fire-and-forget: starts delivery and returns at once. Never throws; failures are logged. */
  notify(n: AlertNotification): void {
    let p: Promise<unknown>;
    try {
      p = this.deliver(n).then(
        (results) => results,
        (err) => this.safeLog('error', { err: errorMessage(err), alert_id: n?.alert?.id }, 'alert notification failed'),
      );
    } catch (err) {
      this.safeLog('error', { err: errorMessage(err) }, 'alert notification failed');
      return;
    }
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Delivers to every channel in parallel (each with its own retries); resolves when all are done. Never rejects. */
  deliver(n: AlertNotification): Promise<DeliveryResult[]> {
    // Payloads are built now, synchronously, so a caller mutating `n` afterwards changes nothing.
    const jobs: Array<[NotificationChannel, Attempt]> = [];
    for (const channel of this.channels as NotificationChannel[]) {
      try {
        jobs.push([channel, this.attemptFor(channel, n)]);
      } catch (err) {
        const error = `could not build the notification: ${errorMessage(err)}`;
        jobs.push([
          channel,
          async () => {
            throw new DeliveryError(error, false);
          },
        ]);
      }
    }
    return Promise.all(jobs.map(([channel, attempt]) => this.withRetries(channel, n, attempt)));
  }

  /** Waits until every notify() delivery in flight (including ones started meanwhile) has finished. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  // ---------------------------------------------------------------- internals ---

  private attemptFor(channel: NotificationChannel, n: AlertNotification): Attempt {
    const c = this.config;
    switch (channel) {
      case 'webhook':
        return this.httpAttempt(c.webhookUrl!, JSON.stringify(n));
      case 'slack':
        return this.httpAttempt(c.slackWebhookUrl!, JSON.stringify(slackPayload(n)));
      case 'pagerduty':
        return this.httpAttempt(c.pagerDuty!.eventsUrl ?? PAGERDUTY_EVENTS_URL, JSON.stringify(pagerDutyPayload(n, c.pagerDuty!.routingKey)));
      case 'email':
        return this.emailAttempt(n);
    }
  }

  private httpAttempt(url: string, body: string): Attempt {
    return async (timeoutMs) => {
      const signal = AbortSignal.timeout(timeoutMs);
      let res: Response;
      let text = '';
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/plain, */*', 'user-agent': USER_AGENT },
          body,
          signal,
          redirect: 'error',
        });
        // Read the body (under the same timeout) so the connection is released.
        text = await res.text();
      } catch (err) {
        if (signal.aborted) throw new DeliveryError(`timeout after ${timeoutMs} ms`, true);
        // fetch refuses some ports outright ("bad port"): a config error that retrying won't fix.
        const cause = (err as { cause?: unknown }).cause;
        throw new DeliveryError(errorMessage(err), !(cause instanceof Error && cause.message === 'bad port'));
      }
      if (res.ok) return;
      const msg = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${truncate(oneLine(text), 200)}` : ''}`;
      const retryable = res.status >= 500 || res.status === 429;
      throw new DeliveryError(msg, retryable, retryable ? parseRetryAfter(res.headers.get('retry-after')) : undefined);
    };
  }

  private getMailer() {
    if (!this.mailer) {
      const e = this.config.email!;
      const t = this.retry.timeoutMs;
      this.mailer = import('nodemailer').then(({ default: nodemailer }) =>
        nodemailer.createTransport({
          host: e.host,
          port: e.port,
          secure: e.secure ?? e.port === 465,
          auth: e.user ? { user: e.user, pass: e.password ?? '' } : undefined,
          connectionTimeout: t,
          greetingTimeout: t,
          socketTimeout: t,
        }),
      );
    }
    return this.mailer;
  }

  private emailAttempt(n: AlertNotification): Attempt {
    const e = this.config.email!;
    const message = { from: e.from, to: e.to, subject: emailSubject(n), text: emailText(n), html: emailHtml(n) };
    const mailer = this.getMailer();
    return async (timeoutMs) => {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await (await mailer).sendMail({ ...message, signal });
      } catch (err) {
        if (signal.aborted) throw new DeliveryError(`timeout after ${timeoutMs} ms`, true);
        const e2 = err as { code?: string; responseCode?: number; permanent?: boolean; response?: string };
        const permanent = e2.permanent === true || (e2.code !== undefined && PERMANENT_SMTP_CODES.has(e2.code));
        const msg = `${e2.code ? `${e2.code}: ` : ''}${errorMessage(err)}`;
        throw new DeliveryError(truncate(oneLine(msg), 300), !permanent);
      }
    };
  }

  private backoff(attempt: number, retryAfterMs?: number): number {
    const { baseDelayMs, maxDelayMs } = this.retry;
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = exp / 2 + Math.random() * (exp / 2); // "equal jitter": [exp/2, exp)
    return Math.min(maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  private async withRetries(channel: NotificationChannel, n: AlertNotification, attempt: Attempt): Promise<DeliveryResult> {
    const max = this.retry.attempts;
    const ctx = { channel, event: n?.event, alert_id: n?.alert?.id, rule: n?.alert?.rule, model: n?.alert?.model_name };
    // Yield to the event loop first: notify() returns before any connection is opened.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let i = 1; ; i++) {
      try {
        await attempt(this.retry.timeoutMs);
        return { channel, ok: true, attempts: i };
      } catch (err) {
        const retryable = err instanceof DeliveryError ? err.retryable : true;
        const error = errorMessage(err);
        if (!retryable || i >= max) {
          this.safeLog('error', { ...ctx, attempts: i, error, retryable }, `alert notification via ${channel} failed`);
          return { channel, ok: false, attempts: i, error };
        }
        const delay = this.backoff(i, err instanceof DeliveryError ? err.retryAfterMs : undefined);
        this.safeLog('warn', { ...ctx, attempt: i, error, retry_in_ms: Math.round(delay) }, `alert notification via ${channel} failed; retrying`);
        await sleep(delay);
      }
    }
  }

  private safeLog(level: 'warn' | 'error', obj: unknown, msg: string): void {
    try {
      this.log?.[level](obj, msg);
    } catch {
      // a broken logger must not break delivery
    }
  }
}
