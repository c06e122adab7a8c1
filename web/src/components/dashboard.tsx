/**
 * The signed-in page: header (who, connection, sound), critical banner, filters + list, map, the selected
 * alert with its actions and history, and the Redis role health. The board is one map of alerts keyed by
 * id, fed by the list endpoint once and by the live feed after that.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, act, getAlert, listAlerts, listResponders, logout, mapBasemap, me } from '../api.js';
import { MessageHub, type ResponderPosition } from '../dispatch.js';
import { LiveFeed, type ConnectionState } from '../feed.js';
import { compareIds, isActive, matches, mergeAlerts, newestFirst, SEVERITIES, type Action, type Alert, type Basemap, type Filters, type User } from '../model.js';
import { Siren } from '../sound.js';
import { AlertDetails } from './details.js';
import { AlertList } from './alert-list.js';
import { AlertMap } from './alert-map.js';
import { AvailabilitySwitch } from './availability.js';
import { CriticalBanner } from './banner.js';
import { FilterBar } from './filters.js';
import { Header } from './header.js';
import { HealthPanel } from './health.js';

const LIST_LIMIT = 200;
/** How often the responders on the map are refreshed while the page is visible. */
const RESPONDERS_REFRESH_MS = 15_000;

/** The current time, re-rendered every second (ages and countdowns tick). */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/**
 * Responders with a fresh position (responders and admins; members never ask: positions are personal data),
 * refreshed every 15 s while the page is visible and at once when it becomes visible again. `refresh` asks now.
 */
function useResponders(enabled: boolean): { responders: readonly ResponderPosition[]; error: string | undefined; loaded: boolean; refresh: () => void } {
  const [responders, setResponders] = useState<readonly ResponderPosition[]>([]);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const refreshRef = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let running = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      clearTimeout(timer);
      running = true;
      try {
        if (document.visibilityState === 'visible') {
          const list = await listResponders();
          if (stopped) return;
          setResponders(list);
          setError(undefined);
          setLoaded(true);
        }
      } catch (e) {
        if (!stopped) setError(e instanceof ApiError ? e.message : 'unexpected error');
      } finally {
        running = false;
      }
      if (stopped) return;
      if (again) {
        again = false;
        void poll();
        return;
      }
      timer = setTimeout(() => void poll(), RESPONDERS_REFRESH_MS);
    };
    const onVisible = (): void => {
      if (document.visibilityState === 'visible') void poll();
    };
    refreshRef.current = () => void poll();
    document.addEventListener('visibilitychange', onVisible);
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
      refreshRef.current = () => undefined;
    };
  }, [enabled]);
  return { responders, error, loaded, refresh: () => refreshRef.current() };
}

/** `/#alert=<id>` (a push notification's click opens this) selects that alert. */
function alertFromHash(): string | undefined {
  const m = /^#alert=([0-9]{1,20}-[0-9]{1,20})$/.exec(decodeURIComponent(window.location.hash));
  return m?.[1];
}

