/**
 * Looks for identifiers in files, in every form a stored message could carry them: the bytes as
 * written (DICOM is ASCII / ISO-IR), UTF-16LE, and base64 at each of the three byte alignments
 * (an image inside a JSON message is base64; only the characters that the string alone decides are
 * searched, so a hit is never an accident of the neighbouring bytes).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function needles(text: string): Array<{ form: string; bytes: Buffer }> {
  const raw = Buffer.from(text, 'latin1');
  const out = [
    { form: 'bytes', bytes: raw },
    { form: 'utf-16le', bytes: Buffer.from(text, 'utf16le') },
  ];
  for (let k = 0; k < 3; k++) {
    const b64 = Buffer.concat([Buffer.alloc(k), raw, Buffer.alloc(3)]).toString('base64');
    // character j holds bits [6j, 6j+6): keep those that lie inside the string's bits [8k, 8(k+n))
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * (k + raw.length)) / 6) - 1;
    out.push({ form: `base64+${k}`, bytes: Buffer.from(b64.slice(first, last + 1), 'latin1') });
  }
  return out;
}

/** Every regular file under `dir` (recursively). */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Where each string occurs, as "file: string (form)"; empty when none does. */
export function findLeaks(files: string[], strings: string[]): string[] {
  const hits: string[] = [];
  for (const f of files) {
    const content = readFileSync(f);
    for (const s of strings) for (const n of needles(s)) if (content.includes(n.bytes)) hits.push(`${f}: ${s} (${n.form})`);
  }
  return hits;
}
