/** The one way the web app talks to Vitals: same origin, the API key (if any) as a Bearer token. */
const KEY = 'vitals.apiKey';

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) ?? '',
  set: (key: string) => (key ? sessionStorage.setItem(KEY, key) : sessionStorage.removeItem(KEY)),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  return (await apiResponse<T>(path, init)).data;
}

/** Like api(), with the response headers (e.g. /predict's x-prediction-id). */
export async function apiResponse<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<{ data: T; headers: Headers }> {
  const headers = new Headers(init.headers);
  const key = apiKey.get();
  if (key) headers.set('authorization', `Bearer ${key}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(path, { ...init, headers, body });
  const text = await res.text();
  const data = text ? safeJson(text) : null;
  if (!res.ok) {
    const d = (data ?? {}) as { code?: string; message?: string };
    throw new ApiError(res.status, d.code ?? String(res.status), d.message ?? res.statusText);
  }
  return { data: data as T, headers: res.headers };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export type Role = 'viewer' | 'predictor' | 'operator' | 'auditor' | 'admin';
export interface Me {
  principal: string;
  role: Role;
  permissions: string[];
  method: 'local' | 'api-key' | 'oidc' | 'disabled';
}

/** Who is signed in. A server without /api/v1/auth/me predates sign-in: everyone is the local admin there. */
export async function whoAmI(): Promise<Me> {
  try {
    return await api<Me>('/api/v1/auth/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { principal: 'local', role: 'admin', permissions: ['*'], method: 'local' };
    throw err;
  }
}

export const can = (me: Me | null, permission: string) => !!me && (me.permissions.includes('*') || me.permissions.includes('admin') || me.permissions.includes(permission));
