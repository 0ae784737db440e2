// The IoT building page: the building `?b=` (a new one otherwise); the page sends readings as a
// gateway would, charts the minute aggregates, manages alert rules and shows alerts live.
import { ApiError } from "./api";
import { byId, say } from "./dom";
import { watchAlerts } from "./iot-alerts";
import { refreshChart } from "./iot-chart";
import { loadHistory } from "./iot-history";
import { createRule, loadRules } from "./iot-rules";
import { current, lastHour, pastDays, send, spike } from "./iot-sensors";

const params = new URLSearchParams(location.search);
const named = params.has("b");
const building = params.get("b") || `hq-${Math.random().toString(36).slice(2, 8)}`;
params.set("b", building);
history.replaceState(null, "", `?${params}`);
byId("building").textContent = building;

const chart = byId("chart");
const sent = byId("sent");
let total = 0;

/** The building exists once written to: from then on its reads and its socket answer. */
function started() {
  watchAlerts(building, byId<HTMLTableElement>("alerts-table"), (s) => {
    byId("socket").textContent = s;
  });
}

async function ingest(readings: Parameters<typeof send>[1], what: string) {
  const r = await send(building, readings);
  total += r.ingested;
  say(
    sent,
    `${what}: ${r.ingested} reading(s) (${total} in all), ${r.alerts.length} alert(s) raised, ${r.resolved.length} resolved`,
  );
  started();
  await refreshChart(chart, building);
}

/** Run a handler; any failure is shown, never thrown. */
function guarded(handler: () => Promise<unknown>, out: HTMLElement) {
  return async () => {
    try {
      await handler();
    } catch (e) {
      say(out, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e), false);
    }
  };
}

byId("backfill").addEventListener(
  "click",
  guarded(() => ingest(lastHour(), "the last hour"), sent),
);
byId("spike").addEventListener(
  "click",
  guarded(() => ingest(spike(1400), "spike"), sent),
);
byId("past-week").addEventListener(
  "click",
  guarded(() => ingest(pastDays(), "six past days"), sent),
);

let timer: number | undefined;
byId("live").addEventListener("click", () => {
  const button = byId("live");
  if (timer === undefined) {
    timer = window.setInterval(
      guarded(() => ingest(current(), "live"), sent),
      2000,
    );
    button.textContent = "Stop the sensors";
  } else {
    clearInterval(timer);
    timer = undefined;
    button.textContent = "Start the sensors";
  }
});

const condition = byId<HTMLInputElement>("rule-condition"); // a <select>: same `value`
condition.addEventListener("change", () => {
  for (const el of document.querySelectorAll<HTMLElement>(".range-only"))
    el.hidden = condition.value !== "range_outside";
});
const result = byId("rule-result");
byId("rule-form").addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    const rule = await createRule(building);
    say(result, `rule ${rule.id} added: readings are checked against it from now on`, true);
    started();
    await loadRules(building);
  }, result)();
});

const historyTable = byId<HTMLTableElement>("history-table");
byId("history").addEventListener(
  "click",
  guarded(() => loadHistory(building, historyTable), sent),
);

// A building named in the link (?b=): show what it has. A new name is not asked for (it would be
// a 404 until its first write).
if (named)
  fetch(`/buildings/${encodeURIComponent(building)}/alerts/rules`).then(async (res) => {
    if (!res.ok) return; // not written yet: nothing to show
    started();
    await loadRules(building);
    await refreshChart(chart, building);
  });
