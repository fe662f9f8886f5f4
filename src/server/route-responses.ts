/**
 * Responses every route can give besides its own: the auth hook's 401/403, the rate limiter's 429,
 * the body parser's 400/413/415, and 503 while shutting down. Added to each route's schema at
 * registration so the OpenAPI document lists them and clients can rely on one error shape.
 */
import { errorBody } from './route-kit.js';

export function commonResponses(route: { method: string | string[]; config?: { permission?: string } }): Record<number, typeof errorBody> {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const out: Record<number, typeof errorBody> = { 429: errorBody, 503: errorBody };
  if (route.config?.permission !== 'public') {
    out[401] = errorBody;
    out[403] = errorBody;
  }
  if (methods.some((m) => m !== 'GET' && m !== 'HEAD' && m !== 'DELETE')) {
    out[400] = errorBody;
    out[413] = errorBody;
    out[415] = errorBody;
  }
  return out;
}
