/**
 * A live time-series chart (uPlot on a canvas) in a panel, with its own
 * legend that shows each series' current value, and optional Warn/Error
 * threshold lines.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatClock } from "../format.ts";
import type { ChartData, Threshold } from "../state.ts";
import { CHART, LEVELS, seriesStyle } from "../theme.ts";
import { Panel } from "./panel.tsx";

/** Props of {@link TimeChart}. */
export interface TimeChartProps {
  /** `data-testid` of the panel (`chart-…`). */
  testId: string;
  title: string;
  subtitle?: string;
  data: ChartData;
  /** Formats legend values. */
  format: (v: number | null) => string;
  /** Formats y-axis labels (default: `format`). */
  axisFormat?: (v: number) => string;
  /** Draws Warn and Error lines when they are within the visible range. */
  threshold?: Threshold;
  /** Shown when there is no series yet. */
  empty: string;
  height?: number;
}

function thresholdHook(threshold: Threshold) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const max = u.scales.y.max ?? 0;
    for (const [value, level] of [[threshold.Warn, "warn"], [threshold.Error, "error"]] as const) {
      if (value > max) continue;
      const y = Math.round(u.valToPos(value, "y", true));
      ctx.save();
      ctx.strokeStyle = LEVELS[level].color;
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
      const px = devicePixelRatio;
      const label = `${LEVELS[level].text} ${value} s`;
      ctx.font = `600 ${11 * px}px system-ui, sans-serif`;
      ctx.textAlign = "right";
      ctx.textBaseline = "bottom";
      const right = u.bbox.left + u.bbox.width - 4 * px;
      const w = ctx.measureText(label).width;
      ctx.fillStyle = CHART.background;
      ctx.fillRect(right - w - 4 * px, y - 16 * px, w + 8 * px, 14 * px);
      ctx.fillStyle = LEVELS[level].color;
      ctx.fillText(label, right, y - 3 * px);
      ctx.restore();
    }
  };
}

/** Whether a series has at most two values in view (uPlot then draws no visible line). */
function sparse(u: uPlot, seriesIdx: number, idx0: number, idx1: number): boolean {
  const values = u.data[seriesIdx];
  let n = 0;
  for (let i = idx0; i <= idx1 && n <= 2; i++) {
    if (values[i] !== null && values[i] !== undefined) n++;
  }
  return n <= 2;
}

function options(p: TimeChartProps, width: number, height: number): uPlot.Options {
  const yFormat = p.axisFormat ?? p.format;
  const yValues = (_u: uPlot, splits: number[]) => splits.map((v) => yFormat(v));
  const xValues = (_u: uPlot, splits: number[]) => splits.map((v) => formatClock(v));
  const thresholdMax = p.threshold ? p.threshold.Error * 1.1 : 0;
  return {
    width,
    height,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    scales: {
      x: { time: true },
      y: {
        range: (_u, _min, max) => {
          const top = Math.max(max ?? 0, 0) * 1.15;
          // show the Warn line once the data gets within reach of it
          if (p.threshold && top >= p.threshold.Warn * 0.5) {
            return [0, Math.max(top, thresholdMax)];
          }
          return [0, top > 0 ? top : 1];
        },
      },
    },
    axes: [
      {
        stroke: CHART.axis,
        font: CHART.font,
        space: 72,
        grid: { stroke: CHART.grid, width: 1 },
        ticks: { stroke: CHART.grid, width: 1 },
        values: xValues,
      },
      {
        stroke: CHART.axis,
        font: CHART.font,
        size: 60,
        grid: { stroke: CHART.grid, width: 1 },
        ticks: { stroke: CHART.grid, width: 1 },
        values: yValues,
      },
    ],
    series: [
      {},
      ...p.data.series.map((s, i) => {
        const st = seriesStyle(i);
        return {
          label: s.label,
          stroke: st.color,
          dash: st.dash,
          width: 2,
          spanGaps: true,
          // lines hide single points: mark them while a series has too few to draw a line
          points: { show: sparse, size: 6, fill: st.color },
          value: (_u: uPlot, v: number | null) => p.format(v),
        };
      }),
    ],
    hooks: p.threshold ? { draw: [thresholdHook(p.threshold)] } : {},
  };
}

function aligned(data: ChartData): uPlot.AlignedData {
  return [data.x, ...data.series.map((s) => s.values)] as uPlot.AlignedData;
}

/** A live chart with legend. */
export function TimeChart(p: TimeChartProps): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const height = p.height ?? 200;
  // the chart is rebuilt when its set of series changes; otherwise only its data is replaced
  const shape = p.data.series.map((s) => s.key).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el || p.data.series.length === 0) return;
    const u = new uPlot(options(p, Math.max(el.clientWidth, 200), height), aligned(p.data), el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(el.clientWidth, 200);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(aligned(p.data));
  }, [p.data]);

  const lastSum = p.data.series.reduce((n, s) => n + (s.last ?? 0), 0);
  return (
    <Panel testId={p.testId} title={p.title} subtitle={p.subtitle} class="chart-panel">
      <div
        class="chart-box"
        ref={box}
        style={{ height: `${height}px` }}
        data-points={p.data.x.length}
        data-series={p.data.series.length}
        data-last-sum={lastSum}
      >
        {p.data.series.length === 0 && <div class="chart-empty">{p.empty}</div>}
      </div>
      <ul class="legend" aria-label={`${p.title}: current values`}>
        {p.data.series.map((s, i) => {
          const st = seriesStyle(i);
          return (
            <li key={s.key} data-testid="legend-item">
              <svg width="22" height="10" aria-hidden="true">
                <line
                  x1="1"
                  y1="5"
                  x2="21"
                  y2="5"
                  stroke={st.color}
                  stroke-width="2.5"
                  stroke-dasharray={st.dash?.join(" ")}
                />
              </svg>
              <span class="legend-label">{s.label}</span>
              <span class="legend-value" data-testid="legend-value" data-value={s.last ?? ""}>
                {p.format(s.last)}
              </span>
            </li>
          );
        })}
      </ul>
    </Panel>
  );
}
