/**
 * The critical banner: while any critical alert is still open (not yet acknowledged), a red bar with
 * role="alert" names the newest one, so screen readers announce it and nobody in the room can miss it.
 */
import { formatAge, place, typeLabel, type Alert } from '../model.js';

export function CriticalBanner(props: { alerts: readonly Alert[]; now: number; onShow: (id: string) => void }) {
  const newest = props.alerts[0];
  return (
    <div class={newest ? 'critical-banner' : 'critical-banner empty'} role="alert" aria-live="assertive">
      {newest && (
        <>
          <span class="critical-icon" aria-hidden="true">
            !
          </span>
          <p>
            <strong>Critical alert open:</strong> {typeLabel(newest.type)} at {place(newest)}, raised by {newest.reporter.username}{' '}
            {formatAge(newest.created_at, props.now)} ago
            {props.alerts.length > 1 && <> · {props.alerts.length - 1} more critical open</>}
          </p>
          <button type="button" onClick={() => props.onShow(newest.id)}>
            Show
          </button>
        </>
      )}
    </div>
  );
}
