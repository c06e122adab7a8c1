/**
 * Dispatch in the alert's details: who has it ("rita is on the way (1.2 km at claim time)"), the Claim /
 * Unclaim button as the server allows (a claim held by someone else answers 409: "rita has it"), and for
 * responders and admins the responders nearest to the alert, with distance and when they were last seen.
 */
import { useState } from 'preact/hooks';
import { ApiError, claim, claimHolder, nearestResponders, unclaim } from '../api.js';
import { claimAction, formatDistance, onTheWay } from '../dispatch.js';
import { formatAge, type Alert, type User } from '../model.js';
import { usePoll } from './use-poll.js';

const NEAREST_REFRESH_MS = 15_000;
const NEAREST_LIMIT = 5;
const why = (e: unknown): string => (e instanceof ApiError ? e.message : 'unexpected error');

export function ClaimSection(props: { alert: Alert; user: User; onUpdated: (a: Alert) => void }) {
  const { alert: a, user } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const action = claimAction(user, a);
  const line = onTheWay(a);

  const run = async (): Promise<void> => {
    if (!action) return;
    setBusy(true);
    setError(undefined);
    try {
      props.onUpdated(await (action === 'claim' ? claim(a.id) : unclaim(a.id)));
    } catch (e) {
      const holder = claimHolder(e);
      setError(holder ? `${holder} has it` : `${action === 'claim' ? 'Claim' : 'Unclaim'} failed: ${why(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="claim" data-assignee={a.assignee?.username ?? ''}>
      <p class={`on-the-way${line ? '' : ' muted'}`} role="status">
        {line ?? 'Nobody has claimed this alert yet.'}
      </p>
      {action && (
        <button type="button" class={action === 'claim' ? 'primary claim-button' : 'claim-button'} disabled={busy} onClick={() => void run()}>
          {busy ? `${action === 'claim' ? 'Claim' : 'Unclaim'}…` : action === 'claim' ? 'Claim' : 'Unclaim'}
        </button>
      )}
      <div class="form-error claim-error" role="alert">
        {error}
      </div>
    </div>
  );
}

/** The responders nearest to the alert (responders and admins only: positions are personal data). */
export function NearestResponders(props: { alertId: string; now: number }) {
  const { value: list, error } = usePoll(() => nearestResponders(props.alertId, NEAREST_LIMIT), NEAREST_REFRESH_MS, (e) => `Nearest responders unavailable: ${why(e)}`, [props.alertId]);

  return (
    <section class="nearest" aria-label="Nearest responders">
      <h3>Nearest responders</h3>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {list === undefined ? (
        !error && <p class="muted">Looking…</p>
      ) : list.length === 0 ? (
        <p class="muted">No responder with a recent position nearby.</p>
      ) : (
        <ol class="nearby">
          {list.map((r) => (
            <li key={r.username} data-username={r.username} class={r.available ? 'available' : 'unavailable'}>
              <strong>{r.username}</strong> <span class="nearby-distance">{formatDistance(r.distance_m)}</span>
              <span class="muted">
                {' '}
                · seen {formatAge(r.last_seen, props.now)} ago · {r.available ? 'available' : 'not available'}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
