#!/usr/bin/env node
// Writes the Grafana dashboards in deploy/grafana/ (service and model monitoring) from one compact
// description, so every panel has the same shape. Re-run after changing a panel:
//   node scripts/make-grafana-dashboards.mjs
// test/services/grafana-dashboards.test.ts checks every PromQL expression with promtool and every
// metric name against the ones Vitals exports.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(dirname(fileURLToPath(import.meta.url))), 'deploy', 'grafana');
const ds = { type: 'prometheus', uid: '${datasource}' };
const R = '$__rate_interval';

function dashboard({ uid, title, description, tags, variables = [], rows }) {
  let id = 1;
  let y = 0;
  const panels = [];
  for (const row of rows) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    let x = 0;
    for (const p of row.panels) {
      const w = p.w ?? 8;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push({
        id: id++,
        type: p.type ?? 'timeseries',
        title: p.title,
        description: p.description,
        datasource: ds,
        gridPos: { h: 8, w, x, y },
        fieldConfig: {
          defaults: {
            unit: p.unit ?? 'short',
            ...(p.min !== undefined ? { min: p.min } : {}),
            ...(p.max !== undefined ? { max: p.max } : {}),
            ...(p.thresholds ? { thresholds: { mode: 'absolute', steps: p.thresholds } } : {}),
          },
          overrides: [],
        },
        options:
          p.type === 'stat'
            ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto' }
            : { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
        targets: p.targets.map(([expr, legendFormat], i) => ({ refId: String.fromCharCode(65 + i), datasource: ds, expr, legendFormat, range: true })),
      });
      x += w;
    }
    y += 8;
  }
  return {
    uid,
    title,
    description,
    tags: ['vitals', ...tags],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [] }, ...variables],
    },
    panels,
  };
}

const modelVar = {
  name: 'model',
  label: 'Model',
  type: 'query',
  datasource: ds,
  query: { query: 'label_values(vitals_predictions_total, model)', refId: 'model' },
  definition: 'label_values(vitals_predictions_total, model)',
  includeAll: true,
  multi: true,
  allValue: '.*',
  current: {},
  refresh: 2,
  sort: 1,
  hide: 0,
  options: [],
};

const q = (quantile, metric, by = '') => `histogram_quantile(${quantile}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket[${R}])))`;

const service = dashboard({
  uid: 'vitals-service',
  title: 'Vitals — service',
  description: 'HTTP and prediction traffic, latency quantiles, errors, batching, cache, prediction log, event loop and memory.',
  tags: ['service'],
  rows: [
    {
      title: 'HTTP',
      panels: [
        { title: 'Requests per second by route', unit: 'reqps', targets: [[`sum by (route) (rate(vitals_http_requests_total[${R}]))`, '{{route}}']] },
        {
          title: 'Request latency',
          unit: 's',
          targets: [
            [q(0.5, 'vitals_http_request_duration_seconds'), 'p50'],
            [q(0.95, 'vitals_http_request_duration_seconds'), 'p95'],
            [q(0.99, 'vitals_http_request_duration_seconds'), 'p99'],
          ],
        },
        {
          title: 'Error responses',
          unit: 'percentunit',
          min: 0,
          targets: [
            [`sum(rate(vitals_http_requests_total{status=~"5.."}[${R}])) / clamp_min(sum(rate(vitals_http_requests_total[${R}])), 1e-9)`, '5xx share'],
            [`sum(rate(vitals_http_requests_total{status=~"4.."}[${R}])) / clamp_min(sum(rate(vitals_http_requests_total[${R}])), 1e-9)`, '4xx share'],
          ],
        },
      ],
    },
    {
      title: 'Predictions',
      panels: [
        { title: 'Predictions per second by model', unit: 'ops', targets: [[`sum by (model) (rate(vitals_predictions_total[${R}]))`, '{{model}}']] },
        {
          title: 'Prediction latency (end to end)',
          unit: 's',
          targets: [
            [q(0.5, 'vitals_prediction_duration_seconds'), 'p50'],
            [q(0.95, 'vitals_prediction_duration_seconds'), 'p95'],
            [q(0.99, 'vitals_prediction_duration_seconds'), 'p99'],
          ],
        },
        { title: 'Failed predictions by model and code', unit: 'ops', targets: [[`sum by (model, code) (rate(vitals_prediction_errors_total[${R}]))`, '{{model}} {{code}}']] },
        {
          title: 'Inference batch size',
          targets: [
            [q(0.5, 'vitals_inference_batch_rows'), 'p50'],
            [q(0.95, 'vitals_inference_batch_rows'), 'p95'],
            [`sum(rate(vitals_inference_batch_rows_sum[${R}])) / clamp_min(sum(rate(vitals_inference_batch_rows_count[${R}])), 1e-9)`, 'mean'],
          ],
        },
        { title: 'Inference time per batch (p95)', unit: 's', targets: [[q(0.95, 'vitals_inference_duration_seconds', 'model'), '{{model}}']] },
        {
          title: 'Cache hit ratio',
          unit: 'percentunit',
          min: 0,
          max: 1,
          targets: [
            [
              `sum(rate(vitals_prediction_cache_hits_total[${R}])) / clamp_min(sum(rate(vitals_prediction_cache_hits_total[${R}])) + sum(rate(vitals_prediction_cache_misses_total[${R}])), 1e-9)`,
              'hit ratio',
            ],
          ],
        },
      ],
    },
    {
      title: 'Process',
      panels: [
        {
          title: 'Event-loop delay',
          unit: 's',
          targets: [
            ['max(nodejs_eventloop_lag_p50_seconds)', 'p50'],
            ['max(nodejs_eventloop_lag_p99_seconds)', 'p99'],
          ],
        },
        {
          title: 'Memory',
          unit: 'bytes',
          targets: [
            ['sum(process_resident_memory_bytes)', 'resident'],
            ['sum(nodejs_heap_size_used_bytes)', 'heap used'],
          ],
        },
        {
          title: 'Prediction log',
          targets: [
            ['sum(vitals_prediction_log_queued_rows)', 'rows waiting'],
            [`sum(rate(vitals_prediction_log_rows_written_total[${R}]))`, 'rows written / s'],
            [`sum(rate(vitals_prediction_log_write_failures_total[${R}]))`, 'failed flushes / s'],
          ],
        },
      ],
    },
  ],
});

