/**
 * Dynamic batching: requests for the same model that arrive within `maxWaitMs` of each other are
 * run as one batch of at most `maxBatch` rows. One inference over N rows costs far less than N
 * inferences, and under load the wait is amortised; idle, a request waits at most `maxWaitMs`.
 */
export interface DynamicBatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  enabled: boolean;
  onBatch?: (size: number) => void;
}

interface Pending<I, R> {
  items: I[];
  resolvers: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }>;
  timer?: NodeJS.Timeout;
}

export class DynamicBatcher<I, R> {
  private readonly pending = new Map<string, Pending<I, R>>();

  constructor(
    private readonly runBatch: (key: string, items: I[]) => Promise<R[]>,
    private readonly options: DynamicBatcherOptions,
  ) {}

  submit(key: string, item: I): Promise<R> {
    if (!this.options.enabled) return this.execute(key, [item]).then((r) => r[0]!);
    return new Promise<R>((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { items: [], resolvers: [] };
        this.pending.set(key, batch);
      }
      batch.items.push(item);
      batch.resolvers.push({ resolve, reject });
      if (batch.items.length >= this.options.maxBatch) this.flush(key);
      else if (!batch.timer) batch.timer = setTimeout(() => this.flush(key), this.options.maxWaitMs);
    });
  }

  /** Runs several items that arrived together (a batch request) as one unit, splitting at maxBatch. */
  async submitMany(key: string, items: I[]): Promise<R[]> {
    const out: R[] = [];
    for (let i = 0; i < items.length; i += this.options.maxBatch) {
      out.push(...(await this.execute(key, items.slice(i, i + this.options.maxBatch))));
    }
    return out;
  }

  private flush(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    this.pending.delete(key);
    if (batch.timer) clearTimeout(batch.timer);
    this.execute(key, batch.items).then(
      (results) => batch.resolvers.forEach((r, i) => r.resolve(results[i]!)),
      (err) => batch.resolvers.forEach((r) => r.reject(err)),
    );
  }

  private async execute(key: string, items: I[]): Promise<R[]> {
    this.options.onBatch?.(items.length);
    const results = await this.runBatch(key, items);
    if (results.length !== items.length) throw new Error(`batch returned ${results.length} results for ${items.length} inputs`);
    return results;
  }
}
