/** The seed's web prediction interface: a tabular model's form from its input spec, or an image upload. */
import { useEffect, useState } from 'preact/hooks';
import { api, apiResponse } from '../api';
import { Card, Loading } from '../components/Bits';
import { ms, pct } from '../format';
import { href } from '../router';
import type { FeatureSpec, InputSpec, Overview } from '../types';
import { useData } from '../use-data';

interface PredictionResult {
  prediction_id?: string;
  model?: string;
  model_version: string;
  prediction: string | number;
  confidence?: number | null;
  probabilities?: Record<string, number> | null;
  processing_time_ms?: number;
  variant?: string;
}

export function Predict(props: { model?: string }) {
  const { data, error } = useData<Overview>('/api/v1/dashboard/overview');
  const [model, setModel] = useState(props.model ?? '');
  useEffect(() => {
    if (!model && data?.models.length) setModel(data.models[0]!.name);
  }, [data]);
  if (!data) return <Loading what="models" error={error} />;
  const row = data.models.find((m) => m.name === model);
  return (
    <div class="grid2">
      <Card title="Predict">
        <label for="model-select">Model</label>
        <select id="model-select" value={model} onChange={(e) => setModel((e.target as HTMLSelectElement).value)}>
          {data.models.map((m) => (
            <option key={m.name} value={m.name}>
              {m.name} ({m.modality}
              {m.production ? `, production ${m.production.version}` : ''})
            </option>
          ))}
        </select>
        {row ? row.modality === 'image' ? <ImageForm key={model} /> : <TabularForm key={model} model={model} /> : null}
      </Card>
      {row?.modality !== 'image' && data.models.some((m) => m.modality === 'image') ? <ImageHint /> : null}
    </div>
  );
}

function ImageHint() {
  return (
    <Card title="Chest X-ray">
      <p class="small">
        Upload a chest X-ray (PNG, JPEG, TIFF or DICOM) to the image model the server serves at <code>/predict</code>. DICOM files are de-identified; only acquisition facts are kept with the
        prediction.
      </p>
      <ImageForm />
    </Card>
  );
}

