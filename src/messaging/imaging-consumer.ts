/**
 * Consumes `imaging_data`: fetches the image the message carries or points to, runs the image model
 * (recorded in the prediction log like any other prediction) and publishes the result on
 * `imaging_results` through the outbox, keyed by study.
 *
 * A redelivered message runs the model again; its result carries `source_message_id` so downstream
 * consumers can drop the duplicate.
 */
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { type StudyIdentifiers, identifiersFromStudyId } from '../multimodal/index.js';
import type { BusMessage } from './bus.js';
import { PermanentMessageError } from './bus.js';
import { type ImagingDataMessage, imagingDataMessage, parseMessage } from './message-schemas.js';
import type { Executor, Outbox } from './outbox.js';

/** The slice of the serving layer this consumer needs (Predictor satisfies it). */
export interface ImagePredictor {
  serve(ref: string): Promise<unknown>;
  serveDefault(): Promise<unknown>;
  predictImages(served: never, images: Uint8Array[], ctx?: { requestId?: string; study?: StudyIdentifiers }): Promise<object[]>;
}

export interface ImagingConsumerOptions {
  predictor: ImagePredictor;
  outbox: Outbox;
  db: Executor;
  maxImageBytes: number;
  /** where `image_path` may point (unset: image_path is refused) */
  imageDir?: string;
  fetchTimeoutMs?: number;
  /** FETCH_ALLOWED_HOSTS: the only hosts an image_url may name (empty: image_url is refused) */
  fetchAllowedHosts?: string[];
}

export function imagingConsumer(options: ImagingConsumerOptions) {
  return async (payload: unknown, message: BusMessage): Promise<void> => {
    const m = parseMessage(imagingDataMessage, payload);
    const bytes = await loadImage(m, options);
    const served = m.model ? await options.predictor.serve(m.model) : await options.predictor.serveDefault();
    // study_id links a later report to this prediction when the image itself does not carry the study
    const [result] = await options.predictor.predictImages(served as never, [bytes], { requestId: `message:${message.id}`, study: identifiersFromStudyId(m.study_id) });
    await options.outbox.enqueueEvent(
      options.db,
      'imaging_results',
      'imaging.prediction',
      {
        source_message_id: message.id,
        study_id: m.study_id ?? null,
        patient_id: m.patient_id ?? null,
        ...result,
      },
      { key: m.study_id ?? m.patient_id ?? null },
    );
  };
}

async function loadImage(m: ImagingDataMessage, o: ImagingConsumerOptions): Promise<Uint8Array> {
  let bytes: Uint8Array;
  if (m.image_base64 !== undefined) {
    const text = m.image_base64.replace(/^data:[^;]+;base64,/, '');
    if (!/^[A-Za-z0-9+/=\s_-]+$/.test(text)) throw new PermanentMessageError('image_base64 is not base64');
    bytes = Buffer.from(text, 'base64');
  } else if (m.image_url !== undefined) {
    bytes = await download(checkFetchable(m.image_url, o.fetchAllowedHosts ?? []), o.maxImageBytes, o.fetchTimeoutMs ?? 15_000);
  } else {
    if (!o.imageDir) throw new PermanentMessageError('image_path is not accepted: set MESSAGING_IMAGE_DIR to the folder images may be read from');
    const root = resolve(o.imageDir);
    const given = resolve(root, m.image_path!);
    // after symlinks: a link inside the folder may not lead out of it
    const file = await realpath(given).catch(() => given);
    const rel = relative(await realpath(root).catch(() => root), file);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new PermanentMessageError(`image_path "${m.image_path}" is outside MESSAGING_IMAGE_DIR`);
    bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? new PermanentMessageError(`image_path "${m.image_path}" does not exist`) : err;
    });
  }
  if (bytes.byteLength > o.maxImageBytes) throw new PermanentMessageError(`the image is ${bytes.byteLength} bytes; MAX_IMAGE_SIZE_MB allows ${o.maxImageBytes}`);
  return bytes;
}

/** An image_url is fetched only from a host the operator listed (no SSRF to loopback, metadata services, …). */
export function checkFetchable(url: string, allowedHosts: string[]): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PermanentMessageError('image_url is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new PermanentMessageError(`image_url: ${parsed.protocol} URLs are not fetched`);
  if (!allowedHosts.length) throw new PermanentMessageError('image_url is not fetched: list the image hosts in FETCH_ALLOWED_HOSTS, or send image_base64');
  const host = parsed.hostname.toLowerCase();
  if (!allowedHosts.some((h) => h.toLowerCase() === host)) throw new PermanentMessageError(`image_url: host ${host} is not in FETCH_ALLOWED_HOSTS`);
  return parsed.href;
}

async function download(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  // no redirects: a listed host could otherwise send the fetch anywhere
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  // 4xx will not change on retry; 5xx and network errors may.
  if (res.status >= 400 && res.status < 500) throw new PermanentMessageError(`image_url answered ${res.status}`);
  if (!res.ok) throw new Error(`image_url answered ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new PermanentMessageError(`image_url is ${declared} bytes; MAX_IMAGE_SIZE_MB allows ${maxBytes}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new PermanentMessageError(`image_url is larger than MAX_IMAGE_SIZE_MB allows (${maxBytes} bytes)`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
