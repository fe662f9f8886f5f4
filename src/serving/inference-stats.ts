/**
 * Per-model inference statistics in Triton's shape (`GET /v2/models/{name}/stats`), counted in this
 * process since it started, for every prediction path (seed API, model-server API, Open Inference
 * Protocol). Durations are nanoseconds, as Triton reports them.
 */

interface Stat {
  count: number;
  ns: number;
}

interface ModelStats {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  success: Stat;
  fail: Stat;
  queue: Stat;
  compute_input: Stat;
  compute_infer: Stat;
  compute_output: Stat;
  cache_hit: Stat;
  cache_miss: Stat;
}

const zero = (): Stat => ({ count: 0, ns: 0 });
const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));

export class InferenceStats {
  private readonly models = new Map<string, ModelStats>();

  private entry(name: string, version: string): ModelStats {
    const key = `${name}\u0000${version}`;
    let s = this.models.get(key);
    if (!s) {
      s = {
        name,
        version,
        last_inference: 0,
        inference_count: 0,
        execution_count: 0,
        success: zero(),
        fail: zero(),
        queue: zero(),
        compute_input: zero(),
        compute_infer: zero(),
        compute_output: zero(),
        cache_hit: zero(),
        cache_miss: zero(),
      };
      this.models.set(key, s);
    }
    return s;
  }

  /** One answered request of `rows` rows, `cached` of them from the prediction cache. */
  success(name: string, version: string, rows: number, totalMs: number, cached = 0): void {
    const s = this.entry(name, version);
    s.last_inference = Date.now();
    s.inference_count += rows;
    s.success.count += 1;
    s.success.ns += ns(totalMs);
    if (cached) s.cache_hit.count += cached;
    if (rows - cached > 0) s.cache_miss.count += rows - cached;
  }

  /** One model execution (a batch in the inference pool). */
  execution(name: string, version: string, inferMs: number, queueMs = 0): void {
    const s = this.entry(name, version);
    s.execution_count += 1;
    s.compute_infer.count += 1;
    s.compute_infer.ns += ns(inferMs);
    s.queue.count += 1;
    s.queue.ns += ns(queueMs);
  }

  failure(name: string, version: string, totalMs: number): void {
    const s = this.entry(name, version);
    s.fail.count += 1;
    s.fail.ns += ns(totalMs);
  }

  /** Triton's `model_stats` list, for one model (and version) or all of them. */
  report(name?: string, version?: string) {
    const out = [];
    for (const s of this.models.values()) {
      if (name !== undefined && s.name !== name) continue;
      if (version !== undefined && s.version !== version) continue;
      out.push({
        name: s.name,
        version: s.version,
        last_inference: s.last_inference,
        inference_count: s.inference_count,
        execution_count: s.execution_count,
        inference_stats: {
          success: { ...s.success },
          fail: { ...s.fail },
          queue: { ...s.queue },
          compute_input: { ...s.compute_input },
          compute_infer: { ...s.compute_infer },
          compute_output: { ...s.compute_output },
          cache_hit: { ...s.cache_hit },
          cache_miss: { ...s.cache_miss },
        },
        batch_stats: [] as unknown[],
      });
    }
    return out;
  }
}
