/**
 * Reads data for `vitals drift`: CSV (header row), JSON lines, or a folder of images (one row of
 * image statistics per file), as rows of named values or as columns.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseCsv, parseCsvColumns } from '../pipelines/trainers/dataset.js';
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
  const { columns, rows } = parseCsv(text);
  return rows.map((r) => Object.fromEntries(columns.map((c, j) => [c, cellValue(r[j] ?? '')])));
}

/** A data set as columns: `names` in file order, each column `length` long. */
export interface DataColumns {
  names: string[];
  length: number;
  column(name: string): readonly unknown[];
}

/**
 * The data of `readRows`, as columns. A CSV is read straight into columns (what the drift
 * statistics use, and ≈ 4× faster than rows of objects on 10,000 × 50 cells); JSON lines and
 * image folders are read as rows and then looked up column by column. A column repeated in a CSV
 * header keeps its last values, as the rows do.
 */
export async function readColumns(path: string): Promise<DataColumns> {
  if (!(await stat(path)).isDirectory() && !/\.jsonl?$|\.ndjson$/i.test(path)) {
    const { columns, values } = parseCsvColumns(await readFile(path, 'utf8'), cellValue);
    const byName = new Map(columns.map((c, j) => [c, values[j]!]));
    return { names: [...byName.keys()], length: values[0]?.length ?? 0, column: (name) => byName.get(name) ?? [] };
  }
  const rows = await readRows(path);
  return { names: Object.keys(rows[0] ?? {}), length: rows.length, column: (name) => rows.map((r) => r[name]) };
}

/** The same reading as the API's: "", "nan", "NA" are missing; "inf" / "-Infinity" are numbers. */
function cellValue(v: string): unknown {
  // Fast path for a plain number ("-1.25", "3e4"): no token starts with a digit, "-" or ".".
  const c = v.charCodeAt(0);
  if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) {
    const n = Number(v);
    if (!Number.isNaN(n)) return n;
  }
  if (isMissingValue(v)) return null;
  return asNumber(v) ?? v;
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
