import { describe, expect, it } from 'vitest';
import {
  TrafficRouter,
  bucketOf,
  chooseVariation,
  fnv1a32,
  getBucketRanges,
  growthbookHash,
  routableModelName,
  variantForBucket,
  variantForBucketReference,
  type RoutableTest,
} from '../src/routing/index.js';

/*
 * Vectors from GrowthBook's own SDK test suite, packages/sdk-js/test/cases.json (spec 0.5.0) in
 * github.com/growthbook/growthbook: the "hash" list ([seed, value, hashVersion, expected]) and the
 * "getBucketRange" list ([name, [numVariations, coverage, weights], expected ranges]), which the
 * sdk-js tests check against `hash()` and `getBucketRanges()` in packages/sdk-js/src/util.ts.
 */
const HASH_CASES: Array<[string, string, number, number | null]> = [
  ['', 'a', 1, 0.22],
  ['', 'b', 1, 0.077],
  ['b', 'a', 1, 0.946],
  ['ef', 'd', 1, 0.652],
  ['asdf', '8952klfjas09ujk', 1, 0.549],
  ['', '123', 1, 0.011],
  ['', '___)((*":&', 1, 0.563],
  ['seed', 'a', 2, 0.0505],
  ['seed', 'b', 2, 0.2696],
  ['foo', 'ab', 2, 0.2575],
  ['foo', 'def', 2, 0.2019],
  ['89123klj', '8952klfjas09ujkasdf', 2, 0.124],
  ['90850943850283058242805', '123', 2, 0.7516],
  ['()**(%$##$%#$#', '___)((*":&', 2, 0.0128],
  ['abc', 'def', 99, null],
];

