/** The page a person opens first: every model's health in one row. */
import { HealthBadge, Loading } from '../components/Bits';
import { Sparkline } from '../components/Sparkline';
import { ago, count, ms, pct } from '../format';
import { href } from '../router';
import type { Overview as OverviewData, OverviewRow } from '../types';
import { useData } from '../use-data';

export function Overview() {
  const { data, error } = useData<OverviewData>('/api/v1/dashboard/overview', 15_000);
  if (!data) return <Loading what="the overview" error={error} />;
  if (!data.models.length)
    return (
      <p>
        No models registered yet. Register one with <code>vitals register</code> or start with the demo (<code>vitals serve --demo</code>).
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="overview">
        <caption>Every model, last hour and last day (updated {ago(data.generated_at)})</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Versions</th>
            <th scope="col">Traffic</th>
            <th scope="col">Latency p50 / p99</th>
            <th scope="col">Errors</th>
            <th scope="col">Drift</th>
            <th scope="col">Accuracy</th>
            <th scope="col">Health</th>
            <th scope="col">Alerts</th>
            <th scope="col">Last production change</th>
          </tr>
        </thead>
        <tbody>
          {data.models.map((m) => (
            <Row key={m.model_id} m={m} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Row({ m }: { m: OverviewRow }) {
  const hour = m.hour.summary;
  const day = m.day.summary;
  const buckets = m.day.buckets;
  return (
    <tr>
      <th scope="row">
        <a href={href('models', m.name)}>{m.name}</a>
        <div class="muted small">
          {m.modality} · {m.task}
        </div>
      </th>
      <td class="wrap">
        {m.production ? <span class="badge prod">prod {m.production.version}</span> : <span class="badge muted">no production</span>}
        {m.challenger ? <span class="badge chal">challenger {m.challenger.version}</span> : null}
        {m.release ? (
          <span class="badge release">
            {m.release.mode} {m.release.treatment_version} · {pct(m.release.traffic_split)}
          </span>
        ) : null}
      </td>
      <td>
        <div class="metric">
          <strong>{count(hour.count)}</strong> <span class="muted">/h</span> · {count(day.count)} <span class="muted">/day</span>
        </div>
        <Sparkline values={buckets.map((b) => b.count)} label={`${m.name} predictions per hour over the last day`} color="#2b6cb0" />
      </td>
      <td>
        <div class="metric">
          {ms(hour.p50_ms ?? day.p50_ms)} / {ms(hour.p99_ms ?? day.p99_ms)}
        </div>
        <Sparkline values={buckets.map((b) => b.p99_ms)} label={`${m.name} p99 latency per hour over the last day`} color="#6b46c1" />
      </td>
      <td>
        <div class="metric">
          {pct(hour.error_rate, 1)} <span class="muted">h</span> · {pct(day.error_rate, 1)} <span class="muted">day</span>
        </div>
        <Sparkline values={buckets.map((b) => b.error_rate)} label={`${m.name} error rate per hour over the last day`} color="#c53030" />
      </td>
      <td class="wrap">
        {m.drift ? (
          <>
            <div class="metric">
              {m.drift.drifted} of {m.drift.features} features ({pct(m.drift.share)})
            </div>
            {m.drift.top.length ? <div class="small">{m.drift.top.map((t) => t.feature).join(', ')}</div> : <div class="small muted">none drifted</div>}
          </>
        ) : (
          <span class="muted">not checked</span>
        )}
      </td>
      <td>
        {m.accuracy ? (
          <>
            <div class="metric">{m.accuracy.realized !== null ? pct(m.accuracy.realized, 1) : <span title="estimated from confidence: labels lag">~{pct(m.accuracy.estimated, 1)} est.</span>}</div>
            <div class="small muted">labels {pct(m.accuracy.label_coverage)}</div>
          </>
        ) : (
          <span class="muted">—</span>
        )}
      </td>
      <td>
        <HealthBadge band={m.health?.band} score={m.health?.score} />
      </td>
      <td>
        {m.open_alerts.total ? (
          <a href={href('alerts')} class={m.open_alerts.critical ? 'badge band-critical' : 'badge band-warning'}>
            {m.open_alerts.total} open
          </a>
        ) : (
          <span class="muted">none</span>
        )}
      </td>
      <td class="small">
        {m.last_production_change ? (
          <>
            <div>
              {m.last_production_change.from_version ? `${m.last_production_change.from_version} → ` : ''}
              {m.last_production_change.to_version ?? 'removed'} by <strong>{m.last_production_change.actor}</strong> {ago(m.last_production_change.at)}
            </div>
            {m.last_production_change.reason ? <div class="muted">“{m.last_production_change.reason}”</div> : null}
          </>
        ) : (
          <span class="muted">never</span>
        )}
      </td>
    </tr>
  );
}
