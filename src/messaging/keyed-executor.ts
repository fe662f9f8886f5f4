/**
 * Runs message handlers with at most `concurrency` at once while keeping messages of one key strictly
 * one after another, in submission order (keyless messages run in any order). Brokers hand us
 * messages in order; this keeps that order through concurrent handling.
 */
export class KeyedExecutor {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private pending = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly concurrency: number) {}

  /** Tasks queued or running. */
  get size(): number {
    return this.pending;
  }

  /** Queues `task`; the returned promise settles with it. */
  run(key: string | null, task: () => Promise<void>): Promise<void> {
    this.pending++;
    const start = async () => {
      await this.slot();
      try {
        await task();
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
    };
    let done: Promise<void>;
    if (key === null) {
      done = start();
    } else {
      const previous = this.chains.get(key) ?? Promise.resolve();
      done = previous.then(start, start);
      const tail = done.catch(() => undefined);
      this.chains.set(key, tail);
      void tail.then(() => {
        if (this.chains.get(key) === tail) this.chains.delete(key);
      });
    }
    return done.finally(() => {
      this.pending--;
      if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active++;
        resolve();
      }),
    );
  }
}
