/** The top bar: who is signed in, the live connection's state (always visible), sound and sign-out. */
import type { ComponentChildren } from 'preact';
import type { ConnectionState } from '../feed.js';
import type { User } from '../model.js';
import { PushSwitch } from './push-switch.js';

/** The state in words. Kept stable while reconnecting, so screen readers announce changes, not a countdown. */
function connectionText(c: ConnectionState): string {
  switch (c.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'replaying':
      return 'Replaying missed alerts…';
    case 'live':
      return 'Live';
    case 'stale':
      return 'Connection stale';
    case 'reconnecting':
      return `Reconnecting (${c.reason})`;
  }
}

export function Header(props: {
  user: User;
  conn: ConnectionState;
  now: number;
  soundOn: boolean;
  onToggleSound: () => void;
  onReconnect: () => void;
  onSignOut: () => void;
  /** Controls for this role (the "Available" switch for responders and admins). */
  children?: ComponentChildren;
}) {
  const { user, conn } = props;
  return (
    <header class="topbar">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true" />
        <span>Naboom</span>
        <span class="muted brand-sub">operator dashboard</span>
      </div>
      <div class={`conn conn-${conn.kind}`} id="connection" data-state={conn.kind} role="status" aria-live="polite">
        <span class="conn-dot" aria-hidden="true" />
        <span class="conn-text">{connectionText(conn)}</span>
        {conn.kind === 'reconnecting' && (
          <>
            <span class="muted" aria-hidden="true">
              {Math.max(0, Math.ceil((conn.retryAt - props.now) / 1000))} s
            </span>
            <button type="button" class="link" onClick={props.onReconnect}>
              Retry now
            </button>
          </>
        )}
      </div>
      {props.children}
      <div class="who">
        <span>
          Signed in as <strong id="whoami">{user.username}</strong>{' '}
          <span class={`role role-${user.role}`} id="whoami-role">
            {user.role}
          </span>
        </span>
        <PushSwitch user={user} />
        <button type="button" aria-pressed={props.soundOn} onClick={props.onToggleSound} title="Play a tone when a new critical alert arrives">
          Alarm sound: {props.soundOn ? 'on' : 'off'}
        </button>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
