// Open failures over time, one line per severity (colour, dash pattern and legend label each tell them apart).
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { SEVERITY_LABEL, SEVERITY_ORDER } from '../format.js';
import type { Severity, Trend } from '../types.js';

const DASH: Record<Severity, number[]> = { critical: [], high: [8, 3], medium: [2, 3], low: [10, 3, 2, 3], info: [1, 5] };

/**
 * A colour custom property as the canvas needs it: resolved through a real property, because a custom property reads
 * back as written (`light-dark(#e7eaee, #262b34)`), which a canvas does not understand and draws black.
 */
function cssVar(el: Element, name: string): string {
  const probe = document.createElement('span');
  probe.style.display = 'none';
  probe.style.color = `var(${name}, #888)`;
  el.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color || '#888';
}

export function TrendChart({ trend }: { trend: Trend }): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const shown = SEVERITY_ORDER.filter((s) => s !== 'info' || trend.points.some((p) => p.failing.info > 0));
    // An hour without a point (the collector was down) is a gap in the lines, not a slope across it.
    const step = trend.step === '1d' ? 86_400 : 3_600;
    const xs: number[] = [];
    const ys: Array<Array<number | null>> = shown.map(() => []);
    for (const p of trend.points) {
      const x = Date.parse(p.at) / 1000;
      const prev = xs[xs.length - 1];
      if (prev !== undefined && x - prev > 1.5 * step) {
        xs.push(prev + step);
        for (const y of ys) y.push(null);
      }
      xs.push(x);
      shown.forEach((s, i) => ys[i].push(p.failing[s] ?? 0));
    }
    const data: uPlot.AlignedData = [xs, ...ys];
    const axis = { stroke: cssVar(el, '--muted'), grid: { stroke: cssVar(el, '--grid'), width: 1 }, ticks: { stroke: cssVar(el, '--grid') } };
    let plot: uPlot | undefined;
    const make = (): void => {
      plot?.destroy();
      const width = Math.max(280, el.clientWidth);
      plot = new uPlot({
        width,
        height: width < 500 ? 180 : 220,
        cursor: { y: false, points: { size: 6 } },
        legend: { live: true },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
        axes: [axis, { ...axis, size: 44 }],
        series: [
          { label: 'Time' },
          ...shown.map((s) => ({
            label: SEVERITY_LABEL[s], stroke: cssVar(el, `--sev-${s}`), width: 2, dash: DASH[s], points: { show: false },
          })),
        ],
      }, data, el);
    };
    make();
    const ro = new ResizeObserver(() => {
      if (plot && Math.abs(plot.width - el.clientWidth) > 8) make();
    });
    ro.observe(el);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    const retheme = (): void => make();
    scheme.addEventListener('change', retheme);
    window.addEventListener('vigil-theme', retheme);
    return () => {
      ro.disconnect();
      scheme.removeEventListener('change', retheme);
      window.removeEventListener('vigil-theme', retheme);
      plot?.destroy();
    };
  }, [trend]);
  const last = trend.points[trend.points.length - 1];
  const total = last ? SEVERITY_ORDER.reduce((n, s) => n + (last.failing[s] ?? 0), 0) : 0;
  return (
    <figure class="trend">
      <div ref={host} class="trend-plot" role="img" aria-label={`Open failures per hour, ${trend.points.length} points; now ${total}`} />
      <figcaption class="sr-only">Open failing findings per severity, hourly, from {trend.from} to {trend.to}.</figcaption>
    </figure>
  );
}
