/**
 * Typed builders for the subset of onnx.proto that Vitals writes, and
 * `encodeModel` to serialise a model to bytes onnxruntime can load.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8+). Only what our trainers
 * and test models need is covered: dense float32/int64/string tensors,
 * tensor-typed graph inputs/outputs, and scalar/list/tensor attributes.
 */
import { ProtoWriter } from './protobuf.js';

// ---------------------------------------------------------------------------
// Types

/** TensorProto.DataType values we use. */
export const ElemType = { float: 1, int64: 7, string: 8 } as const;
export type ElemTypeName = keyof typeof ElemType;

export type TensorSpec =
  | { name: string; dims: number[]; dataType: 'float'; data: ArrayLike<number> }
  | { name: string; dims: number[]; dataType: 'int64'; data: ArrayLike<number | bigint> }
  | { name: string; dims: number[]; dataType: 'string'; data: readonly string[] };

export type AttributeValue =
  | { kind: 'int'; value: number | bigint }
  | { kind: 'ints'; value: ArrayLike<number | bigint> }
  | { kind: 'float'; value: number }
  | { kind: 'floats'; value: ArrayLike<number> }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: readonly string[] }
  | { kind: 'tensor'; value: TensorSpec };

/** A dimension: a fixed size, or a symbolic name such as 'N' for the batch. */
export type Dim = number | string;

export interface ValueInfoSpec {
  name: string;
  elemType: ElemTypeName;
  /** Omit for unknown rank. */
  shape?: Dim[];
}

export interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  /** '' (default) for standard ONNX ops, 'ai.onnx.ml' for the ML ops. */
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphSpec {
  name: string;
  nodes: NodeSpec[];
  inputs: ValueInfoSpec[];
  outputs: ValueInfoSpec[];
  initializers?: TensorSpec[];
  docString?: string;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface ModelSpec {
  graph: GraphSpec;
  /** Defaults to DEFAULT_OPSET_IMPORTS. */
  opsetImports?: OpsetImport[];
  /** Defaults to 8 (onnxruntime >= 1.10 reads it). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Written as ModelProto.metadata_props. */
  metadata?: Record<string, string>;
}

export const ONNX_ML_DOMAIN = 'ai.onnx.ml';
export const DEFAULT_IR_VERSION = 8;
export const DEFAULT_OPSET_IMPORTS: readonly OpsetImport[] = [
  { domain: '', version: 17 },
  { domain: ONNX_ML_DOMAIN, version: 3 },
];

// ---------------------------------------------------------------------------
// Builders

export const attr = {
  int: (value: number | bigint): AttributeValue => ({ kind: 'int', value }),
  ints: (value: ArrayLike<number | bigint>): AttributeValue => ({ kind: 'ints', value }),
  float: (value: number): AttributeValue => ({ kind: 'float', value }),
  floats: (value: ArrayLike<number>): AttributeValue => ({ kind: 'floats', value }),
  string: (value: string): AttributeValue => ({ kind: 'string', value }),
  strings: (value: readonly string[]): AttributeValue => ({ kind: 'strings', value }),
  tensor: (value: TensorSpec): AttributeValue => ({ kind: 'tensor', value }),
};

export const tensor = {
  float: (name: string, dims: number[], data: ArrayLike<number>): TensorSpec => ({
    name,
    dims,
    dataType: 'float',
    data,
  }),
  int64: (name: string, dims: number[], data: ArrayLike<number | bigint>): TensorSpec => ({
    name,
    dims,
    dataType: 'int64',
    data,
  }),
  string: (name: string, dims: number[], data: readonly string[]): TensorSpec => ({
    name,
    dims,
    dataType: 'string',
    data,
  }),
};

export function valueInfo(name: string, elemType: ElemTypeName, shape?: Dim[]): ValueInfoSpec {
  return { name, elemType, shape };
}

export function node(opType: string, inputs: string[], outputs: string[], attributes?: Record<string, AttributeValue>, options: { name?: string; domain?: string } = {}): NodeSpec {
  return { opType, inputs, outputs, attributes, ...options };
}

// ---------------------------------------------------------------------------
// Encoding

/** AttributeProto.AttributeType values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

function writeTensor(w: ProtoWriter, t: TensorSpec): void {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new Error(`tensor "${t.name}": dims [${t.dims.join(', ')}] need ${expected} values, got ${t.data.length}`);
  }
  w.repeatedVarints(1, t.dims); // dims
  w.int64Field(2, ElemType[t.dataType]); // data_type
  switch (t.dataType) {
    case 'float':
      w.packedFloats(4, t.data); // float_data
      break;
    case 'int64':
      w.packedVarints(7, t.data); // int64_data
      break;
    case 'string':
      w.repeatedStrings(6, t.data); // string_data
      break;
  }
  if (t.name) w.stringField(8, t.name); // name
}

function writeAttribute(w: ProtoWriter, name: string, a: AttributeValue): void {
  w.stringField(1, name);
  switch (a.kind) {
    case 'float':
      w.floatField(2, a.value).int64Field(20, AttributeType.FLOAT);
      break;
    case 'int':
      if (typeof a.value === 'number' && !Number.isInteger(a.value)) {
        throw new Error(`attribute "${name}": int attribute must be an integer, got ${a.value}`);
      }
      w.int64Field(3, a.value).int64Field(20, AttributeType.INT);
      break;
    case 'string':
      w.stringField(4, a.value).int64Field(20, AttributeType.STRING);
      break;
    case 'tensor': {
      const t = a.value;
      w.messageField(5, (m) => writeTensor(m, t)).int64Field(20, AttributeType.TENSOR);
      break;
    }
    case 'floats':
      w.repeatedFloats(7, a.value).int64Field(20, AttributeType.FLOATS);
      break;
    case 'ints':
      w.repeatedVarints(8, a.value).int64Field(20, AttributeType.INTS);
      break;
    case 'strings':
      w.repeatedStrings(9, a.value).int64Field(20, AttributeType.STRINGS);
      break;
  }
}

function writeNode(w: ProtoWriter, n: NodeSpec, index: number): void {
  w.repeatedStrings(1, n.inputs);
  w.repeatedStrings(2, n.outputs);
  w.stringField(3, n.name ?? `${n.opType}_${index}`);
  w.stringField(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes ?? {})) {
    w.messageField(5, (m) => writeAttribute(m, name, value));
  }
  if (n.domain) w.stringField(7, n.domain);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoSpec): void {
  w.stringField(1, v.name);
  // ValueInfoProto.type -> TypeProto.tensor_type -> { elem_type, shape }
  w.messageField(2, (type) =>
    type.messageField(1, (tensorType) => {
      tensorType.int64Field(1, ElemType[v.elemType]);
      if (v.shape) {
        const shape = v.shape;
        tensorType.messageField(2, (s) => {
          for (const d of shape) {
            s.messageField(1, (dim) => (typeof d === 'number' ? dim.int64Field(1, d) : dim.stringField(2, d)));
          }
        });
      }
    }),
  );
}

function writeGraph(w: ProtoWriter, g: GraphSpec): void {
  g.nodes.forEach((n, i) => w.messageField(1, (m) => writeNode(m, n, i)));
  w.stringField(2, g.name);
  for (const t of g.initializers ?? []) w.messageField(5, (m) => writeTensor(m, t));
  if (g.docString) w.stringField(10, g.docString);
  for (const v of g.inputs) w.messageField(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.messageField(12, (m) => writeValueInfo(m, v));
}

/** Serialise a model to ONNX protobuf bytes (load with `InferenceSession.create(bytes)`). */
export function encodeModel(spec: ModelSpec): Uint8Array {
  const w = new ProtoWriter();
  w.int64Field(1, spec.irVersion ?? DEFAULT_IR_VERSION);
  w.stringField(2, spec.producerName ?? 'vitals');
  if (spec.producerVersion) w.stringField(3, spec.producerVersion);
  if (spec.docString) w.stringField(6, spec.docString);
  w.messageField(7, (m) => writeGraph(m, spec.graph));
  for (const op of spec.opsetImports ?? DEFAULT_OPSET_IMPORTS) {
    w.messageField(8, (m) => {
      if (op.domain) m.stringField(1, op.domain);
      m.int64Field(2, op.version);
    });
  }
  for (const [key, value] of Object.entries(spec.metadata ?? {})) {
    w.messageField(14, (m) => m.stringField(1, key).stringField(2, value));
  }
  return w.finish();
}
