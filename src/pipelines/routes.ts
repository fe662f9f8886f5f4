/** `POST /api/v1/train`: train a built-in model on a CSV and register it. */
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { VitalsError, validationFailed } from '../errors.js';
import { ALIASES } from '../registry/index.js';
import type { Services } from '../server/app.js';
import { trainAndRegister } from './train-and-register.js';

const trainBody = z.object({
  model_name: z.string().min(1),
  target: z.string().min(1).describe('the CSV column to predict'),
  algo: z.enum(['logreg', 'rf']).default('rf'),
  csv: z.string().optional().describe('the training data as CSV text'),
  data_path: z.string().optional().describe('or a CSV path on the server'),
  version: z.string().optional(),
  aliases: z.array(z.enum(ALIASES)).optional(),
  seed: z.number().int().optional(),
  test_fraction: z.number().min(0.05).max(0.5).optional(),
  params: z.record(z.string(), z.number()).optional().describe('rf: n_estimators, max_depth, min_samples_leaf; logreg: l2, epochs'),
});

export function trainingRoutes(s: Services): FastifyPluginAsync {
  return async (base) => {
    const app = base.withTypeProvider<ZodTypeProvider>();
    app.post('/api/v1/train', { schema: { tags: ['training'], summary: 'Train logistic regression or random forest on a CSV and register it', body: trainBody } }, async (req, reply) => {
      const b = req.body;
      let csv = b.csv;
      if (!csv && b.data_path) {
        csv = await readFile(b.data_path, 'utf8').catch(() => {
          throw validationFailed([{ field: 'data_path', message: `cannot read ${b.data_path} on the server` }]);
        });
      }
      if (!csv) throw validationFailed([{ field: 'csv', message: 'send the CSV text in csv, or a server path in data_path' }]);
      try {
        const result = await trainAndRegister(s.registry, {
          csv,
          target: b.target,
          algo: b.algo,
          modelName: b.model_name,
          version: b.version,
          aliases: b.aliases,
          seed: b.seed,
          testFraction: b.test_fraction,
          params: b.params,
          dataSource: b.data_path,
          actor: (req.headers['x-actor'] as string | undefined) ?? 'api',
        });
        return reply.code(201).send(result);
      } catch (err) {
        if (err instanceof VitalsError) throw err;
        // The trainers throw plain errors that name the bad column or row.
        throw new VitalsError('VALIDATION_FAILED', `cannot train on this data: ${(err as Error).message}`);
      }
    });
  };
}
