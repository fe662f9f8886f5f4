/**
 * The shell blocks of a Markdown file, in order, with the marker comment that may precede each:
 *   <!-- not-run: why -->         not part of the walk-through (installs, deploys, long-running processes)
 *   <!-- server -->               starts Vitals: run in the background until the next server block
 *   <!-- expect-status: 422 -->   its requests answer that HTTP status on purpose
 */
export type BlockMarker = { kind: 'not-run'; reason: string } | { kind: 'server' } | { kind: 'expect-status'; status: number };

export interface ShellBlock {
  /** 1-based line of the opening fence */
  line: number;
  code: string;
  marker?: BlockMarker;
}

const FENCE = /^```(sh|bash|shell)\s*$/;
const MARKER = /^<!--\s*(not-run|server|expect-status)\s*(?::\s*(.*?))?\s*-->$/;

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`README line ${start + 1}: a shell block is never closed`);
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const m = before >= 0 ? MARKER.exec(lines[before]!.trim()) : null;
    let marker: BlockMarker | undefined;
    if (m?.[1] === 'not-run') {
      if (!m[2]) throw new Error(`README line ${before + 1}: <!-- not-run: … --> needs a reason`);
      marker = { kind: 'not-run', reason: m[2] };
    } else if (m?.[1] === 'server') marker = { kind: 'server' };
    else if (m?.[1] === 'expect-status') {
      const status = Number(m[2]);
      if (!Number.isInteger(status)) throw new Error(`README line ${before + 1}: <!-- expect-status: N --> needs an HTTP status`);
      marker = { kind: 'expect-status', status };
    }
    blocks.push({ line: start + 1, code: `${body.join('\n')}\n`, marker });
  }
  return blocks;
}
