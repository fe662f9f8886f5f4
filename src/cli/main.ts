#!/usr/bin/env node
/**
 * `vitals`: serve, worker, train, register, models, predict. Commands other than serve and predict
 * --url work directly on the configured database and artifact folder (the same ones the server uses).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { Settings } from '../config/index.js';
import type { Alias } from '../registry/index.js';
import type { Services } from '../server/app.js';
import { createProgressBar, printTable } from './output.js';
import { UsageError, parseJson, reportCliError } from './errors.js';
import { registerKeyCommands } from './key-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerPipelineCommands } from './pipeline-commands.js';

// Start-up time: `vitals --help` and `vitals drift` must not load the server (Fastify, Kysely, onnxruntime,
// sharp, every capability). Each command imports what it needs when it runs.
const config = () => import('../config/index.js');
const errors = () => import('../errors.js');
const composition = () => import('../server/app.js');

/** The alias names, here so that defining the options loads nothing (the type keeps them to the registry's). */
const ALIASES = ['production', 'staging', 'challenger'] as const satisfies readonly Alias[];

const program = new Command();
program
  .name('vitals')
  .description('Vitals: model registry, ONNX serving and monitoring for clinical models')
  .option('-c, --config <file>', 'YAML config file (settings as in the README)')
  .option('--home <dir>', 'data folder (VITALS_HOME)')
  .option('--database-url <url>', 'DATABASE_URL (sqlite path or postgres://…)')
  .option('--debug', 'print the stack trace of a failure')
  // usage errors (a missing option, an unknown command) exit 2; see reportCliError
  .exitOverride();

async function settings(extra: Partial<Record<keyof Settings, unknown>> = {}): Promise<Settings> {
  const o = program.opts<{ config?: string; home?: string; databaseUrl?: string }>();
  const { loadConfig } = await config();
  return loadConfig({
    configFile: o.config,
    overrides: { ...(o.home ? { VITALS_HOME: o.home } : {}), ...(o.databaseUrl ? { DATABASE_URL: o.databaseUrl } : {}), ...extra },
  });
}

/** Runs a command against local services and always closes them. */
async function withServices<T>(fn: (s: Services) => Promise<T>, extra: Partial<Record<keyof Settings, unknown>> = {}): Promise<T> {
  const { createServices, closeServices } = await composition();
  const s = await createServices(await settings({ INFERENCE_WORKERS: 1, ...extra }));
  try {
    return await fn(s);
  } finally {
    await closeServices(s);
  }
}

const json = (v: unknown) => console.log(JSON.stringify(v, null, 2));