const RANGE_CASES: Array<[string, [number, number, number[] | null], Array<[number, number]>]> = [
  [
    'normal 50/50',
    [2, 1, null],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'reduced coverage',
    [2, 0.5, null],
    [
      [0, 0.25],
      [0.5, 0.75],
    ],
  ],
  [
    'zero coverage',
    [2, 0, null],
    [
      [0, 0],
      [0.5, 0.5],
    ],
  ],
  [
    '4 variations',
    [4, 1, null],
    [
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ],
  ],
  [
    'uneven weights',
    [2, 1, [0.4, 0.6]],
    [
      [0, 0.4],
      [0.4, 1],
    ],
  ],
  [
    'uneven weights, 3 variations',
    [3, 1, [0.2, 0.3, 0.5]],
    [
      [0, 0.2],
      [0.2, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'uneven weights, reduced coverage, 3 variations',
    [3, 0.2, [0.2, 0.3, 0.5]],
    [
      [0, 0.04],
      [0.2, 0.26],
      [0.5, 0.6],
    ],
  ],
  [
    'negative coverage',
    [2, -0.2, null],
    [
      [0, 0],
      [0.5, 0.5],
    ],
  ],
  [
    'coverage above 1',
    [2, 1.5, null],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights sum below 1',
    [2, 1, [0.4, 0.1]],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights sum above 1',
    [2, 1, [0.7, 0.6]],
    [
      [0, 0.5],
      [0.5, 1],
    ],
  ],
  [
    'weights.length not equal to num variations',
    [4, 1, [0.4, 0.4, 0.2]],
    [
      [0, 0.25],
      [0.25, 0.5],
      [0.5, 0.75],
      [0.75, 1],
    ],
  ],
  [
    'weights sum almost equals 1',
    [2, 1, [0.4, 0.5999]],
    [
      [0, 0.4],
      [0.4, 0.9999],
    ],
  ],
];

describe('GrowthBook hashing', () => {
  it('FNV-1a 32-bit matches the reference vectors (Landon Curt Noll, isthe.com/chongo/tech/comp/fnv)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(fnv1a32('bar', fnv1a32('foo'))).toBe(fnv1a32('foobar')); // continuing a hash
  });

  it.each(HASH_CASES)('hash(%j, %j, v%i) = %j', (seed, value, version, expected) => {
    const n = growthbookHash(seed, value, version);
    if (expected === null) expect(n).toBeNull();
    else expect(n).toBeCloseTo(expected, 10);
  });

  it.each(RANGE_CASES)('getBucketRanges: %s', (_name, [n, coverage, weights], expected) => {
    const ranges = getBucketRanges(n, coverage, weights ?? undefined);
    expect(ranges.length).toBe(expected.length);
    ranges.forEach((r, i) => {
      expect(r[0]).toBeCloseTo(expected[i]![0], 10);
      expect(r[1]).toBeCloseTo(expected[i]![1], 10);
    });
  });

  it('assigns like GrowthBook ("creates experiments properly": seed "feature", hashVersion 2, id "123" → bucket 0.5231, variation 1)', () => {
    const n = growthbookHash('feature', '123', 2)!;
    expect(n).toBeCloseTo(0.5231, 10);
    expect(chooseVariation(n, getBucketRanges(2, 0.99, [0.1, 0.9]))).toBe(1);
    expect(chooseVariation(0.995, getBucketRanges(2, 0.99, [0.1, 0.9]))).toBe(-1); // outside coverage
  });
});

const test: RoutableTest = { id: 't1', mode: 'ab', modelName: 'm', controlVersionId: 'c', treatmentVersionId: 't', split: 0.3, hashSeed: 'gnn_v2.2_test' };

describe('assignment', () => {
  it('is stable per user id and follows the split', () => {
    const router = new TrafficRouter(async () => test);
    let treated = 0;
    for (let i = 0; i < 20000; i++) {
      const a = router.assign(test, `user-${i}`);
      expect(router.assign(test, `user-${i}`)).toEqual(a); // same user, same variant, every time
      expect(a.sticky).toBe(true);
      expect(a.versionId).toBe(a.variant === 'treatment' ? 't' : 'c');
      if (a.variant === 'treatment') treated++;
    }
    expect(treated / 20000).toBeGreaterThan(0.28);
    expect(treated / 20000).toBeLessThan(0.32);
  });

  it("the fast split test agrees with GrowthBook's range functions on every bucket", () => {
    for (const split of [0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.7, 0.9, 0.95, 0.99]) {
      for (let k = 0; k < 10000; k++) expect(variantForBucket(k / 10000, split)).toBe(variantForBucketReference(k / 10000, split));
    }
  });

  it('keeps canary users on the treatment as the ramp grows (top of [0, 1) is the treatment range)', () => {
    const stages = [0.05, 0.25, 0.5, 1];
    for (let i = 0; i < 5000; i++) {
      const b = bucketOf('canary-seed', `u${i}`);
      const seq = stages.map((s) => variantForBucket(b, s));
      const first = seq.indexOf('treatment');
      expect(first).toBeGreaterThanOrEqual(0); // everyone is on the treatment at 100%
      expect(seq.slice(first).every((v) => v === 'treatment')).toBe(true);
    }
  });

  it('assigns at random without a user id, and routes only name or name@production', async () => {
    let calls = 0;
    const router = new TrafficRouter(async (name) => {
      calls++;
      return name === 'm' ? test : null;
    });
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const r = await router.route('m');
      expect(r?.sticky).toBe(false);
      seen.add(r!.variant);
    }
    expect(seen).toEqual(new Set(['control', 'treatment']));
    expect(calls).toBe(1); // cached
    expect(router.route('m@1.2.0', 'u')).toBeNull();
    expect(router.route('m@staging', 'u')).toBeNull();
    expect((await router.route('m@production', 'u'))?.testId).toBe('t1');
    expect(await router.route('other', 'u')).toBeNull();
    expect(routableModelName('m:1.0.0')).toBeNull();
    router.invalidate('m');
    await router.route('m', 'u');
    expect(calls).toBe(3);
  });

  it('sends shadow copies only for the copied share, and always answers with the control', () => {
    const router = new TrafficRouter(async () => null);
    const shadow = { ...test, mode: 'shadow' as const, split: 1 };
    const r = router.assign(shadow, 'u1');
    expect(r.versionId).toBe('c');
    expect(r.shadowVersionIds).toEqual(['t']);
  });
});

describe('shadow sampling', () => {
  it('copies about `split` of the requests', () => {
    const router = new TrafficRouter(async () => null);
    const shadow = { ...test, mode: 'shadow' as const, split: 0.25 };
    let copied = 0;
    for (let i = 0; i < 10000; i++) {
      const r = router.assign(shadow, `u${i}`);
      expect(r.variant).toBe('control');
      if (r.shadowVersionIds.length) copied++;
    }
    expect(copied / 10000).toBeGreaterThan(0.23);
    expect(copied / 10000).toBeLessThan(0.27);
  });
});
