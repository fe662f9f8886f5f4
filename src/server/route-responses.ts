/**
 * Responses every route can give besides its own: the auth hook's 401/403, the rate limiter's 429,
 * the body parser's 400/413/415, and 503 while shutting down. Added to each route's schema at
 * registration so the OpenAPI document lists them and clients can rely on one error shape.
 */
import { errorBody } from './route-kit.js';

/**
 * `declared` is the route's own responses: a capability with its own error shape (the MLflow API's
 * `{error_code, message}`) gets that shape for these statuses too.
 */
export function commonResponses(route: { method: string | string[]; config?: { permission?: string } }, declared: Record<string, unknown> = {}): Record<number, unknown> {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const own = Object.entries(declared).find(([code]) => /^4/.test(code))?.[1] ?? errorBody;
  const out: Record<number, unknown> = { 429: own, 503: own };
  if (route.config?.permission !== 'public') {
    out[401] = own;
    out[403] = own;
  }
  if (methods.some((m) => m !== 'GET' && m !== 'HEAD' && m !== 'DELETE')) {
    out[400] = own;
    out[413] = own;
    out[415] = own;
  }
  return out;
}
