/**
 * First start with an empty registry: train logistic regression and random forest on the Wisconsin
 * Diagnostic Breast Cancer data shipped in data/breast_cancer/, register both as versions of one
 * model, make the better one (by ROC AUC) production and the other the challenger. With `image`
 * (what `vitals serve` asks for), also register the chest X-ray demo (demo-image.ts) as
 * `chest-xray` 1.0.0 in production, so `MODEL_NAME=chest-xray` serves /predict at once.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { VitalsError } from '../errors.js';
import type { ModelRegistry } from '../registry/index.js';
import { isUniqueViolation } from '../store/index.js';
import { DEMO_IMAGE_MODEL, demoImageRegistration } from './demo-image.js';
import { trainAndRegister } from './train-and-register.js';

export const DEMO_MODEL = 'breast-cancer';
export const DEMO_DATA = fileURLToPath(new URL('../../data/breast_cancer/breast_cancer.csv', import.meta.url));

export interface DemoResult {
  production: string;
  challenger: string;
  metrics: Record<string, Record<string, number>>;
  /** the image demo's version, when it was registered */
  image?: string;
}

export async function bootstrapDemo(registry: ModelRegistry, log: (msg: string) => void = () => undefined, options: { image?: boolean } = {}): Promise<DemoResult | undefined> {
  if ((await registry.listModels()).length > 0) return undefined;
  try {
    const result = await bootstrap(registry, log);
    if (!options.image) return result;
    return { ...result, image: await bootstrapImage(registry, log) };
  } catch (err) {
    // two replicas starting together on an empty database: the one whose registration lost is done
    if ((err instanceof VitalsError && (err.code === 'VERSION_EXISTS' || err.code === 'CONFLICT')) || isUniqueViolation(err)) {
      log('demo: another process registered the demo models meanwhile; using theirs');
      return undefined;
    }
    throw err;
  }
}

async function bootstrapImage(registry: ModelRegistry, log: (msg: string) => void): Promise<string> {
  const v = await registry.register({ ...demoImageRegistration(), actor: 'demo', aliases: ['production'] });
  log(`demo: ${DEMO_IMAGE_MODEL} ${v.version} is in production — a DEMO image model with hand-set weights, not a diagnostic model (MODEL_NAME=${DEMO_IMAGE_MODEL} serves it on /predict)`);
  return v.version;
}

async function bootstrap(registry: ModelRegistry, log: (msg: string) => void): Promise<DemoResult> {
  const csv = await readFile(DEMO_DATA, 'utf8');
  const common = { csv, target: 'diagnosis', modelName: DEMO_MODEL, dataSource: 'data/breast_cancer/breast_cancer.csv', actor: 'demo', seed: 42 };
  log('demo: training logistic regression on the breast cancer data (569 rows)…');
  const logreg = await trainAndRegister(registry, { ...common, algo: 'logreg', version: '1.0.0', description: 'Wisconsin Diagnostic Breast Cancer classifier (demo)' });
  log('demo: training random forest…');
  const rf = await trainAndRegister(registry, { ...common, algo: 'rf', version: '1.1.0' });
  const [best, other] = (rf.metrics.roc_auc ?? 0) >= (logreg.metrics.roc_auc ?? 0) ? [rf, logreg] : [logreg, rf];
  await registry.promote(best.version.id, { actor: 'demo', reason: `higher ROC AUC (${best.metrics.roc_auc?.toFixed(4)} vs ${other.metrics.roc_auc?.toFixed(4)})` });
  await registry.promote(other.version.id, { alias: 'challenger', actor: 'demo', reason: 'runner-up of the demo training' });
  log(`demo: ${DEMO_MODEL} ${best.version.version} (${best.version.params.algorithm}) is in production; ${other.version.version} is the challenger`);
  return {
    production: best.version.version,
    challenger: other.version.version,
    metrics: { [logreg.version.version]: logreg.metrics, [rf.version.version]: rf.metrics },
  };
}
