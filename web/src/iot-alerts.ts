// The alerts over the building's socket (`init { alerts }`, then `alert`, `alert-acknowledged`,
// `alert-resolved`), drawn as a table, newest first, with an acknowledge button on active ones.
import ReconnectingWebSocket from "partysocket/ws";
import { api } from "./api";
import type { Alert } from "./iot-types";

const alerts = new Map<number, Alert>();
let ws: ReconnectingWebSocket | undefined;

const clock = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "");

/** Open the socket once the building exists (before, the route answers 404). */
export function watchAlerts(building: string, table: HTMLTableElement, status: (s: string) => void) {
  if (ws) return;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/buildings/${encodeURIComponent(building)}/alerts/ws`;
  ws = new ReconnectingWebSocket(url, undefined, { maxEnqueuedMessages: 0 });
  ws.addEventListener("open", () => status("open"));
  ws.addEventListener("close", () => status("reconnecting"));
  ws.addEventListener("message", (e) => {
    const { type, data } = JSON.parse(String(e.data)) as { type: string; data: { alerts?: Alert[] } & Alert };
    if (type === "init") {
      alerts.clear();
      for (const a of data.alerts ?? []) alerts.set(a.id, a);
    } else if (type === "alert" || type === "alert-acknowledged" || type === "alert-resolved") {
      alerts.set(data.id, data);
    } else return;
    draw(building, table);
  });
}

function draw(building: string, table: HTMLTableElement) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of ["#", "sensor", "value", "over", "severity", "status", "raised", "resolved", ""])
    head.appendChild(document.createElement("th")).textContent = c;
  const body = table.createTBody();
  for (const a of [...alerts.values()].sort((x, y) => y.id - x.id)) {
    const tr = body.insertRow();
    tr.dataset.status = a.status;
    tr.className = `alert-${a.severity}`;
    const cells = [a.id, a.sensorId, a.triggerValue, a.thresholdValue, a.severity, a.status];
    for (const c of [...cells, clock(a.triggeredAt), clock(a.resolvedAt)])
      tr.insertCell().textContent = String(c);
    const cell = tr.insertCell();
    if (a.status === "ACTIVE") {
      const ack = cell.appendChild(document.createElement("button"));
      ack.type = "button";
      ack.className = "small";
      ack.textContent = "Acknowledge";
      ack.addEventListener("click", async () => {
        ack.disabled = true;
        await api(`/buildings/${encodeURIComponent(building)}/alerts/acknowledge`, {
          alertId: a.id,
          userId: "dashboard",
        }).catch((e) => {
          cell.textContent = String(e);
        });
      });
    }
  }
}
