/**
 * The resident's panic page: sign in once, one large button per alert type, a countdown with Cancel, the
 * best location fix at once and better ones while the alert is open, an outbox for presses made offline, and
 * the alert's status live from the feed (sent → acknowledged by <name> → resolved / cancelled), who is on
 * the way once a responder claims it, and the alert's thread (the reporter reads and writes messages).
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AlertType } from '../../../src/alerts/model.js';
import { act, ApiError, getAlert, listAlerts, logout, me, panicSettings, updateLocation } from '../api.js';
import { Login } from '../components/login.js';
import { Thread } from '../components/thread.js';
import { MessageHub, onTheWay } from '../dispatch.js';
import { LiveFeed } from '../feed.js';
import { parseAlert, parseUser, type Alert, type User } from '../model.js';
import { better, locationOf, UNKNOWN_LOCATION, worthUpdate, type Fix } from './geo.js';
import { dropPending, flushOutbox, listPending, savePending, sendOnce, SYNC_TAG, type Pending, type SendOutcome } from './outbox.js';

/** The model's alert types, in the order of the buttons (`satisfies` keeps them in step with the server). */
export const PANIC_TYPES = ['panic', 'medical', 'fire', 'crime', 'other'] as const satisfies readonly AlertType[];
const LABEL: Record<(typeof PANIC_TYPES)[number], string> = { panic: 'Panic', medical: 'Medical', fire: 'Fire', crime: 'Crime', other: 'Other' };
const HINT: Record<(typeof PANIC_TYPES)[number], string> = {
  panic: 'I am in danger',
  medical: 'Someone needs medical help',
  fire: 'Fire or smoke',
  crime: 'A crime is happening',
  other: 'Another emergency',
};

/** No fix within this long: the address field appears (the location keeps being asked for). */
export const FIX_WAIT_MS = 10_000;
/** At most one location update per this many ms (the server's limit is RATE_LIMIT_LOCATIONS_PER_USER). */
const UPDATE_EVERY_MS = 5000;
/** The largest accuracy the model accepts (m); a coarser fix is sent as this. */
const MAX_ACCURACY_M = 100_000;

type GeoState = 'waiting' | 'ok' | 'denied' | 'timeout' | 'unsupported';

type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'countdown'; readonly type: (typeof PANIC_TYPES)[number]; readonly endsAt: number }
  | { readonly kind: 'sending'; readonly type: string }
  | { readonly kind: 'queued'; readonly pending: Pending }
  | { readonly kind: 'sent'; readonly alert: Alert };

const time = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const isOpen = (a: Alert): boolean => a.status === 'open' || a.status === 'acknowledged';

const REMEMBERED = 'naboom-panic-user';

/** Who signed in on this phone last (not a secret: the session itself is the HttpOnly cookie). */
function remember(u: User | null): void {
  try {
    if (u) localStorage.setItem(REMEMBERED, JSON.stringify(u));
    else localStorage.removeItem(REMEMBERED);
  } catch {
    // storage off: an offline start shows the sign-in form
  }
}

function remembered(): User | undefined {
  try {
    return parseUser(JSON.parse(localStorage.getItem(REMEMBERED) ?? 'null'));
  } catch {
    return undefined;
  }
}

/** What the page says when a press went out with neither a fix nor an address. */
export const NEED_ADDRESS = 'Sent without a location. Type an address or landmark: it will be added to your alert.';

export function PanicApp() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);

  useEffect(() => {
    me().then(
      (u) => {
        remember(u);
        setUser(u);
      },
      (e: unknown) => {
        // Offline start (the installed app without a network): the resident signed in on this phone before,
        // so show the buttons; a press is kept and sent when the network is back (a stale session then asks
        // to sign in again, the press still kept).
        const saved = e instanceof ApiError && e.code === 'NETWORK' ? remembered() : undefined;
        if (saved) {
          setUser(saved);
          return;
        }
        setNotice(e instanceof ApiError ? e.message : 'The server cannot be reached');
        setUser(null);
      },
    );
  }, []);

  if (user === undefined) {
    return (
      <p class="loading" role="status">
        Loading…
      </p>
    );
  }
  if (!user) {
    return (
      <Login
        title="Naboom emergency"
        lead="Sign in once on this phone; afterwards one press raises an alert with your location."
        notice={notice}
        onLogin={(u) => {
          remember(u);
          setNotice(undefined);
          setUser(u);
        }}
      />
    );
  }
  return (
    <PanicScreen
      user={user}
      onSignedOut={(why) => {
        remember(null);
        setNotice(why);
        setUser(null);
      }}
    />
  );
}

