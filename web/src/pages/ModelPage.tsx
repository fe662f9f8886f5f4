/** One model: versions, alias history, traffic and latency by version, drift per feature over time, release tests, actions. */
import { useMemo, useState } from 'preact/hooks';
import { type Me, api, can } from '../api';
import { Card, Loading } from '../components/Bits';
import { ReasonDialog } from '../components/ReasonDialog';
import { TimeChart } from '../components/TimeChart';
import { ago, count, ms, num, pct, when } from '../format';
import { href } from '../router';
import type { ModelPage as Data, ReleaseTest, VersionRow } from '../types';
import { useData } from '../use-data';

const COLORS = ['#2b6cb0', '#c05621', '#2f855a', '#6b46c1', '#b83280', '#2c7a7b', '#744210', '#4a5568'];

interface Action {
  title: string;
  confirm: string;
  run: (reason: string) => Promise<unknown>;
}

export function ModelPage(props: { name: string; me: Me | null }) {
  const [window, setWindow] = useState<'hour' | 'day' | 'week'>('day');
  const { data, error, reload } = useData<Data>(`/api/v1/dashboard/models/${encodeURIComponent(props.name)}?window=${window}`, 15_000);
  const [action, setAction] = useState<Action | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  if (!data) return <Loading what={props.name} error={error} />;
  const writable = can(props.me, 'models:write');
  const name = data.model.name;
  const base = `/api/v1/models/${encodeURIComponent(name)}`;
  const act = (a: Action) =>
    setAction({
      ...a,
      run: async (reason) => {
        await a.run(reason);
        setNotice(`${a.confirm}: done`);
        await reload();
      },
    });
  const promote = (v: VersionRow) =>
    act({
      title: `Promote ${name} ${v.version} to production`,
      confirm: 'Promote',
      run: (reason) => api(`${base}/versions/${encodeURIComponent(v.version)}/promote`, { method: 'POST', json: { reason } }),
    });
  const archive = (v: VersionRow) =>
    act({ title: `Archive ${name} ${v.version}`, confirm: 'Archive', run: (reason) => api(`${base}/versions/${encodeURIComponent(v.version)}/archive`, { method: 'POST', json: { reason } }) });
  const rollback = () => act({ title: `Roll ${name} back to the previous production version`, confirm: 'Roll back', run: (reason) => api(`${base}/rollback`, { method: 'POST', json: { reason } }) });

  return (
    <div class="model-page">
      <header class="page-head">
        <h1>{name}</h1>
        <p class="muted">
          {data.model.modality} · {data.model.task}
          {data.model.description ? ` · ${data.model.description}` : ''}
        </p>
        <p class="stat">
          <strong data-testid="prediction-total">{data.predictions.total}</strong> predictions logged
          {Object.keys(data.predictions.by_version).length
            ? ` (${Object.entries(data.predictions.by_version)
                .map(([v, n]) => `${v}: ${n}`)
                .join(', ')})`
            : ''}
        </p>
        <div class="row">
          {can(props.me, 'predict') ? (
            <a class="button" href={href('predict', name)}>
              Predict with {name}
            </a>
          ) : null}
          {writable ? (
            <button type="button" onClick={rollback}>
              Roll back production…
            </button>
          ) : null}
        </div>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
      </header>

      <Card
        title="Traffic, latency and errors"
        actions={
          // biome-ignore lint/a11y/useSemanticElements: a segmented control (ARIA group of toggle buttons), not a form section with a legend
          <div class="segmented" role="group" aria-label="time window">
            {(['hour', 'day', 'week'] as const).map((w) => (
              <button type="button" key={w} aria-pressed={w === window} onClick={() => setWindow(w)}>
                last {w}
              </button>
            ))}
          </div>
        }
      >
        <TrafficCharts data={data} />
      </Card>

      <Card title="Versions">
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Aliases</th>
                <th scope="col">Status</th>
                <th scope="col">Metrics</th>
                <th scope="col">Lineage</th>
                <th scope="col">Predictions</th>
                <th scope="col">Registered</th>
                {writable ? <th scope="col">Actions</th> : null}
              </tr>
            </thead>
            <tbody>
              {data.versions.map((v) => (
                <tr key={v.id}>
                  <th scope="row">{v.version}</th>
                  <td>
                    {v.aliases.map((a) => (
                      <span key={a} class={`badge ${a === 'production' ? 'prod' : 'chal'}`}>
                        {a}
                      </span>
                    ))}
                  </td>
                  <td>{v.status}</td>
                  <td class="small">
                    {Object.entries(v.metrics)
                      .filter(([k]) => !k.startsWith('n_'))
                      .slice(0, 5)
                      .map(([k, x]) => `${k} ${num(x)}`)
                      .join(' · ')}
                  </td>
                  <td class="small">{lineage(v)}</td>
                  <td>{count(v.predictions)}</td>
                  <td class="small">
                    {ago(v.created_at)} by {v.created_by}
                  </td>
                  {writable ? (
                    <td>
                      {!v.aliases.includes('production') && v.status !== 'archived' ? (
                        <button type="button" class="primary small" onClick={() => promote(v)}>
                          Promote {v.version}…
                        </button>
                      ) : null}
                      {!v.aliases.includes('production') && v.status !== 'archived' ? (
                        <button type="button" class="small" onClick={() => archive(v)}>
                          Archive {v.version}…
                        </button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>

      <Card title="Alias history">
        <ol class="timeline" aria-label="alias history, newest first">
          {[...data.history].reverse().map((e) => (
            <li key={e.id} class={`ev ev-${e.action}`}>
              <time dateTime={e.created_at} title={when(e.created_at)}>
                {ago(e.created_at)}
              </time>
              <span>
                <strong>{e.action.replace('_', ' ')}</strong>
                {e.alias ? ` ${e.alias}` : ''} {e.from_version ? `${e.from_version} → ` : ''}
                {e.to_version ?? ''} by <strong>{e.actor}</strong>
              </span>
              {e.reason ? <q class="muted">{e.reason}</q> : null}
            </li>
          ))}
        </ol>
      </Card>

      <Card title="Drift per feature over time">
        <DriftStrip data={data} />
      </Card>

      <Card title="Release tests">{data.release_tests.length ? data.release_tests.map((t) => <ReleaseTestView key={t.id} t={t} />) : <p class="muted">No A/B, canary or shadow tests yet.</p>}</Card>

      {action ? <ReasonDialog title={action.title} confirm={action.confirm} onConfirm={async (r) => void (await action.run(r))} onClose={() => setAction(null)} /> : null}
    </div>
  );
}

function lineage(v: VersionRow): string {
  const l = v.lineage as Record<string, unknown>;
  // the keys registration records (docs/audit.md, lineage); the full trace is GET …/versions/{version}/lineage
  const run = typeof l.pipeline_run_id === 'string' ? `run ${l.pipeline_run_id.slice(-8)}` : null;
  const path = typeof l.data_path === 'string' ? l.data_path.split('/').pop() : l.data_source;
  const parts = [path, run, typeof l.data_sha256 === 'string' ? `data ${String(l.data_sha256).slice(0, 8)}` : null, v.params?.algorithm].filter(Boolean);
  return parts.join(' · ') || '—';
}

function TrafficCharts({ data }: { data: Data }) {
  const times = data.traffic.buckets.map((b) => b.t);
  const versions = Object.entries(data.traffic_by_version);
  const volume = useMemo(() => versions.map(([v, s], i) => ({ label: v, values: s.buckets.map((b) => b.count), color: COLORS[i % COLORS.length]! })), [data]);
  const latency = useMemo(
    () => [
      { label: 'p50', values: data.traffic.buckets.map((b) => b.p50_ms), color: '#2b6cb0', unit: ' ms' },
      { label: 'p99', values: data.traffic.buckets.map((b) => b.p99_ms), color: '#6b46c1', unit: ' ms' },
    ],
    [data],
  );
  const errors = useMemo(() => [{ label: 'error rate', values: data.traffic.buckets.map((b) => b.error_rate), color: '#c53030' }], [data]);
  const s = data.traffic.summary;
  return (
    <div class="charts">
      <TimeChart title="Predictions per bucket, by version" times={times} lines={volume} summary={`${s.count} predictions in the last ${data.window}`} />
      <TimeChart title="Latency" times={times} lines={latency} summary={`p50 ${ms(s.p50_ms)}, p99 ${ms(s.p99_ms)}`} />
      <TimeChart title="Error rate" times={times} lines={errors} summary={`${pct(s.error_rate, 1)} of ${s.count} failed`} />
    </div>
  );
}

function DriftStrip({ data }: { data: Data }) {
  const [feature, setFeature] = useState<string | null>(null);
  const { checks, features, cells, latest } = data.drift;
  if (!checks.length) return <p class="muted">No monitoring checks yet: they run every MONITORING_CHECK_INTERVAL, or after MONITORING_CHECK_EVERY_N predictions.</p>;
  const chosen = feature ?? features.find((f) => latest[f]) ?? null;
  const ref = chosen ? latest[chosen] : undefined;
  return (
    <>
      <p class="small muted">Each cell is one check (oldest left); colour is the drift effect size, a ring marks a drifted feature. Choose a feature for its reference vs current distribution.</p>
      <div class="table-wrap">
        <table class="heat">
          <thead>
            <tr>
              <th scope="col">Feature</th>
              {checks.map((c) => (
                <th scope="col" key={c.id} title={when(c.at)}>
                  <span class="sr-only">check {when(c.at)}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {features.map((f) => (
              <tr key={f}>
                <th scope="row">
                  <button type="button" class="link" aria-pressed={f === chosen} onClick={() => setFeature(f)}>
                    {f}
                  </button>
                </th>
                {cells[f]!.map((c, i) => (
                  <td
                    key={i}
                    class={c?.drifted ? 'cell drifted' : 'cell'}
                    style={{ background: c ? `rgba(197, 48, 48, ${Math.min(1, c.effect).toFixed(2)})` : '#edf2f7' }}
                    title={c ? `effect ${num(c.effect)}, p ${num(c.p_value, 4)}` : 'not measured'}
                  >
                    <span class="sr-only">{c ? `${c.drifted ? 'drifted' : 'stable'}, effect ${num(c.effect)}` : 'not measured'}</span>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {chosen && ref ? (
        <div class="compare" aria-live="polite">
          <h3>{chosen}: reference vs current</h3>
          {ref.type === 'numeric' ? (
            <p>
              reference mean {num(ref.reference.mean)} (sd {num(ref.reference.std)}) · current mean {num(ref.current.mean)} (sd {num(ref.current.std)})
              {ref.current.missing ? ` · ${ref.current.missing} missing` : ''}
            </p>
          ) : (
            <ul class="bars">
              {Object.keys({ ...(ref.reference.shares ?? {}), ...(ref.current.shares ?? {}) }).map((k) => (
                <li key={k}>
                  <span class="bar-label">{k}</span>
                  <span class="bar" aria-hidden="true">
                    <span style={{ width: `${(ref.reference.shares?.[k] ?? 0) * 100}%`, background: '#a0aec0' }} />
                  </span>
                  <span class="bar" aria-hidden="true">
                    <span style={{ width: `${(ref.current.shares?.[k] ?? 0) * 100}%` }} />
                  </span>
                  <span class="bar-value">
                    {pct(ref.reference.shares?.[k])} → {pct(ref.current.shares?.[k])}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </>
  );
}

interface Comparison {
  diff: number | null;
  ci95: [number, number] | null;
  p_value: number | null;
  always_valid_p_value: number | null;
}
interface VariantSummary {
  version: string;
  predictions: number;
  error_rate: number | null;
  accuracy: number | null;
  labelled: number;
  mean_latency_ms: number | null;
  p95_latency_ms: number | null;
}

/** One release test: per-variant rates, the comparisons with 95% intervals, fixed-horizon and always-valid p-values. */
function ReleaseTestView({ t }: { t: ReleaseTest }) {
  const ev = t.evaluation as { report?: Record<string, any>; decision?: { recommendation?: string } } | null;
  const r = ev?.report;
  const variants = r
    ? ([
        ['control', r.control],
        ['treatment', r.treatment],
      ] as Array<[string, VariantSummary]>)
    : [];
  const comparisons = r
    ? ([
        ['accuracy', r.accuracy],
        ['error rate', r.error_rate],
        ['latency (ms)', r.latency],
      ] as Array<[string, Comparison]>)
    : [];
  const p = (x: number | null | undefined) => (x === null || x === undefined ? '—' : x < 1e-4 ? x.toExponential(1) : x.toFixed(4));
  const ci = (c: [number, number] | null, asPct: boolean) => (c ? (asPct ? `${pct(c[0], 1)} – ${pct(c[1], 1)}` : `${num(c[0], 2)} – ${num(c[1], 2)}`) : '—');
  return (
    <article class="release">
      <h3>
        {t.name} <span class="badge">{t.mode}</span> <span class="badge muted">{t.status}</span>
      </h3>
      <p class="small">
        control {t.control_version} vs treatment {t.treatment_version} · {pct(t.traffic_split)} to treatment · started {ago(t.created_at)}
        {t.decision ? ` · decision: ${t.decision} (${t.winner ?? '—'})` : ''}
      </p>
      {t.decision_reason || ev?.decision?.recommendation ? <p class="small muted">{t.decision_reason ?? ev?.decision?.recommendation}</p> : null}
      {r ? (
        <div class="grid2">
          <table>
            <caption>Variants (last evaluation {ago(r.evaluated_at)})</caption>
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col">Predictions</th>
                <th scope="col">Error rate</th>
                <th scope="col">Accuracy (labels)</th>
                <th scope="col">p95 latency</th>
              </tr>
            </thead>
            <tbody>
              {variants.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">
                    {k} {v.version}
                  </th>
                  <td>{count(v.predictions)}</td>
                  <td>{pct(v.error_rate, 1)}</td>
                  <td>
                    {pct(v.accuracy, 1)} ({v.labelled})
                  </td>
                  <td>{ms(v.p95_latency_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table>
            <caption>Treatment − control</caption>
            <thead>
              <tr>
                <th scope="col">Metric</th>
                <th scope="col">Difference, 95% CI</th>
                <th scope="col">p</th>
                <th scope="col">Always-valid p</th>
              </tr>
            </thead>
            <tbody>
              {comparisons.map(([k, c]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    {k.startsWith('latency') ? num(c?.diff ?? null, 2) : pct(c?.diff, 1)} ({ci(c?.ci95 ?? null, !k.startsWith('latency'))})
                  </td>
                  <td>{p(c?.p_value)}</td>
                  <td>{p(c?.always_valid_p_value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="small muted">Not evaluated yet.</p>
      )}
    </article>
  );
}