export function Dashboard(props: { user: User; onSignedOut: (why?: string) => void }) {
  const { user } = props;
  const now = useNow();
  const boardRef = useRef<ReadonlyMap<string, Alert>>(new Map());
  const [board, setBoard] = useState<ReadonlyMap<string, Alert>>(boardRef.current);
  const [conn, setConn] = useState<ConnectionState>({ kind: 'connecting' });
  const [selectedId, setSelectedId] = useState<string | undefined>(alertFromHash);
  const [hoverId, setHoverId] = useState<string | undefined>(undefined);
  const [filters, setFilters] = useState<Filters>({ severities: new Set(SEVERITIES), status: 'all' });
  const [gap, setGap] = useState(false);
  const [soundOn, setSoundOn] = useState(false);
  const siren = useMemo(() => new Siren(), []);
  const feedRef = useRef<LiveFeed | undefined>(undefined);
  const hub = useMemo(() => new MessageHub(), []);
  const dispatcher = user.role === 'responder' || user.role === 'admin';
  const presence = useResponders(dispatcher);
  const available = presence.responders.filter((r) => r.available);
  // This user in the server's list: listed at all (available or not), the server still holds a position.
  const mine = presence.responders.find((r) => r.username === user.username);
  const meListed = presence.loaded ? mine?.available === true : undefined;
  const meHeld = presence.loaded && mine !== undefined;
  const [basemap, setBasemap] = useState<Basemap | undefined>(undefined);

  useEffect(() => {
    // Without an answer (an old server, a network error) the map still draws its offline outline.
    mapBasemap()
      .then(setBasemap)
      .catch(() => setBasemap({ kind: 'outline' }));
  }, []);

  const apply = (alerts: readonly Alert[]): Alert[] => {
    const before = boardRef.current;
    const next = mergeAlerts(before, alerts);
    if (next === before) return [];
    boardRef.current = next;
    setBoard(next);
    return alerts.filter((a) => !before.has(a.id));
  };

  useEffect(() => {
    const select = (): void => {
      const id = alertFromHash();
      if (!id) return;
      setSelectedId(id);
      // Older than the list the board loaded: fetch it, so the details can show it.
      if (!boardRef.current.has(id)) getAlert(id).then((a) => apply([a]), () => undefined);
    };
    select();
    window.addEventListener('hashchange', select);
    return () => window.removeEventListener('hashchange', select);
  }, []);

  useEffect(() => {
    const reload = async (): Promise<string> => {
      const list = await listAlerts(LIST_LIMIT);
      apply(list);
      // Alert ids are feed ids: replay everything after the newest alert we have (from the start when none).
      return list.reduce((max, a) => (compareIds(a.id, max) > 0 ? a.id : max), '0-0');
    };
    const feed = new LiveFeed({
      onAlerts: (alerts) => {
        const added = apply(alerts);
        if (added.some((a) => a.severity === 'critical' && a.status === 'open')) siren.play();
      },
      onMessage: (m) => hub.publish(m),
      onState: setConn,
      onGap: () => {
        setGap(true);
        reload().catch(() => undefined);
      },
      onSignedOut: () => props.onSignedOut('Your session ended. Please sign in again.'),
      resync: reload,
      signedIn: async () => (await me()) !== null,
    });
    feedRef.current = feed;
    feed.start();
    // One feed for as long as the signed-in page is shown.
    return () => feed.stop();
  }, []);

  const all = useMemo(() => newestFirst(board), [board]);
  const shown = useMemo(() => all.filter((a) => matches(a, filters)), [all, filters]);
  const selected = selectedId ? board.get(selectedId) : undefined;
  const openCritical = useMemo(() => all.filter((a) => a.severity === 'critical' && a.status === 'open'), [all]);

  const runAction = async (id: string, action: Action, note: string | undefined): Promise<void> => {
    const updated = await act(id, action, note);
    apply([updated]);
  };

  const signOut = async (): Promise<void> => {
    try {
      await logout();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
    feedRef.current?.stop();
    props.onSignedOut('You are signed out.');
  };

  const toggleSound = async (): Promise<void> => {
    if (siren.on) {
      siren.disable();
      setSoundOn(false);
      return;
    }
    await siren.enable();
    setSoundOn(true);
  };

  return (
    <div class={`page${openCritical.length > 0 ? ' has-critical' : ''}`}>
      <Header
        user={user}
        conn={conn}
        now={now}
        soundOn={soundOn}
        onToggleSound={() => void toggleSound().catch(() => setSoundOn(false))}
        onReconnect={() => feedRef.current?.reconnectNow()}
        onSignOut={() => void signOut()}
      >
        {dispatcher && <AvailabilitySwitch serverAvailable={meListed} serverHoldsPosition={meHeld} onReported={presence.refresh} />}
      </Header>
      <CriticalBanner alerts={openCritical} now={now} onShow={setSelectedId} />
      <main class="layout">
        <section class="panel list-panel" aria-labelledby="alerts-title">
          <div class="panel-head">
            <h2 id="alerts-title">Alerts</h2>
            <span class="muted" aria-live="polite">
              {shown.length} of {all.length} shown · {all.filter(isActive).length} active
            </span>
          </div>
          <FilterBar filters={filters} alerts={all} onChange={setFilters} />
          {gap && (
            <p class="notice" role="status">
              Some missed events were older than the server keeps; the list was reloaded.
            </p>
          )}
          <AlertList alerts={shown} now={now} selectedId={selectedId} hoverId={hoverId} onSelect={setSelectedId} onHover={setHoverId} />
        </section>
        <section class="panel map-panel" aria-labelledby="map-title">
          <div class="panel-head">
            <h2 id="map-title">Map</h2>
            <span class="muted">
              accuracy circles to scale{basemap?.kind === 'outline' ? ' · offline outline' : ''}
              {dispatcher && (
                <span class="responder-count" data-count={available.length}>
                  {' '}
                  · {available.length} responder{available.length === 1 ? '' : 's'} available
                </span>
              )}
            </span>
            {presence.error && (
              <span class="form-error" role="alert">
                Responders not updated: {presence.error}
              </span>
            )}
          </div>
          <AlertMap alerts={shown} responders={presence.responders} basemap={basemap} now={now} selectedId={selectedId} hoverId={hoverId} onSelect={setSelectedId} onHover={setHoverId} />
        </section>
        <section class="panel details-panel" aria-labelledby="details-title">
          <AlertDetails key={selected?.id} alert={selected} user={user} now={now} onAction={runAction} onUpdated={(a) => apply([a])} hub={hub} onClose={() => setSelectedId(undefined)} />
        </section>
        <section class="panel health-panel" aria-labelledby="health-title">
          <HealthPanel />
        </section>
      </main>
    </div>
  );
}
