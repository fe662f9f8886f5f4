import { describe, expect, it } from 'vitest';
import { DynamicBatcher } from '../src/serving/dynamic-batcher.js';
import { PredictionCache } from '../src/serving/prediction-cache.js';
import { uuidv7 } from '../src/ids.js';

describe('DynamicBatcher', () => {
  it('groups concurrent requests per key up to maxBatch and answers each its own result', async () => {
    const batches: Array<[string, number[]]> = [];
    const batcher = new DynamicBatcher<number, number>(
      async (key, items) => {
        batches.push([key, items]);
        return items.map((x) => x * 10);
      },
      { maxBatch: 4, maxWaitMs: 5, enabled: true },
    );
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x % 2 ? 'odd' : 'even', x)));
    expect(results).toEqual([10, 20, 30, 40, 50, 60]);
    expect(batches.map(([k, items]) => `${k}:${items.join(',')}`).sort()).toEqual(['even:2,4,6', 'odd:1,3,5']);
    const big = await Promise.all(Array.from({ length: 9 }, (_, i) => batcher.submit('k', i)));
    expect(big).toEqual(Array.from({ length: 9 }, (_, i) => i * 10));
    expect(batches.slice(2).map(([, items]) => items.length)).toEqual([4, 4, 1]);
  });

  it('fails every request of a failed batch, and runs one at a time when disabled', async () => {
    let calls = 0;
    const failing = new DynamicBatcher<number, number>(
      async () => {
        calls++;
        throw new Error('boom');
      },
      { maxBatch: 8, maxWaitMs: 1, enabled: true },
    );
    const settled = await Promise.allSettled([1, 2, 3].map((x) => failing.submit('k', x)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    const sizes: number[] = [];
    const off = new DynamicBatcher<number, number>(
      async (_k, items) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 8, maxWaitMs: 1, enabled: false },
    );
    await Promise.all([1, 2, 3].map((x) => off.submit('k', x)));
    expect(sizes).toEqual([1, 1, 1]);
  });
});

describe('PredictionCache', () => {
  it('evicts the least recently used entry and expires entries after the TTL', () => {
    let now = 0;
    const cache = new PredictionCache<string>(2, 1000, () => now);
    cache.set('a', 'A');
    cache.set('b', 'B');
    expect(cache.get('a')).toBe('A'); // a is now most recent
    cache.set('c', 'C');
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    now = 1500;
    expect(cache.get('a')).toBeUndefined();
    expect(new PredictionCache<string>(0, 1000).enabled).toBe(false);
  });
});

describe('uuidv7', () => {
  it('is time-ordered and unique', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
