// Daily figures over the raw readings, hot and archived (GET /buildings/:b/historical).
import { api } from "./api";
import { fillTable } from "./dom";
import type { HistoricalPoint } from "./iot-types";

const DAY = 86_400_000;

export async function loadHistory(building: string, table: HTMLTableElement) {
  const end = Date.now();
  const q = new URLSearchParams({ start: String(end - 8 * DAY), end: String(end) });
  const { data } = await api<{ data: HistoricalPoint[] }>(
    `/buildings/${encodeURIComponent(building)}/historical?${q}`,
  );
  fillTable(
    table,
    ["day", "sensor", "avg", "min", "max", "readings"],
    data.map((p) => [p.day, p.sensorId, Math.round(p.avg), p.min, p.max, p.count]),
  );
}
