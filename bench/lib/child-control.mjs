// The control channel of a benchmark server child process (serving.mjs talks to each over IPC):
// `cpu` answers the process's CPU time (all threads), peak RSS and the event-loop delay since the
// previous question (then reset); `stop` runs the server's own shutdown and exits. A parent that
// dies takes the child with it.
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * @param {{ counters?: () => Promise<unknown>, stop: () => Promise<Record<string, unknown> | void>, on?: Record<string, (msg: any) => Promise<Record<string, unknown>>> }} handlers
 */
export function serveControl({ counters = async () => null, stop, on = {} }) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  process.on('message', async (msg) => {
    if (msg?.type === 'cpu') {
      const loopDelay = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
      loop.reset();
      process.send({ type: 'cpu:reply', id: msg.id, ...process.cpuUsage(), maxRssKiB: process.resourceUsage().maxRSS, loopDelay, counters: await counters() });
    } else if (msg?.type === 'stop') {
      const extra = (await stop()) ?? {};
      process.send({ type: 'stopped', ...extra }, () => process.exit(0));
    } else if (on[msg?.type]) {
      process.send({ type: `${msg.type}:reply`, id: msg.id, ...(await on[msg.type](msg)) });
    }
  });
  process.on('disconnect', () => process.exit(1)); // parent died: do not linger
}
