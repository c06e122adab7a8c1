/**
 * The service worker at `/sw.js` (scope `/`), built by web/vite.sw.config.ts into one classic script. It
 *  - keeps the panic page's shell (`/panic`, its hashed assets, the manifest and icons) for an offline start;
 *  - sends the panic page's outbox on Background Sync (the same Idempotency-Key every retry: one alert);
 *  - shows a notification for each Web Push (src/push/model.ts `pushMessage`) and opens the dashboard on
 *    that alert (`/#alert=<id>`) when it is clicked.
 * API requests are never cached.
 */
import { flushOutbox, SYNC_TAG } from '../src/panic/outbox.js';
import { notificationOf, type PushPayload } from './notification.js';

declare const self: ServiceWorkerGlobalScope;

const SHELL_CACHE = 'naboom-panic-shell-v1';
const SHELL_EXTRA = ['/manifest.webmanifest', '/icons/icon-192.png', '/icons/icon-512.png', '/favicon.svg'];

/** Fetches `/panic` and caches it with every asset it names (their names are hashed per build). */
async function cacheShell(): Promise<void> {
  const cache = await caches.open(SHELL_CACHE);
  const res = await fetch('/panic', { cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) return;
  const html = await res.clone().text();
  await cache.put('/panic', res);
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]).filter((u): u is string => u !== undefined);
  // Hashed assets never change under one name: fetch only the ones this cache does not hold yet.
  const wanted = [...new Set([...assets, ...SHELL_EXTRA])];
  const missing: string[] = [];
  for (const u of wanted) if (SHELL_EXTRA.includes(u) || !(await cache.match(u))) missing.push(u);
  await cache.addAll(missing);
}

self.addEventListener('install', (event) => {
  // A failed shell download must not stop the worker: push and sync matter more than an offline start.
  event.waitUntil(cacheShell().catch(() => undefined).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith('naboom-panic-shell-') && name !== SHELL_CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate' && url.pathname === '/panic') {
    // Network first (a new build is picked up at once), the cached shell when offline.
    event.respondWith(
      (async () => {
        try {
          const res = await fetch(req);
          if (res.ok) {
            const copy = res.clone();
            event.waitUntil(cacheShell().catch(() => caches.open(SHELL_CACHE).then((c) => c.put('/panic', copy))));
          }
          return res;
        } catch {
          return (await caches.match('/panic')) ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/') || SHELL_EXTRA.includes(url.pathname)) {
    // Hashed assets never change under one name: the cache first.
    event.respondWith((async () => (await caches.match(req)) ?? (await fetch(req)))());
  }
});

/** Tells every open page what the outbox sent, so a page that is open shows the alert at once. */
async function announce(outcomes: unknown[]): Promise<void> {
  for (const c of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) c.postMessage({ type: 'naboom-outbox', outcomes });
}

interface SyncEvent extends ExtendableEvent {
  readonly tag: string;
}

self.addEventListener('sync' as keyof ServiceWorkerGlobalScopeEventMap, (e) => {
  const event = e as SyncEvent;
  if (event.tag !== SYNC_TAG) return;
  event.waitUntil(
    (async () => {
      const outcomes = await flushOutbox();
      await announce(outcomes);
      // Something is still waiting for the network: fail, so the browser schedules another sync.
      if (outcomes.some((o) => o.kind === 'retry')) throw new Error('some alerts are still waiting for the network');
    })(),
  );
});

self.addEventListener('push', (event) => {
  let payload: PushPayload | undefined;
  try {
    payload = event.data?.json() as PushPayload | undefined;
  } catch {
    payload = undefined;
  }
  const n = notificationOf(payload);
  event.waitUntil(self.registration.showNotification(n.title, n.options));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { id?: unknown } | null;
  const id = typeof data?.id === 'string' ? data.id : undefined;
  const target = id ? `/#alert=${encodeURIComponent(id)}` : '/';
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const dashboard = windows.find((c) => new URL(c.url).pathname === '/');
      if (dashboard) {
        // A hash change: the open dashboard selects the alert without reloading.
        const moved = await dashboard.navigate(target).catch(() => null);
        await (moved ?? dashboard).focus();
        return;
      }
      await self.clients.openWindow(target);
    })(),
  );
});
