/** A uPlot time chart of one or more series; the canvas carries a text summary for screen readers. */
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

export interface Line {
  label: string;
  values: Array<number | null>;
  color: string;
  unit?: string;
}

export function TimeChart(props: { title: string; times: string[]; lines: Line[]; height?: number; summary: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | undefined;
    let cancelled = false;
    const resize = () => el.current && plot?.setSize({ width: Math.max(280, el.current.clientWidth), height: props.height ?? 180 });
    void import('./uplot-chunk').then(({ default: UPlot }) => {
      if (cancelled || !el.current) return;
      plot = draw(UPlot, el.current);
      addEventListener('resize', resize);
    });
    return () => {
      cancelled = true;
      removeEventListener('resize', resize);
      plot?.destroy();
    };
  }, [props.times, props.lines]);
  const draw = (UPlot: typeof uPlot, target: HTMLDivElement) => {
    const xs = props.times.map((t) => Date.parse(t) / 1000);
    return new UPlot(
      {
        width: Math.max(280, target.clientWidth || 480),
        height: props.height ?? 180,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          ...props.lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '—' : `${+v.toFixed(3)}${l.unit ?? ''}`) })),
        ],
        axes: [{ stroke: '#4a5568' }, { stroke: '#4a5568', size: 56 }],
      },
      [xs, ...props.lines.map((l) => l.values)] as uPlot.AlignedData,
      target,
    );
  };
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={el} role="img" aria-label={`${props.title}: ${props.summary}`} />
    </figure>
  );
}
