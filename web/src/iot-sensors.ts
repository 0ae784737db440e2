// The page as a gateway: readings of three CO₂ sensors sent to POST /buildings/:b/ingest-batch.
import { api } from "./api";
import type { IngestResult } from "./iot-types";

export const SENSORS = ["r-101", "r-102", "r-103"];
const MINUTE = 60_000;

/** A plausible CO₂ level (ppm) of sensor `i` at time `t`: a slow wave per room, a little noise. */
const level = (i: number, t: number) =>
  Math.round(650 + 120 * Math.sin(t / (17 * MINUTE) + i * 2) + 40 * i + Math.random() * 30);

const reading = (sensorId: string, value: number, timestamp: number) => ({
  sensorId,
  sensorType: "co2",
  value,
  unit: "ppm",
  timestamp,
});

export const send = (building: string, readings: ReturnType<typeof reading>[]) =>
  api<IngestResult>(`/buildings/${encodeURIComponent(building)}/ingest-batch`, { readings });

/** The last hour, four readings a minute per sensor (720 readings, one batch, one transaction). */
export function lastHour(now = Date.now()) {
  const out: ReturnType<typeof reading>[] = [];
  for (let t = now - 60 * MINUTE; t < now; t += MINUTE / 4)
    for (const [i, s] of SENSORS.entries()) out.push(reading(s, level(i, t), Math.round(t)));
  return out;
}

/** Six past days, one reading an hour per sensor (144 each), ending a day ago (past the raw retention). */
export function pastDays(now = Date.now()) {
  const out: ReturnType<typeof reading>[] = [];
  for (let t = now - 7 * 24 * 60 * MINUTE; t < now - 24 * 60 * MINUTE; t += 60 * MINUTE)
    for (const [i, s] of SENSORS.entries()) out.push(reading(s, level(i, t), Math.round(t)));
  return out;
}

/** One reading per sensor now. */
export const current = (now = Date.now()) => SENSORS.map((s, i) => reading(s, level(i, now), now));

export const spike = (value: number, now = Date.now()) => [reading("r-101", value, now)];
