import type { ComponentChildren } from 'preact';

export function HealthBadge(props: { band: string | undefined | null; score?: number | null }) {
  if (!props.band) return <span class="badge muted">no check yet</span>;
  const label = { good: 'Healthy', warning: 'Warning', critical: 'Critical' }[props.band] ?? props.band;
  return (
    <span class={`badge band-${props.band}`} data-testid="health">
      {label}
      {props.score !== null && props.score !== undefined ? ` · ${(props.score * 100).toFixed(0)}/100` : ''}
    </span>
  );
}

export function Loading(props: { error?: string | null; what: string }) {
  if (props.error)
    return (
      <p class="error" role="alert">
        Could not load {props.what}: {props.error}
      </p>
    );
  return (
    <p class="muted" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

export function Card(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" aria-label={props.title}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function Pager(props: { total: number; limit: number; offset: number; onPage: (offset: number) => void }) {
  const page = Math.floor(props.offset / props.limit) + 1;
  const pages = Math.max(1, Math.ceil(props.total / props.limit));
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={props.offset === 0} onClick={() => props.onPage(Math.max(0, props.offset - props.limit))}>
        Previous
      </button>
      <span>
        Page {page} of {pages} · {props.total} in all
      </span>
      <button type="button" disabled={page >= pages} onClick={() => props.onPage(props.offset + props.limit)}>
        Next
      </button>
    </nav>
  );
}
