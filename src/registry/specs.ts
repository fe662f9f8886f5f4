/**
 * What a model version promises about its inputs and outputs. These zod schemas are the single
 * source of the types, the registration validation and the OpenAPI description.
 */
import { z } from 'zod';

export const featureSpecSchema = z.object({
  name: z.string().min(1),
  type: z.enum(['number', 'integer', 'boolean', 'category']).default('number'),
  min: z.number().optional(),
  max: z.number().optional(),
  /** allowed values of a category feature; the model receives the value's index in this list */
  categories: z.array(z.string()).optional(),
  required: z.boolean().default(true),
  description: z.string().optional(),
});

export const tabularInputSpecSchema = z.object({
  kind: z.literal('tabular'),
  features: z.array(featureSpecSchema).min(1),
  /** name of the ONNX input tensor (default: the model's first input) */
  tensor: z.string().optional(),
});

export const imageInputSpecSchema = z.object({
  kind: z.literal('image'),
  width: z.number().int().min(1).max(4096),
  height: z.number().int().min(1).max(4096),
  channels: z.union([z.literal(1), z.literal(3)]).default(3),
  /** per-channel normalisation applied after scaling pixels to [0,1] */
  mean: z.array(z.number()).default([0.485, 0.456, 0.406]),
  std: z.array(z.number()).default([0.229, 0.224, 0.225]),
  layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  tensor: z.string().optional(),
});

export const inputSpecSchema = z.discriminatedUnion('kind', [tabularInputSpecSchema, imageInputSpecSchema]);

export const outputSpecSchema = z.object({
  /** class labels in the order of the model's probability columns */
  labels: z.array(z.string()).min(1),
  /** ONNX output holding class probabilities (default: `probabilities`, else the first float output) */
  probabilities: z.string().optional(),
  /** true when that output holds logits, so Vitals applies softmax */
  logits: z.boolean().default(false),
});

export type FeatureSpec = z.output<typeof featureSpecSchema>;
export type TabularInputSpec = z.output<typeof tabularInputSpecSchema>;
export type ImageInputSpec = z.output<typeof imageInputSpecSchema>;
export type InputSpec = z.output<typeof inputSpecSchema>;
export type OutputSpec = z.output<typeof outputSpecSchema>;

export const MODEL_TASKS = ['classification', 'regression'] as const;
export const MODALITIES = ['tabular', 'image', 'text', 'multimodal'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];
export type Modality = (typeof MODALITIES)[number];

export const ALIASES = ['production', 'staging', 'challenger'] as const;
export type Alias = (typeof ALIASES)[number];
