/**
 * Whether an MLflow model version can be served by Vitals: its source must be in the run artifacts
 * Vitals stores, hold an ONNX file (the `onnx` flavor's `data`, or the one `*.onnx` there) and say
 * what the model takes and returns. That comes from the MLmodel file as MLflow writes it:
 *
 *   signature.inputs   column specs → tabular features, in order (`double`/`float` → number,
 *                      `long`/`integer` → integer, `boolean` → boolean)
 *   metadata.labels    the class labels, in the order of the probability columns
 *   metadata.task      classification (default) or regression
 *   metadata.vitals    optional: a full `{ input_spec, output_spec, task }` (image models)
 *
 * Anything missing makes the version a plain MLflow version, with the reason in its status message.
 */
import { parse as parseYaml } from 'yaml';
import { MODEL_TASKS, type ModelTask } from '../../registry/index.js';
import { artifactPath } from './run-artifacts.js';

export interface ServableModel {
  onnxPath: string;
  input_spec: unknown;
  output_spec: unknown;
  task: ModelTask;
}

export type ModelSourceCheck = { servable: true; model: ServableModel } | { servable: false; reason: string };

const ARTIFACT_ENDPOINT = '/api/2.0/mlflow-artifacts/artifacts/';

/**
 * The artifact-store path of a model version's source, or undefined when the source is elsewhere.
 * `runs:/<run>/<path>` needs the run's artifact root.
 */
export async function sourceDirectory(source: string, runRoot: (runId: string) => Promise<string | undefined>): Promise<string | undefined> {
  const runs = /^runs:\/+([^/]+)\/?(.*)$/.exec(source);
  if (runs) {
    const root = await runRoot(runs[1]!);
    return root === undefined ? undefined : artifactPath(`${root}/${runs[2] ?? ''}`);
  }
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.*)$/.exec(source);
  if (proxied) return artifactPath(proxied[1]!);
  try {
    const url = new URL(source);
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.pathname.includes(ARTIFACT_ENDPOINT)) {
      return artifactPath(decodeURIComponent(url.pathname.slice(url.pathname.indexOf(ARTIFACT_ENDPOINT) + ARTIFACT_ENDPOINT.length)));
    }
  } catch {
    /* not a URL */
  }
  return undefined;
}

const COLUMN_TYPES: Record<string, 'number' | 'integer' | 'boolean'> = { double: 'number', float: 'number', long: 'integer', integer: 'integer', boolean: 'boolean' };

/** Reads the MLmodel file (text) and the directory's file names; says what Vitals would serve. */
export function servableModel(files: string[], mlmodelText: string | undefined, dir: string): ModelSourceCheck {
  let mlmodel: Record<string, unknown> = {};
  if (mlmodelText !== undefined) {
    try {
      mlmodel = (parseYaml(mlmodelText) as Record<string, unknown>) ?? {};
    } catch (err) {
      return { servable: false, reason: `the MLmodel file is not valid YAML: ${(err as Error).message}` };
    }
  }
  const flavors = (mlmodel.flavors ?? {}) as Record<string, { data?: unknown }>;
  const onnxFiles = files.filter((f) => f.toLowerCase().endsWith('.onnx'));
  const declared = typeof flavors.onnx?.data === 'string' ? artifactPath(flavors.onnx.data) : undefined;
  const onnx = declared && files.includes(declared) ? declared : onnxFiles.length === 1 ? onnxFiles[0] : undefined;
  if (!onnx) {
    return { servable: false, reason: onnxFiles.length > 1 ? `several ONNX files in ${dir} and no onnx flavor saying which` : `no ONNX model in ${dir}: Vitals serves ONNX models` };
  }
  const metadata = (mlmodel.metadata ?? {}) as Record<string, unknown>;
  const vitals = metadata.vitals as { input_spec?: unknown; output_spec?: unknown; task?: string } | undefined;
  const taskText = String(vitals?.task ?? metadata.task ?? 'classification');
  if (!(MODEL_TASKS as readonly string[]).includes(taskText)) return { servable: false, reason: `metadata.task "${taskText}" is not one of ${MODEL_TASKS.join(', ')}` };
  const task = taskText as ModelTask;
  const onnxPath = dir ? `${dir}/${onnx}` : onnx;
  if (vitals?.input_spec && vitals.output_spec) return { servable: true, model: { onnxPath, input_spec: vitals.input_spec, output_spec: vitals.output_spec, task } };

  const signature = (mlmodel.signature ?? {}) as { inputs?: unknown };
  let columns: Array<{ name?: string; type?: string; required?: boolean }> = [];
  try {
    columns = typeof signature.inputs === 'string' ? JSON.parse(signature.inputs) : [];
  } catch {
    return { servable: false, reason: 'signature.inputs in MLmodel is not valid JSON' };
  }
  const featureNames = Array.isArray(metadata.feature_names) ? metadata.feature_names.map(String) : undefined;
  let features: Array<{ name: string; type: 'number' | 'integer' | 'boolean'; required: boolean }>;
  if (columns.length && columns.every((c) => c.name && c.type && c.type in COLUMN_TYPES)) {
    features = columns.map((c) => ({ name: c.name!, type: COLUMN_TYPES[c.type!]!, required: c.required !== false }));
  } else if (featureNames?.length) {
    features = featureNames.map((name) => ({ name, type: 'number', required: true }));
  } else {
    return {
      servable: false,
      reason: `${onnxPath} has no input description Vitals can use: log a column-based signature (double, float, long, integer or boolean columns) or metadata.feature_names in MLmodel`,
    };
  }
  const labels = Array.isArray(metadata.labels) ? metadata.labels.map(String) : task === 'regression' ? ['value'] : undefined;
  if (!labels?.length) return { servable: false, reason: 'MLmodel metadata.labels (the class labels, in the order of the probability columns) is missing' };
  return { servable: true, model: { onnxPath, input_spec: { kind: 'tabular', features }, output_spec: { labels }, task } };
}
