/** Pipeline runs with their stages' progress (polled every 3 s), the last log lines, and a trigger. */
import { useState } from 'preact/hooks';
import { type Me, api, can } from '../api';
import { Card, Loading, Pager } from '../components/Bits';
import { ago, ms } from '../format';
import type { Overview, Paged, PipelineRun } from '../types';
import { useData } from '../use-data';

export function Pipelines(props: { me: Me | null }) {
  const [offset, setOffset] = useState(0);
  const { data, error, reload } = useData<Paged<PipelineRun> & { pipelines: string[] }>(`/api/v1/dashboard/pipeline-runs?limit=20&offset=${offset}`, 3_000);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <h1>Pipelines and retraining</h1>
      {can(props.me, 'pipelines:run') ? <Trigger onStarted={reload} /> : null}
      {!data ? (
        <Loading what="pipeline runs" error={error} />
      ) : data.items.length ? (
        <>
          {data.items.map((r) => (
            <article class="run" key={r.id} aria-label={`run ${r.id}`}>
              <header>
                <strong>{r.pipeline}</strong> {r.model_name ? `· ${r.model_name}` : ''} <span class={`badge st-${r.status}`}>{r.status}</span>
                <span class="muted small">
                  {' '}
                  {r.trigger} by {r.created_by}, {ago(r.created_at)} · {r.progress.done}/{r.progress.total} stages
                </span>
              </header>
              <progress max={Math.max(1, r.progress.total)} value={r.progress.done} aria-label={`progress of run ${r.id}`} />
              <ol class="stages">
                {r.stages.map((s) => (
                  <li key={s.name} class={`st-${s.status}`}>
                    <button type="button" class="link" aria-expanded={open === `${r.id}/${s.name}`} onClick={() => setOpen(open === `${r.id}/${s.name}` ? null : `${r.id}/${s.name}`)}>
                      {s.name}
                    </button>{' '}
                    <span class="small">
                      {s.status}
                      {s.duration_ms !== null ? ` · ${ms(s.duration_ms)}` : ''}
                    </span>
                    {s.error ? <div class="small error">{s.error}</div> : null}
                    {open === `${r.id}/${s.name}` ? <pre class="log">{s.log_tail.join('\n') || '(no output)'}</pre> : null}
                  </li>
                ))}
              </ol>
              {r.error ? <p class="error small">{r.error}</p> : null}
            </article>
          ))}
          <Pager total={data.total} limit={data.limit} offset={data.offset} onPage={setOffset} />
        </>
      ) : (
        <p class="muted">No pipeline runs yet.</p>
      )}
    </>
  );
}

function Trigger(props: { onStarted: () => void }) {
  const models = useData<Overview>('/api/v1/dashboard/overview');
  const [model, setModel] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    const name = model || models.data?.models[0]?.name;
    if (!name) return;
    try {
      const run = await api<{ id?: string; run_id?: string }>('/api/v1/mlops/cicd/run-pipeline', { method: 'POST', json: { model_name: name } });
      setMsg(`queued run ${run.id ?? run.run_id ?? ''}`);
      props.onStarted();
    } catch (err) {
      setMsg((err as Error).message);
    }
  };
  return (
    <Card title="Run the CI/CD pipeline">
      <form class="filters" onSubmit={submit}>
        <label for="pipeline-model">Model</label>
        <select id="pipeline-model" value={model} onChange={(e) => setModel((e.target as HTMLSelectElement).value)}>
          {(models.data?.models ?? []).map((m) => (
            <option key={m.name}>{m.name}</option>
          ))}
        </select>
        <button type="submit" class="primary">
          Start run
        </button>
        {msg ? <span role="status">{msg}</span> : null}
      </form>
    </Card>
  );
}
