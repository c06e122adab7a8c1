/**
 * The panic page's outbox: an alert the device could not send yet (offline, a failed POST, a 503) is kept in
 * IndexedDB with its Idempotency-Key and sent again — by the service worker's Background Sync where the
 * browser has it, by the page on `online` otherwise. Every retry of one press carries the same key, and the
 * API answers a repeated key with the alert it already stored (200), so a press never creates two alerts,
 * however many times (or from however many places at once) it is retried.
 *
 * Shared by the page and the service worker: only IndexedDB and fetch, no DOM.
 */
import type { RaiseInput } from '../../../src/alerts/model.js';

export const SYNC_TAG = 'naboom-panic-outbox';
const DB = 'naboom-panic';
const STORE = 'outbox';

export interface Pending {
  /** The Idempotency-Key: one per press, the same on every retry. */
  readonly key: string;
  readonly body: RaiseInput;
  /** When the press happened (ms). */
  readonly pressedAt: number;
}

/** What one attempt to send a pending press came to. */
export type SendOutcome =
  | { readonly kind: 'sent'; readonly key: string; readonly alert: unknown }
  /** The network or the server failed (offline, 5xx, 429): kept, retried later. */
  | { readonly kind: 'retry'; readonly key: string; readonly status: number }
  /** Not signed in any more: kept until the resident signs in again. */
  | { readonly kind: 'signed-out'; readonly key: string }
  /** The server refused it for good (400, 422): dropped, so it cannot block the outbox. */
  | { readonly kind: 'refused'; readonly key: string; readonly status: number; readonly message: string };

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'));
  });
}

async function tx<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = run(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const savePending = async (p: Pending): Promise<void> => {
  await tx('readwrite', (s) => s.put(p));
};

export const dropPending = async (key: string): Promise<void> => {
  await tx('readwrite', (s) => s.delete(key));
};

export const listPending = async (): Promise<Pending[]> => {
  const all = await tx('readonly', (s) => s.getAll() as IDBRequest<Pending[]>);
  return all.sort((a, b) => a.pressedAt - b.pressedAt);
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** One POST of a press; never throws (a network failure is a `retry`). */
export async function sendOnce(p: Pending): Promise<SendOutcome> {
  let res: Response;
  try {
    res = await fetch('/api/emergency/alerts', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'idempotency-key': p.key },
      body: JSON.stringify(p.body),
    });
  } catch {
    return { kind: 'retry', key: p.key, status: 0 };
  }
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    // not JSON (a proxy's error page)
  }
  if (res.ok) return { kind: 'sent', key: p.key, alert: isObj(data) ? data['alert'] : undefined };
  if (res.status === 401) return { kind: 'signed-out', key: p.key };
  if (res.status === 400 || res.status === 422 || res.status === 403) {
    const err = isObj(data) && isObj(data['error']) ? data['error'] : {};
    return { kind: 'refused', key: p.key, status: res.status, message: typeof err['message'] === 'string' ? err['message'] : `The server answered ${res.status}` };
  }
  return { kind: 'retry', key: p.key, status: res.status };
}

/** Sends every pending press once, oldest first; a sent or refused one leaves the outbox. */
export async function flushOutbox(): Promise<SendOutcome[]> {
  const out: SendOutcome[] = [];
  for (const p of await listPending()) {
    const r = await sendOnce(p);
    if (r.kind === 'sent' || r.kind === 'refused') await dropPending(p.key);
    out.push(r);
  }
  return out;
}
