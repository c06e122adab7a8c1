/** Redis role health from `GET /health/redis`: one row per ACL user, refreshed every five seconds. */
import { ApiError, redisHealth } from '../api.js';
import { usePoll } from './use-poll.js';

const REFRESH_MS = 5000;

export function HealthPanel() {
  const { value: report, error } = usePoll(redisHealth, REFRESH_MS, (e) => (e instanceof ApiError ? e.message : 'Health check failed'), []);

  return (
    <>
      <div class="panel-head">
        <h2 id="health-title">Redis roles</h2>
        {report && <span class={`health-overall health-${report.overall}`}>{report.overall}</span>}
      </div>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      {report ? (
        <table class={`health${error ? ' stale' : ''}`}>
          <caption class="muted">Checked at {new Date(report.timestamp).toLocaleTimeString()} · refreshed every 5 s</caption>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Response
              </th>
              <th scope="col" class="num">
                Keys
              </th>
            </tr>
          </thead>
          <tbody>
            {report.roles.map((r) => (
              <tr key={r.role} data-role={r.role} data-status={r.status}>
                <th scope="row">
                  <code>{r.role}</code>
                </th>
                <td>
                  <span class={`health-dot health-${r.status}`} aria-hidden="true" />
                  {r.status}
                  {r.error && <span class="muted"> — {r.error}</span>}
                </td>
                <td class="num">{r.responseMs === null ? '–' : `${r.responseMs.toFixed(1)} ms`}</td>
                <td class="num">{r.keys ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        !error && <p class="muted">Checking…</p>
      )}
    </>
  );
}
