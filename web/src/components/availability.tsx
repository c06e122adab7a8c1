/**
 * The "Available" switch in the header (responders and admins). While it is on, the browser's position
 * (Geolocation API, `watchPosition`) goes to `PUT /api/responders/me`: at most every 15 s, sooner after a
 * move of more than 50 m, and again every minute while standing still, so the position never goes stale
 * on the server. Off sends `{available:false}`: the last position stays listed, as unavailable, until it is
 * stale; "Forget my position" (shown while off and the server still lists one) removes it at once
 * (`DELETE /api/responders/me`). Every failure is shown next to the switch, never dropped.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, forgetPresence, reportPresence } from '../api.js';
import { PositionThrottle, type Position } from '../dispatch.js';

/** How often held-back positions and heartbeats are looked at. */
const TICK_MS = 5000;

const why = (e: unknown): string => (e instanceof ApiError ? e.message : 'unexpected error');

function geoErrorText(e: GeolocationPositionError): string {
  switch (e.code) {
    case e.PERMISSION_DENIED:
      return 'Location permission denied: allow it for this site to appear on the map';
    case e.POSITION_UNAVAILABLE:
      return 'Your position is unavailable right now';
    case e.TIMEOUT:
      return 'Finding your position took too long; still trying';
    default:
      return 'Your position cannot be read';
  }
}

export function AvailabilitySwitch(props: {
  /** The server lists this user as available (from the responder list): the switch starts on. */
  serverAvailable: boolean | undefined;
  /** The server lists a position for this user (available or not): "Forget my position" is offered while off. */
  serverHoldsPosition: boolean;
  /** A report reached the server (the page refreshes the responders on the map). */
  onReported: () => void;
}) {
  const [on, setOn] = useState(false);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [geoError, setGeoError] = useState<string | undefined>(undefined);
  const [sentAt, setSentAt] = useState<number | undefined>(undefined);
  const [forgotten, setForgotten] = useState(false);
  const reported = useRef(props.onReported);
  reported.current = props.onReported;

  // After a reload, a responder the server still lists as available carries on sharing.
  useEffect(() => {
    if (!touched && props.serverAvailable) setOn(true);
  }, [props.serverAvailable, touched]);

  useEffect(() => {
    if (!on) return;
    let stopped = false;
    const throttle = new PositionThrottle();
    const send = async (pos: Position | undefined): Promise<void> => {
      if (pos) throttle.begin();
      try {
        await reportPresence(true, pos);
        if (pos) throttle.end(pos, Date.now(), true);
        if (stopped) return;
        setError(undefined);
        if (pos) setSentAt(Date.now());
        reported.current();
      } catch (e) {
        if (pos) throttle.end(pos, Date.now(), false);
        if (!stopped) setError(`Position not sent: ${why(e)}`);
      }
    };
    const geo = 'geolocation' in navigator ? navigator.geolocation : undefined;
    if (!geo) {
      setGeoError('This browser cannot share its position');
      void send(undefined);
      return () => {
        stopped = true;
      };
    }
    const watch = geo.watchPosition(
      (p) => {
        if (stopped) return;
        setGeoError(undefined);
        const pos: Position = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy) };
        if (throttle.offer(pos, Date.now())) void send(pos);
      },
      (e) => {
        if (stopped) return;
        setGeoError(geoErrorText(e));
        // Still available (a position the server holds stays valid until it is stale).
        if (e.code === e.PERMISSION_DENIED) void send(undefined);
      },
      { enableHighAccuracy: true, maximumAge: 10_000, timeout: 60_000 },
    );
    const timer = setInterval(() => {
      const pos = throttle.due(Date.now());
      if (pos) void send(pos);
    }, TICK_MS);
    return () => {
      stopped = true;
      geo.clearWatch(watch);
      clearInterval(timer);
    };
  }, [on]);

  const toggle = async (): Promise<void> => {
    setTouched(true);
    setError(undefined);
    if (!on) {
      setForgotten(false);
      setOn(true);
      return;
    }
    setBusy(true);
    try {
      await reportPresence(false);
      setOn(false);
      setGeoError(undefined);
      setSentAt(undefined);
      reported.current();
    } catch (e) {
      // The server still has you as available: the switch says so.
      setError(`Still available: ${why(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const forget = async (): Promise<void> => {
    setError(undefined);
    setBusy(true);
    try {
      await forgetPresence();
      setForgotten(true);
      reported.current();
    } catch (e) {
      setError(`Position not removed: ${why(e)}`);
    } finally {
      setBusy(false);
    }
  };

  const problem = error ?? (on ? geoError : undefined);
  return (
    <div class={`availability${on ? ' on' : ''}`} data-available={on ? 'on' : 'off'}>
      <button
        type="button"
        role="switch"
        aria-checked={on}
        class="switch"
        disabled={busy}
        onClick={() => void toggle()}
        title="While on, your position is shared with responders and admins and you can be dispatched"
      >
        <span class="switch-track" aria-hidden="true">
          <span class="switch-knob" />
        </span>
        Available
      </button>
      <span class="availability-state muted" aria-live="polite">
        {on ? (sentAt ? `position sent ${new Date(sentAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}` : 'locating…') : forgotten && !props.serverHoldsPosition ? 'position removed' : ''}
      </span>
      {!on && props.serverHoldsPosition && (
        <button
          type="button"
          class="link forget-position"
          disabled={busy}
          onClick={() => void forget()}
          title="Removes your last position from the server: nobody sees you on the map any more"
        >
          Forget my position
        </button>
      )}
      {problem && (
        <span class="availability-error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}
