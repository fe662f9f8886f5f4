#!/usr/bin/env node
/**
 * Checks what `helm template` renders from deploy/helm/vitals, beyond schema validity (kubeconform
 * does that): the promises the chart makes about rollouts, readiness, roles, secrets and alerts.
 *
 *   node scripts/deploy/check-rendered-chart.mjs --all-features ALL.yaml --minimal MIN.yaml --default DEF.yaml
 *
 * Each file is one rendering (all-features: ci/all-features-values.yaml; minimal:
 * ci/minimal-values.yaml; default: values.yaml alone). Prints one line per check and
 * "N passed, N failed".
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments, parse } from 'yaml';

const args = Object.fromEntries(process.argv.slice(2).flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])));
for (const k of ['all-features', 'minimal', 'default']) if (!args[k]) throw new Error(`--${k} FILE is required`);

const load = (file) =>
  parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS())
    .filter(Boolean);
const renderings = { all: load(args['all-features']), minimal: load(args.minimal), default: load(args.default) };
const rulesFile = parse(readFileSync(new URL('../../deploy/prometheus/vitals-alerts.yml', import.meta.url), 'utf8'));

let passed = 0;
let failed = 0;
function check(name, fn) {
  try {
    const ok = fn();
    if (ok === false) throw new Error('condition is false');
    passed++;
    console.log(`  ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`  FAIL ${name}: ${err.message}`);
  }
}
function eq(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const find = (docs, kind, nameSuffix = '') => docs.find((d) => d.kind === kind && d.metadata.name.endsWith(nameSuffix));
const must = (doc, what) => {
  if (!doc) throw new Error(`${what} not rendered`);
  return doc;
};
const container = (deploy) => deploy.spec.template.spec.containers[0];
const env = (c, name) => (c.env ?? []).find((e) => e.name === name);

const all = renderings.all;
const api = () => must(find(all, 'Deployment', '-api'), 'api Deployment');
const worker = () => must(find(all, 'Deployment', '-worker'), 'worker Deployment');

check('api: rolling update never drops below the desired count (maxUnavailable 0)', () => eq(api().spec.strategy.rollingUpdate.maxUnavailable, 0, 'maxUnavailable'));
check('api: readiness waits for the named production model to load', () => eq(container(api()).readinessProbe.httpGet.path, '/v2/models/breast-cancer/ready', 'readiness path'));
check('api: default readiness asks the database (/v2/health/ready)', () =>
  eq(container(must(find(renderings.default, 'Deployment', '-api'), 'default api')).readinessProbe.httpGet.path, '/v2/health/ready', 'readiness path'),
);
check('api: liveness and startup probes, preStop pause before SIGTERM', () => {
  const c = container(api());
  eq(c.livenessProbe.httpGet.path, '/v2/health/live', 'liveness');
  eq(c.startupProbe.httpGet.path, '/health', 'startup');
  eq(c.lifecycle.preStop.exec.command[0], 'sleep', 'preStop');
});
check('api: VITALS_ROLE=api and no pipeline worker when a worker Deployment exists', () => {
  eq(env(container(api()), 'VITALS_ROLE')?.value, 'api', 'VITALS_ROLE');
  eq(env(container(api()), 'PIPELINE_WORKER')?.value, 'false', 'PIPELINE_WORKER');
});
check('worker: `vitals worker` with VITALS_ROLE=worker, probed on its own /health port, and a longer grace period', () => {
  eq(container(worker()).args, ['worker', '--port', '9465'], 'args');
  eq(container(worker()).ports?.[0]?.containerPort, 9465, 'worker port');
  for (const probe of ['livenessProbe', 'readinessProbe']) eq(container(worker())[probe]?.httpGet?.path, '/health', `worker ${probe}`);
  eq(env(container(worker()), 'VITALS_ROLE')?.value, 'worker', 'VITALS_ROLE');
  if (!(worker().spec.template.spec.terminationGracePeriodSeconds > api().spec.template.spec.terminationGracePeriodSeconds)) throw new Error('worker grace period not longer than api');
});
check('pods run as non-root with a read-only root filesystem and no capabilities', () => {
  for (const d of [api(), worker()]) {
    eq(d.spec.template.spec.securityContext.runAsNonRoot, true, `${d.metadata.name} runAsNonRoot`);
    eq(container(d).securityContext.readOnlyRootFilesystem, true, `${d.metadata.name} readOnlyRootFilesystem`);
    eq(container(d).securityContext.capabilities.drop, ['ALL'], `${d.metadata.name} capabilities`);
  }
});
check('secrets are referenced, never rendered: DATABASE_URL from a secretKeyRef, no Secret object', () => {
  for (const docs of Object.values(renderings)) if (docs.some((d) => d.kind === 'Secret')) throw new Error('a Secret is rendered');
  const ref = env(container(api()), 'DATABASE_URL')?.valueFrom?.secretKeyRef;
  if (!ref || ref.optional) throw new Error('DATABASE_URL is not a required secretKeyRef');
});
check('HPA scales the api on CPU and on requests per second', () => {
  const hpa = must(find(all, 'HorizontalPodAutoscaler'), 'HPA');
  eq(hpa.spec.scaleTargetRef.name, api().metadata.name, 'target');
  const kinds = hpa.spec.metrics.map((m) => (m.type === 'Resource' ? `cpu` : m.pods?.metric?.name));
  eq(kinds, ['cpu', 'vitals_http_requests_per_second'], 'metrics');
  if ('replicas' in api().spec) throw new Error('api Deployment sets replicas while an HPA owns them');
});
check('PodDisruptionBudgets keep an api pod up and let one worker go at a time', () => {
  eq(must(find(all, 'PodDisruptionBudget', '-api'), 'api PDB').spec.minAvailable, 1, 'api minAvailable');
  eq(must(find(all, 'PodDisruptionBudget', '-worker'), 'worker PDB').spec.maxUnavailable, 1, 'worker maxUnavailable');
});
check('migrations run as a pre-install/pre-upgrade hook with `vitals migrate`, reading only the Secret', () => {
  const job = must(find(all, 'Job', '-migrate'), 'migrations Job');
  eq(job.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade', 'hook');
  eq(container({ spec: job.spec }).args, ['migrate'], 'args');
  if (container({ spec: job.spec }).envFrom) throw new Error('the hook reads a ConfigMap that may not exist yet');
});
check('Service, Ingress with TLS and ServiceMonitor all point at the api port', () => {
  const svc = must(find(all, 'Service'), 'Service');
  eq(svc.spec.ports[0].targetPort, 'http', 'service targetPort');
  const ing = must(find(all, 'Ingress'), 'Ingress');
  eq(ing.spec.tls[0].secretName, 'vitals-tls', 'tls secret');
  eq(ing.spec.rules[0].http.paths[0].backend.service.name, svc.metadata.name, 'ingress backend');
  const sm = must(find(all, 'ServiceMonitor'), 'ServiceMonitor');
  eq(sm.spec.endpoints[0].path, '/metrics', 'metrics path');
  eq(sm.spec.jobLabel, 'app.kubernetes.io/name', 'jobLabel (the rules expect job="vitals")');
});
check('PrometheusRule carries every rule of deploy/prometheus/vitals-alerts.yml', () => {
  const rule = must(find(all, 'PrometheusRule'), 'PrometheusRule');
  eq(rule.spec, rulesFile, 'rule groups');
});
check('config changes roll the pods (checksum annotation)', () => {
  const sum = api().spec.template.metadata.annotations['checksum/config'];
  if (!/^[0-9a-f]{64}$/.test(sum ?? '')) throw new Error(`checksum/config is ${sum}`);
});
check('minimal: one api pod with VITALS_ROLE=all, no worker, HPA, PDB, PVC or hook', () => {
  const m = renderings.minimal;
  const mApi = must(find(m, 'Deployment', '-api'), 'api Deployment');
  eq(mApi.spec.replicas, 1, 'replicas');
  eq(env(container(mApi), 'VITALS_ROLE')?.value, 'all', 'VITALS_ROLE');
  eq(m.map((d) => d.kind).sort(), ['ConfigMap', 'Deployment', 'Service', 'ServiceAccount'], 'kinds');
  eq(mApi.spec.template.spec.volumes[0].emptyDir, {}, 'data volume');
});

console.log(`chart: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
