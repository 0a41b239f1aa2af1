import { useEffect, useRef, useState } from 'preact/hooks';
import { ScrollBox } from './bits.tsx';

/** One chart: Chart.js (served from the install) draws it; a table under it says the same in words. */
export interface ChartSpec {
  kind: 'bar' | 'line' | 'hbar';
  labels: string[];
  series: Array<{ label: string; data: number[]; color: string }>;
  stacked?: boolean;
}

type ChartModule = typeof import('./chart-lib.ts');
let lib: Promise<ChartModule> | null = null;

/**
 * A chart with its data as a table (in a disclosure, for screen readers and for people who would
 * rather read). Chart.js is loaded the first time a chart is drawn, as a chunk of its own, so pages
 * without charts never load it.
 */
export function Chart({ title, spec, summary }: { title: string; spec: ChartSpec; summary: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let chart: { destroy(): void } | null = null;
    let cancelled = false;
    lib ??= import('./chart-lib.ts');
    lib.then(
      (m) => {
        if (!cancelled && canvas.current) {
          chart = m.draw(canvas.current, spec);
          performance.mark('stk-chart-drawn');
        }
      },
      () => setFailed(true),
    );
    return () => {
      cancelled = true;
      chart?.destroy();
    };
  }, [JSON.stringify(spec)]);
  return (
    <figure class="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      {failed ? <p class="error">The chart could not be drawn; the table below has its data.</p> : null}
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={`${title}: ${summary}`} />
      </div>
      <details>
        <summary>Data of this chart</summary>
        <ScrollBox label={`Data: ${title}`}>
          <table>
            <thead>
              <tr>
                <th scope="col">{spec.kind === 'hbar' ? 'Item' : 'Time'}</th>
                {spec.series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {spec.labels.map((l, i) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {spec.series.map((s) => (
                    <td key={s.label}>{s.data[i] ?? 0}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollBox>
      </details>
    </figure>
  );
}
