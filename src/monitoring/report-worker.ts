/**
 * Piscina worker of the monitoring report pool: builds a monitoring report (drift tests, decay,
 * CBPE, subgroups, operations) from inputs the main thread read from the log. The statistics are
 * CPU-bound for large windows; here they never hold up the serving event loop.
 */
import { threadId } from 'node:worker_threads';
import { type MonitoringReport, type ReportInputs, buildMonitoringReport } from './monitoring-report.js';

export default function build(inputs: ReportInputs): { report: MonitoringReport; threadId: number } {
  return { report: buildMonitoringReport(inputs), threadId };
}
