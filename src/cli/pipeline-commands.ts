/** `vitals pipeline run|status|history|diff` and `vitals retrain trigger|history`, with stage progress. */
import type { Command } from 'commander';
import type { PipelineRun, StageRecord } from '../pipelines/index.js';
import type { Services } from '../server/app.js';
import { parseJson } from './errors.js';
import { printTable } from './output.js';

type WithServices = <T>(fn: (s: Services) => Promise<T>) => Promise<T>;

const MARK: Record<StageRecord['status'], string> = { pending: '·', running: '▶', succeeded: '✓', failed: '✗', skipped: '-', cached: '=', waiting: '…' };
const secs = (ms: number | null) => (ms === null ? '' : `${(ms / 1000).toFixed(1)}s`);

function printRun(run: PipelineRun, verbose = false): void {
  console.log(
    `run ${run.id}  ${run.pipeline}${run.model_name ? ` (${run.model_name})` : ''}  trigger=${run.trigger}  status=${run.status}${run.result.decision ? `  decision=${String(run.result.decision)}` : ''}`,
  );
  for (const s of run.stages) {
    console.log(`  ${MARK[s.status]} ${s.name.padEnd(20)} ${s.status.padEnd(9)} ${secs(s.duration_ms).padStart(7)}${s.error ? `  ${s.error}` : ''}`);
    if (verbose) for (const l of s.logs.slice(-10)) console.log(`      ${l}`);
  }
  if (run.error) console.log(`  why: ${run.error}`);
}

