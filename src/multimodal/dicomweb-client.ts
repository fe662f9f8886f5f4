/**
 * A small DICOMweb client for the PACS path: QIDO-RS to find instances, WADO-RS to retrieve them
 * (multipart/related, application/dicom). `fetch` is passed in; responses are read with a byte cap;
 * errors name the server but never a query (queries may carry identifiers).
 */
import { VitalsError } from '../errors.js';
import { boundaryOf, parseMultipartRelated } from './multipart-related.js';

export interface DicomwebOptions {
  baseUrl: string;
  /** sent as `Authorization: Bearer …` when set */
  token?: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** most bytes read from one response */
  maxResponseBytes: number;
}

export interface InstanceRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

export interface InstanceQuery {
  StudyInstanceUID?: string;
  SeriesInstanceUID?: string;
  Modality?: string;
  StudyDate?: string;
  limit?: number;
}

type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

export class DicomwebClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: DicomwebOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  private get server(): string {
    try {
      return new URL(this.base).host;
    } catch {
      return 'the DICOMweb server';
    }
  }

  private async get(path: string, accept: string): Promise<{ body: Uint8Array; contentType: string }> {
    let res: Response;
    try {
      res = await this.doFetch(`${this.base}${path}`, {
        headers: { accept, ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}) },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new VitalsError('UPSTREAM_FAILED', `DICOMweb server ${this.server} is not reachable (${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message})`);
    }
    if (res.status === 204) return { body: new Uint8Array(0), contentType: res.headers.get('content-type') ?? '' };
    if (!res.ok) {
      await res.body?.cancel();
      throw new VitalsError(res.status === 404 ? 'NOT_FOUND' : 'UPSTREAM_FAILED', `DICOMweb server ${this.server} answered ${res.status} ${res.statusText}`);
    }
    return { body: await readCapped(res, this.options.maxResponseBytes), contentType: res.headers.get('content-type') ?? '' };
  }

  /** QIDO-RS SearchForInstances. */
  async searchInstances(q: InstanceQuery): Promise<InstanceRef[]> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') params.set(k, String(v));
    const path = q.StudyInstanceUID ? `/studies/${encodeURIComponent(q.StudyInstanceUID)}/instances` : '/instances';
    if (q.StudyInstanceUID) params.delete('StudyInstanceUID');
    const { body } = await this.get(`${path}?${params}`, 'application/dicom+json');
    if (body.length === 0) return [];
    let json: DicomJson[];
    try {
      json = JSON.parse(new TextDecoder().decode(body)) as DicomJson[];
    } catch {
      throw new VitalsError('UPSTREAM_FAILED', `DICOMweb server ${this.server} sent a search result that is not DICOM JSON`);
    }
    const str = (d: DicomJson, tag: string) => (d[tag]?.Value?.[0] as string | undefined) ?? '';
    return json
      .map((d) => ({ studyInstanceUid: str(d, '0020000D'), seriesInstanceUid: str(d, '0020000E'), sopInstanceUid: str(d, '00080018') }))
      .filter((r) => r.studyInstanceUid && r.seriesInstanceUid && r.sopInstanceUid);
  }

  /** WADO-RS RetrieveInstance: the Part 10 bytes of one instance, as stored (any transfer syntax). */
  async retrieveInstance(ref: InstanceRef): Promise<Uint8Array> {
    const path = `/studies/${encodeURIComponent(ref.studyInstanceUid)}/series/${encodeURIComponent(ref.seriesInstanceUid)}/instances/${encodeURIComponent(ref.sopInstanceUid)}`;
    const { body, contentType } = await this.get(path, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    const boundary = boundaryOf(contentType);
    if (!boundary) throw new VitalsError('UPSTREAM_FAILED', `DICOMweb server ${this.server} sent ${contentType || 'no content type'} instead of multipart/related`);
    const parts = parseMultipartRelated(body, boundary);
    if (parts.length === 0) throw new VitalsError('UPSTREAM_FAILED', `DICOMweb server ${this.server} sent an empty multipart response`);
    return parts[0]!.body;
  }
}

async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new VitalsError('PAYLOAD_TOO_LARGE', `the DICOMweb response is ${(declared / 1024 ** 2).toFixed(1)} MB; the limit is ${(max / 1024 ** 2).toFixed(1)} MB`);
  }
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      throw new VitalsError('PAYLOAD_TOO_LARGE', `the DICOMweb response exceeds ${(max / 1024 ** 2).toFixed(1)} MB`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}
