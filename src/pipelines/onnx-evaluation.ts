/** Runs an ONNX classifier on rows through the inference pool, without touching the prediction log. */
import type { InputSpec, OutputSpec } from '../registry/index.js';
import { type InferencePool, bindTensors, loadSession } from '../serving/index.js';

export interface OnnxClassifier {
  predictProba(X: number[][]): Promise<number[][]>;
  /** one single-row inference, timed in ms */
  timeOne(x: number[]): Promise<number>;
}

export async function openOnnxClassifier(pool: InferencePool, handle: { key: string; path: string }, inputSpec: InputSpec, outputSpec: OutputSpec): Promise<OnnxClassifier> {
  const session = await loadSession(pool, handle);
  const { inputName, outputName } = bindTensors(session, inputSpec, outputSpec, 'classification');
  const classes = outputSpec.labels.length;
  const run = async (X: number[][]) => {
    const width = X[0]?.length ?? 0;
    const data = new Float32Array(X.length * width);
    X.forEach((row, i) => data.set(row, i * width));
    const res = await pool.run(handle, { [inputName]: { type: 'float32', data, dims: [X.length, width] } }, [outputName]);
    const out = Array.from(res.outputs[outputName]!.data as Float32Array, Number);
    const cols = out.length / Math.max(1, X.length);
    return X.map((_, i) => (cols === 1 && classes === 2 ? [1 - out[i]!, out[i]!] : out.slice(i * cols, (i + 1) * cols)));
  };
  return {
    async predictProba(X) {
      const out: number[][] = [];
      for (let i = 0; i < X.length; i += 512) out.push(...(await run(X.slice(i, i + 512))));
      return out;
    },
    async timeOne(x) {
      const t = performance.now();
      await run([x]);
      return performance.now() - t;
    },
  };
}
