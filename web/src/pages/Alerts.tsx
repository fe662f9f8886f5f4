/** Firing and resolved alerts, by severity and model. */
import { useState } from 'preact/hooks';
import { Loading, Pager } from '../components/Bits';
import { ago, when } from '../format';
import { href } from '../router';
import type { AlertItem, Paged } from '../types';
import { useData } from '../use-data';

type AlertsPage = Paged<AlertItem> & { counts: { firing: number; resolved: number } };

export function Alerts() {
  const [status, setStatus] = useState<'' | 'firing' | 'resolved'>('firing');
  const [severity, setSeverity] = useState('');
  const [offset, setOffset] = useState(0);
  const qs = new URLSearchParams({ limit: '50', offset: String(offset), ...(status ? { status } : {}), ...(severity ? { severity } : {}) });
  const { data, error } = useData<AlertsPage>(`/api/v1/dashboard/alerts?${qs}`, 15_000);
  return (
    <>
      <h1>Alerts</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label for="alert-status">Status</label>
        <select
          id="alert-status"
          value={status}
          onChange={(e) => {
            setStatus((e.target as HTMLSelectElement).value as typeof status);
            setOffset(0);
          }}
        >
          <option value="firing">firing{data ? ` (${data.counts.firing})` : ''}</option>
          <option value="resolved">resolved{data ? ` (${data.counts.resolved})` : ''}</option>
          <option value="">all</option>
        </select>
        <label for="alert-severity">Severity</label>
        <select
          id="alert-severity"
          value={severity}
          onChange={(e) => {
            setSeverity((e.target as HTMLSelectElement).value);
            setOffset(0);
          }}
        >
          <option value="">any</option>
          <option>critical</option>
          <option>warning</option>
          <option>info</option>
        </select>
      </form>
      {!data ? (
        <Loading what="alerts" error={error} />
      ) : data.items.length ? (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Model</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Message</th>
                  <th scope="col">Fired</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <span class={`badge sev-${a.severity}`}>{a.severity}</span>
                    </td>
                    <td>
                      <a href={href('models', a.model_name)}>{a.model_name}</a> {a.version ?? ''}
                    </td>
                    <td>{a.rule}</td>
                    <td>{a.message}</td>
                    <td title={when(a.fired_at)}>{ago(a.fired_at)}</td>
                    <td>{a.status === 'resolved' ? `resolved ${ago(a.resolved_at)}` : `firing, seen ${ago(a.last_seen_at)}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager total={data.total} limit={data.limit} offset={data.offset} onPage={setOffset} />
        </>
      ) : (
        <p class="muted">No {status || ''} alerts.</p>
      )}
    </>
  );
}
