/**
 * Which version answers a prediction request. A request that names a model by its bare name (or
 * `name@production`) is routed through the model's active release test, if it has one:
 * - `ab` / `canary`: the user's GrowthBook bucket (hashVersion 2, seeded by the test) picks control
 *   or treatment; the treatment range is the top `split` of [0, 1), so when a canary ramps up, users
 *   already on the treatment stay there;
 * - `shadow`: control answers; the treatment gets a copy of the request (never returned), for the
 *   share `split` of users.
 * Without a user id the bucket is random (still logged with its variant).
 *
 * Active tests are cached per model name for a short TTL (other replicas may change them) and
 * invalidated at once by changes made in this process, so the predict path usually pays one Map
 * lookup and one hash.
 */
import { chooseVariation, getBucketRanges, growthbookHash } from './growthbook-hash.js';

export type ReleaseMode = 'ab' | 'canary' | 'shadow';
export type Variant = 'control' | 'treatment';

/** What the router needs to know about an active test. */
export interface RoutableTest {
  id: string;
  mode: ReleaseMode;
  modelName: string;
  controlVersionId: string;
  treatmentVersionId: string;
  /** share of traffic for the treatment, 0..1 (ab and canary) */
  split: number;
  /** GrowthBook seed: the experiment key a GrowthBook user would have bucketed by */
  hashSeed: string;
}

export interface RouteDecision {
  /** version id that answers */
  versionId: string;
  variant: Variant;
  testId: string;
  /** GrowthBook bucket in [0, 1) */
  bucket: number;
  /** whether the bucket came from the user id (false: random) */
  sticky: boolean;
  /** versions that get a copy of the request (shadow mode) */
  shadowVersionIds: readonly string[];
}

/** Loads the active test of a model (by name), or null. */
export type ActiveTestLoader = (modelName: string) => Promise<RoutableTest | null>;

export interface TrafficRouterOptions {
  /** how long a cached answer is trusted (default 2 s, like the registry's alias cache) */
  ttlMs?: number;
  now?: () => number;
  random?: () => number;
}

/** The part of a reference that names a routable model, or null (`name@1.2.0`, `name@staging`, ids). */
export function routableModelName(ref: string): string | null {
  const at = ref.lastIndexOf('@');
  if (at > 0) return ref.slice(at + 1) === 'production' ? ref.slice(0, at) : null;
  if (ref.includes(':')) return null;
  return ref;
}

/**
 * Assigns a variant from a bucket: GrowthBook's ranges for weights [1 - split, split] at full
 * coverage are [0, 1 - split) and [1 - split, 1), so the treatment is `bucket >= 1 - split` (the
 * ranges are not built per request; test/abtest-hashing.test.ts checks the two agree).
 */
export function variantForBucket(bucket: number, split: number): Variant {
  if (split >= 1) return 'treatment';
  if (split <= 0) return 'control';
  return bucket >= 1 - split ? 'treatment' : 'control';
}

/** The same assignment through GrowthBook's own range functions (the reference for the fast path). */
export function variantForBucketReference(bucket: number, split: number): Variant {
  const s = Math.min(1, Math.max(0, split));
  if (s >= 1) return 'treatment';
  if (s <= 0) return 'control';
  return chooseVariation(bucket, getBucketRanges(2, 1, [1 - s, s])) === 1 ? 'treatment' : 'control';
}

/** The bucket of a user in a test (GrowthBook hashVersion 2, seed = the test's hash seed). */
export function bucketOf(hashSeed: string, userId: string): number {
  return growthbookHash(hashSeed, userId, 2)!;
}

/** Shared by every route without shadows: no array allocated per request. */
const NO_SHADOWS: readonly string[] = Object.freeze([]);

export class TrafficRouter {
  private readonly cache = new Map<string, { test: RoutableTest | null; at: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  private generation = 0;

  constructor(
    private readonly load: ActiveTestLoader,
    options: TrafficRouterOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 2000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /**
   * The route for a request, or null when the reference is not routable or the model has no active
   * test. Synchronous when the cache is warm (the common case); a promise otherwise.
   */
  route(ref: string, userId?: string | null): RouteDecision | null | Promise<RouteDecision | null> {
    const name = routableModelName(ref);
    if (name === null) return null;
    const hit = this.cache.get(name);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.test ? this.assign(hit.test, userId) : null;
    return this.refresh(name).then((test) => (test ? this.assign(test, userId) : null));
  }

  /** The route with the assignment only (for `select-model`): no cache, no I/O beyond the given test. */
  assign(test: RoutableTest, userId?: string | null): RouteDecision {
    const sticky = userId !== undefined && userId !== null && userId !== '';
    const bucket = sticky ? bucketOf(test.hashSeed, userId) : Math.floor(this.random() * 10000) / 10000;
    if (test.mode === 'shadow') {
      // `split` is the share of requests copied to the shadow (1: all of them).
      const copy = variantForBucket(bucket, test.split) === 'treatment';
      return { versionId: test.controlVersionId, variant: 'control', testId: test.id, bucket, sticky, shadowVersionIds: copy ? [test.treatmentVersionId] : NO_SHADOWS };
    }
    const variant = variantForBucket(bucket, test.split);
    return {
      versionId: variant === 'treatment' ? test.treatmentVersionId : test.controlVersionId,
      variant,
      testId: test.id,
      bucket,
      sticky,
      shadowVersionIds: NO_SHADOWS,
    };
  }

  /** Forgets what is cached for a model (all models when omitted): call on every test change. */
  invalidate(modelName?: string): void {
    this.generation++;
    if (modelName === undefined) this.cache.clear();
    else this.cache.delete(modelName);
  }

  private async refresh(name: string): Promise<RoutableTest | null> {
    const generation = this.generation;
    const test = await this.load(name);
    // A change that happened while loading wins: do not cache what may already be stale.
    if (generation === this.generation) this.cache.set(name, { test, at: this.now() });
    return test;
  }
}
