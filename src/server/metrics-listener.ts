/**
 * PROMETHEUS_PORT: the seed scrapes metrics on a port of their own. A bare node:http server answering
 * only GET /metrics (no routes, no body parsing), so opening it exposes nothing but the counters.
 */
import { createServer, type Server } from 'node:http';

export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

/** `vitals worker` also answers GET /health on its listener (liveness and readiness for its container). */
export type HealthSource = () => Promise<{ status: 'healthy' | 'degraded' | 'unhealthy' } & Record<string, unknown>>;

export async function startMetricsListener(source: MetricsSource, host: string, port: number, health?: HealthSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (health && req.method === 'GET' && path === '/health') {
      health().then(
        (h) => res.writeHead(h.status === 'unhealthy' ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(h)),
        (err: Error) => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unhealthy', error: err.message })),
      );
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served on PROMETHEUS_PORT\n');
      return;
    }
    source.text().then(
      (body) => res.writeHead(200, { 'content-type': source.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  return server;
}
