/**
 * Piscina worker of the monitoring report pool: reads a version's windows from the log on its own
 * connection and builds the monitoring report (drift tests, decay, CBPE, subgroups, operations). The statistics are
 * CPU-bound for large windows; here they never hold up the serving event loop.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { threadId } from 'node:worker_threads';
import { readWindows } from './log-windows.js';
import { type MonitoringReport, buildMonitoringReport } from './monitoring-report.js';
import type { ReportJob } from './report-pool.js';

/**
 * The lowest CPU priority (nice 19) for this thread only: on Linux setpriority takes a thread id.
 * Off the event loop is not enough on a machine with as few cores as serving uses (2 here): a check
 * then waits for a free core instead of taking one from the inference workers. Elsewhere: nothing.
 */
function lowerThreadPriority(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, 19);
    // field 19 of /proc/<tid>/stat (after the parenthesised name): the thread's nice value
    return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]?.split(' ')[16]);
  } catch {
    return null;
  }
}

const nice = lowerThreadPriority();

export default async function build({ inputs, read }: ReportJob): Promise<{ report: MonitoringReport; threadId: number; nice: number | null }> {
  if (read) Object.assign(inputs, await readWindows(read));
  return { report: buildMonitoringReport(inputs), threadId, nice };
}
