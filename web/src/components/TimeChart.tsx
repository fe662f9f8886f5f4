/** A uPlot time chart of one or more series; the canvas carries a text summary for screen readers. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Line {
  label: string;
  values: Array<number | null>;
  color: string;
  unit?: string;
}

export function TimeChart(props: { title: string; times: string[]; lines: Line[]; height?: number; summary: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const xs = props.times.map((t) => Date.parse(t) / 1000);
    const plot = new uPlot(
      {
        width: Math.max(280, el.current.clientWidth || 480),
        height: props.height ?? 180,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [{}, ...props.lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${+v.toFixed(3)}${l.unit ?? ''}`) }))],
        axes: [{ stroke: '#4a5568' }, { stroke: '#4a5568', size: 56 }],
      },
      [xs, ...props.lines.map((l) => l.values)] as uPlot.AlignedData,
      el.current,
    );
    const resize = () => el.current && plot.setSize({ width: Math.max(280, el.current.clientWidth), height: props.height ?? 180 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [props.times, props.lines]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={el} role="img" aria-label={`${props.title}: ${props.summary}`} />
    </figure>
  );
}
