// Child process: the full Vitals app (buildApp + demo bootstrap) listening on 127.0.0.1.
// argv[2]: JSON of setting overrides. Talks to the parent over IPC:
//   → { type: 'ready', port, model, version, algorithm, onnxPath, features, workers, threadsPerWorker, logged }
//   ← { type: 'cpu', id }   → { type: 'cpu:reply', id, user, system, maxRssKiB, loopDelay, counters }
//   ← { type: 'count', id } → { type: 'count:reply', id, logged }
//   ← { type: 'stop' }      → close(), then { type: 'stopped', logged (rows in the SQLite file), pending } and exit
// The process environment is NOT read for settings (env: {}), so a DATABASE_URL in the shell cannot
// redirect the benchmark; only the overrides below count.
import { serveControl } from './child-control.mjs';
import { closeAndCount, histogramTotals } from './vitals-child.mjs';
import { bootstrapDemo } from '../../dist/pipelines/demo-bootstrap.js';
import { loadConfig } from '../../dist/config/index.js';
import { buildApp } from '../../dist/server/app.js';

const overrides = JSON.parse(process.argv[2] ?? '{}');

async function main() {
  if (overrides.DATABASE_URL) throw new Error('this benchmark server counts logged rows in <VITALS_HOME>/vitals.db: use SQLite');
  const settings = loadConfig({ env: {}, dotenvFile: false, overrides: { HOST: '127.0.0.1', PORT: 0, LOG_LEVEL: 'silent', ...overrides } });
  // 'warn' rather than silent: a failing prediction-log flush is logged at error level and should show.
  const vitals = await buildApp(settings, { logger: { level: settings.LOG_LEVEL === 'silent' ? 'warn' : settings.LOG_LEVEL } });
  const { app, services } = vitals;
  if (settings.VITALS_DEMO) await bootstrapDemo(services.registry);
  const version = await services.registry.getVersion('breast-cancer', 'production');
  const onnxPath = services.registry.artifacts.pathOf(version.artifact.sha256);
  await app.listen({ host: settings.HOST, port: settings.PORT });
  const { port } = app.server.address();
  const countLogged = () => services.predictionLog.count(version.model_id);
  const histogram = (name) => histogramTotals(services, name);
  // Times every prediction-log flush when the log writes on the main thread (PredictionLog's old
  // private write(rows), wrapped here without changing src/). Since the writer thread (issue 13) the
  // log has no such method on the main thread and nothing is timed: its writes cost the event loop
  // only the hand-over, which shows in the event-loop delay and the CPU per request instead.
  const flushes = { count: 0, rows: 0, ms: 0, max_ms: 0 };
  const plog = services.predictionLog;
  if (typeof plog.write === 'function') {
    const write = plog.write;
    plog.write = async function (rows) {
      const t = performance.now();
      try {
        return await write.call(this, rows);
      } finally {
        const ms = performance.now() - t;
        flushes.count++;
        flushes.rows += rows.length;
        flushes.ms += ms;
        flushes.max_ms = Math.max(flushes.max_ms, ms);
      }
    };
  }
  const counters = async () => ({
    log_flushes: { ...flushes },
    batch_rows: await histogram('vitals_inference_batch_rows'),
    inference_seconds: await histogram('vitals_inference_duration_seconds'),
    monitoring_checks: ((await services.metrics.registry.getSingleMetric('vitals_monitoring_checks_total')?.get())?.values ?? []).reduce((a, x) => a + x.value, 0),
  });

  serveControl({
    counters,
    on: { count: async () => ({ logged: await countLogged() }) },
    stop: () => closeAndCount(vitals, settings, version.model_id), // close() drains the log first
  });

  process.send({
    type: 'ready',
    port,
    model: version.model_name,
    version: version.version,
    algorithm: version.params?.algorithm ?? null,
    onnxPath,
    sha256: version.artifact.sha256,
    features: version.input_spec.features.map((f) => f.name),
    workers: services.pool.workers,
    threadsPerWorker: services.pool.threadsPerWorker,
    logged: await countLogged(),
  });
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.send?.({ type: 'error', message: String(err?.message ?? err) });
  process.exitCode = 1;
});
