/** The Vitals dashboard: sign-in, navigation and the pages; each shows only what the role may do. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Me, apiKey, can, whoAmI } from './api';
import { Alerts } from './pages/Alerts';
import { Experiments } from './pages/Experiments';
import { ModelPage } from './pages/ModelPage';
import { Overview } from './pages/Overview';
import { Pipelines } from './pages/Pipelines';
import { Predict } from './pages/Predict';
import { href, useRoute } from './router';
import './styles.css';

const PAGES = [
  { key: 'overview', label: 'Overview', permission: 'models:read' },
  { key: 'predict', label: 'Predict', permission: 'predict' },
  { key: 'alerts', label: 'Alerts', permission: 'monitoring:read' },
  { key: 'pipelines', label: 'Pipelines', permission: 'pipelines:read' },
  { key: 'experiments', label: 'Experiments', permission: 'tracking:read' },
] as const;

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [authError, setAuthError] = useState<string | null>(null);
  const [checked, setChecked] = useState(false);
  const refresh = () =>
    whoAmI()
      .then((m) => {
        setMe(m);
        setAuthError(null);
      })
      .catch((err) => {
        setMe(null);
        setAuthError(err instanceof ApiError && err.status === 401 ? 'Sign in with an API key.' : (err as Error).message);
      })
      .finally(() => setChecked(true));
  useEffect(() => void refresh(), []);

  if (!checked) return <p class="muted">Loading…</p>;
  if (!me) return <SignIn message={authError} onSignedIn={refresh} />;
  const [page, arg] = route;
  const allowed = PAGES.filter((p) => can(me, p.permission));
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('overview')}>
          Vitals
        </a>
        <nav aria-label="pages">
          {allowed.map((p) => (
            <a key={p.key} href={href(p.key)} aria-current={page === p.key || (page === 'models' && p.key === 'overview') ? 'page' : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <span class="who">
          {me.principal} · {me.role}
          {me.method === 'api-key' ? (
            <button
              type="button"
              class="link"
              onClick={() => {
                apiKey.set('');
                setMe(null);
              }}
            >
              Sign out
            </button>
          ) : null}
        </span>
      </header>
      <main id="main">
        {page === 'models' && arg ? (
          <ModelPage name={arg} me={me} />
        ) : page === 'predict' && can(me, 'predict') ? (
          <>
            <h1>Predict</h1>
            <Predict model={arg} />
          </>
        ) : page === 'alerts' ? (
          <Alerts />
        ) : page === 'pipelines' ? (
          <Pipelines me={me} />
        ) : page === 'experiments' ? (
          <Experiments />
        ) : (
          <>
            <h1>Models</h1>
            <Overview />
          </>
        )}
      </main>
    </>
  );
}

function SignIn(props: { message: string | null; onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  return (
    <main id="main" class="signin">
      <h1>Sign in to Vitals</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          apiKey.set(key.trim());
          props.onSignedIn();
        }}
      >
        <label for="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <p class="small muted">Kept in this tab only (session storage) and sent as a Bearer token.</p>
        {props.message ? (
          <p class="error" role="alert">
            {props.message}
          </p>
        ) : null}
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}

render(<App />, document.getElementById('app')!);
