/**
 * Stage order: a stage runs after every stage whose outs (metrics, plots) it depends on (a dep equal to an out, or
 * inside an out folder). Kahn's algorithm, keeping the file's order among independent stages.
 */
import { normalize } from 'node:path';
import { validationFailed } from '../errors.js';
import type { StageSpec } from './pipeline-spec.js';

const norm = (p: string) => normalize(p).replace(/\/+$/, '');
const within = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** The stages in an order that respects dependencies; `targets` limits the run to them and their upstream stages. */
export function orderStages(stages: StageSpec[], targets?: string[]): StageSpec[] {
  const producers = new Map<string, string>();
  for (const s of stages) {
    for (const o of [...new Set([...s.outs, ...(s.metrics ?? []), ...(s.plots ?? [])])]) {
      const out = norm(`${s.wdir}/${o}`);
      const other = producers.get(out);
      if (other) throw validationFailed([{ field: `stages.${s.name}.outs`, message: `${o} is also an out of stage ${other}` }], 'invalid pipeline definition');
      producers.set(out, s.name);
    }
  }
  const upstream = new Map<string, Set<string>>();
  for (const s of stages) {
    const ups = new Set<string>();
    for (const d of s.deps) {
      const dep = norm(`${s.wdir}/${d}`);
      for (const [out, producer] of producers) if (producer !== s.name && (within(dep, out) || within(out, dep))) ups.add(producer);
    }
    upstream.set(s.name, ups);
  }
  let wanted = new Set(stages.map((s) => s.name));
  if (targets?.length) {
    wanted = new Set();
    const visit = (name: string) => {
      if (wanted.has(name)) return;
      if (!upstream.has(name)) throw validationFailed([{ field: 'stages', message: `no stage named "${name}"` }], 'unknown stage');
      wanted.add(name);
      for (const u of upstream.get(name)!) visit(u);
    };
    targets.forEach(visit);
  }
  const order: StageSpec[] = [];
  const done = new Set<string>();
  const pending = stages.filter((s) => wanted.has(s.name));
  while (pending.length) {
    const i = pending.findIndex((s) => [...upstream.get(s.name)!].every((u) => done.has(u) || !wanted.has(u)));
    if (i < 0) throw validationFailed([{ field: 'stages', message: `dependency cycle among ${pending.map((s) => s.name).join(', ')}` }], 'invalid pipeline definition');
    const [s] = pending.splice(i, 1);
    order.push(s!);
    done.add(s!.name);
  }
  return order;
}
