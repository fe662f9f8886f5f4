/**
 * Reads data for `vitals drift`: CSV (header row), JSON lines, or a folder of images (one row of
 * image statistics per file), as rows of named values.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseCsv } from '../pipelines/trainers/dataset.js';
import { asNumber, isMissingValue } from '../stats/reference-profile.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff']);

export async function readRows(path: string): Promise<Array<Record<string, unknown>>> {
  if ((await stat(path)).isDirectory()) return readImageFolder(path);
  const text = await readFile(path, 'utf8');
  if (/\.jsonl?$|\.ndjson$/i.test(path)) {
    return text
      .split(/\r?\n/)
      .filter((l) => l.trim())
      .map((l, i) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`${path}:${i + 1}: not a JSON object`);
        }
      });
  }
  const csv = parseCsv(text);
  return csv.rows.map((r) =>
    Object.fromEntries(
      csv.columns.map((c, j) => {
        // the same reading as the API's: "", "nan", "NA" are missing; "inf" / "-Infinity" are numbers
        const v = r[j] ?? '';
        if (isMissingValue(v)) return [c, null];
        const n = asNumber(v);
        return [c, n ?? v];
      }),
    ),
  );
}

async function readImageFolder(dir: string): Promise<Array<Record<string, unknown>>> {
  const files = (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  const spec = { kind: 'image' as const, width: 64, height: 64, channels: 1 as const, mean: [0], std: [1], layout: 'NCHW' as const };
  // sharp (libvips) only when there are images: `vitals drift` on CSVs starts without it.
  const { encodeImage } = await import('../serving/image-input.js');
  const rows = [];
  for (const f of files) {
    const { facts } = await encodeImage(await readFile(join(dir, f)), spec, ['png', 'jpg', 'jpeg', 'tiff', 'tif']);
    rows.push({
      'image.width': facts.width,
      'image.height': facts.height,
      'image.format': facts.format,
      'image.channels': String(facts.channels),
      'image.intensity_mean': facts.intensity_mean,
      'image.intensity_std': facts.intensity_std,
    });
  }
  return rows;
}
