// The minute-aggregate chart: uPlot, one line per sensor (its average per minute), redrawn from
// GET /buildings/:b/query?sensor_type=co2&hours=1&granularity=minute.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api } from "./api";
import { SENSORS } from "./iot-sensors";
import type { AggregatePoint } from "./iot-types";

const COLORS = ["#2f5bd3", "#c2410c", "#0f766e"];
let plot: uPlot | undefined;

const size = (host: HTMLElement) => ({ width: Math.max(280, host.clientWidth), height: 220 });

function create(host: HTMLElement): uPlot {
  const opts: uPlot.Options = {
    ...size(host),
    scales: { x: { time: true } },
    axes: [{}, { label: "ppm", size: 50 }],
    series: [{}, ...SENSORS.map((s, i) => ({ label: s, stroke: COLORS[i], width: 2, spanGaps: true }))],
  };
  const made = new uPlot(opts, [[], ...SENSORS.map(() => [])], host);
  window.addEventListener("resize", () => made.setSize(size(host)));
  return made;
}

/** Minutes on the x axis (seconds, as uPlot wants), one series per sensor. */
export function toSeries(points: AggregatePoint[]): uPlot.AlignedData {
  const minutes = [...new Set(points.map((p) => Date.parse(p.timestamp)))].sort((a, b) => a - b);
  const at = new Map(minutes.map((m, i) => [m, i]));
  const series = SENSORS.map(() => minutes.map((): number | null => null));
  for (const p of points) {
    const s = SENSORS.indexOf(p.sensorId);
    if (s >= 0) series[s][at.get(Date.parse(p.timestamp)) as number] = Math.round(p.avg);
  }
  return [minutes.map((m) => m / 1000), ...series];
}

export async function refreshChart(host: HTMLElement, building: string) {
  const { data } = await api<{ data: AggregatePoint[] }>(
    `/buildings/${encodeURIComponent(building)}/query?sensor_type=co2&hours=1&granularity=minute`,
  );
  plot ??= create(host);
  const series = toSeries(data);
  plot.setData(series);
  host.dataset.points = String(series[0].length);
}
