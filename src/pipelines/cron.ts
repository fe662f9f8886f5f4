/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week; `*`, lists, ranges and
 * steps), evaluated in UTC, for RETRAIN_CRON. Enough for schedules; no seconds, no names.
 */
export interface CronSchedule {
  expression: string;
  /** the latest time ≤ `at` that matches, searching back at most `horizonDays` */
  previous(at: Date, horizonDays?: number): Date | null;
}

function field(text: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let lo = min;
    let hi = max;
    if (range !== '*') {
      const [a, b] = range!.split('-');
      lo = Number(a);
      hi = b === undefined ? (stepText === undefined ? lo : max) : Number(b);
    }
    if (![lo, hi, step].every(Number.isInteger) || lo < min || hi > max || lo > hi || step < 1) throw new Error(`cron ${name} field "${part}" must be within ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron expression "${expression}" needs 5 fields: minute hour day-of-month month day-of-week`);
  const [mi, h, dom, mo, dow] = parts as [string, string, string, string, string];
  const minutes = field(mi, 0, 59, 'minute');
  const hours = field(h, 0, 23, 'hour');
  const days = field(dom, 1, 31, 'day-of-month');
  const months = field(mo, 1, 12, 'month');
  const weekdays = field(dow.replace(/7/g, '0'), 0, 6, 'day-of-week');
  const anyDom = dom === '*';
  const anyDow = dow === '*';
  const dayMatches = (d: Date) => {
    const a = days.has(d.getUTCDate());
    const b = weekdays.has(d.getUTCDay());
    return anyDom && anyDow ? true : anyDom ? b : anyDow ? a : a || b; // cron's rule: either day field matches
  };
  return {
    expression,
    previous(at, horizonDays = 366) {
      const t = new Date(at);
      t.setUTCSeconds(0, 0);
      const stop = at.getTime() - horizonDays * 86400_000;
      while (t.getTime() >= stop) {
        if (!months.has(t.getUTCMonth() + 1) || !dayMatches(t)) {
          t.setUTCHours(0, 0, 0, 0);
          t.setUTCMinutes(-1); // last minute of the previous day
          continue;
        }
        if (!hours.has(t.getUTCHours())) {
          t.setUTCMinutes(0);
          t.setUTCMinutes(-1);
          continue;
        }
        if (minutes.has(t.getUTCMinutes())) return new Date(t);
        t.setUTCMinutes(t.getUTCMinutes() - 1);
      }
      return null;
    },
  };
}