/** Follows a run, printing each stage change with `say` (stderr under --json, so stdout stays JSON). */
async function follow(s: Services, runId: string, say: (line: string) => void = console.log): Promise<PipelineRun> {
  const seen = new Map<string, string>();
  for (;;) {
    const run = await s.pipelines.runs.get(runId);
    for (const st of run.stages) {
      if (seen.get(st.name) !== st.status && st.status !== 'pending') {
        seen.set(st.name, st.status);
        say(`  ${MARK[st.status]} ${st.name} ${st.status}${st.duration_ms !== null && st.status !== 'running' ? ` (${secs(st.duration_ms)})` : ''}${st.error ? `: ${st.error}` : ''}`);
      }
    }
    if (['succeeded', 'failed', 'rejected', 'waiting'].includes(run.status)) return run;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function registerPipelineCommands(program: Command, withServices: WithServices): void {
  const pipeline = program.command('pipeline').description('run pipelines (dvc.yaml or the CI/CD model pipeline), show status, history and diffs');
  pipeline
    .command('run [file]')
    .description('run a dvc.yaml-style file (default ./dvc.yaml), or with --model the CI/CD pipeline for a registered model')
    .option('--model <name>', 'run the 8-stage CI/CD pipeline for this model')
    .option('--request <json>', 'CI/CD request fields as JSON (data, training, gates, ab_test, …)')
    .option('--force', 'rerun stages even when unchanged')
    .option('--stage <names...>', 'only these stages and what they depend on')
    .option('--json', 'print the run as JSON')
    .action((file: string | undefined, o: { model?: string; request?: string; force?: boolean; stage?: string[]; json?: boolean }) =>
      withServices(async (s) => {
        const say = o.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
        let run: PipelineRun;
        if (o.model) {
          const queued = await s.pipelines.submitCicd({ ...(o.request ? (parseJson(o.request, '--request') as object) : {}), model_name: o.model }, { trigger: 'cli', actor: 'cli' });
          say(`CI/CD run ${queued!.id} for ${o.model}`);
          s.pipelines.startWorker(); // this process executes it
          run = await follow(s, queued!.id, say);
        } else {
          const seen = new Map<string, string>();
          run = await s.pipelines.runFile(file ?? 'dvc.yaml', {
            force: o.force,
            targets: o.stage,
            actor: 'cli',
            onProgress: (r) => {
              for (const st of r.stages) {
                if (st.status !== 'pending' && seen.get(st.name) !== st.status) {
                  seen.set(st.name, st.status);
                  say(`  ${MARK[st.status]} ${st.name} ${st.status}${st.status !== 'running' && st.duration_ms !== null ? ` (${secs(st.duration_ms)})` : ''}${st.error ? `: ${st.error}` : ''}`);
                }
              }
            },
          });
        }
        if (o.json) console.log(JSON.stringify(run, null, 2));
        else printRun(run);
        if (run.status === 'failed' || run.status === 'rejected') process.exitCode = 1;
      }),
    );
  pipeline
    .command('status <run>')
    .option('-v, --verbose', 'show the last log lines of each stage')
    .option('--json')
    .action((id: string, o: { verbose?: boolean; json?: boolean }) =>
      withServices(async (s) => {
        const run = await s.pipelines.runs.get(id);
        if (o.json) console.log(JSON.stringify(run, null, 2));
        else printRun(run, o.verbose);
      }),
    );
  pipeline
    .command('history')
    .option('--model <name>')
    .option('--limit <n>', 'rows', '20')
    .action((o: { model?: string; limit: string }) =>
      withServices(async (s) => {
        const runs = await s.pipelines.runs.list({ model: o.model, limit: Number(o.limit) });
        printTable(
          runs.map((r) => ({
            id: r.id,
            pipeline: r.pipeline.replace(/^file:.*\//, 'file:'),
            model: r.model_name ?? '',
            trigger: r.trigger,
            status: r.status,
            decision: String(r.result.decision ?? ''),
            new_version: String(r.result.new_version ?? ''),
            created: r.created_at,
            took: secs(r.duration_ms),
          })),
        );
      }),
    );
  pipeline
    .command('diff <runA> <runB>')
    .description('params diff and metrics diff between two runs')
    .option('--all', 'show unchanged values too')
    .option('--json', 'print the diff as JSON')
    .action((a: string, b: string, o: { all?: boolean; json?: boolean }) =>
      withServices(async (s) => {
        const d = await s.pipelines.diff(a, b, { all: o.all });
        if (o.json) return console.log(JSON.stringify(d, null, 2));
        console.log('params:');
        printTable(d.params.map((p) => ({ param: p.param, old: JSON.stringify(p.old), new: JSON.stringify(p.new) })));
        console.log('metrics:');
        printTable(d.metrics.map((m) => ({ metric: m.metric, old: m.old ?? '', new: m.new ?? '', change: m.change === null ? '' : (m.change >= 0 ? '+' : '') + m.change.toFixed(4) })));
      }),
    );

  // `vitals params diff` / `vitals metrics diff` between git revisions, as `dvc params diff` / `dvc metrics diff`
  for (const kind of ['params', 'metrics'] as const) {
    program
      .command(kind)
      .description(`${kind} of a dvc.yaml project at git revisions`)
      .command('diff [a_rev] [b_rev]')
      .description(`${kind} that differ between two git revisions (none: HEAD against the work tree; one: that revision against the work tree), as \`dvc ${kind} diff\``)
      .option('--file <dvc.yaml>', 'the pipeline file', 'dvc.yaml')
      .option('--all', 'show unchanged values too')
      .option('--json', "print DVC's JSON: { file: { key: { old, new, diff } } }")
      .action(async (a: string | undefined, b: string | undefined, o: { file: string; all?: boolean; json?: boolean }) => {
        const [{ paramsDiff, metricsDiff }, { dirname, basename, resolve }] = await Promise.all([import('../pipelines/rev-diff.js'), import('node:path')]);
        const path = resolve(o.file);
        const revs = [a, b].filter((r): r is string => r !== undefined);
        const d = await (kind === 'params' ? paramsDiff : metricsDiff)(dirname(path), revs, { file: basename(path), all: o.all });
        if (o.json) return console.log(JSON.stringify(d));
        const [left, right] = [revs[0] ?? 'HEAD', revs[1] ?? 'workspace'];
        const show = (v: unknown) => (v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
        printTable(
          Object.entries(d).flatMap(([file, entries]) =>
            Object.entries(entries).map(([key, c]) => ({
              Path: file,
              [kind === 'params' ? 'Param' : 'Metric']: key,
              [left]: show(c.old),
              [right]: show(c.new),
              ...(kind === 'metrics' ? { Change: c.diff === undefined ? '-' : String(Math.round(c.diff * 1e5) / 1e5) } : {}),
            })),
          ),
        );
      });
  }

  const retrain = program.command('retrain').description('automated retraining: trigger a run now, show history');
  retrain
    .command('trigger <model>')
    .option('--reason <text>')
    .option('--request <json>', 'CI/CD request overrides as JSON')
    .option('--no-wait', 'queue the run and return')
    .action((model: string, o: { reason?: string; request?: string; wait: boolean }) =>
      withServices(async (s) => {
        const r = await s.pipelines.retraining.trigger(model, 'manual', {
          reason: o.reason,
          actor: 'cli',
          overrides: o.request ? (parseJson(o.request, '--request') as Record<string, unknown>) : undefined,
        });
        console.log(r.debounced ? `not started: ${r.reason}` : `retraining run ${r.run.id} queued for ${model}`);
        if (!o.wait || r.debounced) return;
        s.pipelines.startWorker();
        const run = await follow(s, r.run.id);
        printRun(run);
        if (run.status === 'failed' || run.status === 'rejected') process.exitCode = 1;
      }),
    );
  retrain
    .command('history')
    .option('--model <name>')
    .action((o: { model?: string }) =>
      withServices(async (s) => {
        const runs = await s.pipelines.retraining.history({ model: o.model });
        printTable(
          runs.map((r) => ({
            id: r.id,
            model: r.model_name ?? '',
            trigger: r.trigger,
            status: r.status,
            decision: String(r.result.decision ?? ''),
            from: String(r.result.previous_production_version ?? ''),
            to: String(r.result.new_version ?? ''),
            created: r.created_at,
          })),
        );
      }),
    );
}
