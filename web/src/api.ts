/**
 * The HTTP API as the dashboard uses it. The session cookie (HttpOnly, SameSite=Strict) rides along on
 * every same-origin request; answers are `unknown` until checked. Errors become `ApiError` carrying the
 * server's stable code and message, which the page shows as they are.
 */
import { parseMessage, parseNearby, parseResponder, type NearbyResponder, type Position, type ResponderPosition, type ThreadMessage } from './dispatch.js';
import { parseAlert, parseUser, type Action, type Alert, type Basemap, type User } from './model.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (e.g. who holds a claimed alert), unchecked. */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

async function request(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, okStatuses: readonly number[] = []): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached');
  }
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    // not JSON (e.g. a proxy error page)
  }
  if (res.ok || okStatuses.includes(res.status)) return data;
  const err = isObj(data) && isObj(data['error']) ? data['error'] : {};
  const code = typeof err['code'] === 'string' ? err['code'] : `HTTP_${res.status}`;
  let message = typeof err['message'] === 'string' ? err['message'] : `The server answered ${res.status}`;
  const retry = res.headers.get('retry-after');
  if (res.status === 429 && retry) message += ` (retry in ${retry} s)`;
  throw new ApiError(res.status, code, message, err['details']);
}

function userOf(data: unknown): User {
  const user = parseUser(isObj(data) ? data['user'] : undefined);
  if (!user) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected answer from the server');
  return user;
}

