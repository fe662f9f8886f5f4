/**
 * A model ready to answer: its artifact loaded in the inference pool, the tensors it reads and
 * writes, and the specs that say how to encode inputs and decode outputs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { VitalsError, validationFailed } from '../errors.js';
import { type InputSpec, type ModelTask, type ModelVersion, type OutputSpec, inputSpecSchema, outputSpecSchema, sha256Hex } from '../registry/index.js';
import type { InferencePool, SessionInfo } from './inference-pool.js';

export interface ServedModel {
  /** cache and batching key: the version id, or `file:<sha256>` for a bare MODEL_PATH */
  key: string;
  handle: { key: string; path: string };
  modelId: string;
  modelName: string;
  versionId: string | null;
  version: string;
  task: ModelTask;
  inputSpec: InputSpec;
  outputSpec: OutputSpec;
  inputName: string;
  outputName: string;
  session: SessionInfo;
  /** the model's description and the version's metadata, as /model/info shows them (a demo says so there) */
  description: string | null;
  metadata: Record<string, unknown>;
}

/** Picks the input and output tensors and checks them against the specs; throws 422 on mismatch. */
export function bindTensors(session: SessionInfo, inputSpec: InputSpec, outputSpec: OutputSpec, task: ModelTask): { inputName: string; outputName: string } {
  const problems: { field: string; message: string }[] = [];
  const input = inputSpec.tensor ? session.inputs.find((i) => i.name === inputSpec.tensor) : session.inputs[0];
  if (!input) problems.push({ field: 'input_spec.tensor', message: `the model has no input "${inputSpec.tensor}" (inputs: ${session.inputs.map((i) => i.name).join(', ')})` });
  else if (input.type !== 'float32') problems.push({ field: 'input_spec', message: `input "${input.name}" is ${input.type}; Vitals feeds float32 tensors` });
  else if (inputSpec.kind === 'tabular') {
    const width = input.shape.at(-1);
    if (width !== undefined && width > 0 && width !== inputSpec.features.length) {
      problems.push({ field: 'input_spec.features', message: `${inputSpec.features.length} features given but the model's input "${input.name}" takes ${width}` });
    }
  } else {
    const [, a, b, c] = input.shape;
    const expected = inputSpec.layout === 'NCHW' ? [inputSpec.channels, inputSpec.height, inputSpec.width] : [inputSpec.height, inputSpec.width, inputSpec.channels];
    [a, b, c].forEach((d, i) => {
      if (d !== undefined && d > 0 && d !== expected[i]) {
        problems.push({ field: 'input_spec', message: `model input shape ${JSON.stringify(input.shape)} does not match the image spec (${inputSpec.layout} ${expected.join('x')})` });
      }
    });
  }
  const floatOutputs = session.outputs.filter((o) => o.type === 'float32');
  const output = outputSpec.probabilities
    ? session.outputs.find((o) => o.name === outputSpec.probabilities)
    : (session.outputs.find((o) => o.name === 'probabilities' && o.type === 'float32') ?? floatOutputs.find((o) => o.shape.length === 2) ?? floatOutputs[0]);
  if (!output) problems.push({ field: 'output_spec.probabilities', message: `no usable float32 output (outputs: ${session.outputs.map((o) => `${o.name}:${o.type}`).join(', ')})` });
  else if (task === 'classification') {
    const cols = output.shape.at(-1);
    if (cols !== undefined && cols > 0 && cols !== outputSpec.labels.length && !(cols === 1 && outputSpec.labels.length === 2)) {
      problems.push({ field: 'output_spec.labels', message: `${outputSpec.labels.length} labels given but output "${output.name}" has ${cols} columns` });
    }
  }
  if (problems.length || !input || !output) throw validationFailed(problems, 'the ONNX model does not match its specs');
  return { inputName: input.name, outputName: output.name };
}

export async function serveVersion(pool: InferencePool, version: ModelVersion, artifactPath: string, task: ModelTask, description: string | null = null): Promise<ServedModel> {
  const handle = { key: version.artifact.sha256, path: artifactPath };
  const session = await loadSession(pool, handle);
  return {
    key: version.id,
    handle,
    modelId: version.model_id,
    modelName: version.model_name,
    versionId: version.id,
    version: version.version,
    task,
    inputSpec: version.input_spec,
    outputSpec: version.output_spec,
    session,
    description,
    metadata: version.metadata,
    ...bindTensors(session, version.input_spec, version.output_spec, task),
  };
}

export async function loadSession(pool: InferencePool, handle: { key: string; path: string }): Promise<SessionInfo> {
  try {
    return await pool.load(handle);
  } catch (err) {
    throw new VitalsError('VALIDATION_FAILED', `onnxruntime could not load the model: ${String((err as Error).message).split('\n')[0]}`, {
      fields: [{ field: 'artifact', message: 'not a valid ONNX model for onnxruntime' }],
    });
  }
}

/**
 * A bare ONNX file named by MODEL_PATH (the chest X-ray seed's setting). Its specs come from a
 * sidecar `<file>.json` ({ input_spec, output_spec, version }) when present; otherwise the image spec
 * is read off the input shape and the labels are class_0…class_{C-1}.
 */
export async function serveFile(pool: InferencePool, path: string): Promise<ServedModel> {
  if (!existsSync(path)) throw new VitalsError('MODEL_NOT_LOADED', `MODEL_PATH points at ${path}, which does not exist`);
  const sha = sha256Hex(readFileSync(path));
  const handle = { key: sha, path };
  const session = await loadSession(pool, handle);
  const sidecarPath = `${path.replace(/\.onnx$/i, '')}.json`;
  const sidecar = existsSync(sidecarPath) ? (JSON.parse(readFileSync(sidecarPath, 'utf8')) as Record<string, unknown>) : {};
  const shape = session.inputs[0]?.shape ?? [];
  const inputSpec = inputSpecSchema.parse(
    sidecar.input_spec ??
      (shape.length === 4
        ? { kind: 'image', channels: shape[1] === 1 ? 1 : 3, height: shape[2]! > 0 ? shape[2] : 224, width: shape[3]! > 0 ? shape[3] : 224 }
        : { kind: 'tabular', features: Array.from({ length: Math.max(1, shape.at(-1) ?? 1) }, (_, i) => ({ name: `f${i}` })) }),
  );
  const outputs = session.outputs.find((o) => o.type === 'float32')?.shape.at(-1) ?? 2;
  const outputSpec = outputSpecSchema.parse(sidecar.output_spec ?? { labels: Array.from({ length: outputs > 0 ? outputs : 2 }, (_, i) => `class_${i}`) });
  const name = basename(path).replace(/\.onnx$/i, '');
  return {
    key: `file:${sha}`,
    handle,
    modelId: `file:${name}`,
    modelName: name,
    versionId: null,
    version: typeof sidecar.version === 'string' ? sidecar.version : `${name}@${sha.slice(0, 12)}`,
    task: 'classification',
    inputSpec,
    outputSpec,
    session,
    description: typeof sidecar.description === 'string' ? sidecar.description : null,
    metadata: sidecar.metadata && typeof sidecar.metadata === 'object' ? (sidecar.metadata as Record<string, unknown>) : {},
    ...bindTensors(session, inputSpec, outputSpec, 'classification'),
  };
}
