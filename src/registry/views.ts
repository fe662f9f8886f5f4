/** Response schemas of the registry API (what each route promises to return). */
import { z } from 'zod';
import { view } from '../server/route-kit.js';
import { ALIASES, MODALITIES, MODEL_TASKS } from './specs.js';

export const modelView = view({
  id: z.string(),
  name: z.string(),
  task: z.enum(MODEL_TASKS),
  modality: z.enum(MODALITIES),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  aliases: z.record(z.string(), z.string()).describe('alias → version'),
  created_at: z.string(),
  updated_at: z.string(),
}).describe('Model');

export const versionView = view({
  id: z.string(),
  model_id: z.string(),
  model_name: z.string(),
  version: z.string(),
  status: z.enum(['ready', 'archived']),
  aliases: z.array(z.enum(ALIASES)),
  artifact: z.object({ sha256: z.string(), size: z.number() }),
  input_spec: view({ kind: z.enum(['tabular', 'image']) }),
  output_spec: view({ labels: z.array(z.string()) }),
  metrics: z.record(z.string(), z.number()),
  params: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
  lineage: z.record(z.string(), z.unknown()),
  created_by: z.string(),
  created_at: z.string(),
}).describe('ModelVersion');

export const eventView = view({
  id: z.string(),
  model_id: z.string(),
  action: z.enum(['registered', 'promoted', 'rolled_back', 'archived', 'alias_set', 'alias_removed']),
  alias: z.string().nullable(),
  from_version: z.string().nullable(),
  to_version: z.string().nullable(),
  actor: z.string(),
  reason: z.string().nullable(),
  created_at: z.string(),
}).describe('ModelEvent');