/** The signed-in user, or null when the session is missing or expired. */
export async function me(): Promise<User | null> {
  try {
    return userOf(await request('GET', '/api/auth/me'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(username: string, password: string): Promise<User> {
  return userOf(await request('POST', '/api/auth/login', { username, password }));
}

export async function logout(): Promise<void> {
  await request('POST', '/api/auth/logout');
}

/** The newest alerts the user may see (responders: all; members: their own). */
export async function listAlerts(limit: number): Promise<Alert[]> {
  const data = await request('GET', `/api/emergency/alerts?limit=${limit}`);
  const raw = isObj(data) && Array.isArray(data['alerts']) ? (data['alerts'] as unknown[]) : [];
  return raw.map(parseAlert).filter((a): a is Alert => a !== undefined);
}

export async function act(id: string, action: Action, note?: string): Promise<Alert> {
  const data = await request('POST', `/api/emergency/alerts/${encodeURIComponent(id)}/${action}`, note ? { note } : {});
  const alert = parseAlert(isObj(data) ? data['alert'] : undefined);
  if (!alert) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected answer from the server');
  return alert;
}

/** One alert (members: only their own). */
export async function getAlert(id: string): Promise<Alert> {
  return alertOf(await request('GET', `/api/emergency/alerts/${encodeURIComponent(id)}`));
}

const alertPath = (id: string): string => `/api/emergency/alerts/${encodeURIComponent(id)}`;

function alertOf(data: unknown): Alert {
  const alert = parseAlert(isObj(data) && isObj(data['alert']) ? data['alert'] : data);
  if (!alert) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected answer from the server');
  return alert;
}

/** A location to send: coordinates (with an optional address) or, without a GPS fix, an address alone. */
export type NewLocation = { readonly lat: number; readonly lon: number; readonly accuracy_m?: number; readonly address?: string } | { readonly address: string };

/** Claims the alert (responders, admins). A 409 `NABOOM_ALERT_CLAIMED` names the holder in `details.assignee`. */
export async function claim(id: string): Promise<Alert> {
  return alertOf(await request('POST', `${alertPath(id)}/claim`, {}));
}

/** Gives the claim up (its holder, or an admin). */
export async function unclaim(id: string): Promise<Alert> {
  return alertOf(await request('POST', `${alertPath(id)}/unclaim`, {}));
}

/** Who holds a claimed alert, from a 409 answer to a claim; undefined for any other error. */
export function claimHolder(e: unknown): string | undefined {
  if (!(e instanceof ApiError) || e.code !== 'NABOOM_ALERT_CLAIMED') return undefined;
  const holder = isObj(e.details) ? e.details['assignee'] : undefined;
  if (typeof holder === 'string') return holder;
  if (isObj(holder) && typeof holder['username'] === 'string') return holder['username'];
  return undefined;
}

/** The alert's thread, oldest first. */
export async function listMessages(id: string): Promise<ThreadMessage[]> {
  const data = await request('GET', `${alertPath(id)}/messages`);
  const raw = isObj(data) && Array.isArray(data['messages']) ? (data['messages'] as unknown[]) : [];
  return raw.map(parseMessage).filter((m): m is ThreadMessage => m !== undefined);
}

export async function postMessage(id: string, text: string): Promise<ThreadMessage> {
  const data = await request('POST', `${alertPath(id)}/messages`, { text });
  const message = parseMessage(isObj(data) ? data['message'] : undefined);
  if (!message) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected answer from the server');
  return message;
}

/** Reports this responder's availability, and position when known (`PUT /api/responders/me`). */
export async function reportPresence(available: boolean, location?: Position): Promise<void> {
  await request('PUT', '/api/responders/me', { available, ...(location ? { location } : {}) });
}

/**
 * Removes this responder's position and availability from the server (`DELETE /api/responders/me`): nobody sees
 * them on the map any more. Resolves whether or not the server held one.
 */
export async function forgetPresence(): Promise<void> {
  await request('DELETE', '/api/responders/me');
}

/** Responders with a fresh position (responders and admins only). */
export async function listResponders(): Promise<ResponderPosition[]> {
  const data = await request('GET', '/api/responders');
  const raw = isObj(data) && Array.isArray(data['responders']) ? (data['responders'] as unknown[]) : [];
  return raw.map(parseResponder).filter((r): r is ResponderPosition => r !== undefined);
}

/** Responders nearest to an alert, nearest first. */
export async function nearestResponders(id: string, limit = 5): Promise<NearbyResponder[]> {
  const data = await request('GET', `${alertPath(id)}/responders?limit=${limit}`);
  const raw = isObj(data) && Array.isArray(data['responders']) ? (data['responders'] as unknown[]) : [];
  return raw.map(parseNearby).filter((r): r is NearbyResponder => r !== undefined);
}

/** The reporter's newer location for their open alert (`PATCH …/:id/location`). */
export async function updateLocation(id: string, location: NewLocation): Promise<Alert> {
  const data = await request('PATCH', `/api/emergency/alerts/${encodeURIComponent(id)}/location`, location);
  const alert = parseAlert(isObj(data) ? data['alert'] : undefined);
  if (!alert) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected answer from the server');
  return alert;
}

/** The panic page's settings (`GET /api/panic/settings`). */
export async function panicSettings(): Promise<{ countdownS: number }> {
  const data = await request('GET', '/api/panic/settings');
  const n = isObj(data) ? data['countdown_s'] : undefined;
  return { countdownS: typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 30 ? n : 5 };
}

/** The VAPID public key, or null when push is off on this server (404 NABOOM_PUSH_DISABLED). */
export async function vapidPublicKey(): Promise<string | null> {
  try {
    const data = await request('GET', '/api/push/vapid-public-key');
    return isObj(data) && typeof data['publicKey'] === 'string' ? data['publicKey'] : null;
  } catch (e) {
    if (e instanceof ApiError && e.code === 'NABOOM_PUSH_DISABLED') return null;
    throw e;
  }
}

export async function savePushSubscription(subscription: unknown): Promise<void> {
  await request('POST', '/api/push/subscriptions', subscription);
}

export async function deletePushSubscription(endpoint: string): Promise<void> {
  await request('DELETE', '/api/push/subscriptions', { endpoint });
}

/** `GET /api/map`: the operator's tile source, or the bundled outline when none is configured (or on an odd answer). */
export async function mapBasemap(): Promise<Basemap> {
  const data = await request('GET', '/api/map');
  const tiles = isObj(data) ? data['tiles'] : undefined;
  if (isObj(tiles) && typeof tiles['url'] === 'string' && typeof tiles['attribution'] === 'string' && typeof tiles['max_zoom'] === 'number') {
    return { kind: 'tiles', url: tiles['url'], attribution: tiles['attribution'], maxZoom: tiles['max_zoom'] };
  }
  return { kind: 'outline' };
}

export const capUrl = (id: string): string => `/api/emergency/alerts/${encodeURIComponent(id)}/cap`;

export interface RoleHealth {
  readonly role: string;
  readonly status: string;
  readonly responseMs: number | null;
  readonly clients: number | null;
  readonly keys: number | null;
  readonly error?: string;
}

export interface HealthReport {
  readonly overall: string;
  readonly roles: readonly RoleHealth[];
  readonly timestamp: string;
}

/** `GET /health/redis`; a 503 still carries the per-role report (that is when it matters most). */
export async function redisHealth(): Promise<HealthReport> {
  const data = await request('GET', '/health/redis', undefined, [503]);
  if (!isObj(data) || !isObj(data['redis_acl_health'])) throw new ApiError(500, 'BAD_RESPONSE', 'Unexpected health report');
  const roles: RoleHealth[] = Object.entries(data['redis_acl_health']).map(([role, v]) => {
    const r = isObj(v) ? v : {};
    return {
      role,
      status: typeof r['status'] === 'string' ? r['status'] : 'unknown',
      responseMs: typeof r['response_time_ms'] === 'number' ? r['response_time_ms'] : null,
      clients: typeof r['connected_clients'] === 'number' ? r['connected_clients'] : null,
      keys: typeof r['db_keys'] === 'number' ? r['db_keys'] : null,
      ...(typeof r['error'] === 'string' ? { error: r['error'] } : {}),
    };
  });
  return {
    overall: typeof data['overall_status'] === 'string' ? data['overall_status'] : 'unknown',
    roles,
    timestamp: typeof data['timestamp'] === 'string' ? data['timestamp'] : new Date().toISOString(),
  };
}
