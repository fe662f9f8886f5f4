/**
 * Readiness, dependency by dependency: database, bus, the configured default model and the
 * inference pool, each ok / degraded / down with a reason. Only a required dependency that is down
 * makes the service unhealthy (503); anything else not ok makes it degraded (200, still serving).
 */
export type CheckStatus = 'ok' | 'degraded' | 'down';
export interface DependencyCheck {
  status: CheckStatus;
  /** a required dependency that is down makes /health answer 503 */
  required: boolean;
  reason: string;
}

export interface HealthDeps {
  database: () => Promise<unknown>;
  /** the bus, when messaging is configured */
  bus?: () => Promise<{ queue_type: string; connected: boolean }>;
  defaultModel?: () => Promise<{ modelName: string; version: string }>;
  pool: { readonly workers: number; readonly queueSize: number; readonly maxQueue?: number };
}

/** A dependency that does not answer within this long counts as down (health must answer quickly). */
const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split('\n')[0]!;

export async function checkDependencies(
  d: HealthDeps,
): Promise<{ status: 'healthy' | 'degraded' | 'unhealthy'; checks: Record<'database' | 'bus' | 'default_model' | 'inference_pool', DependencyCheck> }> {
  const database = withTimeout(d.database(), 'the database').then(
    (): DependencyCheck => ({ status: 'ok', required: true, reason: 'answers queries' }),
    (err): DependencyCheck => ({ status: 'down', required: true, reason: firstLine(err) }),
  );
  const bus: Promise<DependencyCheck> = d.bus
    ? withTimeout(d.bus(), 'the bus').then(
        (b): DependencyCheck =>
          b.connected
            ? { status: 'ok', required: false, reason: `${b.queue_type} connected` }
            : { status: 'down', required: false, reason: `${b.queue_type} not connected: events wait in the outbox and are published once it is back` },
        (err): DependencyCheck => ({ status: 'down', required: false, reason: firstLine(err) }),
      )
    : Promise.resolve({ status: 'ok', required: false, reason: 'messaging not configured' });
  const model: Promise<DependencyCheck> = d.defaultModel
    ? withTimeout(d.defaultModel(), 'the default model').then(
        (m): DependencyCheck => ({ status: 'ok', required: false, reason: `${m.modelName} ${m.version} loaded` }),
        (err): DependencyCheck => ({ status: 'down', required: false, reason: `the configured default model cannot be served (/predict fails): ${firstLine(err)}` }),
      )
    : Promise.resolve({ status: 'ok', required: false, reason: 'no default model configured (MODEL_NAME / MODEL_PATH)' });
  const { workers, queueSize, maxQueue } = d.pool;
  const pool: DependencyCheck =
    workers < 1
      ? { status: 'down', required: true, reason: 'no inference workers' }
      : maxQueue !== undefined && queueSize >= maxQueue
        ? { status: 'degraded', required: true, reason: `inference queue full (${queueSize} of ${maxQueue}): predictions answer 503 until it drains` }
        : { status: 'ok', required: true, reason: `${workers} workers, ${queueSize} queued` };
  const checks = { database: await database, bus: await bus, default_model: await model, inference_pool: pool };
  const all = Object.values(checks);
  const status = all.some((c) => c.required && c.status === 'down') ? 'unhealthy' : all.some((c) => c.status !== 'ok') ? 'degraded' : 'healthy';
  return { status, checks };
}

export type DependencyReport = Awaited<ReturnType<typeof checkDependencies>>;

/**
 * The Open Inference Protocol's server readiness (`GET /v2/health/ready`): ready unless a required
 * dependency is down or the configured default model cannot be served (the protocol's "ready" means
 * the models can infer). The bus being down keeps the server ready (the outbox holds events) but is
 * listed in `reasons`, as is anything else not ok.
 */
export function oipReadiness(report: DependencyReport): { ready: boolean; reasons: string[] } {
  const entries = Object.entries(report.checks) as [keyof DependencyReport['checks'], DependencyCheck][];
  const ready = !entries.some(([name, c]) => c.status === 'down' && (c.required || name === 'default_model'));
  return { ready, reasons: entries.filter(([, c]) => c.status !== 'ok').map(([name, c]) => `${name} ${c.status}: ${c.reason}`) };
}
