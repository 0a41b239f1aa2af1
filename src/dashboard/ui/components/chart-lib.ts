import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { ChartSpec } from './chart.tsx';

// Only what the dashboard draws: bars (stacked or horizontal) and lines on category axes.
Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend, Tooltip);

/** Draws a chart into a canvas; its sizes follow the canvas's box (CSS), never inline styles of ours. */
export function draw(canvas: HTMLCanvasElement, spec: ChartSpec): { destroy(): void } {
  const horizontal = spec.kind === 'hbar';
  return new Chart(canvas, {
    type: spec.kind === 'line' ? 'line' : 'bar',
    data: {
      labels: spec.labels,
      datasets: spec.series.map((s) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.color,
        borderColor: s.color,
        borderWidth: spec.kind === 'line' ? 2 : 0,
        pointRadius: 0,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: horizontal ? 'y' : 'x',
      plugins: { legend: { display: spec.series.length > 1, position: 'bottom' } },
      scales: {
        x: {
          stacked: spec.stacked ?? false,
          ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: horizontal ? 6 : 8 },
          ...(horizontal ? { beginAtZero: true } : {}),
        },
        y: { stacked: spec.stacked ?? false, ...(horizontal ? {} : { beginAtZero: true, ticks: { precision: 0 } }) },
      },
    },
  });
}