program
  .command('serve')
  .description('start the HTTP API with an embedded background worker (--role api: the HTTP API only)')
  .option('-p, --port <port>', 'PORT')
  .addOption(new Option('--role <role>', 'VITALS_ROLE: all (API and background work) or api (HTTP only; run `vitals worker` beside it)').choices(['all', 'api']))
  .option('--host <host>', 'HOST')
  .option('--no-demo', 'do not bootstrap the demo models into an empty registry')
  .action(async (opts: { port?: string; host?: string; demo: boolean; role?: 'all' | 'api' }) => {
    const cfg = await settings({
      ...(opts.port ? { PORT: opts.port } : {}),
      ...(opts.host ? { HOST: opts.host } : {}),
      ...(opts.demo ? {} : { VITALS_DEMO: false }),
      ...(opts.role ? { VITALS_ROLE: opts.role } : {}),
    });
    if (cfg.VITALS_ROLE === 'worker') throw new UsageError('VITALS_ROLE=worker is `vitals worker`; `vitals serve` runs the roles all and api');
    const [{ buildApp }, { bootstrapDemo }, { startBackgroundLoop }] = await Promise.all([composition(), import('../pipelines/demo-bootstrap.js'), import('../server/background-loop.js')]);
    const vitals = await buildApp(cfg);
    const { app, services } = vitals;
    if (cfg.VITALS_DEMO) await bootstrapDemo(services.registry, (m) => app.log.info(m), { image: true });
    // role api: no background loop (the workers sweep, look and schedule); each turn runs once per database anyway
    const loop = cfg.VITALS_ROLE === 'api' ? { stop() {} } : startBackgroundLoop(services, app.log);
    await services.messaging.startConsumers({ predictor: services.predictor, predictionLog: services.predictionLog, reports: services.reportLabels });
    await app.listen({ port: cfg.PORT, host: cfg.HOST });
    const url = `${cfg.TLS_CERT_FILE ? 'https' : 'http'}://localhost:${(app.server.address() as { port: number }).port}`;
    const access = cfg.AUTH_DISABLED
      ? 'AUTH DISABLED: every caller is admin'
      : (await services.authenticator.credentialsConfigured())
        ? 'API keys required (Authorization: Bearer <key>)'
        : `local admin: no keys configured, so callers on ${cfg.HOST} are admin; create keys with \`vitals keys create\` before exposing it`;
    console.log(
      `\nVitals is running on ${url}\n  Dashboard: ${url}/\n  API docs:  ${url}/docs\n  Health:    ${url}/health\n  Metrics:   ${url}/metrics\n  Database:  ${services.database.dialect} (${services.database.location})\n  Access:    ${access}\n`,
    );
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info(`${signal}: draining the prediction log and stopping`);
      loop.stop();
      await vitals.close();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program
  .command('worker')
  .description(
    'run the background work without the API (VITALS_ROLE=worker): monitoring sweeps, release-test looks, retraining schedules, pipeline jobs, bus consumers, artifact checks; GET /health and /metrics on --port',
  )
  .option('--once', 'run every job once and exit')
  .option('-p, --port <port>', 'port of the /health and /metrics listener (default PROMETHEUS_PORT, else 9465; 0 for none)')
  .action(async (opts: { once?: boolean; port?: string }) => {
    const [{ createServices, closeServices }, { startBackgroundLoop }, { startMetricsListener }] = await Promise.all([
      composition(),
      import('../server/background-loop.js'),
      import('../server/metrics-listener.js'),
    ]);
    const services = await createServices(await settings({ INFERENCE_WORKERS: 1, VITALS_ROLE: 'worker' }));
    const logger = {
      info: (m: unknown, msg?: string) => console.log(msg ?? m),
      warn: (m: unknown, msg?: string) => console.warn(msg ?? m),
      error: (m: unknown, msg?: string) => console.error(msg ?? m),
    };
    const loop = startBackgroundLoop(services, logger, { once: opts.once });
    if (!opts.once) await services.messaging.startConsumers({ predictor: services.predictor, predictionLog: services.predictionLog, reports: services.reportLabels });
    if (!opts.once && services.settings.PIPELINE_WORKER) services.pipelines.startWorker();
    const stop = async () => {
      loop.stop();
      listener?.close();
      await loop.idle();
      await closeServices(services);
      process.exit(0);
    };
    if (opts.once) {
      await loop.idle();
      await closeServices(services);
      return;
    }
    const port = opts.port !== undefined ? Number(opts.port) : (services.settings.PROMETHEUS_PORT ?? 9465);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number (0 for none), not "${opts.port}"`);
    // the same dependency checks as the API's /health (database, bus, inference pool), without a default model
    const { checkDependencies } = await import('../server/health-checks.js');
    const health = async () => {
      const { status, checks } = await checkDependencies({
        database: () => services.database.db.selectFrom('models').select('id').limit(1).execute(),
        bus: () => services.messaging.status(),
        pool: services.pool,
      });
      return { status, role: 'worker', database: checks.database.status === 'ok' ? 'ok' : `down: ${checks.database.reason}`, checks };
    };
    const listener = port
      ? await startMetricsListener({ contentType: services.metrics.registry.contentType, text: () => services.metrics.registry.metrics() }, services.settings.HOST, port, health)
      : undefined;
    console.log(`vitals worker running${listener ? ` (health and metrics on http://${services.settings.HOST}:${port})` : ''}; Ctrl-C to stop`);
    process.on('SIGTERM', () => void stop());
    process.on('SIGINT', () => void stop());
  });

program
  .command('train')
  .description('train a built-in classifier on a CSV and register it')
  .requiredOption('--data <file>', 'CSV file with a header row')
  .requiredOption('--target <column>', 'column to predict')
  .addOption(new Option('--algo <algo>', 'algorithm').choices(['rf', 'logreg']).default('rf'))
  .option('--name <model>', 'model name', 'tabular-model')
  .option('--version <semver>', 'version (default: bump the latest)')
  .option('--seed <n>', 'random seed', '42')
  .option('--promote', 'make it the production version')
  .option('--json', 'print the registered version and its metrics as JSON (progress stays on stderr)')
  .action(async (o: { data: string; target: string; algo: 'rf' | 'logreg'; name: string; version?: string; seed: string; promote?: boolean; json?: boolean }) => {
    const csv = await readFile(o.data, 'utf8');
    const { trainAndRegister } = await import('../pipelines/train-and-register.js');
    await withServices(async (s) => {
      const bar = createProgressBar(`training ${o.algo}`);
      const result = await trainAndRegister(s.registry, {
        csv,
        target: o.target,
        algo: o.algo,
        modelName: o.name,
        version: o.version,
        seed: Number(o.seed),
        dataSource: resolve(o.data),
        aliases: o.promote ? ['production'] : undefined,
        actor: 'cli',
        onProgress: (done, total, message) => bar.update(done, total, message),
      });
      bar.stop();
      if (o.json) return json({ model: o.name, version: result.version.version, version_id: result.version.id, aliases: result.version.aliases, metrics: result.metrics });
      console.log(`registered ${o.name} ${result.version.version} (${result.version.id})${o.promote ? ' → production' : ''}`);
      printTable(Object.entries(result.metrics).map(([metric, value]) => ({ metric, value: Number.isInteger(value) ? value : value.toFixed(4) })));
    });
  });

program
  .command('register')
  .description('register an ONNX file as a model version')
  .requiredOption('--name <model>', 'model name')
  .requiredOption('--file <model.onnx>', 'ONNX file')
  .requiredOption('--spec <spec.json>', 'JSON with input_spec, output_spec and optionally metrics, metadata, params, reference_profile')
  .option('--version <semver>', 'version (default: bump the latest)')
  .addOption(new Option('--bump <part>', 'which part to bump').choices(['major', 'minor', 'patch']))
  .option('--promote', 'make it the production version')
  .action(async (o: { name: string; file: string; spec: string; version?: string; bump?: 'major' | 'minor' | 'patch'; promote?: boolean }) => {
    const spec = parseJson(await readFile(o.spec, 'utf8'), o.spec) as { input_spec: unknown; output_spec: unknown; aliases?: Alias[] };
    const artifact = await readFile(o.file);
    await withServices(async (s) => {
      const v = await s.registry.register({ ...spec, name: o.name, artifact, version: o.version, bump: o.bump, aliases: o.promote ? ['production'] : spec.aliases, actor: 'cli' });
      console.log(`registered ${v.model_name} ${v.version} (${v.id}) sha256:${v.artifact.sha256.slice(0, 12)}${o.promote ? ' → production' : ''}`);
    });
  });

const models = program.command('models').description('list, show, promote, roll back and archive models');
models.command('list').action(() =>
  withServices(async (s) => {
    const rows = await s.registry.listModels();
    if (!rows.length) return console.log('no models registered yet: `vitals train` or `vitals register`');
    printTable(
      rows.map((m) => ({ name: m.name, task: m.task, modality: m.modality, production: m.aliases.production ?? '-', challenger: m.aliases.challenger ?? '-', staging: m.aliases.staging ?? '-' })),
    );
  }),
);
models
  .command('show <name>')
  .option('--json', 'print JSON')
  .action((name: string, o: { json?: boolean }) =>
    withServices(async (s) => {
      const model = await s.registry.getModel(name);
      const versions = await s.registry.listVersions(name);
      if (o.json) return json({ ...model, versions });
      console.log(`${model.name} (${model.task}, ${model.modality})`);
      printTable(
        versions.map((v) => ({
          version: v.version,
          status: v.status,
          aliases: v.aliases.join(',') || '-',
          accuracy: v.metrics.accuracy?.toFixed(4) ?? '-',
          roc_auc: v.metrics.roc_auc?.toFixed(4) ?? '-',
          created: v.created_at,
        })),
      );
    }),
  );
models
  .command('promote <name> <version>')
  .addOption(new Option('--alias <alias>', 'alias to move').choices([...ALIASES]).default('production'))
  .option('--reason <text>', 'why')
  .action((name: string, version: string, o: { alias: Alias; reason?: string }) =>
    withServices(async (s) => {
      const v = await s.registry.getVersion(name, version);
      await s.registry.promote(v.id, { alias: o.alias, reason: o.reason, actor: 'cli' });
      console.log(`${name} ${v.version} → ${o.alias}`);
    }),
  );
models
  .command('rollback <name>')
  .option('--to <version>', 'version to roll back to (default: the previous production version)')
  .requiredOption('--reason <text>', 'why')
  .action((name: string, o: { to?: string; reason: string }) =>
    withServices(async (s) => {
      const v = await s.registry.rollback(name, { toVersion: o.to, reason: o.reason, actor: 'cli' });
      console.log(`${name} production → ${v.version}`);
    }),
  );
models
  .command('archive <name> <version>')
  .option('--reason <text>', 'why')
  .action((name: string, version: string, o: { reason?: string }) =>
    withServices(async (s) => {
      const v = await s.registry.getVersion(name, version);
      await s.registry.archive(v.id, { reason: o.reason, actor: 'cli' });
      console.log(`${name} ${v.version} archived`);
    }),
  );
models.command('history <name>').action((name: string) =>
  withServices(async (s) => {
    printTable(
      (await s.registry.history(name)).map((e) => ({
        when: e.created_at,
        action: e.action,
        alias: e.alias ?? '-',
        from: e.from_version ?? '-',
        to: e.to_version ?? '-',
        who: e.actor,
        why: e.reason ?? '',
      })),
    );
  }),
);

const ab = program.command('ab').description('A/B, canary and shadow release tests: create, list, status, evaluate, stop');
ab.command('create')
  .description('start a test of a treatment version against the control (default: production)')
  .requiredOption('--name <name>', 'test name')
  .requiredOption('--treatment <ref>', 'treatment version: name@1.2.0, a version id, or a version string of the control model')
  .option('--control <ref>', 'control version (default: the production version of --model)')
  .option('--model <name>', 'the model, when --control is omitted')
  .addOption(new Option('--mode <mode>', 'ab (fixed split), canary (ramp), shadow (copy of traffic)').choices(['ab', 'canary', 'shadow']).default('ab'))
  .option('--split <share>', "treatment's share of traffic, 0..1 (ab default 0.5; shadow: share copied, default 1)")
  .addOption(new Option('--metric <metric>', 'primary metric').choices(['accuracy', 'error_rate', 'confidence', 'latency']).default('accuracy'))
  .addOption(new Option('--decision <mode>', 'auto decisions or recommendations only').choices(['auto', 'recommend-only']).default('auto'))
  .option('--min-samples <n>', 'predictions per variant before a promotion (default AB_TEST_MIN_SAMPLES)')
  .option('--min-duration <seconds>', 'minimum duration before a promotion')
  .option('--stages <shares>', 'canary ramp, e.g. 0.05,0.25,0.5,1')
  .option('--hash-seed <seed>', 'GrowthBook seed (experiment key) for user buckets')
  .action(
    (o: {
      name: string;
      treatment: string;
      control?: string;
      model?: string;
      mode: 'ab' | 'canary' | 'shadow';
      split?: string;
      metric: 'accuracy';
      decision: 'auto' | 'recommend-only';
      minSamples?: string;
      minDuration?: string;
      stages?: string;
      hashSeed?: string;
    }) =>
      withServices(async (s) => {
        const test = await s.abTests.create({
          name: o.name,
          control: o.control,
          treatment: o.treatment,
          model: o.model,
          mode: o.mode,
          traffic_split: o.split === undefined ? undefined : Number(o.split),
          metric: o.metric,
          decision_mode: o.decision,
          hash_seed: o.hashSeed,
          actor: 'cli',
          config: {
            ...(o.minSamples !== undefined ? { min_samples: Number(o.minSamples) } : {}),
            ...(o.minDuration !== undefined ? { min_duration_s: Number(o.minDuration) } : {}),
            ...(o.stages ? { canary_stages: o.stages.split(',').map(Number) } : {}),
          },
        });
        console.log(
          `started ${test.mode} test "${test.name}" (${test.id}): ${test.model_name} ${test.control_version} (control) vs ${test.treatment_version} (treatment), split ${test.traffic_split}`,
        );
      }),
  );
ab.command('list')
  .option('--all', 'include ended tests')
  .action((o: { all?: boolean }) =>
    withServices(async (s) => {
      const tests = await s.abTests.list({ status: o.all ? 'all' : 'active' });
      if (!tests.length) return console.log(o.all ? 'no tests yet: `vitals ab create`' : 'no active tests (`vitals ab list --all` shows ended ones)');
      printTable(
        tests.map((t) => ({
          id: t.id,
          name: t.name,
          model: t.model_name,
          mode: t.mode,
          control: t.control_version,
          treatment: t.treatment_version,
          split: t.traffic_split,
          status: t.status,
          decision: t.decision_mode,
        })),
      );
    }),
  );
ab.command('status <test>')
  .description('results: per-variant metrics, significance (fixed-horizon and always-valid), sample sizes, decision')
  .option('--json', 'print the full report as JSON')
  .action((ref: string, o: { json?: boolean }) =>
    withServices(async (s) => {
      const { test, report, decision } = await s.abTests.status(ref);
      const { statusView } = await import('../abtest/index.js');
      const view = statusView(test, report, decision);
      if (o.json) return json(view);
      console.log(`${test.name} (${test.id}) — ${test.mode}, ${test.status}, ${test.model_name}: ${test.control_version} vs ${test.treatment_version}, split ${test.traffic_split}`);
      const f = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '-' : x.toFixed(d));
      printTable(
        (['control', 'treatment'] as const).map((k) => ({
          variant: k,
          version: view[k].version,
          predictions: view[k].predictions,
          labelled: view[k].labelled,
          accuracy: f(view[k].accuracy),
          error_rate: f(view[k].error_rate),
          confidence: f(view[k].mean_confidence),
          p95_ms: f(view[k].p95_latency_ms, 2),
        })),
      );
      const sig = view.statistical_significance;
      console.log(
        `\n${test.metric}: diff ${f(view.improvement)} (95% CI ${view.confidence_interval.ci95?.map((x) => f(x)).join('…') ?? '-'}), p ${f(sig.p_value)} fixed-horizon, ${f(sig.always_valid_p_value)} always-valid`,
      );
      if (report.sample_ratio) console.log(`sample ratio: ${report.sample_ratio.observed.join(' / ')} (p ${f(report.sample_ratio.p_value)})${report.sample_ratio.mismatch ? ' MISMATCH' : ''}`);
      console.log(`decision: ${decision.decision} — ${decision.recommendation}`);
    }),
  );
ab.command('evaluate <test>')
  .description('look at the test and decide; carries the decision out in auto mode (or with --apply)')
  .option('--apply', 'carry the decision out even in recommend-only mode')
  .action((ref: string, o: { apply?: boolean }) =>
    withServices(async (s) => {
      const e = await s.abTests.evaluate(ref, { apply: o.apply ? true : undefined, actor: 'cli' });
      console.log(`${e.decision.decision}${e.applied ? ` (${e.applied})` : ''}: ${e.decision.recommendation}`);
    }),
  );
ab.command('stop <test>')
  .addOption(new Option('--winner <variant>', 'treatment promotes it; control keeps production').choices(['treatment', 'control']))
  .option('--reason <text>', 'why')
  .action((ref: string, o: { winner?: 'treatment' | 'control'; reason?: string }) =>
    withServices(async (s) => {
      const t = await s.abTests.stop(ref, { winner: o.winner, reason: o.reason, actor: 'cli' });
      console.log(`${t.name} ${t.status}${t.winner ? `; winner ${t.winner}${t.winner === 'treatment' ? ` (${t.model_name} ${t.treatment_version} → production)` : ''}` : ''}`);
    }),
  );

program
  .command('drift')
  .description('compare new data with baseline data, feature by feature; exits 1 when the data drifted (for CI jobs)')
  .requiredOption('--baseline-data <path>', 'CSV, JSON lines, or a folder of images')
  .requiredOption('--new-data <path>', 'CSV, JSON lines, or a folder of images')
  .option('--threshold <x>', 'effect-size threshold (DATA_DRIFT_THRESHOLD)')
  .option('--alpha <x>', 'level of the model-level decision across features', '0.05')
  .addOption(new Option('--correction <method>', 'p-value adjustment across features').choices(['holm', 'bh']).default('holm'))
  .option('--max-integer-categories <n>', 'integer columns with at most this many distinct values are categorical', '10')
  .option('--categorical <names>', 'comma-separated columns to treat as categorical')
  .option('--json', 'print the full report as JSON')
  .action(async (o: { baselineData: string; newData: string; threshold?: string; alpha: string; correction: 'holm' | 'bh'; maxIntegerCategories: string; categorical?: string; json?: boolean }) => {
    const threshold = o.threshold === undefined ? (await settings()).DATA_DRIFT_THRESHOLD : Number(o.threshold);
    // Only the drift modules: no database, no server, no inference runtime.
    const [{ readColumns }, { computeDataDriftOfColumns }, { buildReferenceProfileOfColumns }, { VitalsError }] = await Promise.all([
      import('../monitoring/drift-data.js'),
      import('../monitoring/drift-report.js'),
      import('../stats/reference-profile.js'),
      errors(),
    ]);
    const alpha = Number(o.alpha);
    const maxIntegerCategories = Number(o.maxIntegerCategories);
    if (!(alpha > 0 && alpha < 1)) throw new VitalsError('BAD_REQUEST', `--alpha must be in (0, 1) (got ${o.alpha})`);
    if (!Number.isInteger(maxIntegerCategories) || maxIntegerCategories < 0) throw new VitalsError('BAD_REQUEST', `--max-integer-categories must be a whole number (got ${o.maxIntegerCategories})`);
    // Columns, not rows: both sides go column by column through the statistics anyway.
    const [baseline, current] = await Promise.all([readColumns(o.baselineData), readColumns(o.newData)]);
    if (baseline.length < 2 || current.length < 2) throw new VitalsError('BAD_REQUEST', `need at least 2 rows on each side (baseline ${baseline.length}, new ${current.length})`);
    const currentNames = new Set(current.names);
    const features = baseline.names.filter((k) => currentNames.has(k));
    const categorical = o.categorical
      ? o.categorical
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean)
      : [];
    const profile = buildReferenceProfileOfColumns(baseline.column, baseline.length, { features, maxSample: 100_000, categorical, maxIntegerCategories });
    const result = computeDataDriftOfColumns(profile, current.column, { threshold, alpha, correction: o.correction, maxIntegerCategories });
    if (o.json) json(result);
    else {
      printTable(
        Object.values(result.feature_drifts).map((f) => ({
          feature: f.feature,
          type: f.type,
          test: f.test,
          statistic: f.statistic.toFixed(4),
          p_value: f.p_value.toExponential(2),
          p_adjusted: f.p_value_adjusted.toExponential(2),
          effect: f.effect.toFixed(3),
          missing: String(f.counts.missing),
          non_finite: String(f.counts.non_finite),
          invalid: String(f.counts.invalid),
          drifted: f.drifted ? 'DRIFT' : '-',
        })),
      );
      for (const s of result.skipped) console.log(`not tested: ${s.feature}: ${s.reason}`);
      console.log(
        `\n${result.drifted_features.length} of ${Object.keys(result.feature_drifts).length} features drifted (threshold ${threshold}, ${o.correction === 'holm' ? 'Holm' : 'Benjamini–Hochberg'}-adjusted p < ${alpha})${result.dataset_drift ? ': dataset drift' : ''}`,
      );
    }
    if (result.drift_detected) process.exitCode = 1;
  });

program
  .command('predict')
  .description('predict with a model: tabular features (JSON) or an image file')
  .option('--model <ref>', 'model name, name@alias, name@1.2.0 or version id (tabular; images use MODEL_PATH/MODEL_NAME or --model)')
  .option('--features <json>', 'one row as JSON, or a JSON array of rows')
  .option('--image <file>', 'PNG, JPEG or TIFF file')
  .option('--url <server>', 'call a running server instead of loading the model here')
  .action(async (o: { model?: string; features?: string; image?: string; url?: string }) => {
    const { VitalsError } = await errors();
    if (!o.features && !o.image) throw new VitalsError('BAD_REQUEST', 'give --features or --image');
    if (o.url) {
      const base = o.url.replace(/\/$/, '');
      const fetch = (url: string, init: RequestInit) =>
        globalThis.fetch(url, init).catch((err: unknown) => {
          throw new Error(`cannot reach ${base}`, { cause: (err as Error).cause ?? err });
        });
      let res: Response;
      if (o.image) {
        const form = new FormData();
        form.append('file', new Blob([await readFile(o.image)]), o.image);
        res = await fetch(`${base}/predict`, { method: 'POST', body: form });
      } else {
        const parsed = parseJson(o.features!, '--features');
        res = await fetch(`${base}/api/v1/ml-models/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(Array.isArray(parsed) ? { model: o.model, instances: parsed } : { model: o.model, features: parsed }),
        });
      }
      json(await res.json());
      if (!res.ok) process.exitCode = 1;
      return;
    }
    await withServices(async (s) => {
      if (o.image) {
        const served = o.model ? await s.predictor.serve(o.model) : await s.predictor.serveDefault();
        json(await s.predictor.predictImages(served, [await readFile(o.image)]));
      } else {
        if (!o.model) throw new VitalsError('BAD_REQUEST', '--model is required for tabular predictions');
        const parsed = parseJson(o.features!, '--features');
        const rows = Array.isArray(parsed) ? parsed : [parsed];
        const out = await s.predictor.predictTabular(o.model, rows, { source: rows.length > 1 ? 'batch' : 'api' });
        json(rows.length > 1 ? out : out[0]);
      }
    });
  });

registerPipelineCommands(program, withServices);
registerKeyCommands(program, () => settings());
registerAuditCommands(program, () => settings());
registerBackupCommands(program, () => settings());
registerMigrateCommand(program, () => settings());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.exit(reportCliError(err, { debug: process.argv.includes('--debug') }));
});
