/**
 * The board: newest first, one row per alert (keyed by id, so never twice). Each row is a button; arrow keys
 * move between rows, Enter or a click selects. Related reports (`related`: raised close together in place and
 * time) are grouped: the oldest open one leads with "+N nearby reports", the others follow it, indented.
 * Nothing is hidden or merged: every alert keeps its own row.
 */
import { groupRelated } from '../dispatch.js';
import { ADDRESS_ONLY_LABEL, firstLine, formatAge, isPlaced, place, SEVERITY_LABEL, STATUS_LABEL, typeLabel, type Alert } from '../model.js';

const FRESH_MS = 10_000;

function moveFocus(from: HTMLElement, step: 1 | -1): HTMLButtonElement | undefined {
  const rows = [...(from.closest('ol')?.querySelectorAll<HTMLButtonElement>('button.row') ?? [])];
  const i = rows.indexOf(from as HTMLButtonElement);
  const next = rows[i + step];
  next?.focus();
  return next;
}

export function AlertList(props: {
  alerts: readonly Alert[];
  now: number;
  selectedId: string | undefined;
  hoverId: string | undefined;
  onSelect: (id: string) => void;
  onHover: (id: string | undefined) => void;
}) {
  if (props.alerts.length === 0) {
    return <p class="empty-list muted">No alerts match the filters.</p>;
  }
  return (
    <ol class="alerts" aria-label="Alerts, newest first">
      {groupRelated(props.alerts).map(({ alert: a, under, nearby }) => {
        const summary = firstLine(a.description);
        const fresh = props.now - Date.parse(a.created_at) < FRESH_MS;
        const cls = ['alert', `sev-${a.severity}`, `st-${a.status}`, a.id === props.selectedId ? 'selected' : '', a.id === props.hoverId ? 'hovered' : '', fresh ? 'fresh' : '', under ? 'related' : '', nearby > 0 ? 'group-lead' : '']
          .filter(Boolean)
          .join(' ');
        return (
          <li
            key={a.id}
            class={cls}
            data-alert-id={a.id}
            data-severity={a.severity}
            data-status={a.status}
            {...(under ? { 'data-related-to': under } : {})}
            {...(a.assignee ? { 'data-assignee': a.assignee.username } : {})}
          >
            <button
              type="button"
              class="row"
              aria-pressed={a.id === props.selectedId}
              onClick={() => props.onSelect(a.id)}
              onMouseEnter={() => props.onHover(a.id)}
              onMouseLeave={() => props.onHover(undefined)}
              onKeyDown={(e) => {
                if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
                e.preventDefault();
                const next = moveFocus(e.currentTarget, e.key === 'ArrowDown' ? 1 : -1);
                const id = next?.closest('li')?.dataset['alertId'];
                if (id) props.onSelect(id);
              }}
            >
              <span class={`sev-badge sev-${a.severity}`}>{SEVERITY_LABEL[a.severity]}</span>
              <span class="row-main">
                <span class="row-title">
                  <span class="type">{typeLabel(a.type)}</span>
                  <span class={`status status-${a.status}`}>{STATUS_LABEL[a.status]}</span>
                </span>
                <span class="row-place">{place(a)}</span>
                {!isPlaced(a) && <span class="row-address-only muted">{ADDRESS_ONLY_LABEL}</span>}
                {summary && (
                  <span class="row-desc" title={summary}>
                    {summary}
                  </span>
                )}
                <span class="row-meta muted">
                  by {a.reporter.username} ·{' '}
                  <time dateTime={a.created_at} title={new Date(a.created_at).toLocaleString()}>
                    {formatAge(a.created_at, props.now)} ago
                  </time>
                  {a.escalations > 0 && <> · escalated ×{a.escalations}</>}
                  {a.assignee && <> · claimed by {a.assignee.username}</>}
                </span>
                {nearby > 0 && (
                  <span class="row-nearby">
                    +{nearby} nearby report{nearby === 1 ? '' : 's'}
                  </span>
                )}
                {under && <span class="row-nearby muted">nearby report</span>}
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