const sel = '{model=~"$model"}';
const monitoring = dashboard({
  uid: 'vitals-model-monitoring',
  title: 'Vitals — model monitoring',
  description: 'Per model and version: health, drift, accuracy (realized and estimated), decay, alerts and traffic.',
  tags: ['monitoring'],
  variables: [modelVar],
  rows: [
    {
      title: 'Health',
      panels: [
        {
          title: 'Health score',
          type: 'stat',
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: [
            { color: 'red', value: null },
            { color: 'orange', value: 0.6 },
            { color: 'green', value: 0.8 },
          ],
          targets: [[`min by (model, version) (model_health_score${sel})`, '{{model}} {{version}}']],
        },
        {
          title: 'Alerts firing by severity',
          type: 'stat',
          thresholds: [
            { color: 'green', value: null },
            { color: 'red', value: 1 },
          ],
          targets: [['sum by (severity) (vitals_firing_alerts)', '{{severity}}']],
        },
        { title: 'Health score over time', unit: 'percentunit', min: 0, max: 1, targets: [[`model_health_score${sel}`, '{{model}} {{version}}']] },
      ],
    },
    {
      title: 'Drift and quality',
      panels: [
        { title: 'Drifted feature share', unit: 'percentunit', min: 0, max: 1, targets: [[`model_drift_score${sel}`, '{{model}} {{version}}']] },
        {
          title: 'Accuracy: realized and estimated',
          unit: 'percentunit',
          targets: [
            [`model_accuracy${sel}`, '{{model}} {{version}} realized'],
            [`model_estimated_accuracy${sel}`, '{{model}} {{version}} estimated'],
          ],
        },
        { title: 'Accuracy decay (baseline − current)', unit: 'percentunit', targets: [[`model_accuracy_decay${sel}`, '{{model}} {{version}}']] },
      ],
    },
    {
      title: 'Traffic',
      panels: [
        { title: 'Predictions per second by version', unit: 'ops', targets: [[`sum by (model, version) (rate(vitals_predictions_total${sel}[${R}]))`, '{{model}} {{version}}']] },
        {
          title: 'Prediction error rate',
          unit: 'percentunit',
          min: 0,
          targets: [
            [
              `sum by (model) (rate(vitals_prediction_errors_total${sel}[${R}])) / clamp_min(sum by (model) (rate(vitals_predictions_total${sel}[${R}])) + sum by (model) (rate(vitals_prediction_errors_total${sel}[${R}])), 1e-9)`,
              '{{model}}',
            ],
          ],
        },
        { title: 'Monitoring checks by status', unit: 'ops', targets: [[`sum by (model, status) (rate(vitals_monitoring_checks_total${sel}[${R}]))`, '{{model}} {{status}}']] },
      ],
    },
  ],
});

for (const [file, d] of [
  ['vitals-service.json', service],
  ['vitals-model-monitoring.json', monitoring],
]) {
  writeFileSync(join(OUT, file), `${JSON.stringify(d, null, 2)}\n`);
  console.log(`wrote deploy/grafana/${file}: ${d.panels.filter((p) => p.type !== 'row').length} panels`);
}
