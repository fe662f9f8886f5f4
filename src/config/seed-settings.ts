/**
 * The chest X-ray seed's own setting names and YAML shape, mapped to the Vitals settings they mean.
 * Kept apart from config.ts so the schema stays the one list of settings; this file only translates.
 */

/** `deployment/config.yaml` sections of the seed: section → key → Vitals setting (and a unit conversion). */
const SECTIONS: Record<string, Record<string, { to: string; convert?: (v: unknown) => unknown }>> = {
  model: {
    path: { to: 'MODEL_PATH' },
    name: { to: 'MODEL_NAME' },
    architecture: { to: 'MODEL_ARCHITECTURE' },
    device: { to: 'DEVICE' },
    batch_size: { to: 'BATCH_SIZE' },
  },
  server: {
    host: { to: 'HOST' },
    port: { to: 'PORT' },
    // the seed's uvicorn workers: Vitals has one HTTP process and a pool of inference workers
    workers: { to: 'INFERENCE_WORKERS' },
    log_level: { to: 'LOG_LEVEL' },
  },
  performance: {
    cache_size: { to: 'CACHE_SIZE' },
    cache_ttl: { to: 'CACHE_TTL' },
    enable_batching: { to: 'ENABLE_BATCHING' },
    batch_size: { to: 'BATCH_SIZE' },
    batch_timeout: { to: 'BATCH_MAX_WAIT_MS' }, // already milliseconds in the seed
    auto_optimize: { to: 'AUTO_OPTIMIZE' },
  },
  monitoring: {
    metrics_enabled: { to: 'METRICS_ENABLED' },
    prometheus_port: { to: 'PROMETHEUS_PORT' },
    log_level: { to: 'LOG_LEVEL' },
  },
};

export const SEED_SECTIONS = Object.keys(SECTIONS);

/** Flattens the seed's nested sections into Vitals names; flat keys pass through unchanged. */
export function flattenSeedYaml(raw: Record<string, unknown>, source: string, fail: (problem: string) => never): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const section = SECTIONS[key.toLowerCase()];
    if (!section || value === null || typeof value !== 'object' || Array.isArray(value)) {
      out[key] = value;
      continue;
    }
    for (const [inner, v] of Object.entries(value as Record<string, unknown>)) {
      const target = section[inner.toLowerCase()];
      if (!target) fail(`${source}: unknown setting "${key}.${inner}" (known in ${key}: ${Object.keys(section).join(', ')})`);
      out[target.to] = target.convert ? target.convert(v) : v;
    }
  }
  return out;
}

/** Environment names of the seed whose unit differs from the Vitals setting. */
export function applySeedAliases(merged: Record<string, unknown>): Record<string, unknown> {
  const out = { ...merged };
  // BATCH_WAIT_TIME is seconds (e.g. 0.05); an explicit BATCH_MAX_WAIT_MS wins.
  if (out.BATCH_WAIT_TIME !== undefined && out.BATCH_MAX_WAIT_MS === undefined) {
    const seconds = Number(out.BATCH_WAIT_TIME);
    out.BATCH_MAX_WAIT_MS = Number.isFinite(seconds) ? seconds * 1000 : out.BATCH_WAIT_TIME;
  }
  return out;
}

interface SeedSettingsView {
  MODEL_ARCHITECTURE?: string;
  AUTO_OPTIMIZE: boolean;
  IMAGE_PROCESSING_BACKEND?: string;
  TEXT_PROCESSING_BACKEND?: string;
  PROMETHEUS_PORT?: number;
  METRICS_AUTH: boolean;
  METRICS_ENABLED: boolean;
}

/** One line per set seed setting that cannot apply here, saying why; the server logs each once at start. */
export function ignoredSettingNotes(s: SeedSettingsView): string[] {
  const notes: string[] = [];
  if (s.MODEL_ARCHITECTURE)
    notes.push(
      `MODEL_ARCHITECTURE=${s.MODEL_ARCHITECTURE} is ignored: an ONNX model file carries its own graph (export the ${s.MODEL_ARCHITECTURE} network to ONNX, see docs/bring-your-own-model.md)`,
    );
  if (!s.AUTO_OPTIMIZE) notes.push('AUTO_OPTIMIZE=false is ignored: ONNX Runtime always applies its full graph optimisations to a loaded model');
  if (s.IMAGE_PROCESSING_BACKEND)
    notes.push(`IMAGE_PROCESSING_BACKEND=${s.IMAGE_PROCESSING_BACKEND} is ignored: Vitals decodes and resizes images with sharp (libvips), and DICOM/NIfTI with its own readers`);
  if (s.TEXT_PROCESSING_BACKEND)
    notes.push(`TEXT_PROCESSING_BACKEND=${s.TEXT_PROCESSING_BACKEND} is ignored: clinical text is processed by Vitals' built-in tokenizer and rules (src/multimodal), not spaCy or NLTK`);
  if (s.PROMETHEUS_PORT !== undefined && !s.METRICS_ENABLED) notes.push('PROMETHEUS_PORT is ignored: METRICS_ENABLED=false');
  else if (s.PROMETHEUS_PORT !== undefined && s.METRICS_AUTH) notes.push('PROMETHEUS_PORT is ignored: METRICS_AUTH=true, and keys are checked only on the API port (scrape /metrics there with a key)');
  return notes;
}
