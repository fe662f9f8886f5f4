/** Terminal output for the CLI: aligned tables and a progress bar for long work. */
import { SingleBar, Presets } from 'cli-progress';

export function printTable(rows: Array<Record<string, unknown>>): void {
  if (!rows.length) {
    console.log('(none)');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(line(cols.map((c) => c.toUpperCase())));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c] ?? ''))));
}

export interface ProgressBar {
  update(done: number, total: number, message?: string): void;
  stop(): void;
}

/** A bar on a terminal; plain lines every 10% when output is piped (CI logs). */
export function createProgressBar(title: string): ProgressBar {
  if (!process.stderr.isTTY) {
    let lastDecile = -1;
    return {
      update(done, total, message) {
        const decile = Math.floor((done / Math.max(1, total)) * 10);
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${title}: ${Math.round((done / Math.max(1, total)) * 100)}% ${message ?? ''}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new SingleBar({ format: `${title} [{bar}] {percentage}% {value}/{total} {message}`, stream: process.stderr }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total, message = '') {
      if (!started) {
        bar.start(total, done, { message });
        started = true;
      }
      bar.setTotal(total);
      bar.update(done, { message });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