function Result(props: { result: PredictionResult | null; error: string | null }) {
  if (props.error)
    return (
      <p class="error" role="alert">
        {props.error}
      </p>
    );
  const r = props.result;
  if (!r) return null;
  const probs = Object.entries(r.probabilities ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <section class="result" aria-live="polite" aria-label="prediction result">
      <p class="prediction">
        <span class="muted">Prediction</span> <strong data-testid="prediction">{String(r.prediction)}</strong>
        {r.confidence !== null && r.confidence !== undefined ? <span class="muted"> · confidence {pct(r.confidence, 1)}</span> : null}
      </p>
      {probs.length ? (
        <ul class="bars" aria-label="probabilities">
          {probs.map(([label, p]) => (
            <li key={label}>
              <span class="bar-label">{label}</span>
              <span class="bar" aria-hidden="true">
                <span style={{ width: `${Math.max(0, Math.min(1, p)) * 100}%` }} />
              </span>
              <span class="bar-value">{pct(p, 1)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      <p class="small muted">
        answered by {r.model ? <a href={href('models', r.model)}>{r.model}</a> : 'the served model'} {r.model_version}
        {r.variant ? ` (${r.variant})` : ''} in {ms(r.processing_time_ms)}
        {r.prediction_id ? ` · id ${r.prediction_id}` : ''}
      </p>
    </section>
  );
}

function TabularForm(props: { model: string }) {
  const [spec, setSpec] = useState<FeatureSpec[] | null>(null);
  const [kind, setKind] = useState<string>('tabular');
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<PredictionResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [hints, setHints] = useState<InputForm['hints']>({});
  useEffect(() => {
    api<InputForm>(`/api/v1/dashboard/models/${encodeURIComponent(props.model)}/input-form`)
      .then((form) => {
        setKind(form.input_spec.kind);
        if (form.input_spec.kind !== 'tabular') return;
        const features = (form.input_spec as { features: FeatureSpec[] }).features;
        setSpec(features);
        setHints(form.hints);
        // Start from the training data's typical patient (mean, or most frequent category), ready to edit.
        setValues(Object.fromEntries(features.map((f) => [f.name, initial(f, form.hints[f.name])])));
      })
      .catch((err) => setError((err as Error).message));
  }, [props.model]);
  if (kind !== 'tabular') return <p class="muted">This model takes {kind} input.</p>;
  if (!spec) return <Loading what="the input spec" error={error} />;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const features = Object.fromEntries(
        spec.map((f) => [f.name, f.type === 'category' ? values[f.name] : f.type === 'boolean' ? values[f.name] === 'true' : values[f.name] === '' ? null : Number(values[f.name])]),
      );
      setResult(await api<PredictionResult>('/api/v1/ml-models/predict', { method: 'POST', json: { model: props.model, features } }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} class="predict-form" aria-label={`features of ${props.model}`}>
      <div class="fields">
        {spec.map((f) => (
          <div class="field" key={f.name}>
            <label for={`f-${f.name}`}>{f.name}</label>
            {f.type === 'category' ? (
              <select id={`f-${f.name}`} value={values[f.name]} onChange={(e) => setValues({ ...values, [f.name]: (e.target as HTMLSelectElement).value })}>
                {(f.categories ?? hints[f.name]?.categories ?? []).map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            ) : f.type === 'boolean' ? (
              <select id={`f-${f.name}`} value={values[f.name]} onChange={(e) => setValues({ ...values, [f.name]: (e.target as HTMLSelectElement).value })}>
                <option>true</option>
                <option>false</option>
              </select>
            ) : (
              <input
                id={`f-${f.name}`}
                type="number"
                step="any"
                required={f.required !== false}
                value={values[f.name]}
                aria-describedby={`h-${f.name}`}
                onInput={(e) => setValues({ ...values, [f.name]: (e.target as HTMLInputElement).value })}
              />
            )}
            <span class="hint" id={`h-${f.name}`}>
              {rangeHint(f, hints[f.name])}
            </span>
          </div>
        ))}
      </div>
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Predicting…' : 'Predict'}
      </button>
      <Result result={result} error={error} />
    </form>
  );
}

interface Hint {
  type: 'numeric' | 'categorical';
  mean?: number;
  min?: number;
  max?: number;
  p05?: number;
  p95?: number;
  categories?: string[];
}
interface InputForm {
  model: string;
  version: string;
  input_spec: InputSpec;
  labels: string[];
  hints: Record<string, Hint>;
}

const short = (x: number) => String(+x.toPrecision(4));

function initial(f: FeatureSpec, h: Hint | undefined): string {
  if (f.type === 'category') return f.categories?.[0] ?? h?.categories?.[0] ?? '';
  if (f.type === 'boolean') return 'false';
  if (h?.mean !== undefined) return short(f.type === 'integer' ? Math.round(h.mean) : h.mean);
  if (f.min !== undefined && f.max !== undefined) return short((f.min + f.max) / 2);
  return '';
}

function rangeHint(f: FeatureSpec, h: Hint | undefined): string {
  if (h?.p05 !== undefined && h.p95 !== undefined) return `typical ${short(h.p05)} – ${short(h.p95)}`;
  if (f.min !== undefined && f.max !== undefined) return `${short(f.min)} – ${short(f.max)}`;
  return f.description ?? '';
}

/** What the prediction log kept about an image: never pixels or identifiers, only these facts. */
const FACTS = ['format', 'width', 'height', 'channels', 'modality', 'manufacturer', 'device_model', 'view_position', 'body_part', 'kvp', 'patient_age_band', 'patient_sex'];

function ImageFacts(props: { facts: Record<string, unknown> }) {
  const rows = FACTS.filter((k) => props.facts[k] !== undefined && props.facts[k] !== null);
  if (!rows.length) return null;
  return (
    <dl class="facts" aria-label="image facts kept with the prediction (de-identified)">
      {rows.map((k) => (
        <div key={k}>
          <dt>{k.replace(/_/g, ' ')}</dt>
          <dd>{String(props.facts[k])}</dd>
        </div>
      ))}
    </dl>
  );
}

function ImageForm() {
  const [facts, setFacts] = useState<Record<string, unknown> | null>(null);
  const [result, setResult] = useState<PredictionResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0];
    if (!file) return setError('Choose an image file first.');
    const body = new FormData();
    body.append('file', file);
    setBusy(true);
    setError(null);
    try {
      setFacts(null);
      const { data, headers } = await apiResponse<PredictionResult>('/predict', { method: 'POST', body });
      const id = headers.get('x-prediction-id');
      setResult({ ...data, ...(id ? { prediction_id: id } : {}) });
      // The logged row's facts (DICOM: de-identified acquisition facts); needs predictions:read.
      if (id) {
        const logged = await api<{ input?: { image?: Record<string, unknown> } }>(`/api/v1/predictions/${encodeURIComponent(id)}`).catch(() => null);
        if (logged?.input?.image) setFacts(logged.input.image);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} class="predict-form" aria-label="image upload">
      <label for="xray-file">Image file</label>
      <input id="xray-file" name="file" type="file" accept=".png,.jpg,.jpeg,.tif,.tiff,.dcm,image/png,image/jpeg,image/tiff,application/dicom" />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Classifying…' : 'Classify image'}
      </button>
      <Result result={result} error={error} />
      {facts ? <ImageFacts facts={facts} /> : null}
    </form>
  );
}
