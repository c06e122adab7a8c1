/**
 * The selected alert: everything known about it, the lifecycle actions this user may take (Acknowledge,
 * Resolve, Cancel — as the server allows for the role and the status), its history and its CAP document.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, capUrl } from '../api.js';
import type { MessageHub } from '../dispatch.js';
import {
  ACTION_LABEL,
  ADDRESS_ONLY_LABEL,
  allowedActions,
  formatAge,
  formatCoords,
  hasCoordinates,
  SEVERITY_LABEL,
  STATUS_LABEL,
  typeLabel,
  type Action,
  type Alert,
  type HistoryEvent,
  type User,
} from '../model.js';
import { ClaimSection, NearestResponders } from './claim.js';
import { Thread } from './thread.js';

function eventText(h: HistoryEvent): string {
  const name = h.event === 'escalated' && h.level !== undefined ? `Escalated (level ${h.level})` : typeLabel(h.event);
  return h.by ? `${name} by ${h.by.username}` : name;
}

const clock = (iso: string): string => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function AlertDetails(props: {
  alert: Alert | undefined;
  user: User;
  now: number;
  onAction: (id: string, action: Action, note: string | undefined) => Promise<void>;
  /** An alert changed by a claim or unclaim from this panel. */
  onUpdated: (a: Alert) => void;
  hub: MessageHub;
  onClose: () => void;
}) {
  const { alert: a, user } = props;
  const [busy, setBusy] = useState<Action | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [note, setNote] = useState('');
  // After an action its button is gone (Acknowledge becomes Resolve): keep keyboard focus in the panel.
  const [refocus, setRefocus] = useState(false);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!refocus) return;
    setRefocus(false);
    const el = panel.current;
    (el?.querySelector<HTMLElement>('.action-buttons button') ?? el?.querySelector<HTMLElement>('#details-status'))?.focus();
  }, [refocus]);

  if (!a) {
    return (
      <>
        <h2 id="details-title">Selected alert</h2>
        <p class="muted">Select an alert in the list or on the map to see its details, history and actions.</p>
      </>
    );
  }

  const run = async (action: Action): Promise<void> => {
    setBusy(action);
    setError(undefined);
    try {
      await props.onAction(a.id, action, note.trim() || undefined);
      setNote('');
      setRefocus(true);
    } catch (e) {
      const why = e instanceof ApiError ? (e.status === 401 ? 'your session has ended; sign out and sign in again' : e.message) : 'unexpected error';
      setError(`${ACTION_LABEL[action]} failed: ${why}`);
    } finally {
      setBusy(undefined);
    }
  };
  const actions = allowedActions(user, a);
  const loc = a.location;

  return (
    <article class={`details sev-${a.severity}`} data-alert-id={a.id} ref={panel}>
      <div class="panel-head">
        <h2 id="details-title">
          <span class={`sev-badge sev-${a.severity}`}>{SEVERITY_LABEL[a.severity]}</span> {typeLabel(a.type)}
        </h2>
        <button type="button" class="link" onClick={props.onClose} aria-label="Close details">
          Close
        </button>
      </div>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <span class={`status status-${a.status}`} id="details-status" tabIndex={-1}>
            {STATUS_LABEL[a.status]}
          </span>
        </dd>
        <dt>Raised</dt>
        <dd>
          {clock(a.created_at)} ({formatAge(a.created_at, props.now)} ago) by {a.reporter.username}
        </dd>
        <dt>Where</dt>
        <dd>
          {loc.address && (
            <>
              {loc.address}
              <br />
            </>
          )}
          {hasCoordinates(loc) ? (
            <span class="muted">
              {formatCoords(loc.lat, loc.lon)}
              {loc.accuracy_m !== undefined && <> ± {Math.round(loc.accuracy_m)} m</>}
            </span>
          ) : (
            <span class="muted address-only">{ADDRESS_ONLY_LABEL}</span>
          )}
        </dd>
        {a.description && (
          <>
            <dt>Details</dt>
            <dd class="description">{a.description}</dd>
          </>
        )}
        <dt>Alert id</dt>
        <dd>
          <code>{a.id}</code> · <a href={capUrl(a.id)} target="_blank" rel="noopener">CAP XML</a>
        </dd>
      </dl>
      <ClaimSection alert={a} user={user} onUpdated={props.onUpdated} />
      {actions.length > 0 ? (
        <div class="actions" role="group" aria-label="Actions">
          <label class="note">
            Note <span class="muted">(optional, kept in the history)</span>
            <input value={note} maxLength={1000} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <div class="action-buttons">
            {actions.map((act) => (
              <button key={act} type="button" class={act === 'cancel' ? 'danger' : 'primary'} disabled={busy !== undefined} onClick={() => void run(act)}>
                {busy === act ? `${ACTION_LABEL[act]}…` : ACTION_LABEL[act]}
              </button>
            ))}
          </div>
        </div>
      ) : (
        <p class="muted">No actions available{a.status === 'resolved' || a.status === 'cancelled' ? `: the alert is ${STATUS_LABEL[a.status].toLowerCase()}` : ' for your role'}.</p>
      )}
      <div class="form-error" role="alert">
        {error}
      </div>
      {user.role !== 'member' &&
        (hasCoordinates(loc) ? (
          <NearestResponders alertId={a.id} now={props.now} />
        ) : (
          <section class="nearest" aria-label="Nearest responders">
            <h3>Nearest responders</h3>
            <p class="muted nearest-none">No GPS position, so nobody is nearest: the alert went to every responder at once.</p>
          </section>
        ))}
      <Thread alertId={a.id} userId={user.id} hub={props.hub} />
      <h3>History</h3>
      <ol class="history">
        {a.history.map((h, i) => (
          <li key={`${h.at}-${i}`}>
            <time dateTime={h.at}>{clock(h.at)}</time> {eventText(h)}
            {h.note && <span class="note-text"> — “{h.note}”</span>}
          </li>
        ))}
      </ol>
    </article>
  );
}
