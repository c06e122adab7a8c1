/** Severity and status filters for the list and the map. */
import { MOST_SEVERE_FIRST, SEVERITY_LABEL, STATUS_LABEL, STATUSES, type Alert, type Filters, type StatusFilter } from '../model.js';

const STATUS_OPTIONS: readonly { value: StatusFilter; label: string }[] = [
  { value: 'all', label: 'All statuses' },
  { value: 'active', label: 'Active (open or acknowledged)' },
  ...STATUSES.map((s) => ({ value: s, label: STATUS_LABEL[s] })),
];

const isStatusFilter = (v: string): v is StatusFilter => STATUS_OPTIONS.some((o) => o.value === v);

export function FilterBar(props: { filters: Filters; alerts: readonly Alert[]; onChange: (f: Filters) => void }) {
  const { filters } = props;
  const count = (s: string): number => props.alerts.filter((a) => a.severity === s).length;
  return (
    <div class="filters">
      <fieldset>
        <legend>Severity</legend>
        {MOST_SEVERE_FIRST.map((s) => (
          <label key={s} class={`chip sev-${s}-chip`}>
            <input
              type="checkbox"
              checked={filters.severities.has(s)}
              onChange={(e) => {
                const next = new Set(filters.severities);
                if (e.currentTarget.checked) next.add(s);
                else next.delete(s);
                props.onChange({ ...filters, severities: next });
              }}
            />
            {SEVERITY_LABEL[s]} <span class="count">{count(s)}</span>
          </label>
        ))}
      </fieldset>
      <label class="status-filter">
        Status
        <select
          value={filters.status}
          onChange={(e) => {
            const v = e.currentTarget.value;
            if (isStatusFilter(v)) props.onChange({ ...filters, status: v });
          }}
        >
          {STATUS_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
