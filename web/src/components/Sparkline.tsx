/** A tiny SVG line of a series (nulls are gaps): the overview draws dozens, so no chart library here. */
export function Sparkline(props: { values: Array<number | null>; label: string; width?: number; height?: number; color?: string }) {
  const w = props.width ?? 96;
  const h = props.height ?? 24;
  const vs = props.values;
  const finite = vs.filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(...finite, 0);
  const min = Math.min(...finite, 0);
  const span = max - min || 1;
  const x = (i: number) => (vs.length <= 1 ? w / 2 : (i / (vs.length - 1)) * (w - 2) + 1);
  const y = (v: number) => h - 2 - ((v - min) / span) * (h - 4);
  let d = '';
  let pen = false;
  vs.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <line x1="0" x2={w} y1={h - 1} y2={h - 1} class="spark-base" />
      {d ? <path d={d} fill="none" stroke={props.color ?? 'currentColor'} stroke-width="1.5" /> : null}
    </svg>
  );
}
