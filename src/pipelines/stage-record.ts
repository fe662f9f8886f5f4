/** What is recorded for every stage of every run: status, logs, duration, artefacts, metrics, error. */
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cached' | 'waiting';

export interface StageRecord {
  name: string;
  kind: 'cmd' | 'builtin';
  status: StageStatus;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  /** the last lines of output; long logs keep their tail */
  logs: string[];
  artifacts: Record<string, unknown>;
  metrics: Record<string, number>;
  /** why it failed (or was skipped), in words */
  error: string | null;
}

export const MAX_LOG_LINES = 200;

export function newStageRecord(name: string, kind: StageRecord['kind']): StageRecord {
  return { name, kind, status: 'pending', started_at: null, finished_at: null, duration_ms: null, logs: [], artifacts: {}, metrics: {}, error: null };
}

export function appendLog(record: StageRecord, text: string): void {
  for (const line of text.split(/\r?\n/)) if (line.length) record.logs.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
  if (record.logs.length > MAX_LOG_LINES) record.logs.splice(0, record.logs.length - MAX_LOG_LINES, `… (earlier lines dropped)`);
}

/** Flattens a metrics document ({train: {loss: 0.1}} → {"train.loss": 0.1}), keeping numbers only. */
export function flattenMetrics(doc: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> {
  if (typeof doc === 'number' && Number.isFinite(doc) && prefix) out[prefix] = doc;
  else if (typeof doc === 'boolean' && prefix) out[prefix] = doc ? 1 : 0;
  else if (doc && typeof doc === 'object' && !Array.isArray(doc)) for (const [k, v] of Object.entries(doc)) flattenMetrics(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}
