export { ProtoWriter, WireType, encodeVarint } from './protobuf.js';
export {
  ElemType,
  ONNX_ML_DOMAIN,
  DEFAULT_IR_VERSION,
  DEFAULT_OPSET_IMPORTS,
  attr,
  tensor,
  valueInfo,
  node,
  encodeModel,
} from './model.js';
export type {
  ElemTypeName,
  TensorSpec,
  AttributeValue,
  Dim,
  ValueInfoSpec,
  NodeSpec,
  GraphSpec,
  OpsetImport,
  ModelSpec,
} from './model.js';
export { buildTinyCnn } from './tiny-cnn.js';
export type { TinyCnnOptions, TinyCnn, TinyCnnWeights } from './tiny-cnn.js';
export { TINY_CNN_FILTERS } from './tiny-cnn.js';
export { buildMobileNet } from './mobilenet.js';
export type { MobileNet, MobileNetOptions } from './mobilenet.js';
