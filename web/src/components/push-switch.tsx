/**
 * "Notify me on this device": for responders and admins, a switch that subscribes this browser to Web Push
 * (the service worker at /sw.js, `pushManager.subscribe` with the server's VAPID key) and registers the
 * subscription with the server; off unsubscribes and removes it. Hidden when the server has push off
 * (404 NABOOM_PUSH_DISABLED) or the browser cannot push (iOS: only from the web app on the home screen).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, deletePushSubscription, savePushSubscription, vapidPublicKey } from '../api.js';
import type { User } from '../model.js';

type State = { readonly kind: 'hidden' } | { readonly kind: 'ready'; readonly on: boolean; readonly key: string; readonly busy: boolean };

/** base64url (the VAPID key as the server gives it) → the bytes `applicationServerKey` takes. */
function keyBytes(b64url: string): Uint8Array<ArrayBuffer> {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4);
  const raw = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Whether a subscription was made with `key` (after a VAPID key rotation it was not: the server cannot reach it). */
function madeWith(sub: PushSubscription, key: string): boolean {
  const had = sub.options.applicationServerKey;
  if (!had) return false;
  const a = new Uint8Array(had);
  const b = keyBytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const canPush = (): boolean => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

export function PushSwitch(props: { user: User }) {
  const [state, setState] = useState<State>({ kind: 'hidden' });
  const [error, setError] = useState<string | undefined>(undefined);
  const eligible = props.user.role === 'responder' || props.user.role === 'admin';

  useEffect(() => {
    if (!eligible || !canPush()) return;
    let gone = false;
    (async () => {
      const key = await vapidPublicKey();
      if (!key || gone) return;
      const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
      const sub = await reg.pushManager.getSubscription();
      // A subscription made with a rotated-out key counts as off: turning it on subscribes again.
      if (!gone) setState({ kind: 'ready', on: sub !== null && madeWith(sub, key), key, busy: false });
    })().catch(() => undefined);
    return () => {
      gone = true;
    };
  }, [eligible]);

  if (state.kind === 'hidden') return null;

  const toggle = async (): Promise<void> => {
    setError(undefined);
    setState({ ...state, busy: true });
    try {
      const reg = await navigator.serviceWorker.ready;
      if (!state.on) {
        const permission = await Notification.requestPermission();
        if (permission !== 'granted') throw new Error('Notifications are blocked for this site in the browser settings');
        // One subscription per browser: a stale one (made with an older VAPID key) must go first.
        const stale = await reg.pushManager.getSubscription();
        if (stale) await stale.unsubscribe();
        const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(state.key) });
        try {
          await savePushSubscription(sub.toJSON());
        } catch (e) {
          // Refused or not stored: the browser must not keep a subscription the server does not push to, or the
          // next page load would show the switch on while nothing arrives.
          await sub.unsubscribe().catch(() => undefined);
          throw e;
        }
        setState({ ...state, on: true, busy: false });
      } else {
        const sub = await reg.pushManager.getSubscription();
        if (sub) {
          await deletePushSubscription(sub.endpoint);
          await sub.unsubscribe();
        }
        setState({ ...state, on: false, busy: false });
      }
    } catch (e) {
      setError(e instanceof ApiError ? e.message : e instanceof Error ? `Push could not be switched: ${e.message}` : 'Push could not be switched');
      setState({ ...state, busy: false });
    }
  };

  return (
    <span class="push-switch">
      <button
        type="button"
        id="push-switch"
        role="switch"
        aria-checked={state.on}
        disabled={state.busy}
        onClick={() => void toggle()}
        title="A notification on this device for each new or escalated alert, even with this tab closed"
      >
        Notify me on this device: {state.on ? 'on' : 'off'}
      </button>
      {error ? (
        <span class="form-error" role="alert" id="push-error">
          {error}
        </span>
      ) : null}
    </span>
  );
}