function PanicScreen(props: { user: User; onSignedOut: (why: string | undefined) => void }) {
  const [countdownS, setCountdownS] = useState(5);
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [fix, setFix] = useState<Fix | undefined>(undefined);
  const [geo, setGeo] = useState<GeoState>('waiting');
  const [address, setAddress] = useState('');
  /** A press found neither a fix nor an address: the address field is shown (and focused) until the page is left. */
  const [needAddress, setNeedAddress] = useState(false);
  const addressInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (needAddress) addressInput.current?.focus();
  }, [needAddress]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const phaseRef = useRef(phase);
  phaseRef.current = phase;
  const fixRef = useRef(fix);
  fixRef.current = fix;
  const addressRef = useRef(address);
  addressRef.current = address;

  useEffect(() => {
    const saved = Number(localStorage.getItem('naboom-panic-countdown') ?? 'NaN');
    if (Number.isInteger(saved) && saved >= 0 && saved <= 30) setCountdownS(saved);
    panicSettings().then((s) => {
      setCountdownS(s.countdownS);
      localStorage.setItem('naboom-panic-countdown', String(s.countdownS));
    }, () => undefined);
  }, []);

  // Location: watch from the start, keep the best recent fix; after FIX_WAIT_MS without one, the address field.
  useEffect(() => {
    if (!('geolocation' in navigator)) {
      setGeo('unsupported');
      return;
    }
    const timer = setTimeout(() => setGeo((g) => (g === 'waiting' ? 'timeout' : g)), FIX_WAIT_MS);
    const watch = navigator.geolocation.watchPosition(
      (p) => {
        const next: Fix = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.min(MAX_ACCURACY_M, p.coords.accuracy), at: p.timestamp || Date.now() };
        setFix((best) => (better(best, next) ? next : best));
        setGeo('ok');
      },
      (e) => {
        if (e.code === e.PERMISSION_DENIED) setGeo('denied');
      },
      { enableHighAccuracy: true, maximumAge: 10_000, timeout: FIX_WAIT_MS },
    );
    return () => {
      clearTimeout(timer);
      navigator.geolocation.clearWatch(watch);
    };
  }, []);

  const settle = useCallback(
    (outcomes: readonly SendOutcome[]) => {
      const cur = phaseRef.current;
      if (cur.kind !== 'queued') return;
      const mine = outcomes.find((o) => o.key === cur.pending.key);
      if (!mine) return;
      if (mine.kind === 'sent') {
        const alert = parseAlert(mine.alert);
        if (alert) setPhase({ kind: 'sent', alert });
      } else if (mine.kind === 'refused') {
        setError(`The alert was refused: ${mine.message}`);
        setPhase({ kind: 'idle' });
      } else if (mine.kind === 'signed-out') {
        props.onSignedOut('Sign in again: your alert is kept on this phone and is sent once you are signed in.');
      }
    },
    [props],
  );

  // The outbox: a press kept on this device is sent when the network returns (the page retries on `online`;
  // the service worker's Background Sync may be first: it tells the page what it sent).
  useEffect(() => {
    const retry = (): void => {
      flushOutbox().then(settle, () => undefined);
    };
    const onMessage = (e: MessageEvent<unknown>): void => {
      const d = e.data as { type?: unknown; outcomes?: unknown } | null;
      if (d && d.type === 'naboom-outbox' && Array.isArray(d.outcomes)) settle(d.outcomes as SendOutcome[]);
    };
    window.addEventListener('online', retry);
    navigator.serviceWorker?.addEventListener('message', onMessage);
    // A press left in the outbox by an earlier visit (offline, or the page was closed): show it and retry.
    listPending().then((pending) => {
      const first = pending[0];
      if (first && phaseRef.current.kind === 'idle') {
        setPhase({ kind: 'queued', pending: first });
        retry();
      }
    }, () => undefined);
    return () => {
      window.removeEventListener('online', retry);
      navigator.serviceWorker?.removeEventListener('message', onMessage);
    };
  }, [settle]);

  // An alert still open from an earlier visit is shown with its status.
  useEffect(() => {
    listAlerts(1).then((alerts) => {
      const last = alerts[0];
      if (last && isOpen(last) && phaseRef.current.kind === 'idle') setPhase({ kind: 'sent', alert: last });
    }, () => undefined);
  }, []);

  const send = useCallback(async (type: (typeof PANIC_TYPES)[number]): Promise<void> => {
    setError(undefined);
    let location = locationOf(fixRef.current, addressRef.current);
    if (!location) {
      // Neither a fix nor an address: the alert goes anyway (someone in danger may not be able to type),
      // saying the location is unknown; the address field is shown and focused, and the first fix or
      // address that follows replaces the text.
      location = { address: UNKNOWN_LOCATION };
      setNeedAddress(true);
      addressInput.current?.focus();
      setError(NEED_ADDRESS);
    }
    const pending: Pending = {
      key: crypto.randomUUID(),
      body: { type, location },
      pressedAt: Date.now(),
    };
    phaseRef.current = { kind: 'sending', type };
    setPhase(phaseRef.current);
    // Stored before the first attempt: a page closed mid-request still has the press (and its key).
    let stored = true;
    try {
      await savePending(pending);
    } catch {
      stored = false;
    }
    const out = await sendOnce(pending);
    if (out.kind === 'sent') {
      if (stored) await dropPending(pending.key).catch(() => undefined);
      const alert = parseAlert(out.alert);
      if (alert) setPhase({ kind: 'sent', alert });
      return;
    }
    if (out.kind === 'refused') {
      if (stored) await dropPending(pending.key).catch(() => undefined);
      setError(`The alert was refused: ${out.message}`);
      setPhase({ kind: 'idle' });
      return;
    }
    if (out.kind === 'signed-out') {
      props.onSignedOut('Sign in again: your alert is kept on this phone and is sent once you are signed in.');
      return;
    }
    setPhase({ kind: 'queued', pending });
    if (!stored) setError('This phone could not store the alert; keep this page open until it is sent.');
    try {
      const reg = (await navigator.serviceWorker?.ready) as (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } }) | undefined;
      await reg?.sync?.register(SYNC_TAG);
    } catch {
      // No Background Sync: the page retries on `online`.
    }
    // Offline with the network already back (a 503, a dropped request): try again shortly.
  }, [props]);

  // The countdown: a visible second-by-second count with Cancel; at zero the press is sent.
  useEffect(() => {
    if (phase.kind !== 'countdown') return;
    const tick = setInterval(() => {
      setNow(Date.now());
      const cur = phaseRef.current;
      if (cur.kind === 'countdown' && Date.now() >= cur.endsAt) void send(cur.type);
    }, 100);
    return () => clearInterval(tick);
  }, [phase.kind, send]);

  // A queued press after a failed POST while online (a 503): retry every few seconds, same key.
  useEffect(() => {
    if (phase.kind !== 'queued') return;
    const t = setInterval(() => {
      if (navigator.onLine) flushOutbox().then(settle, () => undefined);
    }, 5000);
    return () => clearInterval(t);
  }, [phase.kind, settle]);

  const alertId = phase.kind === 'sent' ? phase.alert.id : undefined;
  const alertOpen = phase.kind === 'sent' && isOpen(phase.alert);

  // The status, live: the member's own alerts arrive on the feed; replay from the alert's own id.
  const hub = useMemo(() => new MessageHub(), []);
  useEffect(() => {
    if (!alertId) return;
    const feed = new LiveFeed({
      // Messages in the threads of the member's own alerts (the server sends no other).
      onMessage: (m) => hub.publish(m),
      onAlerts: (alerts) => {
        const mine = alerts.filter((a) => a.id === alertId).at(-1);
        if (mine) setPhase((p) => (p.kind === 'sent' && p.alert.id === alertId && mine.updated_at >= p.alert.updated_at ? { kind: 'sent', alert: mine } : p));
      },
      onState: () => undefined,
      onGap: () => {
        getAlert(alertId).then((a) => setPhase((p) => (p.kind === 'sent' && p.alert.id === alertId ? { kind: 'sent', alert: a } : p)), () => undefined);
      },
      onSignedOut: () => props.onSignedOut('Your session ended. Sign in again.'),
      resync: async () => {
        const a = await getAlert(alertId);
        setPhase((p) => (p.kind === 'sent' && p.alert.id === alertId ? { kind: 'sent', alert: a } : p));
        return alertId;
      },
      signedIn: async () => (await me()) !== null,
    });
    feed.start();
    return () => feed.stop();
  }, [alertId, props, hub]);

  // Better fixes (and an address typed later) follow the alert while it is open.
  const lastSent = useRef<{ fix: Fix | undefined; address: string; at: number } | undefined>(undefined);
  useEffect(() => {
    if (!alertId) {
      lastSent.current = undefined;
      return;
    }
    if (!alertOpen) return;
    const tryUpdate = (): void => {
      const last = lastSent.current;
      const f = fixRef.current;
      const addr = addressRef.current.trim();
      if (!last) {
        // The location the alert was raised with.
        const a = phaseRef.current.kind === 'sent' ? phaseRef.current.alert : undefined;
        const l = a?.location;
        // An address-only alert has no fix yet: the first fix that arrives is sent (with the address kept).
        const raised = l && 'lat' in l ? { lat: l.lat, lon: l.lon, accuracy_m: l.accuracy_m ?? MAX_ACCURACY_M, at: Date.now() } : undefined;
        const raisedAddress = a?.location.address ?? '';
        // The "location unknown" text is not an address to keep once a real one (or a fix) is known.
        lastSent.current = { fix: raised, address: raisedAddress === UNKNOWN_LOCATION ? '' : raisedAddress, at: 0 };
        return tryUpdate();
      }
      if (Date.now() - last.at < UPDATE_EVERY_MS) return;
      const moved = f !== undefined && worthUpdate(last.fix, f);
      const readdressed = addr !== '' && addr !== last.address;
      if (!moved && !readdressed) return;
      const next = { fix: moved ? f : last.fix, address: addr || last.address, at: Date.now() };
      const location = locationOf(next.fix, next.address);
      if (!location) return;
      lastSent.current = next;
      updateLocation(alertId, location).then(
        (a) => {
          setPhase((p) => (p.kind === 'sent' && p.alert.id === alertId && a.updated_at >= p.alert.updated_at ? { kind: 'sent', alert: a } : p));
          // The alert now has a location: the "sent without a location" notice is done.
          setError((e) => (e === NEED_ADDRESS ? undefined : e));
        },
        () => {
          // Not sent: the next tick tries again with whatever is best then.
          lastSent.current = { ...last, at: Date.now() };
        },
      );
    };
    tryUpdate();
    const t = setInterval(tryUpdate, 1000);
    return () => clearInterval(t);
  }, [alertId, alertOpen]);

  const press = (type: (typeof PANIC_TYPES)[number]): void => {
    setError(undefined);
    if (countdownS === 0) {
      void send(type);
      return;
    }
    const endsAt = Date.now() + countdownS * 1000;
    setNow(Date.now());
    setPhase({ kind: 'countdown', type, endsAt });
  };

  const cancelSent = async (a: Alert): Promise<void> => {
    setError(undefined);
    try {
      const updated = await act(a.id, 'cancel');
      setPhase({ kind: 'sent', alert: updated });
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The alert could not be cancelled');
    }
  };

  const signOut = async (): Promise<void> => {
    await logout().catch(() => undefined);
    props.onSignedOut(undefined);
  };

  const showAddress = needAddress || geo === 'denied' || geo === 'timeout' || geo === 'unsupported' || address !== '';

  return (
    <main class="panic" data-phase={phase.kind}>
      <header class="panic-header">
        <h1>
          <span class="brand-mark" aria-hidden="true" /> Naboom emergency
        </h1>
        <span class="panic-user">
          {props.user.username}{' '}
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>

      <section class="panic-location" aria-label="Your location">
        <p id="location-status" role="status" data-geo={geo}>
          {geo === 'ok' && fix ? `Location found (accurate to ${Math.round(fix.accuracy_m)} m)` : null}
          {geo === 'waiting' ? 'Finding your location…' : null}
          {geo === 'denied' ? 'Location is off for this site. Type where you are:' : null}
          {geo === 'timeout' ? 'No location yet. Type where you are (the location is still being looked for):' : null}
          {geo === 'unsupported' ? 'This browser cannot share a location. Type where you are:' : null}
        </p>
        {showAddress ? (
          <div class="panic-address">
            <label for="panic-address">Address or landmark</label>
            <input
              id="panic-address"
              ref={addressInput}
              name="address"
              autocomplete="street-address"
              maxLength={500}
              placeholder="e.g. 12 Long St, Cape Town"
              value={address}
              onInput={(e) => setAddress(e.currentTarget.value)}
            />
          </div>
        ) : null}
      </section>

      {error ? (
        <p class="panic-error" role="alert">
          {error}
        </p>
      ) : null}

      {phase.kind === 'idle' ? (
        <section class="panic-buttons" aria-label="Raise an alert">
          {PANIC_TYPES.map((t) => (
            <button key={t} type="button" class={`panic-button panic-${t}`} data-type={t} onClick={() => press(t)}>
              <span class="panic-label">{LABEL[t]}</span>
              <span class="panic-hint">{HINT[t]}</span>
            </button>
          ))}
          <p class="muted panic-footnote">
            {countdownS > 0 ? `After a press you have ${countdownS} seconds to cancel.` : 'A press sends the alert at once.'}
          </p>
        </section>
      ) : null}

      {phase.kind === 'countdown' ? (
        <section class="panic-countdown" aria-live="assertive">
          <p class="panic-count-text">
            Sending <strong>{LABEL[phase.type]}</strong> alert in
          </p>
          <p class="panic-count" id="panic-count">
            {Math.max(0, Math.ceil((phase.endsAt - now) / 1000))}
          </p>
          <button type="button" class="panic-cancel" onClick={() => setPhase({ kind: 'idle' })}>
            Cancel
          </button>
        </section>
      ) : null}

      {phase.kind === 'sending' ? (
        <section class="panic-state" aria-live="assertive">
          <p role="status">Sending…</p>
        </section>
      ) : null}

      {phase.kind === 'queued' ? (
        <section class="panic-state panic-queued" aria-live="assertive">
          <p role="status" id="panic-queued">
            Not sent yet — will send when you are back online
          </p>
          <p class="muted">The alert is kept on this phone. If you can, call for help another way too.</p>
          <button
            type="button"
            class="panic-cancel"
            onClick={() => {
              void dropPending(phase.pending.key).catch(() => undefined);
              setPhase({ kind: 'idle' });
            }}
          >
            Cancel
          </button>
        </section>
      ) : null}

      {phase.kind === 'sent' ? (
        <AlertStatus
          alert={phase.alert}
          userId={props.user.id}
          hub={hub}
          onCancel={() => void cancelSent(phase.alert)}
          onDone={() => setPhase({ kind: 'idle' })}
        />
      ) : null}
    </main>
  );
}

