/**
 * Prometheus metrics (prom-client) on a registry of our own, not the library's global one,
 * so that several apps in one test process never collide.
 *
 * Conventions (checked by `promtool check metrics` in test/services/prometheus-metrics.test.ts):
 * Node and process metrics keep their standard names (`process_cpu_seconds_total`,
 * `nodejs_eventloop_lag_seconds`, …) so stock dashboards find them; every Vitals metric ends in its
 * unit (`_seconds`, `_rows`, `_models`, `_alerts`, `_events`, `_total` for counters; the seed's `model_*`
 * gauges are 0..1 ratios named by the seed); every label takes a bounded set of values (routes are
 * templates, methods a fixed list, models only registered ones).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * prom-client's default set includes `nodejs_active_{handles,requests,resources}_total` gauges: a
 * gauge named `_total` breaks the convention (promtool exits 3). The same counts, broken down by
 * type, remain under `nodejs_active_handles` etc.; summing those gives the totals.
 */
const NON_CONVENTIONAL_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Labels of one HTTP request, bounded: the route template (never the raw URL) and a known method. */
export function httpLabels(method: string, routeTemplate: string | undefined, status: number): { method: string; route: string; status: string } {
  return { method: HTTP_METHODS.has(method) ? method : 'OTHER', route: routeTemplate ?? 'unmatched', status: String(status) };
}

export function createMetrics(enabled = true) {
  const registry = new Registry();
  if (enabled) {
    collectDefaultMetrics({ register: registry });
    for (const name of NON_CONVENTIONAL_DEFAULTS) registry.removeSingleMetric(name);
  }
  const registers = [registry];
  return {
    registry,
    enabled,
    httpRequests: new Counter({ name: 'vitals_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers }),
    httpDuration: new Histogram({
      name: 'vitals_http_request_duration_seconds',
      help: 'HTTP request latency in seconds',
      labelNames: ['method', 'route', 'status'],
      buckets: latencyBuckets,
      registers,
    }),
    errors: new Counter({ name: 'vitals_errors_total', help: 'Error responses by route and error code', labelNames: ['route', 'code'], registers }),
    predictions: new Counter({ name: 'vitals_predictions_total', help: 'Predictions served, by model, version and input kind', labelNames: ['model', 'version', 'kind'], registers }),
    predictionErrors: new Counter({ name: 'vitals_prediction_errors_total', help: 'Failed predictions by model and error code', labelNames: ['model', 'code'], registers }),
    predictionLatency: new Histogram({
      name: 'vitals_prediction_duration_seconds',
      help: 'End-to-end prediction latency (validation, queueing, inference, decoding) in seconds',
      labelNames: ['model', 'version'],
      buckets: latencyBuckets,
      registers,
    }),
    inferenceDuration: new Histogram({
      name: 'vitals_inference_duration_seconds',
      help: 'onnxruntime session.run duration per batch in seconds',
      labelNames: ['model', 'version'],
      buckets: latencyBuckets,
      registers,
    }),
    batchSize: new Histogram({ name: 'vitals_inference_batch_rows', help: 'Rows per inference batch', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers }),
    cacheHits: new Counter({ name: 'vitals_prediction_cache_hits_total', help: 'Predictions answered from the cache', labelNames: ['model'], registers }),
    cacheMisses: new Counter({ name: 'vitals_prediction_cache_misses_total', help: 'Predictions not found in the cache', labelNames: ['model'], registers }),
    predictionLogQueue: new Gauge({ name: 'vitals_prediction_log_queued_rows', help: 'Prediction-log rows accepted but not yet written', registers }),
    predictionLogWritten: new Counter({ name: 'vitals_prediction_log_rows_written_total', help: 'Prediction-log rows written to the database', registers }),
    predictionLogPurged: new Counter({ name: 'vitals_prediction_log_purged_rows_total', help: 'Prediction-log rows deleted by the retention purge (PREDICTION_LOG_RETENTION_DAYS)', registers }),
    predictionLogFailures: new Counter({ name: 'vitals_prediction_log_write_failures_total', help: 'Failed prediction-log flushes (rows are kept and retried)', registers }),
    driftScore: new Gauge({ name: 'model_drift_score', help: 'Share of features drifted in the last monitoring check (0..1)', labelNames: ['model', 'version'], registers }),
    healthScore: new Gauge({ name: 'model_health_score', help: 'Health score of the last monitoring check (0..1; good > 0.8, critical < 0.6)', labelNames: ['model', 'version'], registers }),
    accuracy: new Gauge({ name: 'model_accuracy', help: 'Accuracy over the labelled monitoring window', labelNames: ['model', 'version'], registers }),
    estimatedAccuracy: new Gauge({ name: 'model_estimated_accuracy', help: 'Accuracy estimated without labels (mean confidence)', labelNames: ['model', 'version'], registers }),
    accuracyDecay: new Gauge({ name: 'model_accuracy_decay', help: 'Baseline accuracy minus current accuracy', labelNames: ['model', 'version'], registers }),
    alertsFiring: new Gauge({ name: 'vitals_firing_alerts', help: 'Alerts currently firing, by severity', labelNames: ['severity'], registers }),
    monitoringChecks: new Counter({ name: 'vitals_monitoring_checks_total', help: 'Monitoring checks run', labelNames: ['model', 'status'], registers }),
    modelsLoaded: new Gauge({ name: 'vitals_loaded_models', help: 'Model artifacts loaded in the inference pool', registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
