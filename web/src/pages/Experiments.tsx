/** Experiment runs: server-side pagination, sorting and filtering (fast at 10,000 runs); compare chosen runs. */
import { useState } from 'preact/hooks';
import { Card, Loading, Pager } from '../components/Bits';
import { ago, num } from '../format';
import type { ExperimentRun, Paged } from '../types';
import { useData } from '../use-data';

type RunsPage = Paged<ExperimentRun> & { experiments: Array<{ name: string; runs: number }>; metric_keys: string[] };

export function Experiments() {
  const [experiment, setExperiment] = useState('');
  const [q, setQ] = useState('');
  const [sort, setSort] = useState('started_at');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<Record<string, ExperimentRun>>({});
  const qs = new URLSearchParams({ sort, order, limit: '50', offset: String(offset), ...(experiment ? { experiment } : {}), ...(q ? { q } : {}) });
  const { data, error } = useData<RunsPage>(`/api/v1/dashboard/experiment-runs?${qs}`);
  const sortBy = (key: string) => {
    if (sort === key) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(key);
      setOrder('desc');
    }
    setOffset(0);
  };
  const aria = (key: string) => (sort === key ? (order === 'asc' ? 'ascending' : 'descending') : 'none');
  const keys = data?.metric_keys.slice(0, 6) ?? [];
  const compared = Object.values(chosen);
  return (
    <>
      <h1>Experiments</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label for="exp-name">Experiment</label>
        <select
          id="exp-name"
          value={experiment}
          onChange={(e) => {
            setExperiment((e.target as HTMLSelectElement).value);
            setOffset(0);
          }}
        >
          <option value="">all</option>
          {(data?.experiments ?? []).map((x) => (
            <option key={x.name} value={x.name}>
              {x.name} ({x.runs})
            </option>
          ))}
        </select>
        <label for="exp-q">Run name contains</label>
        <input
          id="exp-q"
          type="search"
          value={q}
          onInput={(e) => {
            setQ((e.target as HTMLInputElement).value);
            setOffset(0);
          }}
        />
      </form>
      {!data ? (
        <Loading what="runs" error={error} />
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Compare</th>
                  <th scope="col" aria-sort={aria('name')}>
                    <button type="button" class="link" onClick={() => sortBy('name')}>
                      Run
                    </button>
                  </th>
                  <th scope="col">Experiment</th>
                  <th scope="col" aria-sort={aria('status')}>
                    <button type="button" class="link" onClick={() => sortBy('status')}>
                      Status
                    </button>
                  </th>
                  <th scope="col" aria-sort={aria('started_at')}>
                    <button type="button" class="link" onClick={() => sortBy('started_at')}>
                      Started
                    </button>
                  </th>
                  {keys.map((k) => (
                    <th scope="col" key={k} aria-sort={aria(`metric:${k}`)}>
                      <button type="button" class="link" onClick={() => sortBy(`metric:${k}`)}>
                        {k}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.items.map((r) => (
                  <tr key={r.id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`compare ${r.name ?? r.id}`}
                        checked={!!chosen[r.id]}
                        onChange={(e) => {
                          const next = { ...chosen };
                          if ((e.target as HTMLInputElement).checked) next[r.id] = r;
                          else delete next[r.id];
                          setChosen(next);
                        }}
                      />
                    </td>
                    <th scope="row">{r.name ?? r.id.slice(0, 8)}</th>
                    <td>{r.experiment}</td>
                    <td>{r.status}</td>
                    <td>{ago(r.started_at)}</td>
                    {keys.map((k) => (
                      <td key={k}>{num(r.metrics[k] ?? null, 4)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data.items.length ? <Pager total={data.total} limit={data.limit} offset={data.offset} onPage={setOffset} /> : <p class="muted">No runs match.</p>}
        </>
      )}
      {compared.length >= 2 ? <Compare runs={compared} /> : null}
    </>
  );
}

function Compare({ runs }: { runs: ExperimentRun[] }) {
  const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].filter((k) => new Set(runs.map((r) => JSON.stringify(r.params[k]))).size > 1);
  return (
    <Card title={`Comparing ${runs.length} runs`}>
      <table>
        <thead>
          <tr>
            <th scope="col">Metric / differing parameter</th>
            {runs.map((r) => (
              <th scope="col" key={r.id}>
                {r.name ?? r.id.slice(0, 8)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {metrics.map((m) => (
            <tr key={m}>
              <th scope="row">{m}</th>
              {runs.map((r) => (
                <td key={r.id}>{num(r.metrics[m] ?? null, 4)}</td>
              ))}
            </tr>
          ))}
          {params.map((p) => (
            <tr key={`p-${p}`}>
              <th scope="row">{p}</th>
              {runs.map((r) => (
                <td key={r.id}>{JSON.stringify(r.params[p] ?? null)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