function AlertStatus(props: { alert: Alert; userId: string; hub: MessageHub; onCancel: () => void; onDone: () => void }) {
  const a = props.alert;
  const steps: { key: string; text: string; at: string }[] = [];
  for (const h of a.history) {
    if (h.event === 'raised') steps.push({ key: 'sent', text: 'Sent', at: h.at });
    else if (h.event === 'acknowledged') steps.push({ key: 'acknowledged', text: `Acknowledged by ${h.by?.username ?? 'a responder'}`, at: h.at });
    else if (h.event === 'resolved') steps.push({ key: 'resolved', text: `Resolved${h.by ? ` by ${h.by.username}` : ''}`, at: h.at });
    else if (h.event === 'cancelled') steps.push({ key: 'cancelled', text: 'Cancelled', at: h.at });
  }
  const open = isOpen(a);
  const coming = open ? onTheWay(a) : undefined;
  return (
    <section class="panic-state panic-sent" aria-live="polite" data-status={a.status} data-alert-id={a.id}>
      <h2>{open ? (a.status === 'acknowledged' ? 'Help is aware' : 'Alert sent') : a.status === 'resolved' ? 'Resolved' : 'Cancelled'}</h2>
      <ol class="panic-steps" id="panic-steps">
        {steps.map((s) => (
          <li key={`${s.key}-${s.at}`} data-step={s.key}>
            <span>{s.text}</span> <time dateTime={s.at}>{time(s.at)}</time>
          </li>
        ))}
      </ol>
      {coming ? (
        <p class="panic-on-the-way" id="panic-on-the-way" role="status">
          {coming}
        </p>
      ) : null}
      {open ? <p class="muted">Your location keeps being updated while the alert is open.</p> : null}
      {a.status === 'open' ? (
        <button type="button" class="panic-cancel" onClick={props.onCancel}>
          Cancel alert
        </button>
      ) : null}
      {!open ? (
        <button type="button" class="primary" onClick={props.onDone}>
          Done
        </button>
      ) : null}
      <Thread alertId={a.id} userId={props.userId} hub={props.hub} />
    </section>
  );
}
