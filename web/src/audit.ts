// The sale SKU's audit log as a table, and a slider over its past: the figures at any moment
// since the first restock, read from the actor's change history (`state-at`).
import { ApiError, api } from "./api";
import { byId, fillTable, time } from "./dom";
import type { InventoryStatus, LogEntry } from "./inventory-types";

let range = { from: 0, to: 0 };
let sku = "";
let pending: ReturnType<typeof setTimeout> | undefined;

export async function loadLog(forSku: string) {
  sku = forSku;
  const { history } = await api<{ history: LogEntry[] }>(`/inventory/${sku}/history?limit=1000`);
  fillTable(
    byId<HTMLTableElement>("log-table"),
    ["#", "time", "operation", "qty", "order", "available", "reserved", "sold"],
    history.map((h) => [
      h.id,
      time(h.timestamp),
      h.operation,
      h.quantity,
      h.referenceId,
      `${h.availableBefore} → ${h.availableAfter}`,
      `${h.reservedBefore} → ${h.reservedAfter}`,
      `${h.soldBefore} → ${h.soldAfter}`,
    ]),
  );
  const first = history.at(-1);
  if (!first) return;
  range = { from: Date.parse(first.timestamp), to: Date.now() };
  const slider = byId<HTMLInputElement>("when");
  slider.dataset.from = String(range.from);
  slider.dataset.to = String(range.to);
  slider.disabled = false;
  slider.value = slider.max;
  await showAt();
}

/** The figures at the slider's moment (debounced while it moves). */
export function slide() {
  clearTimeout(pending);
  pending = setTimeout(
    () =>
      showAt().catch((e) => {
        byId("when-label").textContent = String(e);
      }),
    120,
  );
}

async function showAt() {
  const slider = byId<HTMLInputElement>("when");
  const share = Number(slider.value) / Number(slider.max);
  const at = Math.round(range.from + share * (range.to - range.from));
  byId("when-label").textContent = new Date(at).toLocaleTimeString([], { hour12: false });
  const figures = ["available", "reserved", "sold"] as const;
  try {
    const then = await api<InventoryStatus>(`/inventory/${sku}/state-at?timestamp=${at}`);
    for (const key of figures) byId(`at-${key}`).textContent = String(then[key]);
  } catch (e) {
    // Before the first restock there was no stock (the history's commit of that restock can be
    // a millisecond after its log entry's time).
    if (!(e instanceof ApiError && e.code === "SKU_NOT_FOUND")) throw e;
    for (const key of figures) byId(`at-${key}`).textContent = "not stocked";
  }
}
