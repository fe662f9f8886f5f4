import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { attr, encodeModel, encodeVarint, node, tensor, valueInfo } from '../src/onnx/index.js';

describe('protobuf varints', () => {
  it("encodes unsigned and negative (two's complement, 10 bytes) values", () => {
    expect(Array.from(encodeVarint(0))).toEqual([0]);
    expect(Array.from(encodeVarint(1))).toEqual([1]);
    expect(Array.from(encodeVarint(300))).toEqual([0xac, 0x02]);
    expect(Array.from(encodeVarint(2 ** 35))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    expect(Array.from(encodeVarint(-1))).toEqual([...Array(9).fill(0xff), 0x01]);
    expect(Array.from(encodeVarint(-2n))).toEqual([0xfe, ...Array(8).fill(0xff), 0x01]);
  });
});

describe('encodeModel', () => {
  // Y = X @ W + B ; label = argmax(Y) ; name = LabelEncoder(label) ; Z = LeakyRelu(X - C)
  const W = [1, 2, -1, 0.5, 3, -2]; // [3, 2]
  const B = [0.25, -0.5];
  const bytes = encodeModel({
    opsetImports: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 2 },
    ],
    metadata: { purpose: 'test' },
    graph: {
      name: 'linear',
      inputs: [valueInfo('X', 'float', ['N', 3])],
      outputs: [valueInfo('Y', 'float', ['N', 2]), valueInfo('label', 'int64', ['N']), valueInfo('name', 'string', ['N']), valueInfo('Z', 'float', ['N', 3])],
      initializers: [tensor.float('W', [3, 2], W), tensor.float('B', [2], B)],
      nodes: [
        node('MatMul', ['X', 'W'], ['XW']),
        node('Add', ['XW', 'B'], ['Y']),
        node('ArgMax', ['Y'], ['label'], { axis: attr.int(-1), keepdims: attr.int(0) }),
        node(
          'LabelEncoder',
          ['label'],
          ['name'],
          {
            keys_int64s: attr.ints([0, 1]),
            values_strings: attr.strings(['first', 'second']),
            default_string: attr.string('?'),
          },
          { domain: 'ai.onnx.ml' },
        ),
        node('Constant', [], ['C'], { value: attr.tensor(tensor.float('', [3], [1, 1, 1])) }),
        node('Sub', ['X', 'C'], ['XC']),
        node('LeakyRelu', ['XC'], ['Z'], { alpha: attr.float(0.5) }),
      ],
    },
  });

  it('loads in onnxruntime and computes the expected values', async () => {
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['X']);
    expect(session.outputNames).toEqual(['Y', 'label', 'name', 'Z']);

    const X = [
      [1, 0, 0],
      [0, 1, 0],
      [2, -1, 3],
    ];
    const out = await session.run({ X: new ort.Tensor('float32', Float32Array.from(X.flat()), [3, 3]) });

    const expectedY = X.map((row) => [0, 1].map((j) => row.reduce((s, v, i) => s + v * W[i * 2 + j], B[j])));
    expect(out.Y.dims).toEqual([3, 2]);
    Array.from(out.Y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expectedY.flat()[i], 6));

    const expectedLabel = expectedY.map((y) => (y[1] > y[0] ? 1 : 0));
    expect(Array.from(out.label.data as BigInt64Array, Number)).toEqual(expectedLabel);
    expect(out.name.data).toEqual(expectedLabel.map((l) => (l ? 'second' : 'first')));

    const expectedZ = X.flat().map((v) => (v - 1 >= 0 ? v - 1 : 0.5 * (v - 1)));
    expect(Array.from(out.Z.data as Float32Array)).toEqual(expectedZ);
  });

  it('is deterministic', () => {
    expect(encodeModel({ graph: { name: 'g', nodes: [], inputs: [], outputs: [] } })).toEqual(encodeModel({ graph: { name: 'g', nodes: [], inputs: [], outputs: [] } }));
  });

  it('rejects tensors whose data does not match their dims', () => {
    expect(() =>
      encodeModel({
        graph: { name: 'g', nodes: [], inputs: [], outputs: [], initializers: [tensor.float('t', [2, 2], [1, 2, 3])] },
      }),
    ).toThrow(/tensor "t".*need 4 values, got 3/);
  });
});
