/**
 * Open Inference Protocol tensors taken apart into rows and put back together, so that a V2 infer
 * can share the seed API's row cache and dynamic batching: rows of one request, or of concurrent
 * requests, run as one batch, and each row's outputs are cut out of the batch's outputs again.
 * Pure functions; the predictor decides when a request qualifies (tensorRowLayout).
 */
import type { TensorData } from './inference-pool.js';
import type { ServedModel } from './served-model.js';

export type RowOutputs = Record<string, TensorData>;

export interface TensorRowLayout {
  rows: number;
  /** the input's shape without the batch dimension */
  rowDims: number[];
  /** the batcher's and the cache's key: model, row shape, the outputs asked for (in their order) */
  key: string;
}

/**
 * A request runs row by row when it feeds the model's one float32 input with a batch of rows, and the
 * model's input and every output asked for have a dynamic first (batch) dimension; otherwise it runs
 * as sent.
 */
export function tensorRowLayout(served: ServedModel, feeds: Record<string, TensorData>, fetches: string[] | undefined): TensorRowLayout | null {
  const { inputs, outputs } = served.session;
  const names = Object.keys(feeds);
  if (inputs.length !== 1 || names.length !== 1 || names[0] !== served.inputName) return null;
  const feed = feeds[served.inputName]!;
  if (feed.type !== 'float32' || feed.dims.length < 2 || inputs[0]!.shape[0] !== -1) return null;
  const [rows, ...rowDims] = feed.dims as [number, ...number[]];
  if (!(rows >= 1) || feed.data.length !== rows * rowDims.reduce((a, b) => a * b, 1)) return null;
  const asked = fetches ?? outputs.map((o) => o.name);
  for (const name of asked) {
    const o = outputs.find((x) => x.name === name);
    if (!o || o.type === 'non-tensor' || o.shape[0] !== -1) return null;
  }
  return { rows, rowDims, key: `${served.key}|${rowDims.join('x')}|${fetches ? fetches.join(',') : '*'}` };
}

/** The input's rows, as views of its data. */
export function inputRows(feed: TensorData, rows: number): Float32Array[] {
  const data = feed.data as Float32Array;
  const width = data.length / rows;
  return Array.from({ length: rows }, (_, i) => data.subarray(i * width, (i + 1) * width));
}

/** Each row's outputs (dims [1, …]); null when an output does not have one row per input row. */
export function splitRows(outputs: RowOutputs, rows: number): RowOutputs[] | null {
  const out: RowOutputs[] = Array.from({ length: rows }, () => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.dims[0] !== rows || t.data.length % rows !== 0) return null;
    const width = t.data.length / rows;
    const dims = [1, ...t.dims.slice(1)];
    for (let i = 0; i < rows; i++) out[i]![name] = { type: t.type, dims, data: t.data.slice(i * width, (i + 1) * width) as TensorData['data'] };
  }
  return out;
}

/** Rows' outputs as one answer (dims [rows, …]), in the order of the first row's outputs. */
export function joinRows(rows: RowOutputs[]): RowOutputs {
  const first = rows[0];
  if (!first) return {};
  if (rows.length === 1) return first;
  const out: RowOutputs = {};
  for (const [name, t] of Object.entries(first)) {
    const parts = rows.map((r) => r[name]!.data);
    const length = parts.reduce((a, p) => a + p.length, 0);
    let data: TensorData['data'];
    if (Array.isArray(t.data)) data = (parts as string[][]).flat();
    else {
      const Typed = t.data.constructor as new (n: number) => Exclude<TensorData['data'], string[]>;
      const joined = new Typed(length);
      let at = 0;
      for (const p of parts as Array<Exclude<TensorData['data'], string[]>>) {
        (joined as { set(a: ArrayLike<number | bigint>, o: number): void }).set(p, at);
        at += p.length;
      }
      data = joined;
    }
    out[name] = { type: t.type, dims: [rows.length, ...t.dims.slice(1)], data };
  }
  return out;
}
